//! Sending one DNS message and receiving its reply over UDP or TCP (RFC 1035 §4.2, RFC 7766).
//!
//! - UDP first; TCP when the message is larger than 512 octets, when the server is set to
//!   `transport = "tcp"`, or (for queries) when the UDP reply is truncated.
//! - Each try waits `timeout` for a reply; `tries` bounds the tries (no hidden backoff), so an
//!   exchange costs at most `tries × timeout`.
//! - Reply matching: a datagram or TCP message is a candidate when its ID matches and QR is
//!   set; the caller's `check` then decides (question, opcode, TSIG). A candidate it rejects
//!   is logged at debug and ignored, and listening goes on until the try's time runs out: a
//!   forged reply cannot end the exchange before the genuine one arrives.
//! - An UPDATE over UDP is resent only as the very same bytes (same ID, same TSIG time); the
//!   reply says how many copies were sent, since a resend of an UPDATE that was applied
//!   fails its prerequisites. Over TCP an UPDATE gets one try. A truncated UDP reply to an
//!   UPDATE is not retried over TCP: its outcome is for the caller to settle.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use crate::model::Transport;

/// Largest message sent over UDP without EDNS (RFC 1035 §4.2.1).
pub const UDP_LIMIT: usize = 512;

/// What is being sent: reads may be repeated freely, updates may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Query,
    Update,
}

/// Where and how to send.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub transport: Transport,
    /// Per try.
    pub timeout: Duration,
    /// Total tries (at least 1).
    pub tries: u32,
}

impl Endpoint {
    /// An endpoint with 3 tries (the default `retries = 2`).
    pub fn new(addr: SocketAddr, transport: Transport, timeout: Duration) -> Self {
        Endpoint {
            addr,
            transport,
            timeout,
            tries: 3,
        }
    }
}

/// Which protocol carried the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Udp,
    Tcp,
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Proto::Udp => "UDP",
            Proto::Tcp => "TCP",
        })
    }
}

/// An accepted reply: what `check` made of it, the protocol, and how many copies of the
/// request were sent.
#[derive(Debug)]
pub struct Reply<T> {
    pub value: T,
    pub proto: Proto,
    pub sent: u32,
    /// Why each candidate reply that came before it was ignored (e.g. a forged unsigned one).
    pub ignored: Vec<String>,
}

/// Transport failures; `server` is always named.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("no reply from {server} over {proto} after {tries} tr{} of {timeout:?} each", if *tries == 1 { "y" } else { "ies" })]
    Timeout {
        server: SocketAddr,
        proto: Proto,
        tries: u32,
        timeout: Duration,
    },
    #[error("cannot reach {server} over {proto}: {source}")]
    Io {
        server: SocketAddr,
        proto: Proto,
        /// The request may have reached the server (the connection broke after it was sent).
        sent: bool,
        #[source]
        source: std::io::Error,
    },
    #[error("the reply from {server} to the UPDATE came back truncated over UDP")]
    TruncatedUpdate { server: SocketAddr },
}

impl TransportError {
    pub fn hint(&self) -> &'static str {
        match self {
            TransportError::Timeout { .. } | TransportError::Io { .. } => {
                "check that the server address and port are right, that it is running, and that a firewall lets DNS (UDP and TCP) through"
            }
            TransportError::TruncatedUpdate { .. } => {
                "set transport = \"tcp\" for this server so UPDATE replies are never truncated"
            }
        }
    }

    /// True when the request may have reached the server: its effect is unknown.
    pub fn may_have_been_processed(&self) -> bool {
        match self {
            TransportError::Timeout { .. } | TransportError::TruncatedUpdate { .. } => true,
            TransportError::Io { sent, .. } => *sent,
        }
    }
}

/// The exchange failed: the transport did, or every candidate reply was rejected by `check`
/// (`last` is the last rejection).
#[derive(Debug)]
pub enum Failure<R> {
    Transport(TransportError),
    Rejected { last: R, sent: u32 },
}

impl<R> From<TransportError> for Failure<R> {
    fn from(e: TransportError) -> Self {
        Failure::Transport(e)
    }
}

