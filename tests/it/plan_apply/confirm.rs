//! When apply writes: never without a terminal or `--yes`, the allow-empty guard, saved
//! plans (rejected when stale), and the question on a terminal.

use std::ffi::OsStr;

use predicates::prelude::*;

use crate::harness::SrvRr;
use crate::harness::cli::{kmsdns_on_tty, write_config};

use super::*;

#[test]
fn apply_without_terminal_or_yes_changes_nothing_and_allow_empty_guard() {
    let (bind, dir, cfg) = setup("");
    let serial = bind.soa_serial("example.com");
    run(&cfg, &["apply"])
        .code(3)
        .stderr(predicate::str::contains("pass --yes"));
    assert_eq!(bind.soa_serial("example.com"), serial);
    assert!(bind.srv_records(CORP).is_empty());

    // A plan that deletes every existing record of a domain needs --allow-empty.
    run(&cfg, &["apply", "--yes"]).success();
    let renamed = config(&bind, "").replace(
        "hosts = [\"kms1.example.com\"]",
        "hosts = [\"kms2.example.com\"]",
    );
    let cfg2 = write_config(dir.path(), &renamed);
    let serial = bind.soa_serial("example.com");
    run(&cfg2, &["apply", "--yes"])
        .code(3)
        .stderr(predicate::str::contains("--allow-empty").and(predicate::str::contains(APEX)));
    assert_eq!(
        bind.soa_serial("example.com"),
        serial,
        "refused: nothing sent"
    );
    run(&cfg2, &["apply", "--yes", "--allow-empty"]).success();
    assert_eq!(
        bind.srv_records(APEX),
        vec![rr(3600, 10, "kms2.example.com.")]
    );

    // hosts = [] is explicit: allowed without the flag.
    let emptied = renamed.replace("hosts = [\"kms2.example.com\"]", "hosts = []");
    let cfg3 = write_config(dir.path(), &emptied);
    run(&cfg3, &["apply", "--yes"]).success();
    assert!(bind.srv_records(APEX).is_empty());
}

#[test]
fn saved_plan_is_rejected_when_stale_and_applied_exactly_when_not() {
    let (bind, dir, cfg) = setup("");
    let plan_file = dir.path().join("p.json");
    run(&cfg, &["plan", "--out", plan_file.to_str().unwrap()]).success();
    // Change example.com behind the plan's back.
    let key = bind.key("kms-update");
    assert!(
        bind.nsupdate(
            key,
            &format!("update add {CORP}. 300 SRV 0 0 1688 sneaky.example.com.\nsend\n")
        )
        .status
        .success()
    );
    let serial_com = bind.soa_serial("example.com");
    let serial_net = bind.soa_serial("example.net");
    let out = run(&cfg, &["apply", "--yes", plan_file.to_str().unwrap()]).code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("stale plan: zone example.com. changed since it was planned"),
        "{text}"
    );
    assert!(text.contains("run `kmsdns plan` again"), "{text}");
    // Nothing written in the stale zone; the unchanged zone was applied exactly.
    assert_eq!(bind.soa_serial("example.com"), serial_com);
    assert_eq!(
        bind.srv_records(CORP),
        vec![SrvRr {
            ttl: 300,
            priority: 0,
            weight: 0,
            port: 1688,
            target: "sneaky.example.com.".into()
        }]
    );
    assert_eq!(bind.soa_serial("example.net"), serial_net + 1);
    assert_eq!(
        bind.srv_records(BRANCH),
        vec![rr(3600, 0, "kms2.example.com.")]
    );

    // A changed config invalidates a saved plan.
    run(&cfg, &["plan", "--out", plan_file.to_str().unwrap()]).success();
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg).unwrap() + "\n# edited\n",
    )
    .unwrap();
    run(&cfg, &["apply", "--yes", plan_file.to_str().unwrap()])
        .code(3)
        .stderr(predicate::str::contains("changed since the plan"));
    assert_eq!(bind.soa_serial("example.com"), serial_com);
}

/// On a terminal, apply asks; only `y` applies. (`script` from util-linux, Debian package
/// bsdutils, gives it a pty.)
#[test]
fn apply_asks_on_a_terminal() {
    let (bind, _dir, cfg) = setup("");
    let on_tty = |answer: &str| {
        let out = kmsdns_on_tty([OsStr::new("-c"), cfg.as_os_str(), OsStr::new("apply")])
            .write_stdin(format!("{answer}\n"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let serial = bind.soa_serial("example.com");
    let (code, text) = on_tty("n");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("Apply these changes? [y/N]")
            && text.contains("Not applied. Nothing was sent."),
        "{text}"
    );
    assert_eq!(bind.soa_serial("example.com"), serial);
    let (code, text) = on_tty("y");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("applied    example.com."), "{text}");
    assert_eq!(bind.srv_records(CORP).len(), 2);
}
