//! Several addresses per zone (issue 14, "Several servers" and "Failover"): the next address
//! takes the zone only when the one before cannot be reached or times out, never after an
//! answer; a discovered zone falls back from its SOA MNAME to its other NS; the report names
//! the server that took each zone and what was skipped. Real BIND on 127.0.0.1; dead addresses
//! are free ports (refused) or the relay swallowing everything (timeouts).

mod configured;
mod discovered;
mod refused;
mod saved;
mod uncertain;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::{BindServer, Key, Policy, ServerBuilder, SrvRr, ZoneBuilder};

pub(crate) const OWNER: &str = "_vlmcs._tcp.example.com";

/// A BIND serving example.com, with key `kms-update` granted `_vlmcs._tcp.example.com` SRV.
/// With `key`, that key file is included instead of a fresh one (two servers, one secret).
pub(crate) fn bind(key: Option<&Key>, policy: bool) -> BindServer {
    let zone = ZoneBuilder::new("example.com").record("kms1 A 127.0.0.1");
    let zone = if policy {
        zone.policy(Policy::grant("kms-update", ["example.com"]))
    } else {
        zone.policy(Policy::None)
    };
    let builder = match key {
        Some(k) => ServerBuilder::new().include(&k.file),
        None => ServerBuilder::new().key("kms-update", "hmac-sha256"),
    };
    BindServer::start(&builder.zone(zone))
}

/// Two BINDs for example.com sharing key `kms-update`: the first `policy_a` (grant or none),
/// the second always granting.
pub(crate) fn pair(policy_a: bool) -> (BindServer, BindServer) {
    let b = bind(None, true);
    let a = bind(Some(b.key("kms-update")), policy_a);
    (a, b)
}

/// A config: server `lab` with `addresses` (tried in order), timeout 300ms, no retries;
/// domain example.com in zone example.com, one host.
pub(crate) fn config(key: &Path, addresses: &[SocketAddr]) -> String {
    let list: Vec<String> = addresses.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "[defaults]\nkey = \"kms-update\"\n[keys.kms-update]\nfile = \"{}\"\n[servers.lab]\naddress = [{}]\ntimeout = \"300ms\"\nretries = 0\n[[hosts]]\nname = \"kms1.example.com\"\n[[domains]]\nname = \"example.com\"\nzone = \"example.com\"\nserver = \"lab\"\n",
        key.display(),
        list.join(", ")
    )
}

pub(crate) fn setup(key: &Path, addresses: &[SocketAddr]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(key, addresses));
    (dir, cfg)
}

/// Runs `kmsdns -c CFG ARGS…`; returns exit code and stdout + stderr.
pub(crate) fn run(cfg: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = kmsdns().arg("-c").arg(cfg).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// The one record the config asks for, as dig prints it.
pub(crate) fn wanted() -> Vec<SrvRr> {
    vec![SrvRr {
        ttl: 3600,
        priority: 0,
        weight: 0,
        port: 1688,
        target: "kms1.example.com.".into(),
    }]
}

/// An address on 127.0.0.1 nobody listens on: UDP gets ICMP port unreachable, TCP a refusal.
pub(crate) fn dead() -> SocketAddr {
    format!("127.0.0.1:{}", crate::harness::ports::free_port())
        .parse()
        .unwrap()
}

/// `kmsdns -c CFG ARGS…` with `--json` output: stdout parsed (logs go to stderr).
pub(crate) fn json(cfg: &Path, args: &[&str]) -> serde_json::Value {
    let out = kmsdns().arg("-c").arg(cfg).args(args).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