fn id_of(msg: &[u8]) -> u16 {
    u16::from_be_bytes([msg[0], msg[1]])
}

fn is_reply_to(candidate: &[u8], id: u16) -> bool {
    candidate.len() >= 12 && id_of(candidate) == id && candidate[2] & 0x80 != 0
}

fn truncated(msg: &[u8]) -> bool {
    msg.len() >= 4 && msg[2] & 0x02 != 0
}

/// Sends `msg` (a complete, possibly signed, wire message) and returns the first candidate
/// reply that `check` accepts.
pub async fn exchange<T, R: std::fmt::Display>(
    ep: &Endpoint,
    msg: &[u8],
    kind: Kind,
    mut check: impl FnMut(&[u8]) -> Result<T, R>,
) -> Result<Reply<T>, Failure<R>> {
    let mut ignored = Vec::new();
    let mut check = |bytes: &[u8]| {
        let verdict = check(bytes);
        if let Err(why) = &verdict {
            ignored.push(why.to_string());
        }
        verdict
    };
    let result = if ep.transport == Transport::Tcp || msg.len() > UDP_LIMIT {
        tcp_with_retries(ep, msg, kind, &mut check).await
    } else {
        match udp(ep, msg, kind, &mut check).await? {
            Udp::Accepted(reply) => Ok(reply),
            Udp::Rejected { last, sent } => Err(Failure::Rejected { last, sent }),
            Udp::Truncated if kind == Kind::Update => {
                Err(Failure::Transport(TransportError::TruncatedUpdate {
                    server: ep.addr,
                }))
            }
            Udp::Truncated => {
                tracing::debug!(server = %ep.addr, "reply truncated over UDP, retrying over TCP");
                tcp_with_retries(ep, msg, kind, &mut check).await
            }
        }
    };
    result.map(|mut reply| {
        reply.ignored = ignored;
        reply
    })
}

enum Udp<T, R> {
    Accepted(Reply<T>),
    Rejected { last: R, sent: u32 },
    Truncated,
}

async fn udp<T, R: std::fmt::Display>(
    ep: &Endpoint,
    msg: &[u8],
    kind: Kind,
    check: &mut impl FnMut(&[u8]) -> Result<T, R>,
) -> Result<Udp<T, R>, TransportError> {
    let io = |sent: bool| {
        move |source| TransportError::Io {
            server: ep.addr,
            proto: Proto::Udp,
            sent,
            source,
        }
    };
    let local: SocketAddr = if ep.addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let sock = UdpSocket::bind(local).await.map_err(io(false))?;
    sock.connect(ep.addr).await.map_err(io(false))?;
    let id = id_of(msg);
    let tries = ep.tries.max(1);
    // Room for the largest datagram, neither zeroed nor touched beyond what a reply fills
    // (a zeroed 64 KiB per exchange was a tenth of a no-op plan's CPU).
    let mut buf: Vec<u8> = Vec::with_capacity(65535);
    let mut rejected = None;
    for attempt in 1..=tries {
        // The resend of an UPDATE is the same bytes: same ID and same TSIG time.
        sock.send(msg).await.map_err(io(attempt > 1))?;
        tracing::trace!(server = %ep.addr, attempt, ?kind, "sent over UDP");
        let deadline = Instant::now() + ep.timeout;
        loop {
            buf.clear();
            let n = match timeout_at(deadline, sock.recv_buf(&mut buf)).await {
                Err(_) => break,
                // ICMP port unreachable surfaces here as ConnectionRefused: no server there.
                Ok(Err(e)) => return Err(io(attempt > 1)(e)),
                Ok(Ok(n)) => n,
            };
            let candidate = &buf[..n];
            if !is_reply_to(candidate, id) {
                tracing::debug!(server = %ep.addr, len = n, "ignoring a stray datagram");
                continue;
            }
            if truncated(candidate) {
                return Ok(Udp::Truncated);
            }
            match check(candidate) {
                Ok(value) => {
                    return Ok(Udp::Accepted(Reply {
                        value,
                        proto: Proto::Udp,
                        sent: attempt,
                        ignored: Vec::new(),
                    }));
                }
                Err(why) => {
                    tracing::debug!(server = %ep.addr, %why, "ignoring a reply that does not check out");
                    rejected = Some(why);
                }
            }
        }
    }
    Ok(match rejected {
        Some(last) => Udp::Rejected { last, sent: tries },
        None => {
            return Err(TransportError::Timeout {
                server: ep.addr,
                proto: Proto::Udp,
                tries,
                timeout: ep.timeout,
            });
        }
    })
}

