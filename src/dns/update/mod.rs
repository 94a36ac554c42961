//! Building and sending RFC 2136 UPDATE messages for a zone's `_vlmcs._tcp` RRsets: as few
//! messages as fit in 65535 octets with their TSIG record ([`build_updates`]), each RRset whole
//! in one message with its prerequisite, so that each RRset changes atomically (§3.2: a message's
//! prerequisites are checked before any of its updates, and all of it is applied or none).
//!
//! - Zone section (§2.3): `zone IN SOA`.
//! - Prerequisites (§2.4) from the state just read, per RRset: "RRset exists (value
//!   dependent)" (§2.4.2) with exactly the records seen, or "RRset does not exist" (§2.4.3)
//!   when none were seen. A change by anyone since the read makes the server answer
//!   NXRRSET/YXRRSET and write nothing (§3.2).
//! - Update section (§2.5): deletes of specific RRs (§2.5.4, class NONE, TTL 0), then adds
//!   (§2.5.1). A TTL change is the delete of the old RR and the add of the new one.

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::SRV;
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};
use serde::Serialize;

use super::client::DnsClient;
use super::error::{Context, DnsError, Operation, rcode_error};
use super::query::name_of;
use super::transport::{Kind, Proto, TransportError};
use crate::model::{Fqdn, RrsetChange, SrvRecord};

mod wire;

fn srv_record(owner: &Fqdn, r: &SrvRecord, ttl: u32, class: DNSClass) -> Record {
    let mut rec = Record::from_rdata(
        name_of(owner),
        ttl,
        RData::SRV(SRV::new(r.priority, r.weight, r.port, name_of(&r.target))),
    );
    rec.dns_class = class;
    rec
}

/// Room every UPDATE leaves for the TSIG record that signing appends (RFC 8945 §4.2), so a
/// message built to fit still fits once signed, with the largest record any key makes: the key
/// name as owner (uncompressed, at most 255 octets), type, class, TTL and RDLENGTH (10), the
/// algorithm name (32: `gss.microsoft.com.` is 19, `hmac-sha512.` 13), time signed and fudge
/// (8), MAC size and MAC ([`MAX_TSIG_MAC`]), original ID, error and other length (6), other
/// data (6: a server's clock in BADTIME). 447 octets.
pub const TSIG_RESERVE: usize = 255 + 10 + 32 + 8 + 2 + MAX_TSIG_MAC + 6 + 6;

/// The largest MAC a key of ours makes, with room to spare: hmac-sha512 is 64 octets, a
/// GSS-TSIG Kerberos MIC (RFC 3645; AES with a 12-octet checksum plus its 16-octet token header
/// and sequence numbers) stays under about 100.
pub const MAX_TSIG_MAC: usize = 128;

/// The most octets an UPDATE may have before it is signed: 65535 (a DNS message over TCP,
/// RFC 1035 §4.2.2) less [`TSIG_RESERVE`].
pub const MAX_UPDATE_OCTETS: usize = u16::MAX as usize - TSIG_RESERVE;

/// One UPDATE of a zone's changes and which of them it carries.
#[derive(Clone, Debug)]
pub struct UpdateBatch {
    /// The message decoded (for matching the reply).
    pub message: Message,
    /// The message as sent, unsigned (its ID is set when it is sent).
    pub wire: Vec<u8>,
    /// The changes it carries: indices into the slice given to [`build_updates`].
    pub rrsets: std::ops::Range<usize>,
    /// Its encoded size, unsigned.
    pub octets: usize,
}

/// Splits the changes of `zone` into as few UPDATEs as fit in [`MAX_UPDATE_OCTETS`] each, in
/// order: every RRset's prerequisite, deletes and adds go whole into one message, and each
/// message takes the longest run of RRsets that fits. Owner names are compressed (the `wire` module);
/// SRV targets are not (RFC 2782, RFC 3597 §4). docs/design.md has the numbers. `Err` names an
/// RRset that does not fit in a message by itself.
pub fn build_updates(zone: &Fqdn, changes: &[RrsetChange]) -> Result<Vec<UpdateBatch>, DnsError> {
    build_updates_within(zone, changes, MAX_UPDATE_OCTETS)
}

