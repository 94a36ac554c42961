//! `render nsupdate` round trips through the real nsupdate and BIND, and `kmsdns plan` then
//! reports no changes (issue 5); with `--plan`, the script's prereq lines stop a stale update.

use predicates::prelude::*;

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::{BindServer, Policy, ServerBuilder, ZoneBuilder};

fn config(bind: &BindServer, corp_hosts: &str) -> String {
    format!(
        r#"[defaults]
key = "kms-update"
[keys.kms-update]
file = "{}"
[servers.lab]
address = "127.0.0.1:{}"
[[hosts]]
name = "kms1.example.com"
[[hosts]]
name = "kms2.example.com"
priority = 10
[[domains]]
name = "corp.example.com"
zone = "example.com"
server = "lab"
hosts = {corp_hosts}
[[domains]]
name = "example.com"
zone = "example.com"
server = "lab"
"#,
        bind.key("kms-update").file.display(),
        bind.port()
    )
}

fn render(cfg: &std::path::Path, extra: &[&str]) -> String {
    let out = kmsdns()
        .arg("-c")
        .arg(cfg)
        .args(["render", "nsupdate"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn nsupdate_script_round_trips_and_plan_then_has_no_changes() {
    let b = ServerBuilder::new().key("kms-update", "hmac-sha256").zone(
        ZoneBuilder::new("example.com").policy(Policy::grant(
            "kms-update",
            ["corp.example.com", "example.com"],
        )),
    );
    let bind = BindServer::start(&b);
    let key = bind.key("kms-update");
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &config(&bind, r#"["kms1.example.com", "kms2.example.com"]"#),
    );
    // Some drift the script must clean up (prune = true replaces the RRset).
    assert!(
        bind.nsupdate(
            key,
            "update add _vlmcs._tcp.corp.example.com. 60 SRV 0 0 1688 rogue.example.com.\nsend\n"
        )
        .status
        .success()
    );

    let script = render(&cfg, &[]);
    assert!(
        script.contains("update delete _vlmcs._tcp.corp.example.com. SRV"),
        "{script}"
    );
    let out = bind.nsupdate(key, &script);
    assert!(
        out.status.success(),
        "nsupdate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(bind.srv_records("_vlmcs._tcp.corp.example.com").len(), 2);
    kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "No changes. KMS SRV records match the configuration.",
        ));

    // A saved plan's state becomes prereq lines: a change made since makes nsupdate fail.
    let cfg = write_config(dir.path(), &config(&bind, r#"["kms2.example.com"]"#));
    let plan = dir.path().join("p.json");
    kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args(["plan", "--out"])
        .arg(&plan)
        .assert()
        .success();
    let script = render(&cfg, &["--plan", plan.to_str().unwrap()]);
    assert!(
        script.contains(
            "prereq yxrrset _vlmcs._tcp.corp.example.com. SRV 0 0 1688 kms1.example.com."
        ),
        "{script}"
    );
    assert!(
        bind.nsupdate(
            key,
            "update add _vlmcs._tcp.corp.example.com. 60 SRV 0 0 1688 sneaky.example.com.\nsend\n"
        )
        .status
        .success()
    );
    let serial = bind.soa_serial("example.com");
    let out = bind.nsupdate(key, &script);
    assert!(!out.status.success(), "the stale script must fail");
    assert_eq!(bind.soa_serial("example.com"), serial, "nothing written");
    assert_eq!(bind.srv_records("_vlmcs._tcp.corp.example.com").len(), 3);

    // Plan again, render again: it applies and the plan is clean.
    kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args(["plan", "--out"])
        .arg(&plan)
        .assert()
        .success();
    let out = bind.nsupdate(key, &render(&cfg, &["--plan", plan.to_str().unwrap()]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0);
}
