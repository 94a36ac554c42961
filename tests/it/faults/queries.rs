//! Faults on query replies: `plan` must never accept or show unverified data.

use crate::harness::relay::{Fault, FaultKind, Relay, Scope, Transport};
use crate::harness::{BindServer, Server};

use super::*;

// ---- queries: plan must not accept unverified data ----

/// BIND already holding the record the config asks for (`plan` says "up to date" when it can
/// trust what it read), behind a relay with `faults` on query replies.
fn bind_up_to_date_behind(kind: FaultKind) -> (BindServer, Relay) {
    let bind = BindServer::start(&lab(&["_vlmcs._tcp.corp 3600 IN SRV 0 0 1688 kms1"]));
    let relay = Relay::start(bind.addr(), vec![Fault::new(kind).on(Scope::Queries)]);
    (bind, relay)
}

fn plan(server: &Server, relay: &Relay) -> Run {
    kmsdns_via(
        server,
        relay.addr(),
        Transport::Udp,
        &["plan", "--detailed-exitcode"],
    )
}

/// Asserts a plan that refused what it read: exit 1, the zone's `error:` line holds `error`,
/// and no record state at all is shown.
fn assert_plan_refused(run: &Run, error: &str) {
    assert_eq!(run.code, Some(1), "{run}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {run}"));
    assert!(line.contains(error), "{run}");
    for shown in ["up to date", "IN SRV", "KMS SRV records match"] {
        assert!(
            !run.stdout.contains(shown),
            "{shown:?} shown from unverified data: {run}"
        );
    }
    assert!(
        run.stdout
            .contains("No changes planned, but some zones could not be read"),
        "{run}"
    );
}

/// Query replies stripped of their TSIG: `plan` ignores them, tries again, and reports that
/// the reply was not signed — it never shows records it could not verify. `apply` sends no
/// UPDATE then.
#[test]
fn plan_refuses_unsigned_query_replies() {
    let (bind, relay) = bind_up_to_date_behind(FaultKind::StripTsig);
    let run = plan(&bind, &relay);
    assert_plan_refused(
        &run,
        "the reply is not signed although the request was signed with key kms-update",
    );
    assert_eq!(
        relay.stats().queries(),
        2,
        "both tries waited for a signed reply"
    );

    let run = apply(&bind, &relay, Transport::Udp);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(!run.stdout.contains("Apply summary"), "{run}");
    assert_eq!(updates_sent(&relay), (0, 0));
}

/// Query replies with a flipped MAC byte: ignored on both tries, then an error naming the
/// MAC; no records shown.
#[test]
fn plan_refuses_query_replies_with_a_bad_mac() {
    let (bind, relay) = bind_up_to_date_behind(FaultKind::FlipMacByte);
    let run = plan(&bind, &relay);
    assert_plan_refused(&run, "the reply's TSIG MAC does not match (key kms-update)");
    assert_eq!(relay.stats().queries(), 2);
}

/// A forged unsigned copy of each query reply 50 ms before the genuine one: `plan` waits for
/// the genuine signed reply and shows the true state, after one query.
#[test]
fn plan_waits_for_the_genuine_reply_after_a_forged_unsigned_one() {
    let (bind, relay) = bind_up_to_date_behind(FaultKind::ForgedUnsignedBefore);
    let run = plan(&bind, &relay);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .contains("  _vlmcs._tcp.corp.example.com. (up to date)\n"),
        "{run}"
    );
    assert!(run.stdout.contains("No changes."), "{run}");
    assert_eq!(relay.stats().queries(), 1);
    assert_eq!(
        relay.stats().messages_to_clients,
        2,
        "the forgery was delivered"
    );
}

/// The same when the name does not exist yet (the genuine reply is a signed NXDOMAIN): the
/// forged unsigned NXDOMAIN must not end the exchange either; `plan` must wait for the genuine
/// reply 50 ms later and show the record to add.
#[test]

fn plan_waits_for_the_genuine_nxdomain_after_a_forged_unsigned_one() {
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::ForgedUnsignedBefore).on(Scope::Queries),
    ]);
    let run = plan(&bind, &relay);
    assert_eq!(run.code, Some(2), "changes pending: {run}");
    assert!(run.stdout.contains(PLUS_KMS1), "{run}");
    assert!(!run.stdout.contains("error:"), "{run}");
    assert_eq!(relay.stats().queries(), 1);
}

/// And when every NXDOMAIN is stripped: an error (never records), but one that names what
/// happened (unsigned; something may strip TSIG) after waiting out both tries — not a verdict
/// that blames the key secret after the first unsigned datagram.
#[test]
fn plan_refuses_a_stripped_nxdomain_without_blaming_the_key() {
    let (bind, relay) = bind_behind(vec![Fault::new(FaultKind::StripTsig).on(Scope::Queries)]);
    let run = plan(&bind, &relay);
    assert_plan_refused(&run, "something between strips TSIG");
    assert!(!run.stdout.contains("differs from the server's"), "{run}");
    assert_eq!(
        relay.stats().queries(),
        2,
        "both tries waited for a signed reply"
    );
}