/// [`build_updates`] with another size limit (tests use small ones).
pub fn build_updates_within(
    zone: &Fqdn,
    changes: &[RrsetChange],
    limit: usize,
) -> Result<Vec<UpdateBatch>, DnsError> {
    let mut out = Vec::new();
    let mut packer = wire::Packer::new(zone);
    let mut start = 0;
    for (i, c) in changes.iter().enumerate() {
        if c.is_empty() {
            continue;
        }
        let mark = packer.mark();
        packer.push(c);
        if packer.len() <= limit {
            continue;
        }
        packer.rollback(mark);
        if packer.rrsets() == 0 {
            return Err(too_large(zone, c, limit));
        }
        out.push(batch(&packer, start..i)?);
        packer = wire::Packer::new(zone);
        start = i;
        packer.push(c);
        if packer.len() > limit {
            return Err(too_large(zone, c, limit));
        }
    }
    if packer.rrsets() > 0 {
        out.push(batch(&packer, start..changes.len())?);
    }
    Ok(out)
}

fn batch(
    packer: &wire::Packer<'_>,
    rrsets: std::ops::Range<usize>,
) -> Result<UpdateBatch, DnsError> {
    let wire = packer.finish();
    let message = Message::from_vec(&wire).map_err(|e| DnsError::Encode {
        server: "(none yet)".into(),
        reason: format!("the UPDATE built does not decode: {e}; this is a kmsdns bug"),
    })?;
    Ok(UpdateBatch {
        message,
        octets: wire.len(),
        wire,
        rrsets,
    })
}

fn too_large(zone: &Fqdn, c: &RrsetChange, limit: usize) -> DnsError {
    let records = c.seen.len() + c.delete.len() + c.add.len();
    DnsError::TooLarge {
        what: format!(
            "the change to {} in zone {zone} ({records} records with its prerequisite) does not fit in one UPDATE of {limit} octets",
            c.owner
        ),
        hint: "an RRset changes atomically, in one message, so it cannot be split: give this domain fewer hosts (a KMS RRset needs a few), or change it in steps".into(),
    }
}

/// Builds one UPDATE for `zone` from the non-empty changes. Returns `None` when nothing is to
/// be changed (no message must be sent then). It may be too large to send: [`build_updates`]
/// splits.
pub fn build_update(zone: &Fqdn, changes: &[RrsetChange]) -> Option<Message> {
    let changes: Vec<&RrsetChange> = changes.iter().filter(|c| !c.is_empty()).collect();
    if changes.is_empty() {
        return None;
    }
    let mut msg = Message::new(0, MessageType::Query, OpCode::Update);
    msg.metadata.recursion_desired = false;
    let mut zq = Query::query(name_of(zone), RecordType::SOA);
    zq.set_query_class(DNSClass::IN);
    msg.add_query(zq);
    for c in &changes {
        if c.seen.is_empty() {
            // §2.4.3 RRset does not exist: class NONE, type SRV, TTL 0, no RDATA.
            let mut rec = Record::update0(name_of(&c.owner), 0, RecordType::SRV);
            rec.dns_class = DNSClass::NONE;
            msg.add_answer(rec);
        } else {
            // §2.4.2 RRset exists (value dependent): every record seen, class IN, TTL 0.
            for r in &c.seen {
                msg.add_answer(srv_record(&c.owner, r, 0, DNSClass::IN));
            }
        }
    }
    for c in &changes {
        for r in &c.delete {
            msg.add_authority(srv_record(&c.owner, r, 0, DNSClass::NONE));
        }
    }
    for c in &changes {
        for r in &c.add {
            msg.add_authority(srv_record(&c.owner, r, r.ttl, DNSClass::IN));
        }
    }
    Some(msg)
}

/// What the server said to one UPDATE, as far as it can be trusted.
#[derive(Clone, Debug, Serialize)]
pub struct UpdateReceipt {
    pub proto: Proto,
    pub signed: bool,
    /// Why each reply before the deciding one was ignored: a sign of tampering on the path.
    pub ignored: Vec<String>,
}

/// The outcome of sending one UPDATE. Only a reply that checks out (matching, and verified
/// when the request was signed) decides; anything else leaves the outcome uncertain, to be
/// settled by reading the records (RFC 8945 §5.3: an unverified reply is not to be accepted).
#[derive(Debug)]
pub enum UpdateReply {
    /// NOERROR in a reply that checks out.
    Applied(UpdateReceipt),
    /// An error RCODE in a reply that checks out: the server wrote nothing (RFC 2136 §3).
    NotApplied(DnsError),
    /// No reply that can be trusted: the update may or may not have gone in.
    Uncertain(Uncertain),
}

