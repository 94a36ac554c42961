//! One request/reply exchange with one server: build, sign (RFC 8945), send, check, verify.
//!
//! The reply must match the request (ID, QR, opcode, question/zone section). When the request
//! was signed, the reply must carry a valid TSIG: an unsigned or wrongly signed reply is an
//! error, never a success.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::op::{Message, MessageType};

use super::error::DnsError;
use super::transport::{self, Endpoint, Kind, Proto};
use super::tsig::{self, TsigKey};

/// The time source for TSIG (seconds since the epoch); tests inject a skewed clock.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(tsig::unix_now)
}

/// A server to talk to, with the key that signs messages to it.
#[derive(Clone)]
pub struct DnsClient {
    pub endpoint: Endpoint,
    /// How the user knows the server, e.g. `primary (127.0.0.1:53)`.
    pub label: String,
    pub key: Option<Arc<TsigKey>>,
    pub clock: Clock,
}

impl fmt::Debug for DnsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsClient")
            .field("endpoint", &self.endpoint)
            .field("label", &self.label)
            .field("key", &self.key.as_ref().map(|k| k.to_string()))
            .finish()
    }
}

/// A checked reply.
#[derive(Debug)]
pub struct Response {
    pub message: Message,
    pub proto: Proto,
    /// The reply carried a TSIG that verified.
    pub signed: bool,
}

/// A random message ID (RFC 5452 §9.2).
pub fn random_id() -> u16 {
    let mut b = [0u8; 2];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .expect("the system random generator works");
    u16::from_be_bytes(b)
}

impl DnsClient {
    pub fn new(endpoint: Endpoint, label: impl Into<String>, key: Option<Arc<TsigKey>>) -> Self {
        DnsClient {
            endpoint,
            label: label.into(),
            key,
            clock: system_clock(),
        }
    }

    /// An unsigned client for `addr` over UDP (TCP on truncation) with `tries` tries of
    /// `timeout` each: for lookups that need no key.
    pub fn unsigned(
        addr: SocketAddr,
        label: impl Into<String>,
        timeout: std::time::Duration,
        tries: u32,
    ) -> Self {
        let mut endpoint = Endpoint::new(addr, crate::model::Transport::Udp, timeout);
        endpoint.tries = tries;
        DnsClient::new(endpoint, label, None)
    }

    pub fn addr(&self) -> SocketAddr {
        self.endpoint.addr
    }

    pub fn key_name(&self) -> Option<String> {
        self.key.as_ref().map(|k| k.name.clone())
    }

    /// Sends `msg` (its ID is replaced by a random one), and returns the checked reply. The
    /// reply's RCODE is not interpreted here.
    pub async fn send(&self, mut msg: Message, kind: Kind) -> Result<Response, DnsError> {
        msg.metadata.id = random_id();
        let id = msg.metadata.id;
        let unsigned = msg.to_vec().map_err(|e| DnsError::BadReply {
            server: self.label.clone(),
            reason: format!("cannot encode the request: {e}"),
        })?;
        let (wire, request_mac) = match &self.key {
            Some(key) => {
                let signed = tsig::sign(&unsigned, key, (self.clock)(), tsig::DEFAULT_FUDGE)
                    .map_err(|source| DnsError::Tsig {
                        server: self.label.clone(),
                        source,
                    })?;
                (signed.bytes, Some(signed.mac))
            }
            None => (unsigned, None),
        };
        tracing::debug!(server = %self.label, bytes = wire.len(), signed = request_mac.is_some(), op = ?msg.metadata.op_code, "sending");
        let reply = transport::exchange(&self.endpoint, &wire, kind).await?;
        let bad = |reason: String| DnsError::BadReply {
            server: self.label.clone(),
            reason,
        };
        let parsed = Message::from_vec(&reply.bytes)
            .map_err(|e| bad(format!("cannot decode the reply: {e}")))?;
        if parsed.metadata.id != id || parsed.metadata.message_type != MessageType::Response {
            return Err(bad("the reply does not answer our request".into()));
        }
        if parsed.metadata.op_code != msg.metadata.op_code {
            return Err(bad(format!(
                "the reply's opcode {:?} differs from the request's {:?}",
                parsed.metadata.op_code, msg.metadata.op_code
            )));
        }
        // A server may leave the question out of an error reply (RFC 2136 §3.8 keeps it for
        // UPDATE; FORMERR replies often drop it); when present it must be ours.
        if !parsed.queries.is_empty() && !same_questions(&parsed, &msg) {
            return Err(bad(
                "the reply's question/zone section differs from the request's".into(),
            ));
        }
        let mut signed = false;
        if let (Some(key), Some(mac)) = (&self.key, &request_mac) {
            tsig::verify_reply(&reply.bytes, key, mac, (self.clock)()).map_err(|source| {
                DnsError::Tsig {
                    server: self.label.clone(),
                    source,
                }
            })?;
            signed = true;
        }
        tracing::debug!(server = %self.label, rcode = %parsed.metadata.response_code, proto = ?reply.proto, signed, "reply");
        Ok(Response {
            message: parsed,
            proto: reply.proto,
            signed,
        })
    }
}

fn same_questions(a: &Message, b: &Message) -> bool {
    a.queries.len() == b.queries.len()
        && a.queries.iter().zip(&b.queries).all(|(x, y)| {
            x.name().to_lowercase() == y.name().to_lowercase()
                && x.query_type() == y.query_type()
                && x.query_class() == y.query_class()
        })
}
