//! kmsdns against BIND, Knot and PowerDNS listening on the IPv6 loopback only: servers
//! configured as `[::1]:PORT`, and zones and primaries discovered through a resolver at
//! `[::1]:PORT`. Every change is checked with dig over IPv6.

use crate::harness::cli::write_config;
use crate::harness::{
    BindServer, KnotServer, PdnsServer, Policy, Server, ServerBuilder, ZoneBuilder,
};
use crate::plan_apply::{config, lab_builder, plan_apply_replan, rr, run};

/// The generic plan → apply → plan (no changes) → apply (nothing sent) with the server at
/// `[::1]:PORT`; the plan header names that address.
fn replan_on_ipv6(server: &Server) {
    assert!(server.ip().is_ipv6());
    plan_apply_replan(server);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(server, ""));
    let out = run(&cfg, &["plan", "--detailed-exitcode"]).code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains(&format!(
            "server lab ([::1]:{}) (configured), key kms-update",
            server.port()
        )),
        "{text}"
    );
}

#[test]
fn bind_on_ipv6_plan_apply_replan() {
    replan_on_ipv6(&BindServer::start(&lab_builder().ipv6()));
}

#[test]
fn knot_on_ipv6_plan_apply_replan() {
    replan_on_ipv6(&KnotServer::start(&lab_builder().ipv6()));
}

#[test]
fn pdns_on_ipv6_plan_apply_replan() {
    replan_on_ipv6(&PdnsServer::start(&lab_builder().ipv6()));
}

/// No server in the config: the zone comes from the SOA through `--resolver [::1]:PORT`, the
/// primary from the SOA MNAME, whose only address is `ns1 AAAA ::1`.
fn discovered_over_ipv6(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[defaults]\nkey = \"kms-update\"\n[keys.kms-update]\nfile = \"{}\"\n\
             [[hosts]]\nname = \"kms1.example.com\"\n[[domains]]\nname = \"corp.example.com\"\n",
            server.key("kms-update").file.display()
        ),
    );
    let resolver = server.addr().to_string();
    let port = server.port().to_string();
    let net = [
        "--resolver",
        resolver.as_str(),
        "--server-port",
        port.as_str(),
    ];
    let out = run(&cfg, &[&["plan"][..], &net].concat()).success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains(&format!(
            "zone example.com. (discovered), server ns1.example.com ([::1]:{port}) \
             (discovered: SOA MNAME), key kms-update"
        )),
        "{text}"
    );
    run(&cfg, &[&["apply", "--yes"][..], &net].concat()).success();
    assert_eq!(
        server.srv_records("_vlmcs._tcp.corp.example.com"),
        vec![rr(3600, 0, "kms1.example.com.")]
    );
    run(&cfg, &[&["plan", "--detailed-exitcode"][..], &net].concat()).code(0);
}

#[test]
fn zone_and_primary_are_discovered_over_ipv6() {
    let b = lab_builder().ipv6();
    discovered_over_ipv6(&BindServer::start(&b));
    discovered_over_ipv6(&KnotServer::start(&b));
    discovered_over_ipv6(&PdnsServer::start(&b));
}

/// A primary with both an A and an AAAA record that listens on ::1 only: discovery takes the
/// address that answers for the zone, not simply the first one (the other stays a fallback).
#[test]
fn a_discovered_primary_is_reached_on_the_address_that_answers() {
    let b = ServerBuilder::new()
        .key("kms-update", "hmac-sha256")
        .zone(
            ZoneBuilder::new("dual.test")
                .record("ns1 A 127.0.0.1")
                .record("kms1 AAAA ::1")
                .policy(Policy::grant("kms-update", ["dual.test"])),
        )
        .ipv6();
    let bind = BindServer::start(&b);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[defaults]\nkey = \"kms-update\"\n[keys.kms-update]\nfile = \"{}\"\n\
             [[hosts]]\nname = \"kms1.dual.test\"\n[[domains]]\nname = \"dual.test\"\n",
            bind.key("kms-update").file.display()
        ),
    );
    let (resolver, port) = (bind.addr().to_string(), bind.port().to_string());
    let net = [
        "--resolver",
        resolver.as_str(),
        "--server-port",
        port.as_str(),
    ];
    let out = run(&cfg, &[&["apply", "--yes"][..], &net].concat()).success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains(&format!(
            "server ns1.dual.test ([::1]:{port}) (discovered: SOA MNAME; then ns1.dual.test (127.0.0.1:{port}))"
        )),
        "{text}"
    );
    assert_eq!(
        bind.srv_records("_vlmcs._tcp.dual.test"),
        vec![rr(3600, 0, "kms1.dual.test.")]
    );
}
