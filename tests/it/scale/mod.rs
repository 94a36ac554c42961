//! Scale (issue 13): one zone with thousands of managed domains goes in as several UPDATEs,
//! each RRset whole in one; a later message that fails is reported per RRset; a big zone is
//! read by one signed AXFR, or per owner where transfers are refused; the progress bar never
//! reaches a pipe.

mod big_zone;
mod progress;
mod reads;
mod split_failure;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::{BindServer, Policy, Server, ServerBuilder, ZoneBuilder};

/// The zone every test here uses.
const ZONE: &str = "big.test";

/// BIND with zone [`ZONE`] (hosts kms1/kms2) and key `kms-update`, under `policy`.
fn lab(policy: &str) -> BindServer {
    lab_with(policy, |z| z)
}

/// [`lab`] with more said about the zone.
fn lab_with(policy: &str, zone: impl FnOnce(ZoneBuilder) -> ZoneBuilder) -> BindServer {
    let started = Instant::now();
    let bind = BindServer::start(
        &ServerBuilder::new()
            .key("kms-update", "hmac-sha256")
            .zone(zone(
                ZoneBuilder::new(ZONE)
                    .record("kms1 A 127.0.0.1")
                    .record("kms2 A 127.0.0.1")
                    .policy(Policy::Raw(policy.to_string())),
            )),
    );
    eprintln!("BIND started in {:?}", started.elapsed());
    bind
}

/// The name of domain `i`: `d0042.big.test`.
fn domain(i: usize) -> String {
    format!("d{i:04}.{ZONE}")
}

/// A config with `n` domains of [`ZONE`], each with both KMS hosts, through server `lab`.
fn config(bind: &Server, n: usize) -> (tempfile::TempDir, PathBuf) {
    let mut text = format!(
        "[defaults]\nkey = \"kms-update\"\n[keys.kms-update]\nfile = \"{}\"\n[servers.lab]\naddress = \"{}\"\n[[hosts]]\nname = \"kms1.{ZONE}\"\n[[hosts]]\nname = \"kms2.{ZONE}\"\n",
        bind.key("kms-update").file.display(),
        bind.addr()
    );
    for i in 0..n {
        text.push_str(&format!(
            "[[domains]]\nname = \"{}\"\nserver = \"lab\"\n",
            domain(i)
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &text);
    (dir, cfg)
}

/// `kmsdns -c CFG ARGS…`, timed on stderr.
fn run(cfg: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    let started = Instant::now();
    let out = kmsdns().arg("-c").arg(cfg).args(args).assert();
    eprintln!("kmsdns {args:?} took {:?}", started.elapsed());
    out
}

/// Every SRV record in [`ZONE`] by a signed AXFR with dig (`-k` the lab's key file):
/// `(owner, target)` lines.
fn axfr_srv(bind: &Server) -> Vec<(String, String)> {
    let key = bind.key("kms-update").file.to_str().unwrap().to_string();
    let text = bind.dig(&["-k", &key, "+noall", "+answer", ZONE, "AXFR"]);
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                [owner, _, "IN", "SRV", _, _, _, target] => {
                    Some(((*owner).to_string(), (*target).to_string()))
                }
                _ => None,
            }
        })
        .collect()
}
