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
use super::gss::{Established, GssError, GssSession, Verdict};
use super::transport::{self, Endpoint, Failure, Kind, Proto};
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
    /// A GSS-TSIG key's context with this server (shared by every client of the server);
    /// when set, it signs instead of `key`.
    pub gss: Option<Arc<GssSession>>,
    pub clock: Clock,
    /// Bounds the messages in flight to this server (shared by every client of the server);
    /// `None` = unbounded.
    pub inflight: Option<Arc<tokio::sync::Semaphore>>,
}

impl fmt::Debug for DnsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsClient")
            .field("endpoint", &self.endpoint)
            .field("label", &self.label)
            .field("key", &self.key.as_ref().map(|k| k.to_string()))
            .field("gss", &self.gss.as_ref().map(|g| g.label()))
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
    /// How many copies of the request were sent (UDP resends of the same bytes).
    pub sent: u32,
    /// Why each reply that came before this one was ignored (forged, altered, unsigned…).
    pub ignored: Vec<String>,
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
            gss: None,
            clock: system_clock(),
            inflight: None,
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
        if let Some(g) = &self.gss {
            return Some(g.label());
        }
        self.key.as_ref().map(|k| k.name.clone())
    }

    /// Sends `msg` (its ID is replaced by a random one), and returns the checked reply. The
    /// reply's RCODE is not interpreted here.
    ///
    /// A candidate reply must match the request (ID, QR, opcode, question) and, when the
    /// request was signed, carry a TSIG that verifies; one that does not is ignored while the
    /// try's time lasts, and reported (e.g. `Tsig { Unsigned }`) only when no good reply came.
    /// A server's TSIG verdict (BADSIG, BADKEY, BADTIME: RFC 8945 §5.3.2) ends the exchange as
    /// `Tsig { ServerError }`.
    pub async fn send(&self, msg: Message, kind: Kind) -> Result<Response, DnsError> {
        let unsigned = msg.to_vec().map_err(|e| DnsError::Encode {
            server: self.label.clone(),
            reason: format!("cannot encode the request: {e}"),
        })?;
        // hickory-proto drops the records beyond 65535 octets and sets TC: never send that.
        if unsigned.len() >= 3 && unsigned[2] & 0x02 != 0 && !msg.metadata.truncation {
            return Err(DnsError::TooLarge {
                what: format!(
                    "the message to {} does not fit in 65535 octets",
                    self.label
                ),
                hint: "this is a kmsdns bug (updates are split to fit): please report it with the plan (`kmsdns plan --json`)".into(),
            });
        }
        self.send_encoded(msg, unsigned, kind).await
    }

    /// [`DnsClient::send`] for a request already encoded: `unsigned` is the wire form of `msg`
    /// (its ID is replaced in both).
    pub async fn send_encoded(
        &self,
        mut msg: Message,
        mut unsigned: Vec<u8>,
        kind: Kind,
    ) -> Result<Response, DnsError> {
        let encode = |reason: String| DnsError::Encode {
            server: self.label.clone(),
            reason,
        };
        if unsigned.len() < 12 {
            return Err(encode("the request is shorter than a DNS header".into()));
        }
        msg.metadata.id = random_id();
        let id = msg.metadata.id;
        unsigned[..2].copy_from_slice(&id.to_be_bytes());
        let limit = if self.key.is_some() || self.gss.is_some() {
            super::update::MAX_UPDATE_OCTETS
        } else {
            u16::MAX as usize
        };
        if unsigned.len() > limit {
            return Err(DnsError::TooLarge {
                what: format!(
                    "the message to {} has {} octets, more than the {limit} that leave room for its TSIG record in 65535",
                    self.label,
                    unsigned.len()
                ),
                hint: "this is a kmsdns bug (updates are split to fit): please report it with the plan (`kmsdns plan --json`)".into(),
            });
        }
        let gss = match &self.gss {
            Some(session) => {
                let qname = msg
                    .queries
                    .first()
                    .map(|q| q.name().to_string())
                    .unwrap_or_default();
                // Boxed: negotiating sends (unsigned) messages through `send` itself.
                let established = session.established(&self.endpoint, &self.label, &qname);
                Some(Box::pin(established).await?)
            }
            None => None,
        };
        // After the negotiation, which sends messages of its own through this bound.
        let _permit = self.permit().await;
        // A GSS-TSIG context takes one message at a time (see `GssSession::turn`).
        let _turn = match &self.gss {
            Some(session) if gss.is_some() => Some(session.turn.lock().await),
            _ => None,
        };
        let (wire, request_mac) = match (&gss, &self.key) {
            (Some(est), _) => {
                let signed =
                    est.sign(&unsigned, (self.clock)())
                        .map_err(|source| DnsError::Gss {
                            server: self.label.clone(),
                            source: Box::new(source),
                        })?;
                (signed.bytes, Some(signed.mac))
            }
            (None, Some(key)) => {
                let signed = tsig::sign(&unsigned, key, (self.clock)(), tsig::DEFAULT_FUDGE)
                    .map_err(|e| encode(format!("cannot sign the request with key {key}: {e}")))?;
                (signed.bytes, Some(signed.mac))
            }
            (None, None) => (unsigned, None),
        };
        tracing::debug!(server = %self.label, bytes = wire.len(), signed = request_mac.is_some(), op = ?msg.metadata.op_code, "sending");
        let check = |bytes: &[u8]| {
            self.check_reply(bytes, id, &msg, request_mac.as_deref(), gss.as_deref())
        };
        match transport::exchange(&self.endpoint, &wire, kind, check).await {
            Ok(reply) => {
                let (message, signed) = reply.value?;
                tracing::debug!(server = %self.label, rcode = %message.metadata.response_code, proto = ?reply.proto, signed, "reply");
                if !reply.ignored.is_empty() {
                    tracing::warn!(server = %self.label, ignored = ?reply.ignored, "replies that did not check out were ignored before this one");
                }
                Ok(Response {
                    message,
                    proto: reply.proto,
                    signed,
                    sent: reply.sent,
                    ignored: reply.ignored,
                })
            }
            Err(Failure::Rejected { last, .. }) => Err(last),
            Err(Failure::Transport(e)) => Err(e.into()),
        }
    }

    /// Waits for a free slot among the messages in flight to this server (none to wait for
    /// without a bound); the slot is free again when the permit is dropped.
    pub async fn permit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        match &self.inflight {
            Some(s) => Some(
                s.clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore is never closed"),
            ),
            None => None,
        }
    }

    /// Decides about one candidate reply: `Err` ignores it (it does not answer our request or
    /// does not verify); `Ok(Err(_))` accepts a server's TSIG verdict; `Ok(Ok(_))` a good reply.
    #[allow(clippy::type_complexity)]
    fn check_reply(
        &self,
        bytes: &[u8],
        id: u16,
        request: &Message,
        request_mac: Option<&[u8]>,
        gss: Option<&Established>,
    ) -> Result<Result<(Message, bool), DnsError>, DnsError> {
        let bad = |reason: String| DnsError::BadReply {
            server: self.label.clone(),
            reason,
        };
        let parsed =
            Message::from_vec(bytes).map_err(|e| bad(format!("cannot decode the reply: {e}")))?;
        if parsed.metadata.id != id || parsed.metadata.message_type != MessageType::Response {
            return Err(bad("the reply does not answer our request".into()));
        }
        if parsed.metadata.op_code != request.metadata.op_code {
            return Err(bad(format!(
                "the reply's opcode {:?} differs from the request's {:?}",
                parsed.metadata.op_code, request.metadata.op_code
            )));
        }
        // A server may leave the question out of an error reply (RFC 2136 §3.8 keeps it for
        // UPDATE; FORMERR replies often drop it); when present it must be ours.
        if !parsed.queries.is_empty() && !same_questions(&parsed, request) {
            return Err(bad(
                "the reply's question/zone section differs from the request's".into(),
            ));
        }
        if let (Some(est), Some(mac)) = (gss, request_mac) {
            return self.check_gss_reply(est, bytes, parsed, mac);
        }
        let (Some(key), Some(mac)) = (&self.key, request_mac) else {
            return Ok(Ok((parsed, false)));
        };
        let tsig_error = |source| DnsError::Tsig {
            server: self.label.clone(),
            source,
        };
        match tsig::verify_reply(bytes, key, mac, (self.clock)()) {
            Ok(_) => Ok(Ok((parsed, true))),
            Err(e @ tsig::TsigError::ServerError { .. }) => Ok(Err(tsig_error(e))),
            // An unsigned refusal (REFUSED, NOTAUTH: what a server that cannot verify the
            // request sends) ends the exchange as an error; it asserts nothing that could be
            // trusted as data. Any other unsigned reply (NOERROR, NXDOMAIN, YXRRSET…) would
            // assert something, and is ignored like any forgery.
            Err(tsig::TsigError::Unsigned { key })
                if matches!(
                    parsed.metadata.response_code,
                    hickory_proto::op::ResponseCode::Refused
                        | hickory_proto::op::ResponseCode::NotAuth
                ) =>
            {
                Ok(Err(tsig_error(tsig::TsigError::UnsignedError {
                    key,
                    rcode: super::error::rcode_name(parsed.metadata.response_code),
                })))
            }
            Err(e) => Err(tsig_error(e)),
        }
    }
}

