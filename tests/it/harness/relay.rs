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

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::ops::Range;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{Key, ports, require};

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

    fn matches(&self, dir: Direction, transport: Transport, msg: &[u8]) -> bool {
        if self.acts_on() != dir {
            return false;
        }
        let op = opcode(msg);
        let in_scope = match self.scope {
            Scope::All => true,
            Scope::UpdateRequests | Scope::UpdateReplies => op == Some(OPCODE_UPDATE),
            Scope::Queries => op == Some(OPCODE_QUERY),
        };
        in_scope
            && match self.kind {
                FaultKind::CloseTcpMidMessage => transport == Transport::Tcp,
                FaultKind::StripTsig | FaultKind::FlipMacByte => tsig_mac(msg).is_some(),
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

/// State shared by the relay's threads.
struct Shared {
    started: Instant,
    upstream: SocketAddr,
    faults: Vec<Fault>,
    stop: AtomicBool,
    stats: Mutex<Stats>,
    wire: Mutex<Vec<Wire>>,
    rng: Mutex<u64>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        let mut threads = lock(&self.threads);
        threads.retain(|h| !h.is_finished());
        threads.push(thread::spawn(f));
    }

    /// Sleeps `d` in small steps; false if the relay stopped meanwhile.
    fn sleep(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        while !self.stopped() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(POLL));
        }
        false
    }

    fn log(&self, leg: Leg, transport: Transport, bytes: &[u8]) {
        lock(&self.wire).push(Wire {
            at: self.started.elapsed(),
            leg,
            transport,
            bytes: bytes.to_vec(),
        });
    }

    /// The kinds of the faults that apply to `msg`, counting them as applied.
    fn select(&self, dir: Direction, transport: Transport, msg: &[u8]) -> Vec<FaultKind> {
        let mut stats = lock(&self.stats);
        let mut kinds = Vec::new();
        for (i, f) in self.faults.iter().enumerate() {
            let left = f.first_n.is_none_or(|n| stats.faults_applied[i] < n);
            if left && f.matches(dir, transport, msg) {
                stats.faults_applied[i] += 1;
                kinds.push(f.kind);
            }
        }
        kinds
    }

    /// Counts and logs a request; `None` if it is to be dropped, else how long to hold it.
    fn on_request(&self, transport: Transport, msg: &[u8]) -> Option<Duration> {
        self.log(Leg::FromClient, transport, msg);
        {
            let mut stats = lock(&self.stats);
            let op = opcode(msg).unwrap_or(u8::MAX);
            *stats.requests.entry((transport, op)).or_insert(0) += 1;
        }
        let mut delay = Duration::ZERO;
        for kind in self.select(Direction::Request, transport, msg) {
            match kind {
                FaultKind::DropRequest => return None,
                FaultKind::Delay(d) => delay += d,
                _ => {}
            }
        }
        Some(delay)
    }

    /// Counts and logs a reply from upstream and works out what the client gets.
    fn on_reply(&self, transport: Transport, reply: &[u8]) -> Delivery {
        self.log(Leg::FromUpstream, transport, reply);
        lock(&self.stats).replies_from_upstream += 1;
        let mut d = Delivery {
            delay: Duration::ZERO,
            forged: None,
            bytes: reply.to_vec(),
            copies: 1,
            close_mid: false,
        };
        for kind in self.select(Direction::Reply, transport, reply) {
            match kind {
                FaultKind::DropRequest => {}
                FaultKind::DropReply => d.copies = 0,
                FaultKind::Delay(t) => d.delay += t,
                FaultKind::Duplicate => d.copies += 1,
                FaultKind::SetTruncated => {
                    if let Some(t) = truncated(&d.bytes) {
                        d.bytes = t;
                    }
                }
                FaultKind::Garbage => {
                    let mut rng = lock(&self.rng);
                    for b in &mut d.bytes {
                        *rng = xorshift(*rng);
                        *b = (*rng >> 24) as u8;
                    }
                }
                FaultKind::WrongId => {
                    if let Some(id) = id(&d.bytes) {
                        d.bytes[..2].copy_from_slice(&id.wrapping_add(1).to_be_bytes());
                    }
                }
                FaultKind::ForgedUnsignedBefore => {
                    d.forged = Some(strip_tsig(&d.bytes).unwrap_or_else(|| d.bytes.clone()));
                }
                FaultKind::StripTsig => {
                    if let Some(s) = strip_tsig(&d.bytes) {
                        d.bytes = s;
                    }
                }
                FaultKind::FlipMacByte => {
                    if let Some(mac) = tsig_mac(&d.bytes).filter(|m| !m.is_empty()) {
                        d.bytes[mac.start + mac.len() / 2] ^= 0xff;
                    }
                }
                FaultKind::CloseTcpMidMessage => d.close_mid = true,
            }
        }
        if d.copies == 0 {
            d.forged = None;
            d.close_mid = false;
        }
        d
    }

    fn sent_to_client(&self, transport: Transport, bytes: &[u8]) {
        self.log(Leg::ToClient, transport, bytes);
        lock(&self.stats).messages_to_clients += 1;
    }
}

