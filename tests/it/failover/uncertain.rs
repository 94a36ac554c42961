//! An UPDATE whose reply is lost is settled before anything else happens: at the address it
//! went to, or — when that address goes dark right after — by a read at the next address (a
//! primary of the same zone), and only then sent there. Two BINDs sharing one key stand for
//! two primaries of one zone (no replication between them, the hardest case: the read at B
//! cannot see what A applied).

use crate::harness::relay::{Fault, FaultKind, Relay, Scope};

use super::*;

#[test]
fn a_lost_reply_is_settled_at_the_address_the_update_went_to() {
    let (a, b) = pair(true);
    let first = Relay::start(
        a.addr(),
        vec![Fault::new(FaultKind::DropReply).on(Scope::UpdateReplies)],
    );
    let second = Relay::start(b.addr(), vec![]);
    let (_dir, cfg) = setup(&b.key("kms-update").file, &[first.addr(), second.addr()]);
    let (code, text) = run(&cfg, &["apply", "--yes"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "applied    example.com. via lab ({}): 1 change(s)",
            first.addr()
        )),
        "{text}"
    );
    assert!(
        text.contains("the records read back over TCP show the update went in"),
        "{text}"
    );
    assert_eq!(first.stats().updates(), 1, "one copy, never resent");
    let s = second.stats();
    assert_eq!((s.queries(), s.updates()), (0, 0), "B never contacted");
    assert_eq!(a.srv_records(OWNER), wanted());
    assert!(b.srv_records(OWNER).is_empty());
}

#[test]
fn an_address_that_goes_dark_after_the_update_is_settled_at_the_next() {
    let (a, b) = pair(true);
    // A applies the UPDATE, its reply is lost, and A answers nothing afterwards.
    let first = Relay::start(
        a.addr(),
        vec![
            Fault::new(FaultKind::DropReply).on(Scope::UpdateReplies),
            Fault::new(FaultKind::DropRequest).on(Scope::AfterUpdate),
        ],
    );
    let second = Relay::start(b.addr(), vec![]);
    let (_dir, cfg) = setup(&b.key("kms-update").file, &[first.addr(), second.addr()]);
    let (code, text) = run(&cfg, &["apply", "--yes"]);
    assert_eq!(code, Some(0), "{text}");
    let (a_label, b_label) = (
        format!("lab ({})", first.addr()),
        format!("lab ({})", second.addr()),
    );
    assert!(
        text.contains(&format!(
            "applied    example.com. via {b_label}: 1 change(s)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failover   example.com. went to {b_label}: skipped {a_label}: timeout ("
        )),
        "{text}"
    );
    assert!(
        text.contains("while reading back the update sent to it, which it may have applied"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{a_label} stopped answering after the update was sent to it"
        )),
        "{text}"
    );
    assert!(
        text.contains(
            &format!("the records read back over TCP at {b_label} were unchanged, so the update was sent to it over TCP")
        ),
        "{text}"
    );
    // B was read before anything was sent to it, then sent the update once, over TCP.
    let s = second.stats();
    assert_eq!(s.updates(), 1, "{s:?}");
    assert_eq!(
        s.requests_over(
            crate::harness::relay::Transport::Tcp,
            crate::harness::relay::OPCODE_UPDATE
        ),
        1
    );
    // Both primaries hold the same change: A's first copy went in before it went dark.
    assert_eq!(a.srv_records(OWNER), wanted());
    assert_eq!(b.srv_records(OWNER), wanted());
}
