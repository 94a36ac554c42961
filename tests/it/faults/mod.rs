//! The truth under faults: what kmsdns reports when a server is dead, slow or the path
//! misbehaves. Each outcome is checked against what the server really holds (dig on the server
//! itself, never through the relay): the records and the SOA serial, which moves by exactly 1
//! per UPDATE that went in (an update applied twice would show +2).
//!
//! Most tests put the fault relay (harness/relay.rs) between kmsdns and a real BIND and run
//! `kmsdns apply --yes` once, with `timeout = "300ms"` and `retries = 1` (two UDP tries per
//! exchange). The zone starts without KMS records at serial 1; the config asks for one
//! record, `_vlmcs._tcp.corp.example.com. 3600 SRV 0 0 1688 kms1.example.com.`, so "applied
//! once" is that record at serial 2 and "nothing written" is no record at serial 1. The
//! relay's wire log says how many UPDATEs kmsdns sent and how many reached the server.
//!
//! What kmsdns promises: every UPDATE ends applied, not applied, or uncertain; uncertain (no
//! reply in time, a reply that fails TSIG or is unsigned, TC over UDP, a reply that does not
//! match) is settled by a fresh signed TCP read of the touched RRsets: the desired state →
//! applied with a warning naming what happened to the reply (exit 0); the state as before →
//! not applied → sent once more over TCP; anything else → another writer (exit 1). A forged
//! reply before the genuine one does not end the exchange.

mod forged;
mod late;
mod lost;
mod queries;
mod writers;

use std::net::SocketAddr;

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::relay::{self, Fault, FaultKind, Leg, OPCODE_UPDATE, Relay, Scope, Transport};
use crate::harness::{BindServer, Policy, Server, ServerBuilder, ZoneBuilder};

// ---- the lab ----

const CORP: &str = "_vlmcs._tcp.corp.example.com";
const ZONE: &str = "example.com";
/// The record the config asks for, as dig prints it (target) and as `plan` prints it.
const KMS1: &str = "kms1.example.com.";
const PLUS_KMS1: &str = "+ 3600 IN SRV 0 0 1688 kms1.example.com.";
/// What kmsdns says when the resend of the same UDP bytes fails its prerequisites.
const RESEND_FAILED: &str = "the prerequisites failed (YXRRSET) on a resend of the same message, after 2 copies: the first copy may have been applied";
/// The end of the warning when the settling read found the update applied.
const WENT_IN: &str = "; the records read back over TCP show the update went in";
/// The end of the warning when the settling read found nothing changed and kmsdns resent.
const RESENT: &str =
    "; the records read back over TCP were unchanged, so the update was sent again over TCP";

/// example.com with `kms1` and key kms-update allowed to write SRV at
/// `_vlmcs._tcp.corp.example.com.`; `records` are extra zone-file lines.
fn lab(records: &[&str]) -> ServerBuilder {
    let mut zone = ZoneBuilder::new(ZONE)
        .record("kms1 A 127.0.0.1")
        .policy(Policy::grant("kms-update", ["corp.example.com"]));
    for r in records {
        zone = zone.record(r);
    }
    ServerBuilder::new()
        .key("kms-update", "hmac-sha256")
        .zone(zone)
}

/// BIND (empty `_vlmcs._tcp.corp`, serial 1) behind a relay with `faults`.
fn bind_behind(faults: Vec<Fault>) -> (BindServer, Relay) {
    let bind = BindServer::start(&lab(&[]));
    let relay = Relay::start(bind.addr(), faults);
    (bind, relay)
}

/// A config that manages corp.example.com in zone example.com through `via` over
/// `transport`, 300 ms per try, 2 tries.
fn config(server: &Server, via: SocketAddr, transport: Transport) -> String {
    let transport = match transport {
        Transport::Udp => "udp",
        Transport::Tcp => "tcp",
    };
    format!(
        "[defaults]\nkey = \"kms-update\"\n\
         [keys.kms-update]\nfile = \"{}\"\n\
         [servers.lab]\naddress = \"{via}\"\ntransport = \"{transport}\"\ntimeout = \"300ms\"\nretries = 1\n\
         [[hosts]]\nname = \"kms1.example.com\"\n\
         [[domains]]\nname = \"corp.example.com\"\nzone = \"example.com\"\nserver = \"lab\"\n",
        server.key("kms-update").file.display()
    )
}

/// What one kmsdns run printed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The lines after `Apply summary:`.
    fn summary(&self) -> &str {
        self.stdout
            .split_once("Apply summary:\n")
            .map_or("", |(_, s)| s)
    }

    /// The `warning: …` lines of the summary, without the prefix.
    fn warnings(&self) -> Vec<&str> {
        self.summary()
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("warning: "))
            .collect()
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `kmsdns -c CONFIG ARGS…` with a config that sends everything to `via`.
fn kmsdns_via(server: &Server, via: SocketAddr, transport: Transport, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(server, via, transport));
    let out = kmsdns().arg("-c").arg(&cfg).args(args).output().unwrap();
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!("kmsdns {args:?} over {transport:?}: {run}");
    run
}