/// What the client gets for one upstream reply.
struct Delivery {
    delay: Duration,
    /// Sent first, [`FORGED_LEAD`] before the reply.
    forged: Option<Vec<u8>>,
    bytes: Vec<u8>,
    /// 0: dropped.
    copies: usize,
    close_mid: bool,
}

impl Delivery {
    /// Sends the delivery with `send`; false if the relay stopped or sending failed. Each
    /// message is logged and counted just before it is sent, so a client that got it always
    /// finds it counted.
    fn run(
        &self,
        shared: &Shared,
        transport: Transport,
        mut send: impl FnMut(&[u8]) -> bool,
    ) -> bool {
        if self.copies == 0 {
            return true;
        }
        if !shared.sleep(self.delay) {
            return false;
        }
        let mut send = |bytes: &[u8]| {
            shared.sent_to_client(transport, bytes);
            send(bytes)
        };
        if let Some(forged) = &self.forged
            && (!send(forged) || !shared.sleep(FORGED_LEAD))
        {
            return false;
        }
        lock(&shared.stats).replies_forwarded += 1;
        (0..self.copies).all(|_| send(&self.bytes))
    }
}

// ---- UDP ----

fn udp_listen(shared: &Arc<Shared>, listen: &UdpSocket) {
    let mut flows: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut buf = vec![0u8; 65_535];
    while !shared.stopped() {
        let (n, client) = match listen.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if is_timeout(&e) => continue,
            Err(e) => {
                eprintln!("relay: UDP recv: {e}");
                shared.sleep(POLL);
                continue;
            }
        };
        let msg = buf[..n].to_vec();
        let upstream = match flows.get(&client) {
            Some(sock) => Arc::clone(sock),
            None => match udp_flow(shared, listen, client) {
                Ok(sock) => {
                    flows.insert(client, Arc::clone(&sock));
                    sock
                }
                Err(e) => {
                    eprintln!("relay: UDP flow for {client}: {e}");
                    continue;
                }
            },
        };
        let Some(delay) = shared.on_request(Transport::Udp, &msg) else {
            continue;
        };
        let forward = {
            let shared = Arc::clone(shared);
            move || {
                if shared.sleep(delay) {
                    shared.log(Leg::ToUpstream, Transport::Udp, &msg);
                    let _ = upstream.send(&msg);
                }
            }
        };
        if delay.is_zero() {
            forward();
        } else {
            shared.spawn(forward);
        }
    }
}

