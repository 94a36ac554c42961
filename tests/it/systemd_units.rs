//! examples/systemd/: the drift and verify units and their timers. `systemd-analyze verify`
//! accepts them (with ExecStart pointed at the binary cargo built, since verify checks that
//! the program exists), `systemd-analyze security --offline` rates their hardening, the keys
//! that matter are checked one by one, and the drift unit's ExecStart, run with its
//! EnvironmentFile against a real BIND, exits 2 on drift (the unit fails) and 0 once applied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{BindServer, require};

const BIN: &str = "/usr/local/bin/kmsdns";
const CONFIG: &str = "/etc/kmsdns/kmsdns.toml";
const ENV_FILE: &str = "/etc/kmsdns/kmsdns.env";
const UNITS: [&str; 4] = [
    "kmsdns-drift.service",
    "kmsdns-drift.timer",
    "kmsdns-verify.service",
    "kmsdns-verify.timer",
];

fn unit_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/systemd")
        .join(name)
}

/// A unit file as section → key → values (a key may repeat; comments and blanks dropped).
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn parse_unit(name: &str) -> Unit {
    let text = std::fs::read_to_string(unit_path(name)).unwrap();
    let mut unit = Unit::new();
    let mut section = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        assert!(
            !line.ends_with('\\'),
            "{name}:{}: no continuation lines",
            n + 1
        );
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(s.to_owned());
            unit.entry(s.to_owned()).or_default();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{name}:{}: not KEY=VALUE: {line}", n + 1));
        let section = section.as_ref().expect("a key before any section");
        unit.get_mut(section)
            .unwrap()
            .entry(k.trim().to_owned())
            .or_default()
            .push(v.trim().to_owned());
    }
    unit
}

fn one<'a>(unit: &'a Unit, section: &str, key: &str) -> &'a str {
    let values = unit
        .get(section)
        .and_then(|s| s.get(key))
        .unwrap_or_else(|| panic!("[{section}] {key} missing"));
    assert_eq!(values.len(), 1, "[{section}] {key} set more than once");
    &values[0]
}

#[test]
fn the_units_pass_systemd_analyze_verify_and_a_security_review() {
    let analyze = require("systemd-analyze");
    let dir = tempfile::tempdir().unwrap();
    for name in UNITS {
        let text = std::fs::read_to_string(unit_path(name)).unwrap();
        let text = text.replace(BIN, &crate::harness::cli::binary().display().to_string());
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let files: Vec<PathBuf> = UNITS.iter().map(|u| dir.path().join(u)).collect();
    let out = Command::new(&analyze)
        .arg("verify")
        .args(&files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    assert!(
        stderr.trim().is_empty(),
        "systemd-analyze verify warns: {stderr}"
    );
    for service in ["kmsdns-drift.service", "kmsdns-verify.service"] {
        // --threshold is in tenths: fail when the exposure level is over 1.5 (of 10).
        let out = Command::new(&analyze)
            .args(["security", "--offline=yes", "--threshold=15"])
            .arg(dir.path().join(service))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{service}: exposure over 1.5:\n{stdout}"
        );
        assert!(stdout.contains("OK"), "{stdout}");
    }
}

#[test]
fn the_units_run_the_documented_commands_hardened() {
    let drift = parse_unit("kmsdns-drift.service");
    let verify = parse_unit("kmsdns-verify.service");
    assert_eq!(
        one(&drift, "Service", "ExecStart"),
        format!("{BIN} -c {CONFIG} plan --detailed-exitcode")
    );
    assert_eq!(
        one(&verify, "Service", "ExecStart"),
        format!("{BIN} -c {CONFIG} verify")
    );
    for unit in [&drift, &verify] {
        for (key, want) in [
            ("Type", "oneshot"),
            ("DynamicUser", "yes"),
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
            ("PrivateDevices", "yes"),
            ("ReadOnlyPaths", "/etc/kmsdns"),
            ("RestrictAddressFamilies", "AF_INET AF_INET6"),
            ("CapabilityBoundingSet", ""),
            ("EnvironmentFile", &format!("-{ENV_FILE}")),
            ("MemoryDenyWriteExecute", "yes"),
            ("UMask", "0077"),
        ] {
            assert_eq!(one(unit, "Service", key), want, "[Service] {key}");
        }
        assert_eq!(one(unit, "Unit", "After"), "network-online.target");
    }
    for timer in ["kmsdns-drift.timer", "kmsdns-verify.timer"] {
        let t = parse_unit(timer);
        assert_eq!(one(&t, "Timer", "OnCalendar"), "hourly");
        assert_eq!(one(&t, "Timer", "RandomizedDelaySec"), "15min");
        assert_eq!(one(&t, "Timer", "Persistent"), "true");
        assert_eq!(one(&t, "Install", "WantedBy"), "timers.target");
    }
}

/// The drift unit's ExecStart with its environment as systemd would give it: the
/// EnvironmentFile (KEY=VALUE lines) and `Environment=`, nothing else.
#[test]
fn the_drift_command_fails_on_drift_and_passes_once_applied() {
    let bind = BindServer::start(&crate::plan_apply::lab_builder());
    let dir = tempfile::tempdir().unwrap();
    let config = crate::plan_apply::config(&bind, "").replace(
        &format!("file = \"{}\"", bind.key("kms-update").file.display()),
        "secret_env = \"KMSDNS_TSIG_SECRET\"",
    );
    let config_path = crate::harness::cli::write_config(dir.path(), &config);
    let env_file = dir.path().join("kmsdns.env");
    let secret = &bind.key("kms-update").secret_b64;
    std::fs::write(&env_file, format!("KMSDNS_TSIG_SECRET={secret}\n")).unwrap();

    let unit = parse_unit("kmsdns-drift.service");
    let exec = one(&unit, "Service", "ExecStart");
    let args: Vec<String> = exec
        .split_whitespace()
        .skip(1)
        .map(|a| a.replace(CONFIG, config_path.to_str().unwrap()))
        .collect();
    let run = || {
        let mut cmd = Command::new(crate::harness::cli::binary().display().to_string());
        cmd.env_clear().args(&args).current_dir("/");
        for line in std::fs::read_to_string(&env_file).unwrap().lines() {
            let (k, v) = line.split_once('=').unwrap();
            cmd.env(k, v);
        }
        for assignment in &unit["Service"]["Environment"] {
            let (k, v) = assignment.split_once('=').unwrap();
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(2), "drift: the unit fails");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Plan: 4 to add"));
    crate::harness::cli::kmsdns()
        .env("KMSDNS_TSIG_SECRET", secret)
        .arg("-c")
        .arg(&config_path)
        .args(["apply", "--yes"])
        .assert()
        .success();
    let out = run();
    assert_eq!(out.status.code(), Some(0), "no drift: the unit succeeds");
}
