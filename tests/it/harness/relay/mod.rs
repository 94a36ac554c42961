//! A fault-injecting DNS relay: it sits between a client under test (kmsdns, dig, nsupdate) and a
//! real server of this harness, forwards every message, and breaks the ones a test asks for, so a
//! test can show what the client does when the network misbehaves.
//!
//! It listens on 127.0.0.1, UDP and TCP on the same free port ([`super::ports::free_port`]).
//! UDP: each client address (a datagram flow) gets its own upstream socket; replies go back to
//! that client. TCP: each accepted connection gets its own upstream connection, and
//! length-prefixed messages are pumped both ways. Plain std threads; every wait is bounded
//! (sockets poll every 20 ms, I/O gives up after 2 s); everything stops on drop.
//!
//! ```ignore
//! use crate::harness::relay::{Fault, FaultKind, Relay, Scope};
//!
//! let bind = BindServer::start(&lab);
//! // Lose the first reply to an UPDATE: BIND applies the update, the client never hears so.
//! let relay = Relay::start(
//!     bind.addr(),
//!     vec![Fault::new(FaultKind::DropReply).on(Scope::UpdateReplies).first_n(1)],
//! );
//! let out = relay.nsupdate(bind.key("kms-key"), "update add ...\nsend\n");
//! assert_eq!(relay.stats().updates(), 2); // nsupdate sent its UPDATE again
//! assert_eq!(bind.srv_records("_vlmcs._tcp.corp.example.com").len(), 1);
//! ```
//!
//! # API
//! - [`Relay::start`]`(upstream, faults)`, [`Relay::addr`], [`Relay::port`], [`Relay::stats`]
//!   (a [`Stats`] snapshot: requests by transport and opcode, replies from upstream and forwarded,
//!   messages sent to clients, TCP connections, how often each fault was applied),
//!   [`Relay::wire`] (every message on every leg, [`Wire`]), [`Relay::dig`],
//!   [`Relay::nsupdate`] / [`Relay::nsupdate_tcp`] (the tools, pointed at the relay).
//! - [`Fault`]: `new(FaultKind)`, `.on(Scope)` (default [`Scope::All`]), `.first_n(n)` (apply to
//!   the first `n` matching messages, then pass them through; default: every one). Faults apply
//!   in the order given; several may hit one message (e.g. `Delay` then `StripTsig`).
//! - [`FaultKind`]: what happens to a matching message. [`Scope`]: which messages match.
//! - Message walkers, usable on any captured message: [`opcode`], [`id`], [`tsig_record`],
//!   [`tsig_mac`], [`strip_tsig`], [`truncated`].

mod net;
mod shared;
mod wire;

pub use wire::{id, layout, opcode, strip_tsig, truncated, tsig_mac, tsig_record};

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Key, ports, require};
use net::{tcp_accept, udp_listen};
use shared::{Shared, lock, seed};

pub const OPCODE_QUERY: u8 = 0;
pub const OPCODE_UPDATE: u8 = 5;
pub const TYPE_TSIG: u16 = 250;
/// How long a forged reply ([`FaultKind::ForgedUnsignedBefore`]) runs ahead of the genuine one.
pub const FORGED_LEAD: Duration = Duration::from_millis(50);
/// How often blocked sockets and sleeps look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Upstream connects and writes give up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Which messages a fault applies to. A fault acts on requests or on replies (see
/// [`FaultKind`]); the scope narrows that down by opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every message the fault acts on.
    All,
    /// Requests with opcode UPDATE (5). Only for request faults.
    UpdateRequests,
    /// Replies with opcode UPDATE (a server echoes the request's opcode). Only for reply faults.
    UpdateReplies,
    /// Messages with opcode QUERY (0), requests or replies as the fault acts on.
    Queries,
    /// Every message (any opcode, both transports) once the relay has received an UPDATE
    /// request, that request excluded: with `DropRequest`, a server that goes dark right after
    /// an UPDATE reached it.
    AfterUpdate,
}