/// A new upstream socket for the datagram flow from `client`, and its reply thread.
fn udp_flow(
    shared: &Arc<Shared>,
    listen: &UdpSocket,
    client: SocketAddr,
) -> io::Result<Arc<UdpSocket>> {
    let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    sock.connect(shared.upstream)?;
    sock.set_read_timeout(Some(POLL))?;
    let sock = Arc::new(sock);
    let listen = Arc::new(listen.try_clone()?);
    let (s, upstream) = (Arc::clone(shared), Arc::clone(&sock));
    shared.spawn(move || {
        let mut buf = vec![0u8; 65_535];
        while !s.stopped() {
            let n = match upstream.recv(&mut buf) {
                Ok(n) => n,
                // A timeout, or ICMP port unreachable from a server that is gone.
                Err(_) => continue,
            };
            let delivery = s.on_reply(Transport::Udp, &buf[..n]);
            let waits = !delivery.delay.is_zero() || delivery.forged.is_some();
            let (s2, listen) = (Arc::clone(&s), Arc::clone(&listen));
            let deliver = move || {
                delivery.run(&s2, Transport::Udp, |bytes| {
                    listen.send_to(bytes, client).is_ok()
                });
            };
            // A held-back reply must not hold back the ones after it.
            if waits {
                s.spawn(deliver);
            } else {
                deliver();
            }
        }
    });
    Ok(sock)
}

// ---- TCP ----

fn tcp_accept(shared: &Arc<Shared>, listener: &TcpListener) {
    while !shared.stopped() {
        match listener.accept() {
            Ok((client, _)) => {
                lock(&shared.stats).tcp_connections += 1;
                let s = Arc::clone(shared);
                shared.spawn(move || {
                    if let Err(e) = tcp_connection(&s, client) {
                        eprintln!("relay: TCP connection: {e}");
                    }
                });
            }
            Err(e) if is_timeout(&e) => thread::sleep(POLL),
            Err(e) => {
                eprintln!("relay: TCP accept: {e}");
                thread::sleep(POLL);
            }
        }
    }
}

/// Connects upstream and pumps messages both ways until either side closes: requests in a
/// thread of their own, replies in this one.
fn tcp_connection(shared: &Arc<Shared>, client: TcpStream) -> io::Result<()> {
    client.set_nonblocking(false)?;
    let upstream = TcpStream::connect_timeout(&shared.upstream, IO_TIMEOUT)?;
    for s in [&client, &upstream] {
        s.set_read_timeout(Some(POLL))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.set_nodelay(true)?;
    }
    // Either pump ending shuts both connections down, which ends the other pump too.
    let pair = Arc::new((client.try_clone()?, upstream.try_clone()?));
    let close = move |pair: &(TcpStream, TcpStream)| {
        let _ = pair.0.shutdown(Shutdown::Both);
        let _ = pair.1.shutdown(Shutdown::Both);
    };
    let (mut from_client, mut to_upstream) = (client.try_clone()?, upstream.try_clone()?);
    let s = Arc::clone(shared);
    let pair_requests = Arc::clone(&pair);
    shared.spawn(move || {
        while let Some(msg) = read_message(&s, &mut from_client) {
            let Some(delay) = s.on_request(Transport::Tcp, &msg) else {
                continue;
            };
            if !s.sleep(delay) {
                break;
            }
            s.log(Leg::ToUpstream, Transport::Tcp, &msg);
            if write_message(&mut to_upstream, &msg).is_err() {
                break;
            }
        }
        close(&pair_requests);
    });
    let (mut from_upstream, mut to_client) = (upstream, client);
    while let Some(reply) = read_message(shared, &mut from_upstream) {
        let delivery = shared.on_reply(Transport::Tcp, &reply);
        if delivery.close_mid {
            let half = &delivery.bytes[..delivery.bytes.len() / 2];
            let mut partial = (delivery.bytes.len() as u16).to_be_bytes().to_vec();
            partial.extend_from_slice(half);
            if shared.sleep(delivery.delay) {
                shared.sent_to_client(Transport::Tcp, half);
                let _ = to_client
                    .write_all(&partial)
                    .and_then(|()| to_client.flush());
            }
            break;
        }
        let ok = delivery.run(shared, Transport::Tcp, |bytes| {
            write_message(&mut to_client, bytes).is_ok()
        });
        if !ok {
            break;
        }
    }
    close(&pair);
    Ok(())
}

/// One length-prefixed message; `None` at EOF, on an error, or when the relay stops.
fn read_message(shared: &Shared, stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    read_full(shared, stream, &mut len)?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    read_full(shared, stream, &mut msg)?;
    Some(msg)
}

