//! plan → apply → plan (no changes) with a gss-tsig key, from a keytab and from a credential
//! cache; dig confirms the records, and one context serves every zone of the server.

use super::{BRANCH, CORP, keytab_lines, output, run, write};
use crate::harness::SrvRr;
use crate::harness::kerberos::GssLab;

fn rr(ttl: u32, priority: u16, target: &str) -> SrvRr {
    SrvRr {
        ttl,
        priority,
        weight: 0,
        port: 1688,
        target: target.to_string(),
    }
}

fn plan_apply_replan(lab: &GssLab, cfg: &std::path::Path, ccache: &str) {
    let plan = run(lab, cfg, ccache, &["plan", "--detailed-exitcode"]);
    let text = output(&plan);
    let plan = plan.code(2);
    assert!(text.contains("Plan: 4 to add"), "{text}");
    let _ = plan;
    let apply = run(lab, cfg, ccache, &["apply", "--yes"]);
    let text = output(&apply);
    apply.success();
    assert!(text.contains("read back and verified"), "{text}");
    let want = vec![
        rr(600, 0, "kms1.corp.example.com."),
        rr(600, 10, "kms2.corp.example.com."),
    ];
    assert_eq!(lab.bind.srv_records(CORP), want);
    assert_eq!(lab.bind.srv_records(BRANCH), want);
    let again = run(lab, cfg, ccache, &["plan", "--detailed-exitcode"]);
    let text = output(&again);
    again.code(0);
    assert!(text.contains("No changes."), "{text}");
}

#[test]
fn keytab_plan_apply_replan() {
    let lab = GssLab::start(&["corp.example.com", "branch.example.net"]);
    let (_dir, cfg) = write(
        &lab,
        &lab.bind.addr().to_string(),
        &keytab_lines(&lab.admin_keytab, "admin"),
    );
    // No ticket in the cache: kmsdns gets its own from the keytab.
    let empty = format!("FILE:{}/no-such-ccache", lab.kdc.dir().display());
    plan_apply_replan(&lab, &cfg, &empty);
    assert!(
        !lab.kdc.dir().join("no-such-ccache").exists(),
        "the keytab's ticket stays in memory"
    );
}

#[test]
fn credential_cache_plan_apply_replan() {
    let lab = GssLab::start(&["corp.example.com", "branch.example.net"]);
    let ccache = lab.kinit("admin", None);
    let (_dir, cfg) = write(&lab, &lab.bind.addr().to_string(), "");
    plan_apply_replan(&lab, &cfg, &ccache);
}
