//! Building and sending RFC 2136 UPDATE messages: one per zone, holding every change for the
//! zone's `_vlmcs._tcp` RRsets.
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

fn srv_record(owner: &Fqdn, r: &SrvRecord, ttl: u32, class: DNSClass) -> Record {
    let mut rec = Record::from_rdata(
        name_of(owner),
        ttl,
        RData::SRV(SRV::new(r.priority, r.weight, r.port, name_of(&r.target))),
    );
    rec.dns_class = class;
    rec
}

/// Builds the UPDATE for `zone` from the non-empty changes. Returns `None` when nothing is to
/// be changed (no message must be sent then).
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
    let uncertain = |what: String, tampering: bool, error: DnsError| {
        Ok(UpdateReply::Uncertain(Uncertain {
            what,
            tampering,
            error,
        }))
    };
    let resp = match client.send(msg, Kind::Update).await {
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
    let err = super::gss::explain_refusal(client, zone, err);
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
mod tests {
    use super::*;

    fn rec(t: &str, ttl: u32) -> SrvRecord {
        SrvRecord::test(t, 0, ttl)
    }

    #[test]
    fn prerequisites_and_order() {
        let zone = Fqdn::parse_domain("example.com").unwrap();
        let a = Fqdn::parse_domain("a.example.com").unwrap().kms_owner();
        let b = Fqdn::parse_domain("b.example.com").unwrap().kms_owner();
        let changes = vec![
            RrsetChange {
                owner: a.clone(),
                seen: vec![],
                delete: vec![],
                add: vec![rec("kms1.example.com", 300)],
            },
            RrsetChange {
                owner: b.clone(),
                seen: vec![rec("old.example.com", 60)],
                delete: vec![rec("old.example.com", 60)],
                add: vec![rec("kms1.example.com", 300)],
            },
        ];
        let msg = build_update(&zone, &changes).unwrap();
        assert_eq!(msg.queries.len(), 1);
        assert_eq!(msg.answers.len(), 2);
        assert_eq!(msg.answers[0].dns_class, DNSClass::NONE);
        assert_eq!(msg.answers[1].dns_class, DNSClass::IN);
        assert_eq!(msg.answers[1].ttl, 0);
        assert_eq!(msg.authorities.len(), 3);
        assert_eq!(
            msg.authorities[0].dns_class,
            DNSClass::NONE,
            "deletes come first"
        );
        assert_eq!(msg.authorities[1].dns_class, DNSClass::IN);
        // It encodes.
        let bytes = msg.to_vec().unwrap();
        let back = Message::from_vec(&bytes).unwrap();
        assert_eq!(back.authorities.len(), 3);
    }

    #[test]
    fn nothing_to_send() {
        let zone = Fqdn::parse_domain("example.com").unwrap();
        let owner = zone.kms_owner();
        let c = RrsetChange {
            owner,
            seen: vec![rec("kms1.example.com", 1)],
            delete: vec![],
            add: vec![],
        };
        assert!(build_update(&zone, &[c]).is_none());
    }
}
