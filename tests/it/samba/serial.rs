//! The SOA serial of an AD zone never moves on updates: the apply report says so instead of
//! "serial now N", and `--wait` compares the applied record sets on each name server (here the
//! DC, the zone's only NS) instead of waiting for a serial that will not come.

use super::{config, run, targets, text};
use crate::harness::samba::{PEER_IP, SambaDc, ZONE};

#[test]
fn samba_serial_stays_and_wait_compares_record_sets() {
    let dc = SambaDc::shared();
    let domain = dc.fresh_domain("serial");
    let owner = format!("_vlmcs._tcp.{domain}");
    let soa_serial = || {
        let soa = dc.dig(&["+short", ZONE, "SOA"]);
        soa.split_whitespace().nth(2).unwrap_or_default().to_owned()
    };
    let before = soa_serial();
    let ns = dc.dig(&["+short", ZONE, "NS"]);
    assert_eq!(
        ns.trim(),
        format!("{}.", dc.mname()),
        "the DC is the only NS"
    );

    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dc,
        dir.path(),
        "kmsdns",
        &[&format!("kms1.{ZONE}")],
        &[&domain],
    );
    let apply = run(
        dc,
        &cfg,
        &["apply", "--yes", "--wait", "--wait-timeout", "20s"],
    );
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(0), "{out}");
    assert_eq!(soa_serial(), before, "Samba moved the serial");
    let applied = out
        .lines()
        .find(|l| l.trim_start().starts_with("applied"))
        .unwrap_or_else(|| panic!("no applied line: {out}"));
    assert!(
        applied.contains(&format!(
            "read back and verified, zone serial unchanged at {before} (this server does not bump serials on updates, as Active Directory doesn't); the records were read back"
        )),
        "{out}"
    );
    assert!(!out.contains("serial now"), "{out}");
    assert!(
        out.contains(&format!(
            "{ZONE}. NS {}. in sync, 10.53.0.1:53: serves the applied records",
            dc.mname()
        )),
        "{out}"
    );
    assert!(!out.contains("NOT in sync"), "{out}");
    assert_eq!(targets(dc, &owner), [format!("kms1.{ZONE}.")]);
}

/// A second name server that does not answer: compared by record sets it is not in sync, and
/// `--wait` says so and fails (a DC of the test's own: the shared one keeps one NS).
#[test]
fn samba_wait_reports_a_name_server_without_the_applied_records() {
    let dc = SambaDc::start();
    let admin = dc.kinit("Administrator");
    let out = dc.nsupdate(
        Some(&admin),
        &format!(
            "update add {ZONE}. 3600 NS dc2.{ZONE}.\nupdate add dc2.{ZONE}. 3600 A {PEER_IP}\nsend\n"
        ),
    );
    let ns = dc.dig(&["+short", ZONE, "NS"]);
    assert!(
        ns.contains(&format!("dc2.{ZONE}.")),
        "{ns}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let domain = dc.fresh_domain("lagging");
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        &dc,
        dir.path(),
        "kmsdns",
        &[&format!("kms1.{ZONE}")],
        &[&domain],
    );
    let apply = run(
        &dc,
        &cfg,
        &["apply", "--yes", "--wait", "--wait-timeout", "3s"],
    );
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(1), "{out}");
    assert!(out.contains("zone serial unchanged at"), "{out}");
    assert!(
        out.contains(&format!(
            "{ZONE}. NS {}. in sync, 10.53.0.1:53: serves the applied records",
            dc.mname()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{ZONE}. NS dc2.{ZONE}. NOT in sync, {PEER_IP}:53: no answer"
        )),
        "{out}"
    );
    assert!(
        out.contains("not every name server serves the applied records after 3s (the serial stays"),
        "{out}"
    );
    assert_eq!(
        targets(&dc, &format!("_vlmcs._tcp.{domain}")),
        [format!("kms1.{ZONE}.")]
    );
}
