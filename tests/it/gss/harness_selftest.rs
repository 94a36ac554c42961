//! The Kerberos harness works on its own: `nsupdate -g` with a ticket from `kinit -k` adds a
//! record inside the grant (dig sees it) and is refused outside it.

use crate::harness::kerberos::GssLab;

const ADD: &str =
    "update add _vlmcs._tcp.corp.example.com. 300 SRV 0 0 1688 kms1.corp.example.com.\nsend\n";

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn nsupdate_gss_adds_inside_the_grant_only() {
    let lab = GssLab::start(&["corp.example.com"]);
    let admin = lab.kinit("admin", None);
    let out = lab.nsupdate_gss(&admin, ADD);
    assert!(out.status.success(), "nsupdate -g as admin: {}", text(&out));
    let rrs = lab.bind.srv_records("_vlmcs._tcp.corp.example.com");
    assert_eq!(rrs.len(), 1, "{rrs:?}");
    assert_eq!(rrs[0].target, "kms1.corp.example.com.");
    // Outside the grant: another name, and another principal.
    let out = lab.nsupdate_gss(
        &admin,
        "update add x.corp.example.com. 300 A 127.0.0.9\nsend\n",
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("REFUSED"), "{}", text(&out));
    let other = lab.kinit("other", None);
    let out = lab.nsupdate_gss(
        &other,
        "update add _vlmcs._tcp.corp.example.com. 300 SRV 0 0 1688 kms2.corp.example.com.\nsend\n",
    );
    assert!(text(&out).contains("REFUSED"), "{}", text(&out));
    assert_eq!(
        lab.bind.srv_records("_vlmcs._tcp.corp.example.com").len(),
        1
    );
}
