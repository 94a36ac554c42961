//! Tests of the test harness itself: real BIND, Knot and PowerDNS servers start, answer, accept
//! signed updates inside their grant and refuse the rest, on 127.0.0.1 and on ::1.

use std::time::Instant;

use crate::harness::{
    BindServer, KnotServer, PdnsServer, Policy, Server, ServerBuilder, ZoneBuilder, ports,
};

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
fn pdns_serves_zones_and_applies_granted_update() {
    let pdns = PdnsServer::start(&lab());
    eprintln!("pdns_server answered after {:?}", pdns.startup);
    assert_eq!(pdns.soa_serial("lab.example.net"), 7);
    let meta = pdns.pdnsutil(&["get-meta", "corp.example.com"]);
    let meta = String::from_utf8_lossy(&meta.stdout);
    for line in [
        "SOA-EDIT-DNSUPDATE = INCREASE",
        "TSIG-ALLOW-DNSUPDATE = kms-key",
        "ALLOW-DNSUPDATE-FROM = 127.0.0.0/8, ::1/128",
    ] {
        assert!(meta.contains(line), "{meta}");
    }
    add_srv_and_read_back(&pdns);
}

/// PowerDNS answers NOERROR to an update whose records its policy refuses, and writes nothing:
/// only reading back shows it. An A record, an SRV at another owner, the same SRV unsigned.
#[test]
fn pdns_skips_records_outside_the_policy_and_still_answers_noerror() {
    let pdns = PdnsServer::start(&lab());
    let key = pdns.key("kms-key");
    for script in [
        ADD_A,
        "update add _other._tcp.corp.example.com. 300 SRV 0 0 1688 kms1.corp.example.com.\nsend\n",
    ] {
        let out = pdns.nsupdate(key, script);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let unsigned = std::process::Command::new(crate::harness::require("nsupdate"))
        .args(["-t", "4"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            let input = format!("server {} {}\n{ADD_SRV}", pdns.ip(), pdns.port());
            c.stdin.take().unwrap().write_all(input.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(unsigned.status.success(), "{}", stderr(&unsigned));
    assert_eq!(pdns.dig(&["+short", "other.corp.example.com", "A"]), "");
    assert_eq!(pdns.srv_records("_other._tcp.corp.example.com"), vec![]);
    assert_eq!(pdns.srv_records("_vlmcs._tcp.corp.example.com"), vec![]);
    assert_eq!(pdns.soa_serial("corp.example.com"), 1);
    assert!(
        pdns.log().contains("Not permitted by policy"),
        "{}",
        pdns.log()
    );
}

#[test]
fn pdns_rejects_wrong_secret() {
    let pdns = PdnsServer::start(&lab());
    let forged = pdns
        .key("kms-key")
        .with_secret("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let out = pdns.nsupdate(&forged, ADD_SRV);
    assert!(!out.status.success(), "forged key was accepted");
    // An unsigned REFUSED, unlike BIND's signed BADSIG: nsupdate stops at the missing TSIG.
    assert!(
        stderr(&out).contains("expected a TSIG or SIG(0)"),
        "{}",
        stderr(&out)
    );
    assert!(pdns.log().contains("failed to validate"), "{}", pdns.log());
    assert_eq!(pdns.srv_records("_vlmcs._tcp.corp.example.com"), vec![]);
    assert_eq!(pdns.soa_serial("corp.example.com"), 1);
}

/// Every server on ::1: answers there (dig, readiness), takes a granted update from nsupdate
/// over IPv6, and does not listen on 127.0.0.1.
#[test]
fn every_server_runs_on_ipv6_loopback() {
    let b = lab().ipv6();
    let servers: Vec<(&str, Box<dyn std::ops::Deref<Target = Server>>)> = vec![
        ("named", Box::new(BindServer::start(&b))),
        ("knotd", Box::new(KnotServer::start(&b))),
        ("pdns_server", Box::new(PdnsServer::start(&b))),
    ];
    for (kind, server) in &servers {
        assert_eq!(server.ip(), std::net::Ipv6Addr::LOCALHOST, "{kind}");
        assert_eq!(
            server.addr().to_string(),
            format!("[::1]:{}", server.port())
        );
        add_srv_and_read_back(server);
        let v4 = std::process::Command::new(crate::harness::require("dig"))
            .args(["@127.0.0.1", "-p", &server.port().to_string()])
            .args(["+time=1", "+tries=1", "+short", "corp.example.com", "SOA"])
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&v4.stdout).contains("ns1.corp.example.com."),
            "{kind} answers on 127.0.0.1 too"
        );
    }
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
        .stdout(predicates::str::starts_with(format!(
            "kmsdns {}",
            env!("CARGO_PKG_VERSION")
        )));

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
