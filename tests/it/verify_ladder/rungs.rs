//! `kmsdns verify`: a healthy domain passes every rung, and each failure class is recognised.

use serde_json::Value;

use crate::harness::cli::kmsdns;
use crate::harness::ports::free_port;
use crate::harness::{BindServer, Policy, ServerBuilder, ZoneBuilder};

use super::*;

#[test]
fn healthy_domain_passes_every_rung() {
    let (_kms, port) = kms_listener();
    let bind = zone_with(&[srv_line(port, "kms1.example.com.")]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "kms1.example.com",
        port,
        &["corp.example.com"],
        &["corp.example.com"],
    );
    let (code, report) = verify(&cfg, &bind.addr().to_string(), bind.port(), &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    let rungs: Vec<&str> = report["domains"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rung"].as_str().unwrap())
        .collect();
    assert_eq!(rungs, ["resolver", "srv", "authoritative", "target", "tcp"]);
    assert_eq!(report["suffixes"][0]["ok"], true);
    // The human form shows a tick per rung.
    let out = kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args([
            "verify",
            "--resolver",
            &bind.addr().to_string(),
            "--server-port",
            &bind.port().to_string(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches('✓').count(), 6, "{text}");
    assert!(text.contains("All checks passed."), "{text}");
}

#[test]
fn missing_srv_is_classified() {
    let (_kms, port) = kms_listener();
    let (code, report) = run_case(&[], "kms1.example.com", port, &[], &[]);
    assert_eq!(code, 1);
    let f = failures(&report);
    assert_eq!(f[0].0, "srv");
    assert_eq!(f[0].1, "srv-missing");
    assert!(f[0].2.contains("kmsdns apply"), "{f:?}");
    let w = report["domains"][0]["workaround"].as_array().unwrap();
    assert!(
        w.iter()
            .any(|l| l.as_str().unwrap().contains("slmgr.vbs /skms"))
    );
    assert!(w.iter().any(|l| l.as_str().unwrap().contains("/ckms")));
    assert!(w.iter().any(|l| l.as_str().unwrap().contains("/ipk")));
}

#[test]
fn target_without_address_is_name_resolution() {
    let (_kms, port) = kms_listener();
    let (code, report) = run_case(
        &[srv_line(port, "ghost.example.com.")],
        "ghost.example.com",
        port,
        &[],
        &[],
    );
    assert_eq!(code, 1);
    let f = failures(&report);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].0.as_str(), f[0].1.as_str()),
        ("target", "name-resolution")
    );
    assert!(
        f[0].2.contains("A/AAAA records for ghost.example.com"),
        "{f:?}"
    );
}

#[test]
fn target_that_is_a_cname_is_flagged() {
    let (_kms, port) = kms_listener();
    let (code, report) = run_case(
        &[srv_line(port, "alias.example.com.")],
        "alias.example.com",
        port,
        &[],
        &[],
    );
    assert_eq!(code, 1);
    let f = failures(&report);
    assert_eq!(
        (f[0].0.as_str(), f[0].1.as_str()),
        ("target", "name-resolution")
    );
    let detail = report["domains"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ok"] == false)
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("CNAME") && detail.contains("RFC 2782"),
        "{detail}"
    );
}

#[test]
fn closed_port_is_port_blocked() {
    let port = closed_port();
    let lines = [srv_line(port, "kms1.example.com.")];
    let (code, report) = run_case(&lines, "kms1.example.com", port, &[], &[]);
    assert_eq!(code, 1);
    let f = failures(&report);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].0.as_str(), f[0].1.as_str()), ("tcp", "port-blocked"));
    assert!(f[0].2.contains("firewall"), "{f:?}");
    // The client-side workaround pins the host on the port the SRV record gives, not 1688.
    let pin = format!("slmgr.vbs /skms kms1.example.com:{port}");
    assert!(
        report["domains"][0]["workaround"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains(&pin)),
        "{report}"
    );
    // --no-connect skips the rung.
    let (code, _) = run_case(&lines, "kms1.example.com", port, &[], &["--no-connect"]);
    assert_eq!(code, 0);
}

