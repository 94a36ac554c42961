//! Sending one DNS message and receiving its reply over UDP or TCP (RFC 1035 §4.2, RFC 7766).
//!
//! - UDP first; TCP when the message is larger than 512 octets, when the server is set to
//!   `transport = "tcp"`, or (for queries) when the UDP reply is truncated.
//! - Each try has a timeout; queries are retried a bounded number of times with backoff.
//! - An UPDATE over UDP is resent only as the very same bytes (same ID, same TSIG time), and
//!   only while no reply has arrived: a reply, even a late one for a resend, ends the exchange.
//! - Replies are matched on source address and message ID; strays are ignored.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout};

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

/// A reply as received.
#[derive(Debug)]
pub struct Reply {
    pub bytes: Vec<u8>,
    pub proto: Proto,
}

/// Transport failures; `server` is always named.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("no reply from {server} over {proto:?} after {tries} tr{} of {timeout:?} each", if *tries == 1 { "y" } else { "ies" })]
    Timeout {
        server: SocketAddr,
        proto: Proto,
        tries: u32,
        timeout: Duration,
    },
    #[error("cannot reach {server} over {proto:?}: {source}")]
    Io {
        server: SocketAddr,
        proto: Proto,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the reply from {server} to the UPDATE came back truncated over UDP; the server may have applied it: run `kmsdns plan` to see the current state, and set transport = \"tcp\" for this server"
    )]
    TruncatedUpdate { server: SocketAddr },
}

impl TransportError {
    pub fn hint(&self) -> &'static str {
        match self {
            TransportError::Timeout { .. } | TransportError::Io { .. } => {
                "check that the server address and port are right, that it is running, and that a firewall lets DNS (UDP and TCP) through"
            }
            TransportError::TruncatedUpdate { .. } => "run `kmsdns plan` before trying again",
        }
    }
}

fn id_of(msg: &[u8]) -> u16 {
    u16::from_be_bytes([msg[0], msg[1]])
}

fn truncated(msg: &[u8]) -> bool {
    msg.len() >= 4 && msg[2] & 0x02 != 0
}

/// Sends `msg` (a complete, possibly signed, wire message) and returns the reply.
pub async fn exchange(ep: &Endpoint, msg: &[u8], kind: Kind) -> Result<Reply, TransportError> {
    if ep.transport == Transport::Tcp || msg.len() > UDP_LIMIT {
        return tcp_with_retries(ep, msg, kind).await;
    }
    let reply = udp(ep, msg, kind).await?;
    if truncated(&reply) {
        if kind == Kind::Update {
            return Err(TransportError::TruncatedUpdate { server: ep.addr });
        }
        tracing::debug!(server = %ep.addr, "reply truncated over UDP, retrying over TCP");
        return tcp_with_retries(ep, msg, kind).await;
    }
    Ok(Reply {
        bytes: reply,
        proto: Proto::Udp,
    })
}

async fn udp(ep: &Endpoint, msg: &[u8], kind: Kind) -> Result<Vec<u8>, TransportError> {
    let io = |source| TransportError::Io {
        server: ep.addr,
        proto: Proto::Udp,
        source,
    };
    let local: SocketAddr = if ep.addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let sock = UdpSocket::bind(local).await.map_err(io)?;
    sock.connect(ep.addr).await.map_err(io)?;
    let id = id_of(msg);
    let tries = ep.tries.max(1);
    let mut buf = vec![0u8; 65535];
    for attempt in 1..=tries {
        // The resend of an UPDATE is the same bytes: same ID and same TSIG time.
        sock.send(msg).await.map_err(io)?;
        tracing::trace!(server = %ep.addr, attempt, ?kind, "sent over UDP");
        let deadline = Instant::now() + ep.timeout * backoff(attempt, kind);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, sock.recv(&mut buf)).await {
                Err(_) => break,
                // ICMP port unreachable surfaces here as ConnectionRefused: no server there.
                Ok(Err(e)) => return Err(io(e)),
                Ok(Ok(n)) if n >= 12 && id_of(&buf[..n]) == id && buf[2] & 0x80 != 0 => {
                    return Ok(buf[..n].to_vec());
                }
                Ok(Ok(n)) => {
                    tracing::debug!(server = %ep.addr, len = n, "ignoring a stray datagram");
                }
            }
        }
    }
    Err(TransportError::Timeout {
        server: ep.addr,
        proto: Proto::Udp,
        tries,
        timeout: ep.timeout,
    })
}

/// Reads wait longer on each retry (1×, 2×, 4×…); an UPDATE resend keeps the same timeout so
/// the whole exchange stays well inside the TSIG fudge.
fn backoff(attempt: u32, kind: Kind) -> u32 {
    match kind {
        Kind::Query => 1 << (attempt - 1).min(3),
        Kind::Update => 1,
    }
}

async fn tcp_with_retries(ep: &Endpoint, msg: &[u8], kind: Kind) -> Result<Reply, TransportError> {
    // Over TCP, a lost reply after the update was written cannot be told apart from a lost
    // request, so an UPDATE gets one try only.
    let tries = if kind == Kind::Update {
        1
    } else {
        ep.tries.max(1)
    };
    let mut last = None;
    for attempt in 1..=tries {
        match tcp(ep, msg, ep.timeout * backoff(attempt, kind)).await {
            Ok(bytes) => {
                return Ok(Reply {
                    bytes,
                    proto: Proto::Tcp,
                });
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last.expect("at least one try") {
        TransportError::Timeout { .. } => TransportError::Timeout {
            server: ep.addr,
            proto: Proto::Tcp,
            tries,
            timeout: ep.timeout,
        },
        other => other,
    })
}

async fn tcp(ep: &Endpoint, msg: &[u8], limit: Duration) -> Result<Vec<u8>, TransportError> {
    let io = |source| TransportError::Io {
        server: ep.addr,
        proto: Proto::Tcp,
        source,
    };
    let timed_out = || TransportError::Timeout {
        server: ep.addr,
        proto: Proto::Tcp,
        tries: 1,
        timeout: limit,
    };
    let work = async {
        let mut stream = TcpStream::connect(ep.addr).await.map_err(io)?;
        let len = u16::try_from(msg.len()).map_err(|_| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "message longer than 65535 octets",
            ))
        })?;
        let mut framed = Vec::with_capacity(msg.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(msg);
        stream.write_all(&framed).await.map_err(io)?;
        let id = id_of(msg);
        loop {
            let n = stream.read_u16().await.map_err(io)? as usize;
            let mut reply = vec![0u8; n];
            stream.read_exact(&mut reply).await.map_err(io)?;
            if n >= 12 && id_of(&reply) == id {
                return Ok(reply);
            }
            tracing::debug!(server = %ep.addr, "ignoring a TCP reply with another ID");
        }
    };
    timeout(limit, work).await.map_err(|_| timed_out())?
}
