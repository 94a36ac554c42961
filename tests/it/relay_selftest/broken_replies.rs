//! One test per fault: truncated, garbage, wrong-ID, forged, unsigned and tampered replies,
//! and a TCP connection cut mid-message.

use crate::harness::relay::{
    self, Fault, FaultKind, Leg, OPCODE_QUERY, OPCODE_UPDATE, Scope, Transport,
};

use super::*;

#[test]
fn set_truncated_looks_like_a_servers_tc_reply() {
    // dig gets TC over UDP and asks again over TCP, where the fault (first 1) is spent.
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::SetTruncated)
            .on(Scope::Queries)
            .first_n(1),
    ]);
    let out = dig_signed(&relay, &bind);
    assert!(
        stdout(&out).starts_with(";; Truncated, retrying in TCP mode.\n"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("(TCP)"), "{}", stdout(&out));
    let stats = relay.stats();
    assert_eq!(stats.requests_over(Transport::Udp, OPCODE_QUERY), 1);
    assert_eq!(stats.requests_over(Transport::Tcp, OPCODE_QUERY), 1);
    let full = &leg(&relay, Leg::FromUpstream, Transport::Udp)[0];
    let tc = &leg(&relay, Leg::ToClient, Transport::Udp)[0];
    let (question_end, _) = relay::layout(full).unwrap();
    assert_eq!(tc.len(), question_end);
    assert_eq!(tc[2], full[2] | 0x02, "TC set, other flags kept");
    assert_eq!(&tc[6..12], &[0; 6]);
    assert_eq!(&tc[12..], &full[12..question_end]);

    // nsupdate does not retry a truncated UPDATE reply over TCP: a TSIG error.
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::SetTruncated).on(Scope::UpdateReplies),
    ]);
    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!((run.code, run.stderr.as_str()), (Some(2), EXPECTED_TSIG));
    assert_applied(&bind);
    assert_eq!(relay.stats().tcp_connections, 0);
}

#[test]
fn garbage_replaces_the_reply_with_random_bytes() {
    let (bind, relay) = bind_behind(vec![Fault::new(FaultKind::Garbage).on(Scope::Queries)]);
    let out = dig_once(&relay, &["corp.example.com", "SOA"]);
    assert_eq!(out.status.code(), Some(9), "{}", stdout(&out));
    let full = &leg(&relay, Leg::FromUpstream, Transport::Udp)[0];
    let junk = &leg(&relay, Leg::ToClient, Transport::Udp)[0];
    assert_eq!(junk.len(), full.len());
    assert_ne!(junk, full);

    let run = nsupdate(&relay, &bind, Transport::Udp, ADD);
    assert_eq!(
        run.code,
        Some(0),
        "Scope::Queries leaves UPDATE replies alone"
    );

    for (transport, what) in [
        (Transport::Udp, "timed out"),
        (Transport::Tcp, "unexpected error"),
    ] {
        let (bind, relay) = bind_behind(vec![
            Fault::new(FaultKind::Garbage).on(Scope::UpdateReplies),
        ]);
        let run = nsupdate(&relay, &bind, transport, ADD);
        assert_eq!(run.code, Some(2));
        assert!(
            run.stderr.ends_with(&comm_error(&relay, what)),
            "{}",
            run.stderr
        );
        assert_applied(&bind);
        let sends = match transport {
            Transport::Udp => 3, // it ignores the reply, then sends and retries again
            Transport::Tcp => 1,
        };
        assert_eq!(relay.stats().requests_over(transport, OPCODE_UPDATE), sends);
    }
}

#[test]
fn wrong_id_changes_the_reply_id() {
    let (_bind, relay) = bind_behind(vec![Fault::new(FaultKind::WrongId).on(Scope::Queries)]);
    let out = dig_once(&relay, &["corp.example.com", "SOA"]);
    let sent = relay::id(&leg(&relay, Leg::FromClient, Transport::Udp)[0]).unwrap();
    assert_eq!(out.status.code(), Some(9));
    let want = format!(
        ";; Warning: ID mismatch: expected ID {sent}, got {}\n",
        sent.wrapping_add(1)
    );
    assert!(stdout(&out).starts_with(&want), "{}", stdout(&out));

    for (transport, what) in [
        (Transport::Udp, "timed out"),
        (Transport::Tcp, "unexpected error"),
    ] {
        let (bind, relay) = bind_behind(vec![
            Fault::new(FaultKind::WrongId).on(Scope::UpdateReplies),
        ]);
        let run = nsupdate(&relay, &bind, transport, ADD);
        assert_eq!(run.code, Some(2));
        assert!(
            run.stderr.ends_with(&comm_error(&relay, what)),
            "{}",
            run.stderr
        );
        assert_applied(&bind);
        let sends = match transport {
            Transport::Udp => 3, // it ignores the reply, then sends and retries again
            Transport::Tcp => 1,
        };
        assert_eq!(relay.stats().requests_over(transport, OPCODE_UPDATE), sends);
    }
}

