//! Replies altered on the path: the relay flips a byte of the reply's MIC, or puts the
//! request's own MIC into the reply. Either way the reply is not trusted, a signed read
//! settles the outcome, and the report tells the truth (dig confirms it).

use super::{CORP, keytab_lines, output, run, write};
use crate::harness::kerberos::GssLab;
use crate::harness::relay::{Fault, FaultKind, Relay, Scope};

fn empty_ccache(lab: &GssLab) -> String {
    format!("FILE:{}/no-such-ccache", lab.kdc.dir().display())
}

/// Applies through a relay that breaks every UPDATE reply with `kind`, as `principal`.
fn apply_through(kind: FaultKind, principal: &str) -> (GssLab, Relay, String, bool) {
    let lab = GssLab::start(&["corp.example.com"]);
    let relay = Relay::start(
        lab.bind.addr(),
        vec![Fault::new(kind).on(Scope::UpdateReplies)],
    );
    let keytab = match principal {
        "admin" => lab.admin_keytab.clone(),
        _ => lab.other_keytab.clone(),
    };
    let (_dir, cfg) = write(
        &lab,
        &relay.addr().to_string(),
        &keytab_lines(&keytab, principal),
    );
    let a = run(&lab, &cfg, &empty_ccache(&lab), &["apply", "--yes"]);
    let ok = a.get_output().status.success();
    let text = output(&a);
    (lab, relay, text, ok)
}

#[test]
fn flipped_mic_is_settled_by_a_signed_read() {
    let (lab, relay, text, ok) = apply_through(FaultKind::FlipMacByte, "admin");
    assert!(ok, "{text}");
    assert!(text.contains("does not verify"), "{text}");
    assert!(text.contains("show the update went in"), "{text}");
    assert_eq!(lab.bind.srv_records(CORP).len(), 2);
    assert!(relay.stats().faults_applied[0] >= 1);
}

#[test]
fn echoed_mic_on_success_is_not_trusted() {
    let (lab, _relay, text, ok) = apply_through(FaultKind::EchoRequestMac, "admin");
    assert!(ok, "{text}");
    assert!(text.contains("echoed request"), "{text}");
    assert!(text.contains("show the update went in"), "{text}");
    assert_eq!(lab.bind.srv_records(CORP).len(), 2);
}

#[test]
fn echoed_error_reply_counts_for_its_rcode() {
    // BIND refuses `other`; the relay makes the refusal look like Samba's echoed error reply.
    let (lab, relay, text, ok) = apply_through(FaultKind::EchoRequestMac, "other");
    assert!(!ok, "{text}");
    assert_eq!(relay.stats().faults_applied[0], 1);
    assert!(text.contains("echoes our request"), "{text}");
    assert!(
        text.contains(
            "refused the update of zone corp.example.com (node _vlmcs._tcp.corp.example.com.) by Kerberos principal other@KMSDNS.TEST"
        ),
        "{text}"
    );
    assert!(lab.bind.srv_records(CORP).is_empty());
}

#[test]
fn altered_tkey_reply_fails_the_negotiation() {
    // The first signed QUERY reply is the server's final TKEY reply (the SOA lookup before
    // it is unsigned): its MIC flipped, the context is not trusted and nothing is sent.
    let lab = GssLab::start(&["corp.example.com"]);
    let relay = Relay::start(
        lab.bind.addr(),
        vec![
            Fault::new(FaultKind::FlipMacByte)
                .on(Scope::Queries)
                .first_n(1),
        ],
    );
    let (_dir, cfg) = write(
        &lab,
        &relay.addr().to_string(),
        &keytab_lines(&lab.admin_keytab, "admin"),
    );
    let a = run(&lab, &cfg, &empty_ccache(&lab), &["apply", "--yes"]);
    let text = output(&a);
    assert!(!a.get_output().status.success(), "{text}");
    assert!(
        text.contains("signature (MIC) on the TKEY reply does not verify"),
        "{text}"
    );
    assert_eq!(relay.stats().faults_applied[0], 1);
    assert_eq!(
        relay.stats().updates(),
        0,
        "no UPDATE after a failed negotiation"
    );
    assert!(lab.bind.srv_records(CORP).is_empty());
}