/// `kmsdns apply --yes` through the relay.
fn apply(server: &Server, relay: &Relay, transport: Transport) -> Run {
    kmsdns_via(server, relay.addr(), transport, &["apply", "--yes"])
}

/// How the server's label reads in kmsdns's report.
fn label(relay: &Relay) -> String {
    format!("lab ({})", relay.addr())
}

/// The summary line of the zone applied once (serial 2, read back from the server).
fn applied_line(relay: &Relay) -> String {
    format!(
        "  applied    example.com. via {}: 1 change(s), read back and verified, zone serial now 2 (read back)\n",
        label(relay)
    )
}

/// The messages with `opcode` on `leg` over `transport`, in order.
fn on_leg(relay: &Relay, leg: Leg, transport: Transport, opcode: u8) -> Vec<Vec<u8>> {
    relay
        .wire()
        .into_iter()
        .filter(|w| w.leg == leg && w.transport == transport)
        .filter(|w| relay::opcode(&w.bytes) == Some(opcode))
        .map(|w| w.bytes)
        .collect()
}

/// UPDATEs kmsdns sent, (UDP, TCP).
fn updates_sent(relay: &Relay) -> (usize, usize) {
    let s = relay.stats();
    (
        s.requests_over(Transport::Udp, OPCODE_UPDATE) as usize,
        s.requests_over(Transport::Tcp, OPCODE_UPDATE) as usize,
    )
}

/// UPDATEs that reached the server, (UDP, TCP).
fn updates_at_server(relay: &Relay) -> (usize, usize) {
    (
        on_leg(relay, Leg::ToUpstream, Transport::Udp, OPCODE_UPDATE).len(),
        on_leg(relay, Leg::ToUpstream, Transport::Tcp, OPCODE_UPDATE).len(),
    )
}

/// The RCODEs of the server's UPDATE replies, in order (both transports).
fn update_rcodes(relay: &Relay) -> Vec<u8> {
    relay
        .wire()
        .into_iter()
        .filter(|w| w.leg == Leg::FromUpstream && relay::opcode(&w.bytes) == Some(OPCODE_UPDATE))
        .map(|w| w.bytes[3] & 0x0f)
        .collect()
}

/// The server holds exactly the record kmsdns wrote, and the serial moved by exactly 1.
fn assert_applied_once(server: &Server) {
    let rrs = server.srv_records(CORP);
    assert_eq!(rrs.len(), 1, "{rrs:?}");
    assert_eq!(
        (rrs[0].ttl, rrs[0].priority, rrs[0].weight, rrs[0].port),
        (3600, 0, 0, 1688)
    );
    assert_eq!(rrs[0].target, KMS1);
    assert_eq!(server.soa_serial(ZONE), 2, "applied exactly once");
}

/// Nothing was written: no record, serial unchanged.
fn assert_untouched(server: &Server) {
    assert_eq!(server.srv_records(CORP), vec![]);
    assert_eq!(server.soa_serial(ZONE), 1, "nothing was written");
}

/// Exit 0, the zone `applied`, no warning anywhere.
fn assert_applied_quietly(run: &Run, relay: &Relay) {
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.summary().starts_with(&applied_line(relay)), "{run}");
    assert_eq!(run.warnings(), Vec::<&str>::new(), "{run}");
    assert_eq!(run.stderr, "", "no warning logged either");
}

/// Exit 0, the zone `applied`, and exactly one warning: `what` happened to the reply, then
/// `settled` (how the settling read decided). The same words are logged on stderr.
fn assert_applied_with_warning(run: &Run, relay: &Relay, what: &str, settled: &str) {
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.summary().starts_with(&applied_line(relay)), "{run}");
    assert_eq!(run.warnings(), [format!("{what}{settled}")], "{run}");
    assert!(
        run.stderr.contains(&format!(
            "WARN {what}; reading the records back to settle the outcome"
        )),
        "{run}"
    );
}

fn on_update_replies(kind: FaultKind) -> Fault {
    Fault::new(kind).on(Scope::UpdateReplies)
}

fn no_reply(relay: &Relay, transport: Transport) -> String {
    match transport {
        Transport::Udp => format!(
            "the reply was lost (no reply from {} over UDP after 2 tries of 300ms each)",
            relay.addr()
        ),
        Transport::Tcp => format!(
            "the reply was lost (no reply from {} over TCP after 1 try of 300ms each)",
            relay.addr()
        ),
    }
}
