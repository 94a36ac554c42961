//! `kmsdns verify` against a real named and a loopback TCP listener standing in for a KMS host
//! (issue 6): a healthy domain passes every rung; each failure class is recognised.

mod monitoring;
mod plan_agreement;
mod rungs;

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;

use serde_json::Value;

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::{BindServer, Policy, ServerBuilder, ZoneBuilder};

/// A KMS host stand-in: accepts TCP on 127.0.0.1:port while alive.
fn kms_listener() -> (TcpListener, u16) {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    l.local_addr().unwrap().port()
}

fn config(
    dir: &std::path::Path,
    host: &str,
    port: u16,
    domains: &[&str],
    suffixes: &[&str],
) -> PathBuf {
    let mut text = String::new();
    if !suffixes.is_empty() {
        text.push_str(&format!(
            "client_suffixes = [{}]\n",
            suffixes
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    text.push_str(&format!("[[hosts]]\nname = \"{host}\"\nport = {port}\n"));
    for d in domains {
        text.push_str(&format!("[[domains]]\nname = \"{d}\"\n"));
    }
    write_config(dir, &text)
}

/// Runs verify --json and returns (exit code, report).
fn verify(cfg: &std::path::Path, resolver: &str, server_port: u16, extra: &[&str]) -> (i32, Value) {
    let out = kmsdns()
        .arg("-c")
        .arg(cfg)
        .args([
            "verify",
            "--json",
            "--resolver",
            resolver,
            "--server-port",
            &server_port.to_string(),
            "--connect-timeout",
            "1s",
        ])
        .args(extra)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

/// The failed checks of the first domain as (rung, class, fix).
fn failures(report: &Value) -> Vec<(String, String, String)> {
    report["domains"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            (
                c["rung"].as_str().unwrap().to_string(),
                c["class"].as_str().unwrap().to_string(),
                c["fix"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// example.com with `_vlmcs._tcp.corp.example.com` records given as zone lines.
fn zone_with(lines: &[String]) -> BindServer {
    let mut z = ZoneBuilder::new("example.com")
        .record("kms1 A 127.0.0.1")
        .record("alias CNAME kms1")
        .policy(Policy::None);
    for l in lines {
        z = z.record(l);
    }
    BindServer::start(&ServerBuilder::new().zone(z))
}

fn srv_line(port: u16, target: &str) -> String {
    format!("_vlmcs._tcp.corp 3600 IN SRV 0 0 {port} {target}")
}

/// Starts example.com with `lines` and runs `verify --json` for one host at `port` serving
/// corp.example.com (plus `suffixes`).
fn run_case(
    lines: &[String],
    host: &str,
    port: u16,
    suffixes: &[&str],
    extra: &[&str],
) -> (i32, Value) {
    let bind = zone_with(lines);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), host, port, &["corp.example.com"], suffixes);
    verify(&cfg, &bind.addr().to_string(), bind.port(), extra)
}
