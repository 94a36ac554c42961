//! Kerberos failures end in messages that say what to do: no credentials, an expired ticket,
//! an unreachable KDC, an unknown service principal, a principal the policy does not grant.
//! Nothing is written in any of these cases (dig confirms).

use super::{CORP, keytab_lines, output, run, write};
use crate::harness::kerberos::GssLab;

fn lab() -> GssLab {
    GssLab::start(&["corp.example.com"])
}

/// A ccache name that holds nothing.
fn empty_ccache(lab: &GssLab) -> String {
    format!("FILE:{}/no-such-ccache", lab.kdc.dir().display())
}

/// `kmsdns ARGS` with `key_lines`; asserts it fails and returns its output.
fn fails(lab: &GssLab, key_lines: &str, ccache: &str, args: &[&str]) -> String {
    let (_dir, cfg) = write(lab, &lab.bind.addr().to_string(), key_lines);
    let a = run(lab, &cfg, ccache, args);
    let text = output(&a);
    assert!(!a.get_output().status.success(), "{text}");
    text
}

#[test]
fn no_credentials_says_kinit_or_keytab() {
    let lab = lab();
    let text = fails(&lab, "", &empty_ccache(&lab), &["apply", "--yes"]);
    assert!(text.contains("no Kerberos credentials"), "{text}");
    assert!(text.contains("kinit"), "{text}");
    assert!(text.contains("keytab = "), "{text}");
    assert!(lab.bind.srv_records(CORP).is_empty());
    // A keytab without the configured principal: the same advice, naming the principal.
    let lines = keytab_lines(&lab.other_keytab, "admin");
    let text = fails(&lab, &lines, &empty_ccache(&lab), &["plan"]);
    assert!(text.contains("no Kerberos credentials for admin"), "{text}");
    assert!(text.contains("kinit admin"), "{text}");
}

#[test]
fn expired_ticket_says_renew() {
    let lab = lab();
    let ccache = lab.kinit("admin", Some("2s"));
    std::thread::sleep(std::time::Duration::from_secs(4));
    let text = fails(&lab, "", &ccache, &["apply", "--yes"]);
    assert!(text.contains("has expired"), "{text}");
    assert!(text.contains("renew the ticket with `kinit"), "{text}");
    assert!(lab.bind.srv_records(CORP).is_empty());
}

#[test]
fn unreachable_kdc_is_named() {
    let lab = lab();
    let dead = crate::harness::ports::free_port();
    let conf = std::fs::read_to_string(lab.kdc.krb5_conf())
        .unwrap()
        .replace(
            &format!("127.0.0.1:{}", lab.kdc.port),
            &format!("127.0.0.1:{dead}"),
        );
    let dir = tempfile::tempdir().unwrap();
    let dead_conf = dir.path().join("krb5.conf");
    std::fs::write(&dead_conf, conf).unwrap();
    let (_cfg_dir, cfg) = write(
        &lab,
        &lab.bind.addr().to_string(),
        &keytab_lines(&lab.admin_keytab, "admin"),
    );
    let a = crate::harness::cli::kmsdns()
        .env("KRB5_CONFIG", &dead_conf)
        .env("KRB5CCNAME", empty_ccache(&lab))
        .arg("-c")
        .arg(&cfg)
        .arg("plan")
        .assert();
    let text = output(&a);
    assert!(!a.get_output().status.success(), "{text}");
    assert!(text.contains("cannot reach a Kerberos KDC"), "{text}");
    assert!(text.contains("kdc ="), "{text}");
}

#[test]
fn unknown_service_principal_names_it_and_the_setting() {
    let lab = lab();
    let lines = format!(
        "{}service = \"DNS/nope.corp.example.com\"\n",
        keytab_lines(&lab.admin_keytab, "admin")
    );
    let text = fails(&lab, &lines, &empty_ccache(&lab), &["apply", "--yes"]);
    assert!(
        text.contains("does not know the service principal DNS/nope.corp.example.com"),
        "{text}"
    );
    assert!(text.contains("set service = "), "{text}");
    assert!(lab.bind.srv_records(CORP).is_empty());
}

#[test]
fn principal_without_a_grant_is_refused_by_name() {
    let lab = lab();
    let lines = keytab_lines(&lab.other_keytab, "other");
    let text = fails(&lab, &lines, &empty_ccache(&lab), &["apply", "--yes"]);
    assert!(
        text.contains(
            "refused the update of zone corp.example.com (node _vlmcs._tcp.corp.example.com.) by Kerberos principal other@KMSDNS.TEST"
        ),
        "{text}"
    );
    assert!(
        text.contains("grant other@KMSDNS.TEST name _vlmcs._tcp.<domain>. SRV;"),
        "{text}"
    );
    assert!(lab.bind.srv_records(CORP).is_empty());
}

#[test]
fn stale_service_keytab_is_tkey_badkey() {
    let lab = lab();
    // A new key for named's principal: the keytab named loaded is stale now.
    lab.kdc.kadmin("cpw -randkey DNS/ns1.corp.example.com");
    let lines = keytab_lines(&lab.admin_keytab, "admin");
    let text = fails(&lab, &lines, &empty_ccache(&lab), &["apply", "--yes"]);
    assert!(
        text.contains("rejected the TKEY negotiation for key `ad` with BADKEY (17)"),
        "{text}"
    );
    assert!(text.contains("service keytab is stale"), "{text}");
    assert!(lab.bind.srv_records(CORP).is_empty());
}
