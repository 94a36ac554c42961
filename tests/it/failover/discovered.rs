//! A zone found from its SOA: the MNAME first, then the zone's other NS (AD-integrated zones
//! are multi-master: every DC in the NS set takes updates). The MNAME points at a loopback
//! address nobody listens on; ns2 is the live BIND, which also serves as the resolver.

use std::net::{IpAddr, Ipv4Addr};

use super::*;

#[test]
fn a_dead_primary_passes_the_zone_to_the_next_name_server() {
    let dead_ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
    let lab = BindServer::start(
        &ServerBuilder::new().key("kms-update", "hmac-sha256").zone(
            ZoneBuilder::new("example.com")
                .ns1_at(dead_ip)
                .record("@ NS ns2")
                .record("ns2 A 127.0.0.1")
                .record("kms1 A 127.0.0.1")
                .policy(Policy::grant("kms-update", ["example.com"])),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[defaults]\nkey = \"kms-update\"\nretries = 0\n[keys.kms-update]\nfile = \"{}\"\n[[hosts]]\nname = \"kms1.example.com\"\n[[domains]]\nname = \"example.com\"\n",
            lab.key("kms-update").file.display()
        ),
    );
    let port = lab.port();
    let (resolver, port_arg) = (lab.addr().to_string(), port.to_string());
    let net = [
        "--resolver",
        resolver.as_str(),
        "--server-port",
        port_arg.as_str(),
    ];
    let mname = format!("ns1.example.com (127.0.0.3:{port})");
    let ns2 = format!("ns2.example.com (127.0.0.1:{port})");

    let (code, text) = run(&cfg, &[&["plan", "--detailed-exitcode"][..], &net].concat());
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains(&format!(
            "server {mname} (discovered: SOA MNAME; then {ns2})"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failover: read from {ns2}; skipped {mname}: unreachable ("
        )),
        "{text}"
    );

    let (code, text) = run(&cfg, &[&["apply", "--yes"][..], &net].concat());
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("applied    example.com. via {ns2}: 1 change(s)")),
        "{text}"
    );
    assert_eq!(lab.srv_records(OWNER), wanted());
}

/// Names in an address list are resolved through `--resolver`, each one; a name whose
/// address is dead is skipped like an address.
#[test]
fn names_in_an_address_list_are_resolved_and_tried_in_order() {
    let lab = BindServer::start(
        &ServerBuilder::new().key("kms-update", "hmac-sha256").zone(
            ZoneBuilder::new("example.com")
                .record("dc1 A 127.0.0.3")
                .record("dc2 A 127.0.0.1")
                .record("kms1 A 127.0.0.1")
                .policy(Policy::grant("kms-update", ["example.com"])),
        ),
    );
    let port = lab.port();
    let dir = tempfile::tempdir().unwrap();
    let text = config(&lab.key("kms-update").file, &[]).replace(
        "address = []",
        &format!("address = [\"dc1.example.com:{port}\", \"dc2.example.com:{port}\"]"),
    );
    let cfg = write_config(dir.path(), &text);
    let resolver = lab.addr().to_string();
    let (code, text) = run(&cfg, &["apply", "--yes", "--resolver", &resolver]);
    assert_eq!(code, Some(0), "{text}");
    let (dc1, dc2) = (
        format!("lab (127.0.0.3:{port})"),
        format!("lab (127.0.0.1:{port})"),
    );
    assert!(
        text.contains(&format!("server {dc1} (configured; then {dc2})")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failover: read from {dc2}; skipped {dc1}: unreachable"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("applied    example.com. via {dc2}")),
        "{text}"
    );
    assert_eq!(lab.srv_records(OWNER), wanted());
}
