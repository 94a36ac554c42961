//! Faults: late, doubled, truncated and unreadable UPDATE replies.

use std::time::Duration;

use crate::harness::relay::{self, Fault, FaultKind, Leg, OPCODE_UPDATE, Transport};

use super::*;

// ---- UPDATE: late, doubled, truncated, unreadable replies ----

/// Every UPDATE reply is held back 1 s, longer than the whole exchange (2 × 300 ms): a lost
/// reply as far as kmsdns can tell. Settled by reading: applied once (the second copy's
/// prerequisite failed on the server).
#[test]
fn delay_beyond_the_timeout_is_settled_as_applied() {
    let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::Delay(
        Duration::from_secs(1),
    ))]);
    let run = apply(&bind, &relay, Transport::Udp);
    assert_applied_with_warning(&run, &relay, &no_reply(&relay, Transport::Udp), WENT_IN);
    assert_applied_once(&bind);
    assert_eq!(updates_at_server(&relay), (2, 0), "no resend over TCP");
    assert_eq!(update_rcodes(&relay), [0, 7]);
}

/// Every UPDATE reply is held back 400 ms: the reply to the first copy arrives during the
/// second try (300–600 ms). It answers the same request (same ID, MAC over the same request
/// MAC), so it is accepted and decides; the second copy's YXRRSET comes after the exchange.
/// No settling, no warning.
#[test]
fn a_late_reply_during_the_second_try_is_accepted() {
    let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::Delay(
        Duration::from_millis(400),
    ))]);
    let run = apply(&bind, &relay, Transport::Udp);
    assert_applied_quietly(&run, &relay);
    assert_applied_once(&bind);
    assert_eq!(updates_at_server(&relay), (2, 0));
}

/// Every reply (queries and the UPDATE) comes twice: the first copy decides, the second is
/// ignored. No warning.
#[test]
fn duplicate_replies_are_harmless() {
    let (bind, relay) = bind_behind(vec![Fault::new(FaultKind::Duplicate)]);
    let run = apply(&bind, &relay, Transport::Udp);
    assert_applied_quietly(&run, &relay);
    assert_applied_once(&bind);
    assert_eq!(updates_at_server(&relay), (1, 0));
    assert_eq!(
        on_leg(&relay, Leg::ToClient, Transport::Udp, OPCODE_UPDATE).len(),
        2
    );
}

/// A truncated UDP reply to an UPDATE (no answer, no TSIG) is not retried blindly over TCP:
/// the settling read decides, and the warning says the reply was truncated.
#[test]
fn truncated_update_reply_is_settled_without_resending() {
    let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::SetTruncated)]);
    let run = apply(&bind, &relay, Transport::Udp);
    assert_applied_with_warning(
        &run,
        &relay,
        "the reply came back truncated over UDP",
        WENT_IN,
    );
    assert_applied_once(&bind);
    assert_eq!(updates_sent(&relay), (1, 0), "one UDP send, no TCP retry");
    assert_eq!(updates_at_server(&relay), (1, 0));
}

/// Random bytes instead of the UPDATE reply, over UDP and TCP: not a reply to our request, so
/// ignored; kmsdns keeps waiting until the try ends, then settles by reading. Applied once.
#[test]
fn garbage_reply_is_ignored_and_settled() {
    for transport in [Transport::Udp, Transport::Tcp] {
        let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::Garbage)]);
        let run = apply(&bind, &relay, transport);
        assert_eq!(run.code, Some(0), "{run}");
        let warnings = run.warnings();
        assert_eq!(warnings.len(), 1, "{run}");
        // Random bytes carry our ID (and QR) once in 2^17: then they are a reply that does
        // not decode. Otherwise they are not a reply at all.
        assert!(
            warnings[0] == format!("{}{WENT_IN}", no_reply(&relay, transport))
                || (warnings[0].starts_with("the reply could not be verified")
                    && warnings[0].ends_with(WENT_IN)),
            "{run}"
        );
        assert_applied_once(&bind);
        let expected = match transport {
            Transport::Udp => (2, 0),
            Transport::Tcp => (0, 1),
        };
        assert_eq!(updates_at_server(&relay), expected);
    }
}

/// The UPDATE reply with its ID changed (+1), over UDP and TCP: not our reply, ignored; the
/// exchange ends without one and is settled by reading. Applied once.
#[test]
fn wrong_id_reply_is_ignored_and_settled() {
    for transport in [Transport::Udp, Transport::Tcp] {
        let (bind, relay) = bind_behind(vec![on_update_replies(FaultKind::WrongId)]);
        let run = apply(&bind, &relay, transport);
        assert_applied_with_warning(&run, &relay, &no_reply(&relay, transport), WENT_IN);
        assert_applied_once(&bind);
        let sent = on_leg(&relay, Leg::FromClient, transport, OPCODE_UPDATE);
        let got = on_leg(&relay, Leg::ToClient, transport, OPCODE_UPDATE);
        assert_eq!(
            relay::id(&got[0]),
            relay::id(&sent[0]).map(|id| id.wrapping_add(1)),
            "the relay did deliver a reply, with the wrong ID"
        );
        let expected = match transport {
            Transport::Udp => (2, 0),
            Transport::Tcp => (0, 1),
        };
        assert_eq!(updates_at_server(&relay), expected);
    }
}
