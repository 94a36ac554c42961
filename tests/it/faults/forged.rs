//! Faults: forged and tampered UPDATE replies (unsigned, stripped or broken TSIG, a TCP
//! connection cut mid-reply, an outcome that cannot be read back).

use crate::harness::relay::{self, Fault, FaultKind, Leg, OPCODE_UPDATE, Scope, Transport};

use super::*;

// ---- UPDATE: forged and tampered replies ----

/// A forged unsigned copy of the UPDATE reply arrives 50 ms before the genuine signed one,
/// over UDP and TCP: the forgery is ignored, kmsdns keeps listening, and the genuine reply
/// decides. Applied, with no warning at all, after one UPDATE.
#[test]
fn forged_unsigned_reply_before_the_genuine_one_does_not_end_the_exchange() {
    for transport in [Transport::Udp, Transport::Tcp] {
        let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::ForgedUnsignedBefore)]);
        let run = apply(&bind, &relay, transport);
        // The genuine signed reply decides: applied, and the forgery seen on the way is named.
        assert_eq!(run.code, Some(0), "{run}");
        assert!(run.summary().starts_with(&applied_line(&relay)), "{run}");
        let warnings = run.warnings();
        assert_eq!(warnings.len(), 1, "{run}");
        assert!(
            warnings[0].starts_with("the server's verified reply says applied (a reply that did not check out was ignored before: TSIG with ")
                && warnings[0].contains("the reply is not signed although the request was signed with key kms-update")
                && warnings[0].ends_with("; this may mean tampering on the path"),
            "{run}"
        );
        assert_applied_once(&bind);
        assert_eq!(
            updates_at_server(&relay),
            (
                usize::from(transport == Transport::Udp),
                usize::from(transport == Transport::Tcp)
            )
        );
        let delivered = on_leg(&relay, Leg::ToClient, transport, OPCODE_UPDATE);
        assert_eq!(delivered.len(), 2, "the forgery, then the genuine reply");
        assert_eq!(relay::tsig_record(&delivered[0]), None);
        assert!(relay::tsig_record(&delivered[1]).is_some());
    }
}

/// Every UPDATE reply stripped of its TSIG, over UDP: the unsigned NOERROR is ignored (it
/// did not end the exchange: kmsdns sent its second try), and the unsigned YXRRSET to that
/// resend ends it. The outcome is settled by a signed read: applied once, with a warning that
/// the reply was not signed.
#[test]
fn strip_tsig_over_udp_is_settled_as_applied() {
    let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::StripTsig)]);
    let run = apply(&bind, &relay, Transport::Udp);
    assert_eq!(run.code, Some(0), "{run}");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run}");
    assert!(warnings[0].contains("the reply is not signed"), "{run}");
    assert!(warnings[0].ends_with(WENT_IN), "{run}");
    assert_applied_once(&bind);
    assert_eq!(updates_at_server(&relay), (2, 0));
    assert_eq!(update_rcodes(&relay), [0, 7]);
}

/// kmsdns bug (see the ignore reason): the warning for a stripped reply over UDP blames the
/// key ("the secret of key kms-update here differs from the server's"), although the settling
/// read was signed with that very key and verified. It should say what the TCP run of the same
/// fault says: the reply could not be verified, which may mean tampering, something strips TSIG.
#[test]

fn strip_tsig_over_udp_warns_of_tampering_not_of_a_wrong_secret() {
    let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::StripTsig)]);
    let run = apply(&bind, &relay, Transport::Udp);
    assert_eq!(run.code, Some(0), "{run}");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run}");
    assert!(
        warnings[0]
            .starts_with("the reply could not be verified, which may mean tampering on the path"),
        "{run}"
    );
    assert!(warnings[0].contains("strips TSIG"), "{run}");
    assert!(!warnings[0].contains("differs from the server's"), "{run}");
    assert!(warnings[0].ends_with(WENT_IN), "{run}");
    assert_applied_once(&bind);
}

/// Only the first UPDATE reply is stripped: kmsdns ignores it and its second try gets the
/// signed YXRRSET, which it settles by reading (applied once). The warning should still say
/// that a reply failed verification — the one sign of tampering on the path — instead of
/// naming only the resend's YXRRSET.
#[test]

