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

mod broken_replies;
mod loss_and_delay;
mod passthrough;
mod walker;

use std::process::Output;
use std::time::{Duration, Instant};

use crate::harness::relay::{Fault, Leg, Relay, Transport};
use crate::harness::{BindServer, Policy, Server, ServerBuilder, ZoneBuilder};

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
