//! Tests of the test harness itself: real BIND and Knot servers start, answer, accept signed
//! updates inside their grant and refuse the rest.

use std::time::Instant;

use crate::harness::{BindServer, KnotServer, Policy, Server, ServerBuilder, ZoneBuilder, ports};

const ADD_SRV: &str =
    "update add _vlmcs._tcp.corp.example.com. 300 SRV 0 0 1688 kms1.corp.example.com.\nsend\n";
const ADD_A: &str = "update add other.corp.example.com. 300 A 127.0.0.2\nsend\n";

/// Two zones, one key granted SRV at `_vlmcs._tcp.corp.example.com.` only.
fn lab() -> ServerBuilder {
    ServerBuilder::new()
        .key("kms-key", "hmac-sha256")
        .zone(
            ZoneBuilder::new("corp.example.com")
                .record("kms1 A 127.0.0.1")
                .policy(Policy::grant("kms-key", ["corp.example.com"])),
        )
        .zone(ZoneBuilder::new("lab.example.net").serial(7))
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Adds the SRV record with the granted key and checks read-back and serial.
fn add_srv_and_read_back(server: &Server) {
    assert_eq!(server.srv_records("_vlmcs._tcp.corp.example.com"), vec![]);
    let before = server.soa_serial("corp.example.com");
    let out = server.nsupdate(server.key("kms-key"), ADD_SRV);
    assert!(out.status.success(), "nsupdate failed: {}", stderr(&out));
    let rrs = server.srv_records("_vlmcs._tcp.corp.example.com");
    assert_eq!(rrs.len(), 1, "{rrs:?}");
    let rr = &rrs[0];
    assert_eq!(
        (rr.ttl, rr.priority, rr.weight, rr.port, rr.target.as_str()),
        (300, 0, 0, 1688, "kms1.corp.example.com.")
    );
    assert_eq!(server.soa_serial("corp.example.com"), before + 1);
}

#[test]
fn bind_serves_zones_and_applies_granted_update() {
    let bind = BindServer::start(&lab());
    eprintln!("named answered after {:?}", bind.startup);
    let soa = bind.dig(&["+short", "lab.example.net", "SOA"]);
    assert!(soa.starts_with("ns1.lab.example.net. "), "{soa:?}");
    assert_eq!(bind.soa_serial("lab.example.net"), 7);
    assert_eq!(bind.soa_serial("corp.example.com"), 1);
    add_srv_and_read_back(&bind);
}

#[test]
fn bind_rejects_wrong_secret() {
    let bind = BindServer::start(&lab());
    let forged = bind
        .key("kms-key")
        .with_secret("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let out = bind.nsupdate(&forged, ADD_SRV);
    assert!(!out.status.success(), "forged key was accepted");
    assert!(stderr(&out).contains("BADSIG"), "{}", stderr(&out));
    assert_eq!(bind.srv_records("_vlmcs._tcp.corp.example.com"), vec![]);
    assert_eq!(bind.soa_serial("corp.example.com"), 1);
}

#[test]
fn bind_refuses_update_outside_grant() {
    let bind = BindServer::start(&lab());
    let out = bind.nsupdate(bind.key("kms-key"), ADD_A);
    assert!(
        !out.status.success(),
        "A record outside the grant was accepted"
    );
    assert!(stderr(&out).contains("REFUSED"), "{}", stderr(&out));
    assert_eq!(bind.soa_serial("corp.example.com"), 1);
}

#[test]
fn bind_secondary_transfers_from_primary() {
    let primary = BindServer::start(&lab());
    let secondary_lab = ServerBuilder::new()
        .zone(ZoneBuilder::new("corp.example.com").secondary_of(primary.addr()));
    let secondary = BindServer::start(&secondary_lab);
    let out = primary.nsupdate(primary.key("kms-key"), ADD_SRV);
    assert!(out.status.success(), "{}", stderr(&out));
    // notify is off: the secondary keeps serial 1 until its refresh, i.e. NS out of sync.
    assert_eq!(primary.soa_serial("corp.example.com"), 2);
    assert_eq!(secondary.soa_serial("corp.example.com"), 1);
}

#[test]
fn knot_serves_zones_and_applies_granted_update() {
    let knot = KnotServer::start(&lab());
    eprintln!("knotd answered after {:?}", knot.startup);
    assert_eq!(knot.soa_serial("lab.example.net"), 7);
    add_srv_and_read_back(&knot);
}

#[test]
fn knot_refuses_update_outside_grant() {
    let knot = KnotServer::start(&lab());
    let out = knot.nsupdate(knot.key("kms-key"), ADD_A);
    assert!(
        !out.status.success(),
        "A record outside the grant was accepted"
    );
    // Knot answers a policy refusal with NOTAUTH (TSIG BADKEY), not REFUSED.
    assert!(stderr(&out).contains("NOTAUTH"), "{}", stderr(&out));
    assert_eq!(knot.soa_serial("corp.example.com"), 1);
}

#[test]
fn knot_refuses_srv_at_other_owner() {
    let knot = KnotServer::start(&lab());
    let script =
        "update add _other._tcp.corp.example.com. 300 SRV 0 0 1688 kms1.corp.example.com.\nsend\n";
    let out = knot.nsupdate(knot.key("kms-key"), script);
    assert!(!out.status.success(), "SRV at another owner was accepted");
    assert_eq!(knot.soa_serial("corp.example.com"), 1);
}

#[test]
fn parallel_servers_get_different_ports() {
    let started = Instant::now();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| BindServer::start(&lab()));
        let b = s.spawn(|| KnotServer::start(&lab()));
        (a.join().unwrap(), b.join().unwrap())
    });
    eprintln!("two servers in parallel: {:?}", started.elapsed());
    assert_ne!(a.port(), b.port());
    assert_eq!(a.soa_serial("corp.example.com"), 1);
    assert_eq!(b.soa_serial("corp.example.com"), 1);
    let ports: std::collections::BTreeSet<u16> = (0..50).map(|_| ports::free_port()).collect();
    assert_eq!(ports.len(), 50);
    assert!(!ports.contains(&a.port()) && !ports.contains(&b.port()));
}

