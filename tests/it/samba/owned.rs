//! A `_vlmcs._tcp` node created by another account: Samba denies kmsdns with SERVFAIL (an
//! echoed error reply), and kmsdns says who was denied and how to grant it.

use super::{config, run, targets, text};
use crate::harness::samba::{SambaDc, ZONE};

#[test]
fn samba_node_owned_by_another_account_is_a_clear_error_and_data_stays() {
    let dc = SambaDc::shared();
    let domain = dc.fresh_domain("owned");
    let owner = format!("_vlmcs._tcp.{domain}");
    let other = dc.kinit("other");
    dc.nsupdate(
        Some(&other),
        &format!("update add {owner}. 300 SRV 0 0 1688 kms-other.{ZONE}.\nsend\n"),
    );
    assert_eq!(targets(dc, &owner), [format!("kms-other.{ZONE}.")]);

    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dc,
        dir.path(),
        "kmsdns",
        &[&format!("kms-other.{ZONE}"), &format!("kms1.{ZONE}")],
        &[&domain],
    );
    let apply = run(dc, &cfg, &["apply", "--yes"]);
    let out = text(&apply);
    // README's exit code table: 1, a DNS failure (a zone failed to apply).
    assert_eq!(apply.status.code(), Some(1), "{out}");
    let failed = out
        .lines()
        .find(|l| l.trim_start().starts_with("failed"))
        .unwrap_or_else(|| panic!("no failed line: {out}"));
    for part in [
        "dc (10.53.0.1:53)",
        &format!("zone {ZONE}"),
        &format!("node {owner}."),
        "Kerberos principal kmsdns@AD.KMSDNS.TEST",
        "SERVFAIL",
        "node's ACL denies the principal",
    ] {
        assert!(failed.contains(part), "`{part}` missing: {out}");
    }
    let hint = out
        .lines()
        .find(|l| l.trim_start().starts_with("hint:"))
        .unwrap_or_else(|| panic!("no hint: {out}"));
    let dn = dc.node_dn(&owner);
    for part in [
        "a _vlmcs._tcp node belongs to the account that created it",
        "first KMS host's computer account",
        "kmsdns@AD.KMSDNS.TEST needs write access (Read/Write Property) on that node itself",
        "kmsdns render powershell",
        "-KmsdnsAccount '<DOMAIN>\\kmsdns'",
        &format!("dsacls \"{dn}\" /G \"<DOMAIN>\\kmsdns:RPWP\""),
        &format!("samba-tool dsacl set --objectdn=\"{dn}\""),
    ] {
        assert!(hint.contains(part), "`{part}` missing: {out}");
    }
    // Only the RCODE of Samba's echoed reply was used: nothing uncertain about it.
    assert!(out.contains("echoes our request"), "{out}");
    assert!(!out.contains("uncertain"), "{out}");
    assert_eq!(targets(dc, &owner), [format!("kms-other.{ZONE}.")]);
    assert_eq!(dc.node_owner_sid(&owner), dc.user_sid("other"));

    // The grant the hint describes (samba-tool dsacl, RPWP on the node alone) is enough.
    dc.grant_node_write(&owner, "kmsdns");
    let apply = run(dc, &cfg, &["apply", "--yes"]);
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(0), "{out}");
    assert!(out.contains("read back and verified"), "{out}");
    assert_eq!(
        targets(dc, &owner),
        [format!("kms-other.{ZONE}."), format!("kms1.{ZONE}.")]
    );
}
