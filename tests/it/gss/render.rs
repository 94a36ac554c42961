//! `render named-conf` for a gss-tsig key grants the Kerberos principal — the same line the
//! Kerberos harness gives BIND, with which every end-to-end test in this module updates.

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::kerberos::REALM;

#[test]
fn named_conf_grants_the_principal() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &super::config(
            "127.0.0.1:53",
            &format!("principal = \"admin@{REALM}\"\n"),
            &["corp.example.com"],
            1688,
        ),
    );
    let out = kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args(["render", "named-conf"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    // The harness's policy (tests/it/harness/kerberos.rs) for zone corp.example.com.
    let harness_grant = format!("grant admin@{REALM} name _vlmcs._tcp.corp.example.com. SRV;");
    assert!(text.lines().any(|l| l.trim() == harness_grant), "{text}");
    assert!(text.contains("tkey-gssapi-keytab"), "{text}");
    assert!(!text.contains("grant ad "), "{text}");
}
