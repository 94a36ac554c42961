//! One test per fault: dropped requests and replies, delayed and duplicated replies.

use std::net::UdpSocket;
use std::time::Duration;

use crate::harness::relay::{self, Fault, FaultKind, Leg, OPCODE_UPDATE, Scope, Transport};

use super::*;

// ---- one test per fault ----

#[test]
fn drop_request_never_reaches_the_server() {
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::DropRequest).on(Scope::UpdateRequests),
    ]);
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!(
        (run.code, run.stderr),
        (Some(2), comm_error(&relay, "timed out"))
    );
    assert_not_applied(&bind);
    let stats = relay.stats();
    assert_eq!(stats.updates(), 3, "nsupdate sent once and retried twice");
    assert_eq!(stats.replies_from_upstream, 0);
    assert_eq!(
        leg(&relay, Leg::ToUpstream, Transport::Udp),
        Vec::<Vec<u8>>::new()
    );

    // Only the first is dropped: nsupdate's retry gets through.
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::DropRequest)
            .on(Scope::UpdateRequests)
            .first_n(1),
    ]);
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""));
    assert_applied(&bind);
    assert_eq!(
        (relay.stats().updates(), relay.stats().faults_applied[0]),
        (2, 1)
    );
}

#[test]
fn drop_reply_hides_an_update_the_server_applied() {
    let first = || {
        vec![
            Fault::new(FaultKind::DropReply)
                .on(Scope::UpdateReplies)
                .first_n(1),
        ]
    };
    // The retry is the same message: a plain add is applied again as a no-op → exit 0.
    let (bind, relay) = bind_behind(first());
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""));
    assert_applied(&bind);
    let sent = leg(&relay, Leg::FromClient, Transport::Udp);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1], "nsupdate's retry repeats the same bytes");

    // With a prerequisite the replay fails: nsupdate reports YXRRSET for an applied update.
    let (bind, relay) = bind_behind(first());
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD_IF_ABSENT);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (Some(2), "update failed: YXRRSET\n")
    );
    assert_applied(&bind);
    let replies = leg(&relay, Leg::FromUpstream, Transport::Udp);
    assert_eq!(replies.iter().map(|r| rcode(r)).collect::<Vec<_>>(), [0, 7]);

    // Every reply lost, over UDP and TCP: a timeout, although the server applied it.
    for transport in [Transport::Udp, Transport::Tcp] {
        let (bind, relay) = bind_behind(vec![
            Fault::new(FaultKind::DropReply).on(Scope::UpdateReplies),
        ]);
        let run = nsupdate(&relay, &bind, transport, ADD);
        assert_eq!(
            (run.code, run.stderr),
            (Some(2), comm_error(&relay, "timed out"))
        );
        assert_applied(&bind);
        let sends = match transport {
            Transport::Udp => 3,
            Transport::Tcp => 1,
        };
        assert_eq!(relay.stats().requests_over(transport, OPCODE_UPDATE), sends);
        assert_eq!(relay.stats().replies_forwarded, 0);
    }
}

#[test]
fn delay_holds_messages_back() {
    let hold = Duration::from_millis(300);
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::Delay(hold)).on(Scope::UpdateReplies),
    ]);
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""));
    assert!(run.elapsed >= hold, "{:?}", run.elapsed);
    let wire = relay.wire();
    let at = |l: Leg| wire.iter().find(|w| w.leg == l).unwrap().at;
    assert!(
        at(Leg::ToClient) - at(Leg::FromUpstream) >= hold,
        "{wire:?}"
    );

    // A request held back under Scope::UpdateRequests.
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::Delay(hold)).on(Scope::UpdateRequests),
    ]);
    let run = nsupdate(&relay, &bind, Transport::Tcp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""));
    let wire = relay.wire();
    let at = |l: Leg| wire.iter().find(|w| w.leg == l).unwrap().at;
    assert!(
        at(Leg::ToUpstream) - at(Leg::FromClient) >= hold,
        "{wire:?}"
    );

    // The first reply arrives after nsupdate's retry: the retry's YXRRSET wins, and the late
    // NOERROR still reaches the client afterwards (a held reply does not hold later ones).
    let late = Duration::from_millis(2500);
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::Delay(late))
            .on(Scope::UpdateReplies)
            .first_n(1),
    ]);
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD_IF_ABSENT);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (Some(2), "update failed: YXRRSET\n")
    );
    assert_applied(&bind);
    wait_to_client(&relay, 2);
    let to_client = leg(&relay, Leg::ToClient, Transport::Udp);
    assert_eq!(
        to_client.iter().map(|r| rcode(r)).collect::<Vec<_>>(),
        [7, 0]
    );
}

#[test]
fn duplicate_sends_the_reply_twice() {
    let (bind, relay) = bind_behind(vec![Fault::new(FaultKind::Duplicate)]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    sock.send_to(&soa_query(0x4b4d), relay.addr()).unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let mut buf = [0u8; 1500];
        let (n, _) = sock.recv_from(&mut buf).expect("two copies");
        got.push(buf[..n].to_vec());
    }
    assert_eq!(got[0], got[1]);
    assert_eq!(relay::id(&got[0]), Some(0x4b4d));
    assert_eq!(relay.stats().replies_forwarded, 1);
    assert_eq!(relay.stats().messages_to_clients, 2);

    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""));
    assert_applied(&bind);
}

#[test]
fn after_update_goes_dark_once_an_update_came_through() {
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::DropRequest).on(Scope::AfterUpdate),
    ]);
    // Queries pass until an UPDATE arrives.
    let before = relay.dig(&["+short", "corp.example.com", "SOA"]);
    assert!(
        String::from_utf8_lossy(&before.stdout).contains("ns1.corp.example.com."),
        "{before:?}"
    );
    // The UPDATE itself goes through and is answered.
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""));
    assert_applied(&bind);
    // Everything after it is swallowed, over UDP and TCP.
    let after = relay.dig(&["+short", "+time=1", "+tries=1", "corp.example.com", "SOA"]);
    assert!(
        !String::from_utf8_lossy(&after.stdout).contains("ns1.corp.example.com."),
        "{after:?}"
    );
    let after_tcp = relay.dig(&[
        "+tcp",
        "+short",
        "+time=1",
        "+tries=1",
        "corp.example.com",
        "SOA",
    ]);
    assert!(
        !String::from_utf8_lossy(&after_tcp.stdout).contains("ns1.corp.example.com."),
        "{after_tcp:?}"
    );
    let stats = relay.stats();
    assert_eq!(stats.updates(), 1);
    assert_eq!(
        stats.faults_applied[0], 2,
        "the two queries after the UPDATE"
    );
}
