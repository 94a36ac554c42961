//! `kmsdns plan` / `kmsdns apply` end to end against a real named (issue 4).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::harness::cli::{kmsdns, kmsdns_on_tty, write_config};
use crate::harness::{BindServer, Policy, Server, ServerBuilder, SrvRr, ZoneBuilder};

pub(crate) const CORP: &str = "_vlmcs._tcp.corp.example.com";
const APEX: &str = "_vlmcs._tcp.example.com";
pub(crate) const BRANCH: &str = "_vlmcs._tcp.branch.example.net";

/// example.com (domains corp.example.com and example.com) and example.net (domain
/// branch.example.net), key `kms-update` granted exactly those SRV RRsets; for any server.
pub(crate) fn lab_builder() -> ServerBuilder {
    ServerBuilder::new()
        .key("kms-update", "hmac-sha256")
        .zone(
            ZoneBuilder::new("example.com")
                .record("kms1 A 127.0.0.1")
                .record("kms2 A 127.0.0.1")
                .policy(Policy::grant(
                    "kms-update",
                    ["corp.example.com", "example.com"],
                )),
        )
        .zone(
            ZoneBuilder::new("example.net")
                .policy(Policy::grant("kms-update", ["branch.example.net"])),
        )
}

/// [`lab_builder`] on BIND.
fn lab() -> BindServer {
    BindServer::start(&lab_builder())
}

/// The config for [`lab_builder`]'s zones, all updated through `server` (`[::1]:PORT` for an
/// IPv6 lab).
pub(crate) fn config(server: &Server, extra_domain_lines: &str) -> String {
    format!(
        r#"[defaults]
ttl = 3600
key = "kms-update"

[keys.kms-update]
file = "{key}"

[servers.lab]
address = "{addr}"

[[hosts]]
name = "kms1.example.com"

[[hosts]]
name = "kms2.example.com"
priority = 10

[[domains]]
name = "corp.example.com"
server = "lab"
{extra_domain_lines}
[[domains]]
name = "example.com"
server = "lab"
hosts = ["kms1.example.com"]

[[domains]]
name = "branch.example.net"
server = "lab"
hosts = [{{ name = "kms2.example.com", priority = 0 }}]
"#,
        key = server.key("kms-update").file.display(),
        addr = server.addr()
    )
}

/// A config with key `kms-update` from `key`, one server `lab` at `server`, host
/// kms1.example.com, and `domains` all updated through that server.
pub(crate) fn one_host_config(
    key: &Path,
    server: std::net::SocketAddr,
    domains: &[&str],
) -> String {
    let mut text = format!(
        "[defaults]\nkey = \"kms-update\"\n[keys.kms-update]\nfile = \"{}\"\n[servers.lab]\naddress = \"{server}\"\n[[hosts]]\nname = \"kms1.example.com\"\n",
        key.display()
    );
    for d in domains {
        text.push_str(&format!("[[domains]]\nname = \"{d}\"\nserver = \"lab\"\n"));
    }
    text
}

pub(crate) fn rr(ttl: u32, priority: u16, target: &str) -> SrvRr {
    SrvRr {
        ttl,
        priority,
        weight: 0,
        port: 1688,
        target: target.to_string(),
    }
}

pub(crate) fn setup(extra: &str) -> (BindServer, tempfile::TempDir, PathBuf) {
    let bind = lab();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&bind, extra));
    (bind, dir, cfg)
}

pub(crate) fn run(cfg: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    kmsdns().arg("-c").arg(cfg).args(args).assert()
}

#[test]
fn plan_apply_replan_then_nothing_is_sent() {
    plan_apply_replan(&lab());
}

/// plan (4 to add) → apply (one UPDATE per zone, dig shows exactly the config) → plan (no
/// changes) → apply (nothing sent), on a server started from [`lab_builder`].
pub(crate) fn plan_apply_replan(bind: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(bind, ""));
    let plan = run(&cfg, &["plan", "--detailed-exitcode"]).code(2);
    let text = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(
        text.contains("+ 3600 IN SRV 0 0 1688 kms1.example.com."),
        "{text}"
    );
    assert!(
        text.contains("Plan: 4 to add, 0 to change, 0 to delete."),
        "{text}"
    );
    assert!(text.contains("key kms-update"), "{text}");

    let serial_com = bind.soa_serial("example.com");
    run(&cfg, &["apply", "--yes"]).success().stdout(
        predicate::str::contains("applied").and(predicate::str::contains("read back and verified")),
    );
    // dig shows exactly the desired RRsets.
    assert_eq!(
        bind.srv_records(CORP),
        vec![
            rr(3600, 0, "kms1.example.com."),
            rr(3600, 10, "kms2.example.com.")
        ]
    );
    assert_eq!(
        bind.srv_records(APEX),
        vec![rr(3600, 0, "kms1.example.com.")]
    );
    assert_eq!(
        bind.srv_records(BRANCH),
        vec![rr(3600, 0, "kms2.example.com.")]
    );
    // One UPDATE per zone: the serial went up by exactly one.
    assert_eq!(bind.soa_serial("example.com"), serial_com + 1);

    run(&cfg, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout(predicate::str::contains(
            "No changes. KMS SRV records match the configuration.",
        ));
    let before = (
        bind.soa_serial("example.com"),
        bind.soa_serial("example.net"),
    );
    run(&cfg, &["apply", "--yes"])
        .success()
        .stdout(predicate::str::contains("Apply summary").not());
    assert_eq!(
        (
            bind.soa_serial("example.com"),
            bind.soa_serial("example.net")
        ),
        before,
        "a second apply must send no UPDATE"
    );
}