/// What a fault does to a matching message. Every kind works over UDP and TCP, except
/// `CloseTcpMidMessage` (TCP only: UDP messages never match it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Request: never forwarded (the server never sees it).
    DropRequest,
    /// Reply: never forwarded — the server DID process the request.
    DropReply,
    /// Holds the message back before forwarding it: a request under [`Scope::UpdateRequests`],
    /// a reply under every other scope.
    Delay(Duration),
    /// Reply: sent twice.
    Duplicate,
    /// Reply: TC set, cut to header + question (zone) section, other counts zeroed — what a
    /// server's truncated UDP reply looks like (no answer, no TSIG).
    SetTruncated,
    /// Reply: replaced by random bytes of the same length.
    Garbage,
    /// Reply: its ID changed (+1).
    WrongId,
    /// Reply: first a copy with its TSIG record removed (flags and ID kept: a forged reply an
    /// off-path attacker could send), then the genuine reply [`FORGED_LEAD`] later.
    ForgedUnsignedBefore,
    /// Reply: its TSIG record (the last additional record) removed, ARCOUNT decremented.
    /// Only matches signed replies.
    StripTsig,
    /// Reply: one byte in the middle of the TSIG MAC inverted. Only matches signed replies.
    FlipMacByte,
    /// Reply: its TSIG MAC replaced by the MAC of the request it answers (what Samba and
    /// Windows put in an error reply: the request echoed). Only matches signed replies.
    EchoRequestMac,
    /// Reply, TCP only: the length prefix and the first half of the reply are sent, then both
    /// connections are closed.
    CloseTcpMidMessage,
}

/// One fault: a kind, a scope, and how many matching messages it applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub scope: Scope,
    /// Apply to the first `n` matching messages only; `None`: to every one.
    pub first_n: Option<u64>,
}

impl Fault {
    /// `kind` on every message it acts on ([`Scope::All`], no limit).
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            scope: Scope::All,
            first_n: None,
        }
    }

    pub fn on(mut self, scope: Scope) -> Fault {
        self.scope = scope;
        self
    }

    /// Apply to the first `n` matching messages, then let them pass.
    pub fn first_n(mut self, n: u64) -> Fault {
        self.first_n = Some(n);
        self
    }

    fn acts_on(&self) -> Direction {
        match self.kind {
            FaultKind::DropRequest => Direction::Request,
            FaultKind::Delay(_) if self.scope == Scope::UpdateRequests => Direction::Request,
            _ => Direction::Reply,
        }
    }

    /// `after_update`: an UPDATE request came before this message.
    fn matches(
        &self,
        dir: Direction,
        transport: Transport,
        msg: &[u8],
        after_update: bool,
    ) -> bool {
        if self.acts_on() != dir {
            return false;
        }
        let op = opcode(msg);
        let in_scope = match self.scope {
            Scope::All => true,
            Scope::UpdateRequests | Scope::UpdateReplies => op == Some(OPCODE_UPDATE),
            Scope::Queries => op == Some(OPCODE_QUERY),
            Scope::AfterUpdate => after_update,
        };
        in_scope
            && match self.kind {
                FaultKind::CloseTcpMidMessage => transport == Transport::Tcp,
                FaultKind::StripTsig | FaultKind::FlipMacByte | FaultKind::EchoRequestMac => {
                    tsig_mac(msg).is_some()
                }
                _ => true,
            }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Request,
    Reply,
}

/// Where a message was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// A request as the client sent it.
    FromClient,
    /// A request as forwarded to the server.
    ToUpstream,
    /// A reply as the server sent it.
    FromUpstream,
    /// What the relay sent to the client (a reply, a changed reply, a forged or duplicate copy,
    /// or half a reply before a TCP close).
    ToClient,
}

/// One message on one leg, in the order the relay saw them.
#[derive(Clone, Debug)]
pub struct Wire {
    /// Since [`Relay::start`].
    pub at: Duration,
    pub leg: Leg,
    pub transport: Transport,
    pub bytes: Vec<u8>,
}

/// Counters, read with [`Relay::stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests from clients (before any fault), by transport and opcode.
    pub requests: BTreeMap<(Transport, u8), u64>,
    pub replies_from_upstream: u64,
    /// Upstream replies sent on whole to the client, in any form (changed ones count, dropped
    /// ones and ones cut by `CloseTcpMidMessage` do not; a duplicate or forged copy does not
    /// count again).
    pub replies_forwarded: u64,
    /// Every message written to a client, duplicates, forged copies and half messages included.
    /// Messages are counted (and logged in [`Relay::wire`]) just before they are written.
    pub messages_to_clients: u64,
    pub tcp_connections: u64,
    /// How often each fault was applied, in the order given to [`Relay::start`].
    pub faults_applied: Vec<u64>,
}

