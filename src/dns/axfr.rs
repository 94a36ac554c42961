//! Zone transfer (AXFR, RFC 5936) over TCP: for `kmsdns import --zone`, which
//! `_vlmcs._tcp.<domain>` owners hold SRV records in a zone; for `plan`, every SRV RRset of a
//! zone with many managed domains in one signed stream instead of a query per owner. With a key the request is signed
//! and every signed message of the reply stream is verified (RFC 8945 §5.3.1: the first
//! against the request MAC, each later one chained to the one before; at most 99 unsigned
//! messages in a row, and the stream must end on a signed one).
//!
//! A client with a GSS-TSIG key never transfers: this module signs with HMAC keys only, and an
//! unsigned AXFR must not stand in for a signed read ([`DnsError::Unsupported`], nothing sent).
//!
//! Each message must arrive within the client's per-try timeout; a transfer is tried once (a
//! server that refuses says so at once).

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use std::collections::{HashMap, HashSet};

use hickory_proto::rr::{RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::client::{DnsClient, random_id};
use super::error::DnsError;
use super::query::{fqdn_of, name_of};
use super::transport::{Proto, TransportError};
use super::tsig;
use crate::model::{Fqdn, KMS_SERVICE, SrvRecord};

/// Most unsigned messages allowed in a row inside a signed transfer (RFC 8945 §5.3.1).
const MAX_UNSIGNED_RUN: usize = 99;

/// The `_vlmcs._tcp.<domain>` owners with SRV records in `zone`, sorted, from a full zone
/// transfer from `client`'s server.
pub async fn kms_owners(client: &DnsClient, zone: &Fqdn) -> Result<Vec<Fqdn>, DnsError> {
    let mut owners: Vec<Fqdn> = transfer(client, zone)
        .await?
        .into_iter()
        .map(|r| (fqdn_of(&r.name), r.record_type()))
        .filter(|(owner, rtype)| {
            *rtype == RecordType::SRV
                && owner
                    .as_str()
                    .strip_prefix(KMS_SERVICE)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
        .map(|(owner, _)| owner)
        .collect();
    owners.sort();
    owners.dedup();
    Ok(owners)
}

/// Every SRV RRset of `zone` by owner (records sorted), and the owners that hold a CNAME, from a
/// full zone transfer from `client`'s server.
pub async fn srv_rrsets(
    client: &DnsClient,
    zone: &Fqdn,
) -> Result<(HashMap<Fqdn, Vec<SrvRecord>>, HashSet<Fqdn>), DnsError> {
    let mut srv: HashMap<Fqdn, Vec<SrvRecord>> = HashMap::new();
    let mut cnames = HashSet::new();
    for r in transfer(client, zone).await? {
        match &r.data {
            RData::SRV(s) => srv.entry(fqdn_of(&r.name)).or_default().push(SrvRecord {
                target: fqdn_of(&s.target),
                port: s.port,
                priority: s.priority,
                weight: s.weight,
                ttl: r.ttl,
            }),
            RData::CNAME(_) => {
                cnames.insert(fqdn_of(&r.name));
            }
            _ => {}
        }
    }
    for records in srv.values_mut() {
        records.sort();
    }
    Ok((srv, cnames))
}

/// Transfers `zone` and returns every record (the SOA twice: first and last).
async fn transfer(client: &DnsClient, zone: &Fqdn) -> Result<Vec<Record>, DnsError> {
    let server = client.label.clone();
    let bad = |reason: String| DnsError::BadReply {
        server: server.clone(),
        reason,
    };
    let tsig_err = |source| DnsError::Tsig {
        server: server.clone(),
        source,
    };
    if let Some(g) = &client.gss {
        // The transfer is signed with an HMAC key or not at all; a GSS-TSIG zone would get an
        // unsigned request, which its server may answer with anything.
        return Err(DnsError::Unsupported {
            what: format!(
                "kmsdns does not sign zone transfers with GSS-TSIG ({}), and sends none unsigned: no AXFR of {} from {server}",
                g.label(),
                zone.as_str()
            ),
            hint: "name the domains instead of the zone (`kmsdns import DOMAIN…`); plan and apply read each owner with a signed query".into(),
        });
    }
    let mut msg = Message::new(random_id(), MessageType::Query, OpCode::Query);
    msg.add_query(Query::query(name_of(zone), RecordType::AXFR));
    let id = msg.metadata.id;
    let unsigned = msg.to_vec().map_err(|e| DnsError::Encode {
        server: server.clone(),
        reason: format!("cannot encode the AXFR request: {e}"),
    })?;
    let (wire, request_mac) = match &client.key {
        Some(key) => {
            let s =
                tsig::sign(&unsigned, key, (client.clock)(), tsig::DEFAULT_FUDGE).map_err(|e| {
                    DnsError::Encode {
                        server: server.clone(),
                        reason: format!("cannot sign the AXFR request with key {key}: {e}"),
                    }
                })?;
            (s.bytes, Some(s.mac))
        }
        None => (unsigned, None),
    };
    let addr = client.addr();
    let timeout = client.endpoint.timeout;
    let _permit = client.permit().await;
    let io = |sent: bool| {
        move |source| {
            DnsError::Transport(TransportError::Io {
                server: addr,
                proto: Proto::Tcp,
                sent,
                source,
            })
        }
    };
    let timed_out = || {
        DnsError::Transport(TransportError::Timeout {
            server: addr,
            proto: Proto::Tcp,
            tries: 1,
            timeout,
        })
    };
    let mut stream = timeout_at(Instant::now() + timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| timed_out())?
        .map_err(io(false))?;
    let len = u16::try_from(wire.len()).map_err(|_| bad("the request is too long".into()))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(&wire);
    timeout_at(Instant::now() + timeout, stream.write_all(&framed))
        .await
        .map_err(|_| timed_out())?
        .map_err(io(true))?;
    tracing::debug!(%server, zone = %zone, signed = request_mac.is_some(), "AXFR sent");

    let mut out = Vec::new();
    let mut soa_seen = 0;
    let mut prior_mac = request_mac.clone();
    let mut first = true;
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut messages = 0usize;
    loop {
        let read = async {
            let n = stream.read_u16().await? as usize;
            let mut reply = vec![0u8; n];
            stream.read_exact(&mut reply).await?;
            Ok::<_, std::io::Error>(reply)
        };
        let bytes = timeout_at(Instant::now() + timeout, read)
            .await
            .map_err(|_| timed_out())?
            .map_err(io(true))?;
        messages += 1;
        let m = Message::from_vec(&bytes)
            .map_err(|e| bad(format!("cannot decode a transfer message: {e}")))?;
        if m.metadata.id != id || m.metadata.message_type != MessageType::Response {
            return Err(bad("a transfer message does not answer our request".into()));
        }
        if m.metadata.response_code != ResponseCode::NoError {
            let rcode = super::error::rcode_name(m.metadata.response_code);
            return Err(DnsError::Rcode {
                rcode: m.metadata.response_code,
                message: format!("{server} refused the zone transfer of {zone} ({rcode})"),
                hint: format!(
                    "allow this machine (or the key) to transfer {zone} on {server} (BIND: allow-transfer), or name the domains instead of --zone"
                ),
            });
        }
        if let (Some(key), Some(prior)) = (&client.key, prior_mac.as_deref()) {
            let now = (client.clock)();
            let verdict = if first {
                Some(tsig::verify_reply(&bytes, key, prior, now))
            } else if tsig_present(&m) {
                Some(tsig::verify_continuation(&bytes, key, prior, &pending, now))
            } else {
                None
            };
            match verdict {
                Some(Ok(t)) => {
                    prior_mac = Some(t.mac);
                    pending.clear();
                }
                Some(Err(e)) => return Err(tsig_err(e)),
                None => {
                    pending.push(bytes.clone());
                    if pending.len() > MAX_UNSIGNED_RUN {
                        return Err(bad(format!(
                            "more than {MAX_UNSIGNED_RUN} unsigned transfer messages in a row"
                        )));
                    }
                }
            }
        }
        first = false;
        for r in m.answers {
            if r.record_type() == RecordType::SOA && matches!(r.data, RData::SOA(_)) {
                soa_seen += 1;
            }
            out.push(r);
        }
        if soa_seen >= 2 {
            break;
        }
        if messages == 1 && soa_seen == 0 {
            return Err(bad(format!(
                "the transfer of {zone} does not start with its SOA record"
            )));
        }
    }
    if !pending.is_empty() {
        return Err(bad(
            "the transfer ended on messages without TSIG: its end cannot be trusted".into(),
        ));
    }
    tracing::debug!(%server, zone = %zone, messages, records = out.len(), "AXFR done");
    Ok(out)
}

fn tsig_present(m: &Message) -> bool {
    m.signature.is_some()
}