async fn tcp_with_retries<T, R: std::fmt::Display>(
    ep: &Endpoint,
    msg: &[u8],
    kind: Kind,
    check: &mut impl FnMut(&[u8]) -> Result<T, R>,
) -> Result<Reply<T>, Failure<R>> {
    // Over TCP, a lost reply after the update was written cannot be told apart from a lost
    // request, so an UPDATE gets one try only.
    let tries = if kind == Kind::Update {
        1
    } else {
        ep.tries.max(1)
    };
    let mut rejected = None;
    let mut last_err = None;
    for attempt in 1..=tries {
        match tcp(ep, msg, check).await {
            Ok(Tcp::Accepted(value)) => {
                return Ok(Reply {
                    value,
                    proto: Proto::Tcp,
                    sent: attempt,
                    ignored: Vec::new(),
                });
            }
            Ok(Tcp::Rejected(why)) => rejected = Some(why),
            Err(e) => last_err = Some(e),
        }
    }
    if let Some(last) = rejected {
        return Err(Failure::Rejected { last, sent: tries });
    }
    Err(Failure::Transport(
        match last_err.expect("at least one try") {
            TransportError::Timeout { .. } => TransportError::Timeout {
                server: ep.addr,
                proto: Proto::Tcp,
                tries,
                timeout: ep.timeout,
            },
            other => other,
        },
    ))
}

enum Tcp<T, R> {
    Accepted(T),
    Rejected(R),
}

async fn tcp<T, R: std::fmt::Display>(
    ep: &Endpoint,
    msg: &[u8],
    check: &mut impl FnMut(&[u8]) -> Result<T, R>,
) -> Result<Tcp<T, R>, TransportError> {
    let io = |sent: bool| {
        move |source| TransportError::Io {
            server: ep.addr,
            proto: Proto::Tcp,
            sent,
            source,
        }
    };
    let deadline = Instant::now() + ep.timeout;
    let timed_out = || TransportError::Timeout {
        server: ep.addr,
        proto: Proto::Tcp,
        tries: 1,
        timeout: ep.timeout,
    };
    let mut stream = timeout_at(deadline, TcpStream::connect(ep.addr))
        .await
        .map_err(|_| timed_out())?
        .map_err(io(false))?;
    let len = u16::try_from(msg.len()).map_err(|_| {
        io(false)(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "message longer than 65535 octets",
        ))
    })?;
    let mut framed = Vec::with_capacity(msg.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(msg);
    timeout_at(deadline, stream.write_all(&framed))
        .await
        .map_err(|_| timed_out())?
        .map_err(io(true))?;
    let id = id_of(msg);
    let mut rejected = None;
    loop {
        let read = async {
            let n = stream.read_u16().await? as usize;
            let mut reply = vec![0u8; n];
            stream.read_exact(&mut reply).await?;
            Ok::<_, std::io::Error>(reply)
        };
        let reply = match timeout_at(deadline, read).await {
            Err(_) => break,
            Ok(Err(e)) => {
                if rejected.is_some() {
                    break;
                }
                return Err(io(true)(e));
            }
            Ok(Ok(reply)) => reply,
        };
        if !is_reply_to(&reply, id) {
            tracing::debug!(server = %ep.addr, "ignoring a TCP message that is not our reply");
            continue;
        }
        match check(&reply) {
            Ok(value) => return Ok(Tcp::Accepted(value)),
            Err(why) => {
                tracing::debug!(server = %ep.addr, %why, "ignoring a reply that does not check out");
                rejected = Some(why);
            }
        }
    }
    match rejected {
        Some(why) => Ok(Tcp::Rejected(why)),
        None => Err(timed_out()),
    }
}