#[test]
fn forged_unsigned_reply_arrives_before_the_genuine_one() {
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::ForgedUnsignedBefore).on(Scope::Queries),
    ]);
    let out = dig_signed(&relay, &bind);
    assert!(
        stdout(&out).starts_with(";; Couldn't verify signature: expected a TSIG or SIG(0)\n"),
        "dig takes the forged reply: {}",
        stdout(&out)
    );
    wait_to_client(&relay, 2);
    let genuine = &leg(&relay, Leg::FromUpstream, Transport::Udp)[0];
    let wire: Vec<_> = relay
        .wire()
        .into_iter()
        .filter(|w| w.leg == Leg::ToClient)
        .collect();
    assert_eq!(Some(wire[0].bytes.clone()), relay::strip_tsig(genuine));
    assert_eq!(arcount(&wire[0].bytes) + 1, arcount(genuine));
    assert_eq!(&wire[1].bytes, genuine);
    assert!(wire[1].at - wire[0].at >= relay::FORGED_LEAD, "{wire:?}");

    for transport in [Transport::Udp, Transport::Tcp] {
        let (bind, relay) = bind_behind(vec![
            Fault::new(FaultKind::ForgedUnsignedBefore).on(Scope::UpdateReplies),
        ]);
        let run = nsupdate(&relay, &bind, transport, ADD);
        assert_eq!((run.code, run.stderr.as_str()), (Some(2), EXPECTED_TSIG));
        assert_applied(&bind);
    }
}

#[test]
fn strip_tsig_removes_the_last_additional_record() {
    let (bind, relay) = bind_behind(vec![Fault::new(FaultKind::StripTsig).on(Scope::Queries)]);
    let out = dig_signed(&relay, &bind);
    assert!(
        stdout(&out).starts_with(";; Couldn't verify signature: expected a TSIG or SIG(0)\n"),
        "{}",
        stdout(&out)
    );
    let signed = &leg(&relay, Leg::FromUpstream, Transport::Udp)[0];
    let stripped = &leg(&relay, Leg::ToClient, Transport::Udp)[0];
    let tsig = relay::tsig_record(signed).unwrap();
    assert_eq!(&stripped[12..], &signed[12..tsig.start]);
    assert_eq!(arcount(stripped) + 1, arcount(signed));
    // An unsigned reply has nothing to strip: it passes, and the fault is not counted.
    let out = dig_once(&relay, &["+short", "corp.example.com", "SOA"]);
    assert!(out.status.success());
    assert_eq!(relay.stats().faults_applied, [1]);

    for transport in [Transport::Udp, Transport::Tcp] {
        let (bind, relay) = bind_behind(vec![
            Fault::new(FaultKind::StripTsig).on(Scope::UpdateReplies),
        ]);
        let run = nsupdate(&relay, &bind, transport, ADD);
        assert_eq!((run.code, run.stderr.as_str()), (Some(2), EXPECTED_TSIG));
        assert_applied(&bind);
    }
}

#[test]
fn flip_mac_byte_breaks_the_signature() {
    let (bind, relay) = bind_behind(vec![Fault::new(FaultKind::FlipMacByte).on(Scope::Queries)]);
    let out = dig_signed(&relay, &bind);
    assert!(
        stdout(&out).starts_with(";; Couldn't verify signature: tsig verify failure\n"),
        "{}",
        stdout(&out)
    );
    let signed = &leg(&relay, Leg::FromUpstream, Transport::Udp)[0];
    let flipped = &leg(&relay, Leg::ToClient, Transport::Udp)[0];
    let mac = relay::tsig_mac(signed).unwrap();
    let differ: Vec<usize> = (0..signed.len())
        .filter(|&i| signed[i] != flipped[i])
        .collect();
    assert_eq!(differ.len(), 1);
    assert!(mac.contains(&differ[0]), "{differ:?} outside MAC {mac:?}");

    for transport in [Transport::Udp, Transport::Tcp] {
        let (bind, relay) = bind_behind(vec![
            Fault::new(FaultKind::FlipMacByte).on(Scope::UpdateReplies),
        ]);
        let run = nsupdate(&relay, &bind, transport, ADD);
        assert_eq!(
            (run.code, run.stderr.as_str()),
            (Some(2), "; TSIG error with server: tsig verify failure\n")
        );
        assert_applied(&bind);
    }
}

#[test]
fn close_tcp_mid_message_cuts_the_reply_and_the_connection() {
    let (bind, relay) = bind_behind(vec![Fault::new(FaultKind::CloseTcpMidMessage)]);
    // Over UDP the fault never matches.
    let out = dig_once(&relay, &["+short", "corp.example.com", "SOA"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(relay.stats().faults_applied, [0]);

    let out = dig_once(&relay, &["+tcp", "corp.example.com", "SOA"]);
    assert_eq!(out.status.code(), Some(9));
    let want = format!(
        ";; communications error to 127.0.0.1#{}: end of file\n",
        relay.port()
    );
    assert!(stdout(&out).starts_with(&want), "{}", stdout(&out));
    let full = &leg(&relay, Leg::FromUpstream, Transport::Tcp)[0];
    let half = &leg(&relay, Leg::ToClient, Transport::Tcp)[0];
    assert_eq!(half.as_slice(), &full[..full.len() / 2]);

    let run = nsupdate(&relay, &bind, Transport::Tcp, ADD);
    assert_eq!(
        (run.code, run.stderr),
        (Some(2), comm_error(&relay, "end of file"))
    );
    assert_applied(&bind);
    assert_eq!(relay.stats().faults_applied, [2]);
    assert_eq!(
        relay.stats().replies_forwarded,
        1,
        "only the UDP reply went through whole"
    );
}