#[test]
fn cli_runs_binary_and_writes_config() {
    use crate::harness::cli::{kmsdns, kmsdns_std, write_config};

    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), "# empty\n");
    assert_eq!(path, dir.path().join("kmsdns.toml"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# empty\n");
    kmsdns()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicates::str::contains("kmsdns"))
        .stdout(format!("kmsdns {}\n", env!("CARGO_PKG_VERSION")));

    // The binary reads the file write_config wrote: a TTL and priority no default has.
    let toml = "[[hosts]]\nname = \"kms1.example.com\"\npriority = 7\nttl = 1234\n\n\
                [[domains]]\nname = \"corp.example.com\"\n";
    let path = write_config(dir.path(), toml);
    let out = kmsdns()
        .arg("-c")
        .arg(&path)
        .arg("validate")
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(
        stdout.lines().next(),
        Some(path.display().to_string().as_str()),
        "validate names the file it read first:\n{stdout}"
    );
    for line in [
        "_vlmcs._tcp.corp.example.com. 1234 IN SRV 7 0 1688 kms1.example.com.",
        "Configuration is valid.",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim() == line),
            "want `{line}` in:\n{stdout}"
        );
    }

    // The environment every run gets: no KMSDNS_* and no RUST_LOG from the shell that
    // started the tests, no colours. (kmsdns() is kmsdns_std() wrapped by assert_cmd.)
    let cmd = kmsdns_std();
    let program = std::path::Path::new(cmd.get_program());
    assert_eq!(program.file_name(), Some(std::ffi::OsStr::new("kmsdns")));
    assert!(program.is_file(), "{}", program.display());
    let envs: std::collections::BTreeMap<_, _> = cmd.get_envs().collect();
    let removed = |name: &str| envs.get(std::ffi::OsStr::new(name)) == Some(&None);
    assert!(removed("RUST_LOG"), "{envs:?}");
    assert!(removed("KMSDNS_CONFIG"), "{envs:?}");
    assert_eq!(
        envs.get(std::ffi::OsStr::new("NO_COLOR")),
        Some(&Some(std::ffi::OsStr::new("1"))),
        "{envs:?}"
    );
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KMSDNS_") {
            assert_eq!(
                envs.get(name.as_os_str()),
                Some(&None),
                "{name:?} is passed on"
            );
        }
    }
}