impl DnsClient {
    /// [`DnsClient::check_reply`] for a GSS-TSIG signed request: a verified reply (RFC or
    /// Samba digest) is good; an echoed request with an error RCODE is the server's answer,
    /// trusted for its RCODE only; a GSS-TSIG error is the server's verdict; anything else is
    /// ignored like a forgery.
    #[allow(clippy::type_complexity)]
    fn check_gss_reply(
        &self,
        est: &Established,
        bytes: &[u8],
        parsed: Message,
        request_mac: &[u8],
    ) -> Result<Result<(Message, bool), DnsError>, DnsError> {
        let gss_error = |source| DnsError::Gss {
            server: self.label.clone(),
            source: Box::new(source),
        };
        let rcode = parsed.metadata.response_code;
        match est.verify_reply(bytes, request_mac, (self.clock)()) {
            Ok(Verdict::Echoed) if rcode != hickory_proto::op::ResponseCode::NoError => {
                tracing::warn!(server = %self.label, rcode = %super::error::rcode_name(rcode), "the reply echoes our request with an error RCODE (Samba/Windows style); only its RCODE is used");
                Ok(Ok((parsed, false)))
            }
            Ok(Verdict::Echoed) => Err(gss_error(GssError::EchoedSuccess)),
            Ok(_) => Ok(Ok((parsed, true))),
            Err(e @ GssError::ServerTsig { .. }) => Ok(Err(gss_error(e))),
            Err(e) => Err(gss_error(e)),
        }
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