fn a_stripped_first_reply_is_named_in_the_warning() {
    let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::StripTsig).first_n(1)]);
    let run = apply(&bind, &relay, Transport::Udp);
    assert_eq!(run.code, Some(0), "{run}");
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{run}");
    assert!(warnings[0].contains("not signed"), "{run}");
    assert!(warnings[0].ends_with(WENT_IN), "{run}");
    assert_applied_once(&bind);
    assert_eq!(updates_at_server(&relay), (2, 0));
}

/// The same over TCP: the unsigned reply is ignored until the try ends; settled as applied,
/// with a warning that the reply could not be verified and may have been tampered with.
#[test]
fn strip_tsig_over_tcp_is_settled_as_applied() {
    let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::StripTsig)]);
    let run = apply(&bind, &relay, Transport::Tcp);
    assert_applied_with_warning(
        &run,
        &relay,
        &format!(
            "the reply could not be verified, which may mean tampering on the path (TSIG with {}: the reply is not signed although the request was signed with key kms-update: the server may not know TSIG key kms-update, or something between strips TSIG; the reply is not trusted)",
            label(&relay)
        ),
        WENT_IN,
    );
    assert_applied_once(&bind);
    assert_eq!(updates_at_server(&relay), (0, 1));
}

/// One byte of every UPDATE reply's MAC flipped, over UDP and TCP: the replies are ignored
/// (both UDP tries), then the outcome is settled by a signed read: applied once, with a
/// warning that the reply could not be verified.
#[test]
fn flipped_mac_is_settled_as_applied() {
    for transport in [Transport::Udp, Transport::Tcp] {
        let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::FlipMacByte)]);
        let run = apply(&bind, &relay, transport);
        assert_applied_with_warning(
            &run,
            &relay,
            &format!(
                "the reply could not be verified, which may mean tampering on the path (TSIG with {}: the reply's TSIG MAC does not match (key kms-update): the reply was altered or forged, or the secret of key kms-update here differs from the server's)",
                label(&relay)
            ),
            WENT_IN,
        );
        assert_applied_once(&bind);
        let expected = match transport {
            Transport::Udp => (2, 0),
            Transport::Tcp => (0, 1),
        };
        assert_eq!(updates_at_server(&relay), expected);
    }
}

/// The TCP connection closes halfway through the UPDATE reply: the request was sent, so the
/// outcome is uncertain; settled by reading, applied once.
#[test]
fn tcp_closed_mid_reply_is_settled_as_applied() {
    let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::CloseTcpMidMessage)]);
    let run = apply(&bind, &relay, Transport::Tcp);
    assert_applied_with_warning(
        &run,
        &relay,
        &format!(
            "the connection broke after sending (cannot reach {} over TCP: early eof)",
            relay.addr()
        ),
        WENT_IN,
    );
    assert_applied_once(&bind);
    assert_eq!(updates_at_server(&relay), (0, 1));
}

/// When the settling read fails too, kmsdns says the outcome is unknown — not "not applied",
/// not "nothing was written": here the UPDATE did go in (serial 2). The UDP reply comes back
/// truncated, and every TCP query reply is cut in half.
#[test]
fn an_unreadable_outcome_is_reported_as_unknown() {
    let (bind, relay) = bind_behind(vec![
        on_update_replies(FaultKind::SetTruncated),
        Fault::new(FaultKind::CloseTcpMidMessage).on(Scope::Queries),
    ]);
    let run = apply(&bind, &relay, Transport::Udp);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        run.summary().lines().next(),
        Some(
            format!(
                "  failed     example.com. via {}: the reply came back truncated over UDP; reading the records back failed too (cannot reach {} over TCP: early eof): whether the update went in is unknown",
                label(&relay),
                relay.addr()
            )
            .as_str()
        ),
        "{run}"
    );
    assert!(!run.stdout.contains("not applied"), "{run}");
    assert!(!run.stdout.to_lowercase().contains("nothing was"), "{run}");
    assert_applied_once(&bind);
    assert_eq!(updates_sent(&relay), (1, 0), "never resent without knowing");
}
