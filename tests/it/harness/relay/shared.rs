//! The relay's shared state: counters, the wire log, and how faults turn one message into
//! what is forwarded or delivered.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::*;

/// State shared by the relay's threads.
pub(super) struct Shared {
    pub(super) started: Instant,
    pub(super) upstream: SocketAddr,
    pub(super) faults: Vec<Fault>,
    pub(super) stop: AtomicBool,
    pub(super) stats: Mutex<Stats>,
    pub(super) wire: Mutex<Vec<Wire>>,
    pub(super) rng: Mutex<u64>,
    pub(super) threads: Mutex<Vec<JoinHandle<()>>>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(super) fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub(super) fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        let mut threads = lock(&self.threads);
        threads.retain(|h| !h.is_finished());
        threads.push(thread::spawn(f));
    }

    /// Sleeps `d` in small steps; false if the relay stopped meanwhile.
    pub(super) fn sleep(&self, d: Duration) -> bool {
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

    pub(super) fn log(&self, leg: Leg, transport: Transport, bytes: &[u8]) {
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
        // Requests are counted before they get here: this one does not come after itself.
        let this_update =
            u64::from(dir == Direction::Request && opcode(msg) == Some(OPCODE_UPDATE));
        let after_update = stats.updates() > this_update;
        let mut kinds = Vec::new();
        for (i, f) in self.faults.iter().enumerate() {
            let left = f.first_n.is_none_or(|n| stats.faults_applied[i] < n);
            if left && f.matches(dir, transport, msg, after_update) {
                stats.faults_applied[i] += 1;
                kinds.push(f.kind);
            }
        }
        kinds
    }

    /// Counts and logs a request; `None` if it is to be dropped, else how long to hold it.
    pub(super) fn on_request(&self, transport: Transport, msg: &[u8]) -> Option<Duration> {
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
    pub(super) fn on_reply(&self, transport: Transport, reply: &[u8]) -> Delivery {
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
                FaultKind::EchoRequestMac => {
                    if let Some(echoed) = self
                        .request_mac_of(&d.bytes)
                        .and_then(|mac| with_mac(&d.bytes, &mac))
                    {
                        d.bytes = echoed;
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

    /// The TSIG MAC of the latest request from a client with the ID of `reply`.
    fn request_mac_of(&self, reply: &[u8]) -> Option<Vec<u8>> {
        let want = id(reply)?;
        let wire = lock(&self.wire);
        let req = wire
            .iter()
            .rev()
            .find(|w| w.leg == Leg::FromClient && id(&w.bytes) == Some(want))?;
        tsig_mac(&req.bytes).map(|r| req.bytes[r].to_vec())
    }

    pub(super) fn sent_to_client(&self, transport: Transport, bytes: &[u8]) {
        self.log(Leg::ToClient, transport, bytes);
        lock(&self.stats).messages_to_clients += 1;
    }
}

/// What the client gets for one upstream reply.
pub(super) struct Delivery {
    pub(super) delay: Duration,
    /// Sent first, [`FORGED_LEAD`] before the reply.
    pub(super) forged: Option<Vec<u8>>,
    pub(super) bytes: Vec<u8>,
    /// 0: dropped.
    copies: usize,
    pub(super) close_mid: bool,
}

impl Delivery {
    /// Sends the delivery with `send`; false if the relay stopped or sending failed. Each
    /// message is logged and counted just before it is sent, so a client that got it always
    /// finds it counted.
    pub(super) fn run(
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

pub(super) fn seed() -> u64 {
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

/// `msg` with its TSIG MAC replaced by `mac` (MAC size and RDLENGTH adjusted).
fn with_mac(msg: &[u8], mac: &[u8]) -> Option<Vec<u8>> {
    let rr = tsig_record(msg)?;
    let old = tsig_mac(msg)?;
    let mut out = msg[..old.start - 2].to_vec();
    out.extend_from_slice(&u16::try_from(mac.len()).ok()?.to_be_bytes());
    out.extend_from_slice(mac);
    out.extend_from_slice(&msg[old.end..]);
    let rdlen_at = rr.rdata.start - 2;
    let rdlen = (rr.rdata.len() + mac.len()).checked_sub(old.len())?;
    out[rdlen_at..rdlen_at + 2].copy_from_slice(&u16::try_from(rdlen).ok()?.to_be_bytes());
    Some(out)
}
