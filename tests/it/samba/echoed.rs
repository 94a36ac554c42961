//! An echoed error reply from Samba handled as such. A saved plan is applied on a terminal;
//! it is still current when `apply PLAN` checks it, and while kmsdns asks "Apply these
//! changes?", someone changes the node. Samba answers the UPDATE whose prerequisite no longer
//! holds with NXRRSET in a reply that echoes our request and its MAC: kmsdns reports the
//! prerequisite failure as the server's answer — not as uncertain, not as tampering.
//!
//! Samba checks a value-dependent "RRset exists" prerequisite (RFC 2136 §2.4.2) record by
//! record, not as the whole RRset: a record added meanwhile does not fail it. kmsdns's
//! read-back notices the stranger and says so.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;

use super::{config, run, targets, text};
use crate::harness::samba::{SambaDc, Ticket, ZONE};

/// `kmsdns -c CFG apply PLAN` on a pty in the DC's namespace; runs `meanwhile` while kmsdns
/// waits for the answer, then answers `y`. Returns the exit code and the terminal output.
fn apply_on_tty_with_a_change_meanwhile(
    dc: &SambaDc,
    cfg: &Path,
    plan_file: &Path,
    meanwhile: impl FnOnce(),
) -> (Option<i32>, String) {
    let mut child = dc
        .command(crate::harness::require("script"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .arg("-qec")
        .arg(format!(
            "'{}' -c '{}' apply '{}'",
            crate::harness::cli::binary().display(),
            cfg.display(),
            plan_file.display()
        ))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kmsdns apply on a pty");
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("Apply these changes? [y/N]") {
        let n = stdout.read(&mut buf).expect("read kmsdns output");
        assert!(n > 0, "no question: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    meanwhile();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"y\n").unwrap();
    drop(stdin);
    stdout.read_to_end(&mut seen).unwrap();
    let status = child.wait().unwrap();
    (status.code(), String::from_utf8_lossy(&seen).into_owned())
}

/// A node with `kms1` at TTL 300 (the config wants 3600: one change), and a saved plan.
fn node_and_saved_plan(
    dc: &SambaDc,
    dir: &Path,
    hint: &str,
) -> (String, Ticket, std::path::PathBuf, std::path::PathBuf) {
    let domain = dc.fresh_domain(hint);
    let owner = format!("_vlmcs._tcp.{domain}");
    let kmsdns = dc.kinit("kmsdns");
    dc.nsupdate(
        Some(&kmsdns),
        &format!("update add {owner}. 300 SRV 0 0 1688 kms1.{ZONE}.\nsend\n"),
    );
    let cfg = config(dc, dir, "kmsdns", &[&format!("kms1.{ZONE}")], &[&domain]);
    let plan_file = dir.join("plan.json");
    let plan = run(dc, &cfg, &["plan", "--out", plan_file.to_str().unwrap()]);
    let out = text(&plan);
    assert_eq!(plan.status.code(), Some(0), "{out}");
    assert!(out.contains("(ttl 300 → 3600)"), "{out}");
    (owner, kmsdns, cfg, plan_file)
}

#[test]
fn samba_prerequisite_failure_in_an_echoed_reply_is_reported_truthfully() {
    let dc = SambaDc::shared();
    let dir = tempfile::tempdir().unwrap();
    let (owner, kmsdns, cfg, plan_file) = node_and_saved_plan(dc, dir.path(), "prereq");
    let (code, out) = apply_on_tty_with_a_change_meanwhile(dc, &cfg, &plan_file, || {
        dc.nsupdate(
            Some(&kmsdns),
            &format!(
                "update delete {owner}. SRV 0 0 1688 kms1.{ZONE}.\n\
                 update add {owner}. 300 SRV 0 0 1688 kms-new.{ZONE}.\nsend\n"
            ),
        );
        assert_eq!(targets(dc, &owner), [format!("kms-new.{ZONE}.")]);
    });
    assert_eq!(code, Some(1), "{out}");
    let failed = out
        .lines()
        .find(|l| l.trim_start().starts_with("failed"))
        .unwrap_or_else(|| panic!("no failed line: {out}"));
    for part in [
        &format!("{ZONE}. via dc (10.53.0.1:53)"),
        "changed by another writer since they were read",
        "the prerequisites failed (NXRRSET) and the server wrote nothing",
    ] {
        assert!(failed.contains(part), "`{part}` missing: {out}");
    }
    // The echoed reply was recognised and only its RCODE used.
    assert!(out.contains("echoes our request"), "{out}");
    for word in ["uncertain", "tamper", "forged", "altered"] {
        assert!(!out.contains(word), "`{word}` in: {out}");
    }
    let rrs = dc.srv_records(&owner);
    assert_eq!(rrs.len(), 1, "{rrs:?}");
    assert_eq!(
        (rrs[0].ttl, rrs[0].target.as_str()),
        (300, format!("kms-new.{ZONE}.").as_str())
    );
}

#[test]
fn samba_record_added_meanwhile_passes_its_prerequisite_and_the_read_back_says_so() {
    let dc = SambaDc::shared();
    let dir = tempfile::tempdir().unwrap();
    let (owner, kmsdns, cfg, plan_file) = node_and_saved_plan(dc, dir.path(), "stranger");
    let (code, out) = apply_on_tty_with_a_change_meanwhile(dc, &cfg, &plan_file, || {
        dc.nsupdate(
            Some(&kmsdns),
            &format!("update add {owner}. 300 SRV 0 0 1688 kms-new.{ZONE}.\nsend\n"),
        );
    });
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("read back and verified"), "{out}");
    let warning = out
        .lines()
        .find(|l| l.contains("warning:"))
        .unwrap_or_else(|| panic!("no warning: {out}"));
    assert!(
        warning.contains(&format!(
            "{owner}.: another writer changed other records of this RRset meanwhile"
        )) && warning.contains(&format!("SRV 0 0 1688 kms-new.{ZONE}.")),
        "{out}"
    );
    let mut now = targets(dc, &owner);
    now.sort();
    assert_eq!(now, [format!("kms-new.{ZONE}."), format!("kms1.{ZONE}.")]);
}