fn read_full(shared: &Shared, stream: &mut TcpStream, buf: &mut [u8]) -> Option<()> {
    let mut filled = 0;
    while filled < buf.len() {
        if shared.stopped() {
            return None;
        }
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return None,
            Ok(n) => filled += n,
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(())
}

fn write_message(stream: &mut TcpStream, msg: &[u8]) -> io::Result<()> {
    let len = u16::try_from(msg.len()).map_err(|_| io::Error::other("message over 65535"))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(msg);
    stream.write_all(&framed)?;
    stream.flush()
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos | 1
}

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

// ---- Message walker (RFC 1035 §4.1; TSIG RDATA: RFC 8945 §4.2) ----

/// The opcode: header byte 2, bits 3–6.
pub fn opcode(msg: &[u8]) -> Option<u8> {
    msg.get(2).map(|b| (b >> 3) & 0x0f)
}

pub fn id(msg: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.first()?, *msg.get(1)?]))
}

fn count(msg: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]))
}

/// The offset after the (possibly compressed) name at `pos`.
fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(pos + 1),
            0x00 => pos += 1 + usize::from(len),
            0xc0 => {
                msg.get(pos + 1)?;
                return Some(pos + 2);
            }
            _ => return None, // 0x40 / 0x80: extended label types, not in use
        }
    }
}

/// A resource record's place in a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSpan {
    /// Where its owner name starts.
    pub start: usize,
    pub rtype: u16,
    pub rdata: Range<usize>,
}

/// The end of the question section and every record of a message; `None` if it does not parse
/// or has bytes after its last record.
pub fn layout(msg: &[u8]) -> Option<(usize, Vec<RecordSpan>)> {
    let mut pos = 12;
    for _ in 0..count(msg, 4)? {
        pos = skip_name(msg, pos)? + 4;
    }
    let question_end = pos;
    let total = [6, 8, 10]
        .iter()
        .map(|&at| count(msg, at).map(usize::from))
        .sum::<Option<usize>>()?;
    let mut records = Vec::with_capacity(total);
    for _ in 0..total {
        let start = pos;
        let fixed = skip_name(msg, pos)?;
        let rtype = count(msg, fixed)?;
        let rdlen = usize::from(count(msg, fixed + 8)?);
        let rdata = fixed + 10..fixed + 10 + rdlen;
        if rdata.end > msg.len() {
            return None;
        }
        pos = rdata.end;
        records.push(RecordSpan {
            start,
            rtype,
            rdata,
        });
    }
    (question_end <= msg.len() && pos == msg.len()).then_some((question_end, records))
}

/// The TSIG record: the last additional record, if it is of type TSIG.
pub fn tsig_record(msg: &[u8]) -> Option<RecordSpan> {
    if count(msg, 10)? == 0 {
        return None;
    }
    let (_, records) = layout(msg)?;
    records.into_iter().last().filter(|r| r.rtype == TYPE_TSIG)
}

/// The bytes of the TSIG MAC: after algorithm name, time signed (6), fudge (2) and MAC size (2).
pub fn tsig_mac(msg: &[u8]) -> Option<Range<usize>> {
    let rr = tsig_record(msg)?;
    let size_at = skip_name(msg, rr.rdata.start)? + 8;
    let mac = size_at + 2..size_at + 2 + usize::from(count(msg, size_at)?);
    (mac.end <= rr.rdata.end).then_some(mac)
}

/// `msg` without its TSIG record (ARCOUNT one less); `None` if it has none.
pub fn strip_tsig(msg: &[u8]) -> Option<Vec<u8>> {
    let rr = tsig_record(msg)?;
    let mut out = msg[..rr.start].to_vec();
    let ar = count(msg, 10)? - 1;
    out[10..12].copy_from_slice(&ar.to_be_bytes());
    Some(out)
}

/// A truncated copy of `msg`: TC set, header + question section only, AN/NS/AR counts zero.
pub fn truncated(msg: &[u8]) -> Option<Vec<u8>> {
    let (question_end, _) = layout(msg)?;
    let mut out = msg[..question_end].to_vec();
    out[2] |= 0x02;
    out[6..12].fill(0);
    Some(out)
}
