//! Tests of the fault relay (harness/relay.rs) against a real BIND: each fault does what it
//! says, on the messages its scope names, as often as `first_n` allows.
//!
//! They also pin down what `nsupdate` (BIND 9.18, `-t 4 -u 1 -r 2`: UDP retry after 1 s, two
//! retries, 4 s in all) does under each fault — the baseline for kmsdns' "What kmsdns
//! guarantees". In every case below BIND applied the update — dig on BIND itself shows the SRV
//! record at serial 2 — except when every request was dropped; nsupdate's exit code does not
//! say so:
//!
//! | fault on UPDATE replies         | nsupdate exit, stderr                                        |
//! |---------------------------------|--------------------------------------------------------------|
//! | DropRequest (every one)         | 2, `; Communication with 127.0.0.1#P failed: timed out` (not applied) |
//! | DropRequest, first 1            | 0 (its retry got through)                                     |
//! | DropReply, first 1              | 0 (retry re-applies a no-op add) / 2 `update failed: YXRRSET` with a prerequisite |
//! | DropReply (every one), UDP/TCP  | 2, `; Communication with 127.0.0.1#P failed: timed out`      |
//! | Delay 300 ms                    | 0                                                            |
//! | Delay 2.5 s, first 1 (prereq)   | 2, `update failed: YXRRSET` (the retry's reply came first)   |
//! | Duplicate                       | 0                                                            |
//! | SetTruncated (UDP)              | 2, `; TSIG error with server: expected a TSIG or SIG(0)`; no TCP retry |
//! | Garbage / WrongId, UDP          | 2, `; Communication with 127.0.0.1#P failed: timed out` (3 sends in ~1 s) |
//! | Garbage / WrongId, TCP          | 2, a `dispatch …: shutting down due to TCP receive error` log line, then `; Communication with 127.0.0.1#P failed: unexpected error` |
//! | ForgedUnsignedBefore, UDP/TCP   | 2, `; TSIG error with server: expected a TSIG or SIG(0)`     |
//! | StripTsig, UDP/TCP              | 2, `; TSIG error with server: expected a TSIG or SIG(0)`     |
//! | FlipMacByte, UDP/TCP            | 2, `; TSIG error with server: tsig verify failure`           |
//! | CloseTcpMidMessage (TCP)        | 2, `; Communication with 127.0.0.1#P failed: end of file`    |

use std::net::UdpSocket;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::harness::relay::{
    self, Fault, FaultKind, Leg, OPCODE_QUERY, OPCODE_UPDATE, Relay, Scope, Transport,
};
use crate::harness::{BindServer, KnotServer, Policy, Server, ServerBuilder, ZoneBuilder};

const OWNER: &str = "_vlmcs._tcp.corp.example.com";
/// With a `zone` line nsupdate sends no SOA query: the relay sees UPDATEs only.
const ADD: &str = "zone corp.example.com.\n\
                   update add _vlmcs._tcp.corp.example.com. 300 SRV 0 0 1688 kms1.corp.example.com.\n\
                   send\n";
/// The same add, only if there is no SRV RRset yet (RFC 2136 §2.4.3): a replay fails.
const ADD_IF_ABSENT: &str = "zone corp.example.com.\n\
                             prereq nxrrset _vlmcs._tcp.corp.example.com. SRV\n\
                             update add _vlmcs._tcp.corp.example.com. 300 SRV 0 0 1688 kms1.corp.example.com.\n\
                             send\n";

fn lab() -> ServerBuilder {
    ServerBuilder::new().key("kms-key", "hmac-sha256").zone(
        ZoneBuilder::new("corp.example.com")
            .record("kms1 A 127.0.0.1")
            .policy(Policy::grant("kms-key", ["corp.example.com"])),
    )
}

/// What nsupdate did through the relay.
struct Run {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
}

fn nsupdate(relay: &Relay, server: &Server, transport: Transport, script: &str) -> Run {
    let started = Instant::now();
    let key = server.key("kms-key");
    let out = match transport {
        Transport::Udp => relay.nsupdate(key, script),
        Transport::Tcp => relay.nsupdate_tcp(key, script),
    };
    let run = Run {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "nsupdate stdout");
    eprintln!(
        "nsupdate over {transport:?}: exit {:?} after {:?}, stderr {:?}",
        run.code, run.elapsed, run.stderr
    );
    run
}

/// BIND with one fault relay in front of it.
fn bind_behind(faults: Vec<Fault>) -> (BindServer, Relay) {
    let bind = BindServer::start(&lab());
    let relay = Relay::start(bind.addr(), faults);
    (bind, relay)
}

/// Asserts that BIND holds the SRV record nsupdate sent, at serial 2 (applied once).
fn assert_applied(server: &Server) {
    let rrs = server.srv_records(OWNER);
    assert_eq!(rrs.len(), 1, "{rrs:?}");
    assert_eq!(
        (rrs[0].port, rrs[0].target.as_str()),
        (1688, "kms1.corp.example.com.")
    );
    assert_eq!(server.soa_serial("corp.example.com"), 2);
}

