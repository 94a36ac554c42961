//! plan → apply → plan (no changes) → verify with a gss-tsig key from the `kmsdns` account's
//! keytab against the Samba DC; dig in the namespace confirms the records.

use super::{config, run, targets, text};
use crate::harness::samba::{PEER_IP, SambaDc, ZONE};

#[test]
fn samba_plan_apply_replan_verify_with_a_keytab() {
    let dc = SambaDc::shared();
    let host = dc.fresh_domain("kms");
    let a = dc.fresh_domain("e2e");
    let b = dc.fresh_domain("e2e");
    // The KMS host has an address (on the namespace's other veth end) but nothing listens on
    // 1688 there: verify's DNS rungs pass, its TCP probe cannot.
    let admin = dc.kinit("Administrator");
    dc.nsupdate(
        Some(&admin),
        &format!("update add {host}. 300 A {PEER_IP}\nsend\n"),
    );
    assert_eq!(dc.dig(&["+short", &host, "A"]).trim(), PEER_IP.to_string());
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dc, dir.path(), "kmsdns", &[&host], &[&a, &b]);

    let plan = run(dc, &cfg, &["plan", "--detailed-exitcode"]);
    let out = text(&plan);
    assert_eq!(plan.status.code(), Some(2), "{out}");
    assert!(
        out.contains("Plan: 2 to add, 0 to change, 0 to delete."),
        "{out}"
    );

    // -vv: the debug log says the replies verified over Samba's digest.
    let apply = run(dc, &cfg, &["apply", "--yes", "-vv"]);
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(0), "{out}");
    let applied = out
        .lines()
        .find(|l| l.trim_start().starts_with("applied"))
        .unwrap_or_else(|| panic!("no applied line: {out}"));
    assert!(
        applied.contains(&format!(
            "{ZONE}. via dc (10.53.0.1:53): 2 change(s), read back and verified"
        )),
        "{out}"
    );
    for word in ["uncertain", "tamper", "forged", "altered", "not trusted"] {
        assert!(!out.contains(word), "`{word}` in: {out}");
    }
    assert!(
        out.contains("verifies over Samba's digest"),
        "no debug line about Samba's digest: {out}"
    );
    let want = format!("{host}.");
    for d in [&a, &b] {
        assert_eq!(targets(dc, &format!("_vlmcs._tcp.{d}")), vec![want.clone()]);
        let rr = &dc.srv_records(&format!("_vlmcs._tcp.{d}"))[0];
        assert_eq!(
            (rr.ttl, rr.priority, rr.weight, rr.port),
            (3600, 0, 0, 1688)
        );
    }

    let again = run(dc, &cfg, &["plan", "--detailed-exitcode"]);
    let out = text(&again);
    assert_eq!(again.status.code(), Some(0), "{out}");
    assert!(out.contains("No changes."), "{out}");

    // verify: resolver, SRV, the authoritative server and the target's address pass; only the
    // TCP probe of port 1688 fails (no KMS host here), and the exit code says a check failed.
    let verify = run(dc, &cfg, &["verify", "--resolver", "10.53.0.1"]);
    let out = text(&verify);
    assert_eq!(verify.status.code(), Some(1), "{out}");
    for d in [&a, &b] {
        assert!(
            out.contains(&format!(
                "✓ srv           _vlmcs._tcp.{d}.: 0 0 1688 {host}."
            )),
            "{out}"
        );
    }
    for rung in ["resolver", "authoritative", "target"] {
        let passed = out
            .lines()
            .filter(|l| l.trim_start().starts_with(&format!("✓ {rung} ")))
            .count();
        assert_eq!(passed, 2, "rung {rung}: {out}");
    }
    let failed: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with('✗'))
        .collect();
    assert_eq!(failed.len(), 2, "{out}");
    assert!(failed.iter().all(|l| l.contains("1688")), "{out}");
}

/// The same with the credential cache of `kinit kmsdns` and no principal or keytab in the
/// config: the ticket's principal is used (and named in the report of a denial).
#[test]
fn samba_apply_with_a_credential_cache() {
    let dc = SambaDc::shared();
    let domain = dc.fresh_domain("ccache");
    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::harness::cli::write_config(
        dir.path(),
        &format!(
            "{}\n[keys.ad]\ntype = \"gss-tsig\"\n\n[[hosts]]\nname = \"kms1.{ZONE}\"\n\n\
             [[domains]]\nname = \"{domain}\"\nzone = \"{ZONE}\"\nserver = \"dc\"\n",
            dc.server_toml("dc", "ad")
        ),
    );
    let ticket = dc.kinit("kmsdns");
    let with_ticket = |args: &[&str]| {
        dc.kmsdns_with(&ticket)
            .args(args)
            .arg("-c")
            .arg(&cfg)
            .output()
            .unwrap()
    };
    let apply = with_ticket(&["apply", "--yes"]);
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(0), "{out}");
    assert!(out.contains("read back and verified"), "{out}");
    let owner = format!("_vlmcs._tcp.{domain}");
    assert_eq!(targets(dc, &owner), [format!("kms1.{ZONE}.")]);
    let again = with_ticket(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));

    // Without the ticket there is no credential: a clear error, nothing sent.
    let none = run(dc, &cfg, &["plan"]);
    let out = text(&none);
    assert_eq!(none.status.code(), Some(1), "{out}");
    assert!(out.contains("kinit"), "{out}");
}
