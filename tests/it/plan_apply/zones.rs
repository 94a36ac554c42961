//! Plan/apply across zones and servers: a refusing zone, zones found from the SOA, `--wait`
//! over every name server, and Knot.

use predicates::prelude::*;

use crate::harness::cli::write_config;
use crate::harness::{BindServer, Policy, ServerBuilder, ZoneBuilder};

use super::*;

#[test]
fn one_refusing_zone_does_not_stop_the_others() {
    let b = ServerBuilder::new()
        .key("kms-update", "hmac-sha256")
        .zone(
            ZoneBuilder::new("example.com")
                .record("kms1 A 127.0.0.1")
                .policy(Policy::grant("kms-update", ["example.com"])),
        )
        .zone(ZoneBuilder::new("example.net").policy(Policy::None))
        .zone(ZoneBuilder::new("example.org").policy(Policy::grant("kms-update", ["example.org"])));
    let bind = BindServer::start(&b);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &one_host_config(
            &bind.key("kms-update").file,
            bind.addr(),
            &["example.com", "example.net", "example.org"],
        ),
    );
    let out = run(&cfg, &["apply", "--yes"]).code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("applied    example.com."), "{text}");
    assert!(text.contains("applied    example.org."), "{text}");
    assert!(text.contains("failed     example.net."), "{text}");
    assert!(
        text.contains("refused key kms-update for zone example.net"),
        "{text}"
    );
    assert!(text.contains("update-policy"), "{text}");
    assert_eq!(bind.srv_records("_vlmcs._tcp.example.com").len(), 1);
    assert_eq!(bind.srv_records("_vlmcs._tcp.example.org").len(), 1);
    assert!(bind.srv_records("_vlmcs._tcp.example.net").is_empty());
}

#[test]
fn zone_and_primary_are_discovered_from_the_soa() {
    let bind = lab();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[defaults]\nkey = \"kms-update\"\n[keys.kms-update]\nfile = \"{}\"\n[[hosts]]\nname = \"kms1.example.com\"\n[[domains]]\nname = \"corp.example.com\"\n",
            bind.key("kms-update").file.display()
        ),
    );
    let resolver = bind.addr().to_string();
    let port = bind.port().to_string();
    let out = run(
        &cfg,
        &["plan", "--resolver", &resolver, "--server-port", &port],
    )
    .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains(&format!("zone example.com. (discovered), server ns1.example.com (127.0.0.1:{port}) (discovered: SOA MNAME), key kms-update")),
        "{text}"
    );
    run(
        &cfg,
        &[
            "apply",
            "--yes",
            "--resolver",
            &resolver,
            "--server-port",
            &port,
        ],
    )
    .success();
    assert_eq!(
        bind.srv_records(CORP),
        vec![rr(3600, 0, "kms1.example.com.")]
    );
    // Without a reachable resolver the domain fails clearly, zone by zone.
    let dead = format!("127.0.0.1:{}", crate::harness::ports::free_port());
    run(&cfg, &["plan", "--resolver", &dead])
        .code(1)
        .stdout(predicate::str::contains("domain corp.example.com."));
}

/// --wait polls every NS until it serves the new serial: a secondary that gets NOTIFY catches
/// up; one that does not is reported, and apply exits 1.
#[test]
fn apply_wait_checks_every_name_server() {
    let dns_secondary = crate::harness::ports::free_port();
    let secondary_addr: std::net::SocketAddr =
        format!("127.0.0.1:{dns_secondary}").parse().unwrap();
    for notify in [true, false] {
        let mut zone = ZoneBuilder::new("example.com")
            .record("kms1 A 127.0.0.1")
            .allow_transfer("127.0.0.1;")
            .policy(Policy::grant("kms-update", ["example.com"]));
        if notify {
            zone = zone.also_notify(secondary_addr);
        }
        let bind = BindServer::start(
            &ServerBuilder::new()
                .key("kms-update", "hmac-sha256")
                .zone(zone),
        );
        let second = crate::harness::bind::BindServer::start_on(
            &ServerBuilder::new().zone(ZoneBuilder::new("example.com").secondary_of(bind.addr())),
            dns_secondary,
        );
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_config(
            dir.path(),
            &one_host_config(&bind.key("kms-update").file, bind.addr(), &["example.com"]),
        );
        // NS ns1.example.com is 127.0.0.1; asked on the secondary's port.
        let out = run(
            &cfg,
            &[
                "apply",
                "--yes",
                "--wait",
                "--wait-timeout",
                "3s",
                "--server-port",
                &second.port().to_string(),
            ],
        );
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        if notify {
            out.code(0);
            assert!(text.contains("NS ns1.example.com. in sync"), "{text}");
        } else {
            out.code(1);
            assert!(
                text.contains("NOT in sync") && text.contains("check zone transfers"),
                "{text}"
            );
        }
    }
}

/// The same workflow against Knot DNS; Knot answers a policy refusal with NOTAUTH + BADKEY.
#[test]
fn knot_plan_apply_and_policy_refusal() {
    let b = ServerBuilder::new()
        .key("kms-update", "hmac-sha256")
        .zone(
            ZoneBuilder::new("example.com")
                .record("kms1 A 127.0.0.1")
                .policy(Policy::grant("kms-update", ["corp.example.com"])),
        )
        .zone(ZoneBuilder::new("example.net").policy(Policy::None));
    let knot = crate::harness::KnotServer::start(&b);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &one_host_config(
            &knot.key("kms-update").file,
            knot.addr(),
            &["corp.example.com", "branch.example.net"],
        ),
    );
    // Knot refuses even the signed SOA query for a zone whose ACL does not name the key:
    // the domain fails at plan time already, the other zone is planned.
    let out = run(&cfg, &["plan", "--detailed-exitcode"]).code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("+ 3600 IN SRV 0 0 1688 kms1.example.com."),
        "{text}"
    );
    assert!(
        text.contains("domain branch.example.net.")
            && text.contains("BADKEY")
            && text.contains("ACL"),
        "{text}"
    );
    let out = run(&cfg, &["apply", "--yes"]).code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("applied    example.com."), "{text}");
    assert_eq!(
        knot.srv_records(CORP),
        vec![rr(3600, 0, "kms1.example.com.")]
    );
    let out = run(&cfg, &["plan"]).code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("_vlmcs._tcp.corp.example.com. (up to date)"),
        "{text}"
    );
}

/// A domain whose zone cannot be found is listed in the Apply summary as failed, with why,
/// next to the zones that were applied.
#[test]
fn apply_summary_lists_the_domains_whose_discovery_failed() {
    let bind = lab();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[defaults]\nkey = \"kms-update\"\n[keys.kms-update]\nfile = \"{}\"\n[[hosts]]\nname = \"kms1.example.com\"\n[[domains]]\nname = \"corp.example.com\"\n[[domains]]\nname = \"lost.nowhere.test\"\n",
            bind.key("kms-update").file.display()
        ),
    );
    let (resolver, port) = (bind.addr().to_string(), bind.port().to_string());
    let out = run(
        &cfg,
        &[
            "apply",
            "--yes",
            "--resolver",
            &resolver,
            "--server-port",
            &port,
        ],
    )
    .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let summary = &text[text.find("Apply summary:").expect("a summary")..];
    assert!(summary.contains("applied    example.com."), "{text}");
    assert!(
        summary.contains("failed     domain lost.nowhere.test.: "),
        "{text}"
    );
}
