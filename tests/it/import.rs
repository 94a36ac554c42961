//! `kmsdns import` against a real BIND: import → validate → plan reports no changes; names
//! from a zone transfer; records kmsdns cannot express are listed, never dropped silently;
//! an existing output file is not overwritten without --force.

use std::path::Path;

use predicates::prelude::*;

use crate::harness::cli::kmsdns;
use crate::harness::{BindServer, Server, ServerBuilder, ZoneBuilder};

/// Two zones, three KMS domains, two hosts; per-domain priority, weight, port and TTL differ.
fn estate() -> ServerBuilder {
    ServerBuilder::new()
        .key("kms-update", "hmac-sha256")
        .zone(
            ZoneBuilder::new("example.com")
                .record("kms1 A 127.0.0.1")
                .record("_vlmcs._tcp.corp 3600 IN SRV 0 0 1688 kms1.example.com.")
                .record("_vlmcs._tcp.corp 3600 IN SRV 10 0 1688 kms2.example.net.")
                .record("_vlmcs._tcp.lab 600 IN SRV 0 5 1689 kms1.example.com.")
                .record("_vlmcs._tcp 3600 IN SRV 0 0 1688 kms1.example.com.")
                .record("_ldap._tcp 3600 IN SRV 0 0 389 dc1.example.com.")
                .allow_transfer("key kms-update;"),
        )
        .zone(
            ZoneBuilder::new("example.net")
                .record("kms2 A 127.0.0.1")
                .record("_vlmcs._tcp.branch 3600 IN SRV 10 0 1688 kms1.example.com.")
                .record("_vlmcs._tcp.branch 3600 IN SRV 0 0 1688 kms2.example.net."),
        )
}

fn import(server: &Server, args: &[&str]) -> assert_cmd::assert::Assert {
    kmsdns()
        .arg("import")
        .arg("--server")
        .arg(server.addr().to_string())
        .arg("--key")
        .arg(&server.key("kms-update").file)
        .args(args)
        .assert()
}