/// Why an UPDATE's outcome is unknown.
#[derive(Debug)]
pub struct Uncertain {
    /// What happened to the reply, in words for the report.
    pub what: String,
    /// The reply may have been forged or altered on the path (it failed verification).
    pub tampering: bool,
    pub error: DnsError,
}

/// Sends the UPDATE for `zone` and classifies the reply. `Err` means nothing can have
/// reached the server (the message could not be built or signed, or no connection).
pub async fn send_update(
    client: &DnsClient,
    zone: &Fqdn,
    msg: Message,
) -> Result<UpdateReply, DnsError> {
    let wire = msg.to_vec().map_err(|e| DnsError::Encode {
        server: client.label.clone(),
        reason: format!("cannot encode the request: {e}"),
    })?;
    send_encoded(client, zone, msg, wire).await
}

/// [`send_update`] for one message of [`build_updates`], sent as built.
pub async fn send_batch(
    client: &DnsClient,
    zone: &Fqdn,
    batch: &UpdateBatch,
) -> Result<UpdateReply, DnsError> {
    send_encoded(client, zone, batch.message.clone(), batch.wire.clone()).await
}

async fn send_encoded(
    client: &DnsClient,
    zone: &Fqdn,
    msg: Message,
    wire: Vec<u8>,
) -> Result<UpdateReply, DnsError> {
    let mut nodes: Vec<String> = Vec::new();
    for r in &msg.authorities {
        let name = r.name.to_ascii();
        if !nodes.contains(&name) {
            nodes.push(name);
        }
    }
    let uncertain = |what: String, tampering: bool, error: DnsError| {
        Ok(UpdateReply::Uncertain(Uncertain {
            what,
            tampering,
            error,
        }))
    };
    let resp = match client.send_encoded(msg, wire, Kind::Update).await {
        Ok(r) => r,
        Err(e) if e.nothing_sent() => return Err(e),
        Err(DnsError::Transport(t)) if !t.may_have_been_processed() => {
            return Err(DnsError::Transport(t));
        }
        Err(DnsError::Transport(t)) => {
            let what = match &t {
                TransportError::Timeout { .. } => format!("the reply was lost ({t})"),
                TransportError::TruncatedUpdate { .. } => {
                    "the reply came back truncated over UDP".to_string()
                }
                TransportError::Io { .. } => format!("the connection broke after sending ({t})"),
            };
            return uncertain(what, false, DnsError::Transport(t));
        }
        Err(e @ DnsError::Tsig { .. }) if is_server_verdict(&e) => {
            return uncertain(
                format!("the reply carried a TSIG error that cannot be verified ({e})"),
                false,
                e,
            );
        }
        Err(e) => {
            return uncertain(
                format!(
                    "the reply could not be verified, which may mean tampering on the path ({e})"
                ),
                true,
                e,
            );
        }
    };
    let rc = resp.message.metadata.response_code;
    if rc == ResponseCode::NoError {
        return Ok(UpdateReply::Applied(UpdateReceipt {
            proto: resp.proto,
            signed: resp.signed,
            ignored: resp.ignored,
        }));
    }
    let err = rcode_error(
        rc,
        &Context {
            server: client.label.clone(),
            zone: Some(zone.clone()),
            name: None,
            key: client.key_name(),
            op: Operation::Update,
        },
    );
    let err = super::gss::explain_refusal(client, zone, &nodes, err);
    if resp.sent > 1 && err.is_stale_state() {
        // Our own first copy may have gone in and made the resend's prerequisites fail.
        return uncertain(
            format!(
                "the prerequisites failed ({}) on a resend of the same message, after {} copies: the first copy may have been applied{}",
                super::error::rcode_name(rc),
                resp.sent,
                ignored_note(&resp.ignored)
            ),
            false,
            err,
        );
    }
    Ok(UpdateReply::NotApplied(err))
}

/// ` (a reply that did not check out was ignored before: …)`, for reports.
pub fn ignored_note(ignored: &[String]) -> String {
    match ignored {
        [] => String::new(),
        [one] => format!(" (a reply that did not check out was ignored before: {one})"),
        [first, ..] => format!(
            " ({} replies that did not check out were ignored before, the first: {first})",
            ignored.len()
        ),
    }
}

fn is_server_verdict(e: &DnsError) -> bool {
    use super::tsig::TsigError;
    matches!(
        e,
        DnsError::Tsig {
            source: TsigError::ServerError { .. } | TsigError::UnsignedError { .. },
            ..
        }
    )
}

#[cfg(test)]
mod tests;