#[test]
fn drift_is_shown_and_restored_and_prune_false_keeps_the_rogue() {
    let (bind, dir, cfg) = setup("");
    run(&cfg, &["apply", "--yes"]).success();
    let key = bind.key("kms-update");
    let out = bind.nsupdate(
        key,
        &format!(
            "update add {CORP}. 3600 SRV 0 0 1688 rogue.example.com.\nupdate delete {APEX}. SRV 0 0 1688 kms1.example.com.\nupdate add {APEX}. 60 SRV 0 0 1688 kms1.example.com.\nsend\n"
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = run(&cfg, &["plan", "--detailed-exitcode"]).code(2);
    let text = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(
        text.contains("- 3600 IN SRV 0 0 1688 rogue.example.com."),
        "{text}"
    );
    assert!(
        text.contains("~ 3600 IN SRV 0 0 1688 kms1.example.com.  (ttl 60 → 3600)"),
        "{text}"
    );
    assert!(
        text.contains("Plan: 0 to add, 1 to change, 1 to delete."),
        "{text}"
    );
    run(&cfg, &["apply", "--yes"]).success();
    assert_eq!(
        bind.srv_records(CORP),
        vec![
            rr(3600, 0, "kms1.example.com."),
            rr(3600, 10, "kms2.example.com.")
        ]
    );
    assert_eq!(
        bind.srv_records(APEX),
        vec![rr(3600, 0, "kms1.example.com.")]
    );

    // prune = false: the rogue target stays and is listed as unmanaged.
    let cfg2 = write_config(dir.path(), &config(&bind, "prune = false\n"));
    assert!(
        bind.nsupdate(
            key,
            &format!("update add {CORP}. 3600 SRV 0 0 1688 rogue.example.com.\nsend\n")
        )
        .status
        .success()
    );
    let plan = run(&cfg2, &["plan", "--detailed-exitcode"]).code(0);
    let text = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(
        text.contains("= 3600 IN SRV 0 0 1688 rogue.example.com.  (unmanaged"),
        "{text}"
    );
    assert!(text.contains("DisableDnsPublishing=1"), "{text}");
    run(&cfg2, &["apply", "--yes"]).success();
    assert!(
        bind.srv_records(CORP)
            .iter()
            .any(|r| r.target == "rogue.example.com.")
    );
}

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
fn plan_json_follows_the_documented_schema() {
    let (bind, _dir, cfg) = setup("");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/plan.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    for round in 0..2 {
        let out = run(&cfg, &["plan", "--json"]).success();
        let json: serde_json::Value =
            serde_json::from_slice(&out.get_output().stdout).expect("plan --json prints JSON");
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "round {round}: {errors:#?}\n{json:#}");
        assert_eq!(json["schema"], 1);
        let zones = json["zones"].as_array().unwrap();
        assert_eq!(zones.len(), 2);
        assert_eq!(zones[0]["key"], "kms-update");
        let changes = zones[0]["rrsets"][0]["changes"].as_array().unwrap().len();
        assert_eq!(changes, if round == 0 { 2 } else { 0 });
        if round == 0 {
            run(&cfg, &["apply", "--yes"]).success();
        }
    }
    // The validator does reject a document that breaks the schema.
    let bad = serde_json::json!({"schema": 2});
    assert!(!validator.is_valid(&bad));
    drop(bind);
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

#[test]
fn secrets_never_reach_the_output_and_loose_key_files_are_flagged() {
    let (bind, _dir, cfg) = setup("");
    let secret = bind.key("kms-update").secret_b64.clone();
    for args in [
        &["-vvv", "plan", "--json"][..],
        &["-vvv", "apply", "--yes"],
        &["-vvv", "validate"],
    ] {
        let out = kmsdns()
            .arg("-c")
            .arg(&cfg)
            .args(args)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{args:?}: {all}");
        assert!(!all.contains(&secret), "{args:?} printed the secret");
        assert!(
            all.contains("kms-update"),
            "{args:?}: the key is named, just not its secret"
        );
    }
    // A key file readable by others gets a warning naming the fix.
    use std::os::unix::fs::PermissionsExt;
    let file = &bind.key("kms-update").file;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    run(&cfg, &["plan"])
        .success()
        .stderr(predicate::str::contains(format!(
            "chmod 600 {}",
            file.display()
        )));
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

/// Adds `target` to the corp RRset with `ttl` through nsupdate, as a Windows KMS host that
/// publishes itself would.
fn self_publish(bind: &BindServer, ttl: u32, target: &str) {
    let out = bind.nsupdate(
        bind.key("kms-update"),
        &format!("update add {CORP}. {ttl} SRV 0 0 1688 {target}\nsend\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

/// The issue "The truth, always" (B): with prune = false, a self-publisher adding its target
/// with TTL 600 gives the whole RRset TTL 600 (RFC 2181 §5.2; BIND keeps the TTL of the record
/// added last). `plan` reports that TTL instead of changing it, so it settles at exit code 0,
/// and `apply` sends nothing and leaves the foreign record alone.
#[test]
fn ttl_set_by_a_kept_self_publisher_is_reported_and_plan_converges() {
    let (bind, _dir, cfg) = setup("prune = false\n");
    run(&cfg, &["apply", "--yes"]).success();
    self_publish(&bind, 600, "self.example.com.");
    // BIND gave our records the foreign TTL.
    assert_eq!(
        bind.srv_records(CORP),
        vec![
            rr(600, 0, "kms1.example.com."),
            rr(600, 0, "self.example.com."),
            rr(600, 10, "kms2.example.com."),
        ]
    );
    for round in 0..2 {
        let text = stdout(&run(&cfg, &["plan", "--detailed-exitcode"]).code(0));
        for line in [
            "_vlmcs._tcp.corp.example.com. (up to date)",
            "= 600 IN SRV 0 0 1688 kms1.example.com.  (config ttl 3600; TTL 600 set by the foreign member self.example.com.; kept because one RRset has one TTL)",
            "= 600 IN SRV 10 0 1688 kms2.example.com.  (config ttl 3600; TTL 600 set by the foreign member self.example.com.; kept because one RRset has one TTL)",
            "= 600 IN SRV 0 0 1688 self.example.com.  (unmanaged: kept because prune = false)",
            "No changes. KMS SRV records match the configuration, but for the TTLs kept above.",
        ] {
            assert!(text.contains(line), "round {round}: {line}\n{text}");
        }
        assert!(!text.contains("ttl 600 → 3600"), "{text}");
        let serials = (
            bind.soa_serial("example.com"),
            bind.soa_serial("example.net"),
        );
        let text = stdout(&run(&cfg, &["apply", "--yes"]).success());
        assert!(!text.contains("Apply summary"), "nothing to apply: {text}");
        assert_eq!(
            (
                bind.soa_serial("example.com"),
                bind.soa_serial("example.net")
            ),
            serials,
            "round {round}: apply must send no UPDATE"
        );
        assert!(
            bind.srv_records(CORP)
                .contains(&rr(600, 0, "self.example.com.")),
            "the foreign record stays, with its TTL"
        );
    }
    // The JSON plan carries the same facts and follows the documented schema.
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/plan.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&run(&cfg, &["plan", "--json"]).success().get_output().stdout)
            .unwrap();
    assert!(validator.is_valid(&json), "{json:#}");
    let corp = &json["zones"][0]["rrsets"][0];
    assert_eq!(corp["owner"], "_vlmcs._tcp.corp.example.com.");
    assert_eq!(corp["changes"].as_array().unwrap().len(), 0);
    assert_eq!(corp["ttl_kept"].as_array().unwrap().len(), 2);
    assert_eq!(corp["ttl_kept"][0]["foreign"], "self.example.com.");
    assert_eq!(corp["ttl_kept"][0]["desired_ttl"], 3600);
    assert_eq!(corp["ttl_kept"][0]["record"]["ttl"], 600);
}

/// The other way round: the self-publisher was there first (TTL 600) and kmsdns adds its
/// records with TTL 3600. BIND gives the whole RRset, the foreign record included, TTL 3600;
/// the plan says so beforehand, and the next plan has nothing to do. When the foreign host
/// registers again (TTL 600), the case above follows: reported, not fought.
#[test]
fn adding_our_records_gives_a_kept_foreign_member_our_ttl() {
    let (bind, _dir, cfg) = setup("prune = false\n");
    self_publish(&bind, 600, "self.example.com.");
    let text = stdout(&run(&cfg, &["plan", "--detailed-exitcode"]).code(2));
    for line in [
        "+ 3600 IN SRV 0 0 1688 kms1.example.com.",
        "= 600 IN SRV 0 0 1688 self.example.com.  (unmanaged: kept because prune = false)",
        "note: one RRset has one TTL: this change gives self.example.com. TTL 3600 too (BIND keeps the TTL of the record added last)",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    run(&cfg, &["apply", "--yes"]).success();
    assert_eq!(
        bind.srv_records(CORP),
        vec![
            rr(3600, 0, "kms1.example.com."),
            rr(3600, 0, "self.example.com."),
            rr(3600, 10, "kms2.example.com."),
        ]
    );
    let text = stdout(&run(&cfg, &["plan", "--detailed-exitcode"]).code(0));
    assert!(
        text.contains("No changes. KMS SRV records match the configuration.")
            && !text.contains("note: one RRset has one TTL"),
        "{text}"
    );
    // The foreign host registers again.
    self_publish(&bind, 600, "self.example.com.");
    let text = stdout(&run(&cfg, &["plan", "--detailed-exitcode"]).code(0));
    assert!(
        text.contains("TTL 600 set by the foreign member self.example.com.; kept because one RRset has one TTL"),
        "{text}"
    );
}
