//! The relay passes messages through unchanged and counts them; scopes and `first_n` pick
//! the messages a fault applies to; a fault that can never apply is refused.

use crate::harness::KnotServer;
use crate::harness::relay::{self, Fault, FaultKind, Leg, OPCODE_QUERY, Relay, Scope, Transport};

use super::*;

#[test]
#[should_panic(expected = "acts on replies")]
fn reply_fault_on_update_requests_is_refused() {
    Relay::start(
        "127.0.0.1:53".parse().unwrap(),
        vec![Fault::new(FaultKind::StripTsig).on(Scope::UpdateRequests)],
    );
}

// ---- pass-through, scopes, counters ----

#[test]
fn relay_passes_udp_and_tcp_unchanged_and_counts() {
    let (bind, relay) = bind_behind(vec![]);
    let udp = dig_signed(&relay, &bind);
    assert!(udp.status.success(), "{}", stdout(&udp));
    assert!(
        stdout(&udp).contains("TSIG PSEUDOSECTION"),
        "{}",
        stdout(&udp)
    );
    let tcp = dig_once(&relay, &["+tcp", "+short", "corp.example.com", "SOA"]);
    assert!(
        stdout(&tcp).starts_with("ns1.corp.example.com. "),
        "{}",
        stdout(&tcp)
    );
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""));
    assert_applied(&bind);

    for t in [Transport::Udp, Transport::Tcp] {
        assert_eq!(
            leg(&relay, Leg::FromClient, t),
            leg(&relay, Leg::ToUpstream, t)
        );
        assert_eq!(
            leg(&relay, Leg::FromUpstream, t),
            leg(&relay, Leg::ToClient, t)
        );
    }
    let stats = relay.stats();
    assert_eq!(stats.requests_over(Transport::Udp, OPCODE_QUERY), 1);
    assert_eq!(stats.requests_over(Transport::Tcp, OPCODE_QUERY), 1);
    assert_eq!((stats.queries(), stats.updates()), (2, 1));
    assert_eq!(stats.replies_from_upstream, 3);
    assert_eq!(stats.replies_forwarded, 3);
    assert_eq!(stats.messages_to_clients, 3);
    assert_eq!(stats.tcp_connections, 1);
    assert_eq!(stats.faults_applied_total(), 0);
    // A real signed reply from BIND: the walker finds its 32-byte HMAC-SHA256 MAC.
    let reply = &leg(&relay, Leg::FromUpstream, Transport::Udp)[0];
    assert_eq!(relay::tsig_mac(reply).map(|m| m.len()), Some(32));
}

#[test]
fn relay_works_in_front_of_knot() {
    let knot = KnotServer::start(&lab());
    let relay = Relay::start(
        knot.addr(),
        vec![Fault::new(FaultKind::StripTsig).on(Scope::UpdateReplies)],
    );
    let run = nsupdate(&relay, &knot, Transport::Udp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(2), EXPECTED_TSIG));
    assert_applied(&knot);
    assert_eq!(relay.stats().faults_applied, [1]);
}

#[test]
fn scope_selects_queries_or_updates_and_first_n_counts_down() {
    // Replies to queries are dropped twice, then pass; UPDATE replies are never touched.
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::DropReply)
            .on(Scope::Queries)
            .first_n(2),
    ]);
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""));
    let codes: Vec<Option<i32>> = (0..3)
        .map(|_| {
            dig_once(&relay, &["+short", "corp.example.com", "SOA"])
                .status
                .code()
        })
        .collect();
    assert_eq!(
        codes,
        [Some(9), Some(9), Some(0)],
        "dig exits 9 without a reply"
    );
    let stats = relay.stats();
    assert_eq!(stats.faults_applied, [2]);
    assert_eq!((stats.updates(), stats.queries()), (1, 3));
    assert_eq!(stats.replies_from_upstream, 4);
    assert_eq!(stats.replies_forwarded, 2);

    // Scope::All hits queries and updates alike.
    let (bind, relay) = bind_behind(vec![Fault::new(FaultKind::DropReply)]);
    assert_eq!(
        dig_once(&relay, &["corp.example.com", "SOA"]).status.code(),
        Some(9)
    );
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!(run.code, Some(2));
    assert_eq!(relay.stats().faults_applied, [1 + 3]);
}
