//! `kmsdns plan` / `kmsdns apply` end to end against a real named (issue 4).

mod confirm;
mod drift;
mod markdown;
mod output;
mod zones;

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::harness::cli::{kmsdns, write_config};
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