impl Stats {
    /// Requests with `opcode` over both transports.
    pub fn requests(&self, opcode: u8) -> u64 {
        self.requests
            .iter()
            .filter(|((_, op), _)| *op == opcode)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn requests_over(&self, transport: Transport, opcode: u8) -> u64 {
        self.requests
            .get(&(transport, opcode))
            .copied()
            .unwrap_or(0)
    }

    pub fn updates(&self) -> u64 {
        self.requests(OPCODE_UPDATE)
    }

    pub fn queries(&self) -> u64 {
        self.requests(OPCODE_QUERY)
    }

    pub fn faults_applied_total(&self) -> u64 {
        self.faults_applied.iter().sum()
    }
}

/// A running relay; stops (and joins its threads, ≤ ~2 s) on drop.
pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Relay {
    /// Starts relaying 127.0.0.1:free-port (UDP and TCP) to `upstream`, with `faults`.
    /// Panics on a fault whose scope can never match its kind (a reply fault on
    /// `UpdateRequests`, `DropRequest` on `UpdateReplies`).
    pub fn start(upstream: SocketAddr, faults: Vec<Fault>) -> Relay {
        for f in &faults {
            let wrong = match f.acts_on() {
                Direction::Request => f.scope == Scope::UpdateReplies,
                Direction::Reply => f.scope == Scope::UpdateRequests,
            };
            assert!(
                !wrong,
                "{f:?} never applies: {:?} acts on {}",
                f.kind,
                match f.acts_on() {
                    Direction::Request => "requests (use Scope::UpdateRequests)",
                    Direction::Reply => "replies (use Scope::UpdateReplies)",
                }
            );
        }
        let port = ports::free_port();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let udp = UdpSocket::bind(addr).unwrap_or_else(|e| panic!("relay: bind UDP {addr}: {e}"));
        let tcp = TcpListener::bind(addr).unwrap_or_else(|e| panic!("relay: bind TCP {addr}: {e}"));
        udp.set_read_timeout(Some(POLL)).expect("UDP read timeout");
        tcp.set_nonblocking(true).expect("nonblocking listener");
        let shared = Arc::new(Shared {
            started: Instant::now(),
            upstream,
            stats: Mutex::new(Stats {
                faults_applied: vec![0; faults.len()],
                ..Stats::default()
            }),
            faults,
            stop: AtomicBool::new(false),
            wire: Mutex::new(Vec::new()),
            rng: Mutex::new(seed()),
            threads: Mutex::new(Vec::new()),
        });
        let s = Arc::clone(&shared);
        shared.spawn(move || udp_listen(&s, &udp));
        let s = Arc::clone(&shared);
        shared.spawn(move || tcp_accept(&s, &tcp));
        Relay { addr, shared }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// Every message so far, on every leg, in the order seen.
    pub fn wire(&self) -> Vec<Wire> {
        lock(&self.shared.wire).clone()
    }

    /// Runs `dig @127.0.0.1 -p RELAYPORT +norec +time=2 +tries=2 ARGS...` (later args override
    /// these) and returns its output.
    pub fn dig(&self, args: &[&str]) -> Output {
        Command::new(require("dig"))
            .arg(format!("@{}", self.addr.ip()))
            .args([
                "-p",
                &self.port().to_string(),
                "+norec",
                "+time=2",
                "+tries=2",
            ])
            .args(args)
            .output()
            .expect("run dig")
    }

    /// `nsupdate -t 4 -u 1 -r 2 -k KEYFILE` (as [`super::Server::nsupdate`]) with
    /// `server 127.0.0.1 RELAYPORT` followed by `script`.
    pub fn nsupdate(&self, key: &Key, script: &str) -> Output {
        self.run_nsupdate(key, &[], script)
    }

    /// Like [`Relay::nsupdate`] over TCP (`nsupdate -v`).
    pub fn nsupdate_tcp(&self, key: &Key, script: &str) -> Output {
        self.run_nsupdate(key, &["-v"], script)
    }

    fn run_nsupdate(&self, key: &Key, extra: &[&str], script: &str) -> Output {
        let mut child = Command::new(require("nsupdate"))
            .args(["-t", "4", "-u", "1", "-r", "2"])
            .args(extra)
            .arg("-k")
            .arg(&key.file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run nsupdate");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = format!("server {} {}\n{script}", self.addr.ip(), self.port());
        stdin
            .write_all(input.as_bytes())
            .expect("write nsupdate script");
        drop(stdin);
        child.wait_with_output().expect("wait for nsupdate")
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Threads may start others until they see the flag: join until none are left.
        loop {
            let handles = std::mem::take(&mut *lock(&self.shared.threads));
            if handles.is_empty() {
                break;
            }
            for h in handles {
                let _ = h.join();
            }
        }
    }
}