#[test]
fn wrong_port_in_srv_is_srv_wrong() {
    let (_kms, port) = kms_listener();
    let (code, report) = run_case(
        &[srv_line(1688, "kms1.example.com.")],
        "kms1.example.com",
        port,
        &[],
        &["--no-connect"],
    );
    assert_eq!(code, 1);
    let f = failures(&report);
    assert!(f.iter().all(|x| x.1 == "srv-wrong"), "{f:?}");
    let details: Vec<String> = report["domains"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["detail"].as_str().unwrap().to_string())
        .collect();
    assert!(
        details.iter().any(|d| d.contains(&format!(
            "published with port 1688 but the config gives the host port {port}"
        ))),
        "{details:#?}"
    );
}

#[test]
fn name_servers_out_of_sync() {
    // A hidden primary (the configured server) and the zone's public NS, a secondary on
    // another port: `--server-port` is where the NS set is asked.
    let (_kms, port) = kms_listener();
    let primary = ServerBuilder::new().key("kms-key", "hmac-sha256").zone(
        ZoneBuilder::new("example.com")
            .record("kms1 A 127.0.0.1")
            .record(&srv_line(port, "kms1.example.com."))
            .allow_transfer("127.0.0.1;")
            .policy(Policy::grant("kms-key", ["corp.example.com"])),
    );
    let bind = BindServer::start(&primary);
    let secondary =
        ServerBuilder::new().zone(ZoneBuilder::new("example.com").secondary_of(bind.addr()));
    let second = BindServer::start(&secondary);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "kms1.example.com",
        port,
        &["corp.example.com"],
        &[],
    );
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[[domains]]\nname = \"corp.example.com\"\n",
        "[[domains]]\nname = \"corp.example.com\"\nserver = \"hidden\"\n",
    ) + &format!("[servers.hidden]\naddress = \"{}\"\n", bind.addr());
    std::fs::write(&cfg, text).unwrap();
    // In sync first.
    let (code, report) = verify(&cfg, &second.addr().to_string(), second.port(), &[]);
    assert_eq!(code, 0, "{report:#}");
    // An update on the primary; notify is off, so the secondary stays behind.
    let out = bind.nsupdate(
        bind.key("kms-key"),
        "update add _vlmcs._tcp.corp.example.com. 3600 SRV 0 0 1688 kms2.example.com.\nsend\n",
    );
    assert!(out.status.success());
    let (code, report) = verify(
        &cfg,
        &second.addr().to_string(),
        second.port(),
        &["--no-connect"],
    );
    assert_eq!(code, 1);
    let f = failures(&report);
    let sync = f
        .iter()
        .find(|x| x.0 == "authoritative")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(sync.1, "ns-out-of-sync");
    assert!(sync.2.contains("zone transfers"), "{sync:?}");
    let detail = report["domains"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rung"] == "authoritative")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("serial 2") && detail.contains("serial 1"),
        "{detail}"
    );
}

#[test]
fn suffix_without_records_is_not_covered() {
    let (_kms, port) = kms_listener();
    let (code, report) = run_case(
        &[srv_line(port, "kms1.example.com.")],
        "kms1.example.com",
        port,
        &["corp.example.com", "lab.example.com"],
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        report["domains"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["ok"] == false)
            .count(),
        0
    );
    let s = &report["suffixes"][1];
    assert_eq!(s["ok"], false);
    assert_eq!(s["class"], "suffix-not-covered");
    assert!(s["fix"].as_str().unwrap().contains("DnsDomainPublishList"));
}

#[test]
fn unreachable_resolver_is_dns_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "kms1.example.com",
        1688,
        &["corp.example.com"],
        &[],
    );
    let dead = format!("127.0.0.1:{}", free_port());
    let (code, report) = verify(&cfg, &dead, 53, &[]);
    assert_eq!(code, 1);
    let f = failures(&report);
    assert_eq!(
        (f[0].0.as_str(), f[0].1.as_str()),
        ("resolver", "dns-unreachable")
    );
    assert!(f[0].2.contains("ipconfig /all"), "{f:?}");
}

#[test]
fn domain_flag_works_without_a_config() {
    let (_kms, port) = kms_listener();
    let bind = zone_with(&[srv_line(port, "kms1.example.com.")]);
    let out = kmsdns()
        .args([
            "-c",
            "/nonexistent/kmsdns.toml",
            "verify",
            "--json",
            "--domain",
            "corp.example.com",
            "--resolver",
            &bind.addr().to_string(),
            "--server-port",
            &bind.port().to_string(),
            "--suffix",
            "corp.example.com",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert!(
        report["domains"][0]["checks"][1]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("0 0 {port} kms1.example.com."))
    );
}