fn assert_not_applied(server: &Server) {
    assert_eq!(server.srv_records(OWNER), vec![]);
    assert_eq!(server.soa_serial("corp.example.com"), 1);
}

fn comm_error(relay: &Relay, what: &str) -> String {
    format!(
        "; Communication with 127.0.0.1#{} failed: {what}\n",
        relay.port()
    )
}

const EXPECTED_TSIG: &str = "; TSIG error with server: expected a TSIG or SIG(0)\n";

/// The messages on one leg over one transport.
fn leg(relay: &Relay, leg: Leg, transport: Transport) -> Vec<Vec<u8>> {
    relay
        .wire()
        .into_iter()
        .filter(|w| w.leg == leg && w.transport == transport)
        .map(|w| w.bytes)
        .collect()
}

/// Waits (≤ 3 s) until `n` messages went to clients.
fn wait_to_client(relay: &Relay, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while relay.stats().messages_to_clients < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(relay.stats().messages_to_clients, n, "{:?}", relay.stats());
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// dig through the relay, one try of one second: `+time=1 +tries=1 ARGS`.
fn dig_once(relay: &Relay, args: &[&str]) -> Output {
    let mut all = vec!["+time=1", "+tries=1"];
    all.extend_from_slice(args);
    relay.dig(&all)
}

/// A signed SOA query with dig (`-k KEYFILE`).
fn dig_signed(relay: &Relay, server: &Server) -> Output {
    let file = server.key("kms-key").file.display().to_string();
    dig_once(relay, &["-k", &file, "corp.example.com", "SOA"])
}

/// An unsigned SOA query for corp.example.com. with `id`.
fn soa_query(id: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    q.extend_from_slice(b"\x04corp\x07example\x03com\x00\x00\x06\x00\x01");
    q
}

fn rcode(msg: &[u8]) -> u8 {
    msg[3] & 0x0f
}

fn arcount(msg: &[u8]) -> u16 {
    u16::from_be_bytes([msg[10], msg[11]])
}

// ---- the message walker ----

/// A reply with a compressed answer and a TSIG record (MAC of 4 bytes) at the end.
fn signed_reply() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0xa8, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
    m.extend_from_slice(b"\x04corp\x07example\x03com\x00\x00\x06\x00\x01");
    // Answer: owner = pointer to the question name, A 127.0.0.1.
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 0, 1]);
    // TSIG: owner "k", type 250, class ANY, TTL 0.
    m.extend_from_slice(b"\x01k\x00\x00\xfa\x00\xff\x00\x00\x00\x00");
    let mut rdata = b"\x0bhmac-sha256\x00".to_vec();
    rdata.extend_from_slice(&[0, 0, 0x65, 0, 0, 0, 1, 44, 0, 4, 0xaa, 0xbb, 0xcc, 0xdd]);
    rdata.extend_from_slice(&[0x12, 0x34, 0, 0, 0, 0]); // original ID, error, other len
    m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    m.extend_from_slice(&rdata);
    m
}

#[test]
fn walker_finds_tsig_and_mac_behind_compressed_names() {
    let m = signed_reply();
    assert_eq!(relay::opcode(&m), Some(OPCODE_UPDATE));
    assert_eq!(relay::id(&m), Some(0x1234));
    let (question_end, records) = relay::layout(&m).unwrap();
    assert_eq!(question_end, 12 + 18 + 4); // header, corp.example.com., type, class
    let types: Vec<u16> = records.iter().map(|r| r.rtype).collect();
    assert_eq!(types, [1, relay::TYPE_TSIG]);
    let mac = relay::tsig_mac(&m).unwrap();
    assert_eq!(&m[mac], &[0xaa, 0xbb, 0xcc, 0xdd]);

    let stripped = relay::strip_tsig(&m).unwrap();
    let mut want = m[..records[1].start].to_vec();
    want[11] = 0;
    assert_eq!(stripped, want);
    assert_eq!(relay::tsig_record(&stripped), None);
    assert_eq!(relay::strip_tsig(&stripped), None);

    let tc = relay::truncated(&m).unwrap();
    assert_eq!(tc.len(), question_end);
    assert_eq!(&tc[..12], &[0x12, 0x34, 0xaa, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn walker_rejects_malformed_messages() {
    let m = signed_reply();
    assert_eq!(relay::layout(&m[..m.len() - 1]), None, "cut short");
    let mut longer = m.clone();
    longer.push(0);
    assert_eq!(relay::layout(&longer), None, "trailing byte");
    let mut bad_label = m.clone();
    bad_label[12] = 0x40;
    assert_eq!(relay::layout(&bad_label), None, "extended label type");
    assert_eq!(relay::layout(&m[..5]), None, "short header");
    assert_eq!(relay::tsig_mac(&m[..40]), None);
}

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
