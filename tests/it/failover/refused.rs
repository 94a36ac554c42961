//! A definite answer from the first address ends the zone there: no failover after REFUSED
//! (update policy) or an unsigned NOTAUTH (wrong secret). The second address is a live BIND
//! behind a counting relay: it never sees a packet, and dig finds nothing written anywhere.

use crate::harness::relay::Relay;

use super::*;

#[test]
fn refused_by_the_first_address_is_the_answer() {
    let (a, b) = pair(false);
    let second = Relay::start(b.addr(), vec![]);
    let (_dir, cfg) = setup(&b.key("kms-update").file, &[a.addr(), second.addr()]);
    let (code, text) = run(&cfg, &["apply", "--yes"]);
    assert_eq!(code, Some(1), "{text}");
    let a_label = format!("lab ({})", a.addr());
    assert!(
        text.contains(&format!(
            "failed     example.com. via {a_label}: {a_label} refused key kms-update for zone example.com (REFUSED)"
        )),
        "{text}"
    );
    assert!(!text.contains("failover"), "{text}");
    let stats = second.stats();
    assert_eq!(
        (stats.queries(), stats.updates(), stats.tcp_connections),
        (0, 0, 0),
        "the second address must never be contacted"
    );
    assert!(a.srv_records(OWNER).is_empty());
    assert!(b.srv_records(OWNER).is_empty());
}

#[test]
fn a_wrong_secret_at_the_first_address_is_the_answer() {
    // A has a key of the same name with another secret: it cannot verify our messages.
    let b = bind(None, true);
    let a = bind(None, true);
    let second = Relay::start(b.addr(), vec![]);
    let (_dir, cfg) = setup(&b.key("kms-update").file, &[a.addr(), second.addr()]);
    let (code, text) = run(&cfg, &["plan"]);
    assert_eq!(code, Some(1), "{text}");
    let a_label = format!("lab ({})", a.addr());
    assert!(text.contains(&format!("TSIG with {a_label}")), "{text}");
    assert!(text.contains("(BADSIG)"), "{text}");
    let (code, text) = run(&cfg, &["apply", "--yes"]);
    assert_eq!(code, Some(1), "{text}");
    let stats = second.stats();
    assert_eq!(
        (stats.queries(), stats.updates(), stats.tcp_connections),
        (0, 0, 0),
        "the second address must never be contacted"
    );
    assert!(b.srv_records(OWNER).is_empty());
}

#[test]
fn after_a_dead_first_address_the_second_ones_refusal_is_the_answer() {
    let b = bind(None, false);
    let first = dead();
    let (_dir, cfg) = setup(&b.key("kms-update").file, &[first, b.addr()]);
    let (code, text) = run(&cfg, &["apply", "--yes"]);
    assert_eq!(code, Some(1), "{text}");
    let (a_label, b_label) = (format!("lab ({first})"), format!("lab ({})", b.addr()));
    assert!(
        text.contains(&format!(
            "failed     example.com. via {b_label}: {b_label} refused key kms-update for zone example.com (REFUSED)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failover   example.com. went to {b_label}: skipped {a_label}: unreachable ("
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "({b_label} was asked because {a_label} could not be reached: unreachable; if it is a secondary, it takes no updates"
        )),
        "{text}"
    );
    assert!(b.srv_records(OWNER).is_empty());
}