/// validate exits 0 and `plan --detailed-exitcode` reports no changes for `cfg`.
fn round_trip(cfg: &Path) {
    kmsdns().arg("-c").arg(cfg).arg("validate").assert().code(0);
    let plan = kmsdns()
        .arg("-c")
        .arg(cfg)
        .args(["plan", "--detailed-exitcode"])
        .assert();
    let out = plan.get_output();
    assert_eq!(
        out.status.code(),
        Some(0),
        "plan: {}\n{}\nconfig:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(cfg).unwrap()
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No changes."),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn import_validate_plan_reports_no_changes() {
    let bind = BindServer::start(&estate());
    let dir = tempfile::tempdir().unwrap();
    let names = dir.path().join("names.txt");
    std::fs::write(
        &names,
        "# branch offices\nbranch.example.net   # the one branch\n\n_vlmcs._tcp.lab.example.com\n",
    )
    .unwrap();
    let cfg = dir.path().join("kmsdns.toml");
    let out = import(
        &bind,
        &[
            "corp.example.com",
            "--from-file",
            names.to_str().unwrap(),
            "-o",
            cfg.to_str().unwrap(),
        ],
    )
    .code(0);
    assert!(out.get_output().stdout.is_empty());
    let text = std::fs::read_to_string(&cfg).unwrap();
    // Hosts once each; per-domain differences as overrides; zones, server and key filled in.
    assert_eq!(text.matches("[[hosts]]").count(), 2, "{text}");
    assert_eq!(text.matches("[[domains]]").count(), 3, "{text}");
    for needle in [
        "[keys.kms-update]",
        "[servers.primary]",
        "zone = \"example.com\"",
        "zone = \"example.net\"",
        "{ name = \"kms1.example.com\", port = 1689, weight = 5, ttl = 600 }",
        "names.txt:2",
        "names.txt:4",
        "the command line",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("not imported"), "{text}");
    round_trip(&cfg);
}

#[test]
fn zone_transfer_lists_every_kms_owner() {
    // Enough other records that the signed transfer spans several messages (TSIG chained).
    let mut zone = estate();
    let mut big = ZoneBuilder::new("big.example.org")
        .record("_vlmcs._tcp.a 3600 IN SRV 0 0 1688 kms1.example.com.")
        .record("_vlmcs._tcp.b.c 3600 IN SRV 5 0 1688 kms1.example.com.")
        .record("_vlmcs._udp.x 3600 IN SRV 0 0 1688 kms1.example.com.")
        .allow_transfer("key kms-update;");
    for i in 0..3000 {
        big = big.record(&format!(
            "filler{i} TXT \"padding padding padding padding padding padding {i}\""
        ));
    }
    zone = zone.zone(big);
    let bind = BindServer::start(&zone);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kmsdns.toml");
    import(
        &bind,
        &[
            "--zone",
            "example.com",
            "--zone",
            "big.example.org",
            "-o",
            cfg.to_str().unwrap(),
        ],
    )
    .code(0);
    let text = std::fs::read_to_string(&cfg).unwrap();
    for d in [
        "example.com",
        "corp.example.com",
        "lab.example.com",
        "a.big.example.org",
        "b.c.big.example.org",
    ] {
        assert!(
            text.contains(&format!("name = \"{d}\"")),
            "{d} missing:\n{text}"
        );
    }
    assert_eq!(text.matches("[[domains]]").count(), 5, "{text}");
    assert!(!text.contains("_ldap") && !text.contains("x.big"), "{text}");
    assert!(text.contains("the AXFR of big.example.org."), "{text}");
    round_trip(&cfg);

    // Without the key the server refuses the transfer: said so, exit 1.
    kmsdns()
        .args(["import", "--server", &bind.addr().to_string()])
        .args(["--zone", "example.com"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refused the zone transfer"));
}

#[test]
fn records_kmsdns_cannot_express_are_listed_not_dropped() {
    let lab = ServerBuilder::new().key("kms-update", "hmac-sha256").zone(
        ZoneBuilder::new("example.com")
            .record("kms1 A 127.0.0.1")
            .record("_vlmcs._tcp.odd 3600 IN SRV 0 0 1688 kms.")
            .record("_vlmcs._tcp.odd 3600 IN SRV 0 0 1688 kms1.example.com.")
            .record("_vlmcs._tcp.dup 3600 IN SRV 0 0 1688 kms1.example.com.")
            .record("_vlmcs._tcp.dup 3600 IN SRV 0 0 1689 kms1.example.com."),
    );
    let bind = BindServer::start(&lab);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kmsdns.toml");
    let out = import(
        &bind,
        &[
            "odd.example.com",
            "dup.example.com",
            "-o",
            cfg.to_str().unwrap(),
        ],
    )
    .code(0);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let text = std::fs::read_to_string(&cfg).unwrap();
    let block = &text[text.find("# not imported:").expect(&text)..];
    for (needle, why) in [
        ("SRV 0 0 1688 kms.", "single label"),
        (
            "_vlmcs._tcp.dup.example.com. 3600 IN SRV 0 0 1688 kms1.example.com.",
            "two records for one target",
        ),
        (
            "_vlmcs._tcp.dup.example.com. 3600 IN SRV 0 0 1689 kms1.example.com.",
            "two records for one target",
        ),
    ] {
        let line = block
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not listed:\n{text}"));
        assert!(line.contains(why), "{line}");
        assert!(stderr.contains(needle), "{needle} not on stderr: {stderr}");
    }
    assert!(
        stderr.contains("warning: 3 record(s) not imported"),
        "{stderr}"
    );
    // The odd domain keeps its foreign record: prune = false.
    assert!(text.contains("prune = false"), "{text}");
    round_trip(&cfg);
}

#[test]
fn an_existing_file_is_not_overwritten_without_force() {
    let bind = BindServer::start(&estate());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kmsdns.toml");
    std::fs::write(&cfg, "# mine\n").unwrap();
    let o = cfg.to_str().unwrap();
    import(&bind, &["corp.example.com", "-o", o])
        .code(3)
        .stderr(
            predicate::str::contains("already exists").and(predicate::str::contains("--force")),
        );
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), "# mine\n");
    import(&bind, &["corp.example.com", "-o", o, "--force"]).code(0);
    assert!(
        std::fs::read_to_string(&cfg)
            .unwrap()
            .contains("[[domains]]")
    );
    round_trip(&cfg);
}
