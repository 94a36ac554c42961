//! Reading live state from an authoritative server: the `_vlmcs._tcp` SRV RRset of a domain
//! (non-recursive, RFC 1035 §4.1.1 RD=0, answer must be authoritative), the SOA serial and
//! the NS set. Lookups through a resolver are in `discovery`.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::client::DnsClient;
use super::error::{Context, DnsError, Operation, rcode_error};
use super::transport::Kind;
use crate::model::{Fqdn, SrvRecord};

/// UDP payload size we advertise with EDNS (the DNS flag day 2020 value).
pub const EDNS_PAYLOAD: u16 = 1232;

/// Converts a wire name into our form.
pub fn fqdn_of(name: &Name) -> Fqdn {
    Fqdn::from_ascii_unchecked(&name.to_ascii())
}

/// Converts our name into a wire name (absolute).
pub fn name_of(n: &Fqdn) -> Name {
    Name::from_ascii(n.to_string()).expect("validated names are valid wire names")
}

/// A query message for `name`/`rtype` with EDNS; RD only when asking a resolver.
pub fn query_message(name: &Fqdn, rtype: RecordType, recursion: bool) -> Message {
    let mut msg = Message::new(0, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = recursion;
    msg.add_query(Query::query(name_of(name), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    msg.set_edns(edns);
    msg
}

/// The SRV records at `owner` in `records`.
pub fn srv_records<'a>(
    owner: &Fqdn,
    records: impl IntoIterator<Item = &'a Record>,
) -> Vec<SrvRecord> {
    let mut out: Vec<SrvRecord> = records
        .into_iter()
        .filter(|r| fqdn_of(&r.name) == *owner)
        .filter_map(|r| match &r.data {
            RData::SRV(srv) => Some(SrvRecord {
                target: fqdn_of(&srv.target),
                port: srv.port,
                priority: srv.priority,
                weight: srv.weight,
                ttl: r.ttl,
            }),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

/// Reads the SRV RRset at `owner` from an authoritative server. An empty vector means the
/// server says there are none (NXDOMAIN or NODATA); every other outcome is an error.
pub async fn read_srv(
    client: &DnsClient,
    zone: Option<&Fqdn>,
    owner: &Fqdn,
) -> Result<Vec<SrvRecord>, DnsError> {
    let ctx = Context {
        server: client.label.clone(),
        zone: zone.cloned(),
        name: Some(owner.clone()),
        key: client.key_name(),
        op: Operation::ReadState,
    };
    let resp = client
        .send(query_message(owner, RecordType::SRV, false), Kind::Query)
        .await?;
    let m = &resp.message;
    match m.metadata.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => {}
        rc => return Err(rcode_error(rc, &ctx)),
    }
    if !m.metadata.authoritative {
        return Err(DnsError::NotAuthoritative {
            server: client.label.clone(),
            name: owner.clone(),
        });
    }
    if let Some(cname) = m
        .answers
        .iter()
        .find(|r| r.record_type() == RecordType::CNAME && fqdn_of(&r.name) == *owner)
    {
        return Err(DnsError::BadReply {
            server: client.label.clone(),
            reason: format!(
                "{owner} is a CNAME ({}); remove it so the SRV RRset can live there",
                cname.data
            ),
        });
    }
    Ok(srv_records(owner, &m.answers))
}

/// The SOA serial of `zone` from an authoritative server.
pub async fn read_serial(client: &DnsClient, zone: &Fqdn) -> Result<u32, DnsError> {
    let ctx = Context {
        server: client.label.clone(),
        zone: Some(zone.clone()),
        name: Some(zone.clone()),
        key: client.key_name(),
        op: Operation::ReadState,
    };
    let resp = client
        .send(query_message(zone, RecordType::SOA, false), Kind::Query)
        .await?;
    let m = &resp.message;
    if m.metadata.response_code != ResponseCode::NoError {
        return Err(rcode_error(m.metadata.response_code, &ctx));
    }
    m.answers
        .iter()
        .find_map(|r| match &r.data {
            RData::SOA(soa) if fqdn_of(&r.name) == *zone => Some(soa.serial),
            _ => None,
        })
        .ok_or_else(|| DnsError::NotAuthoritative {
            server: client.label.clone(),
            name: zone.clone(),
        })
}

/// The NS names of `zone`: from an authoritative server (`recursion` false) or through a
/// resolver (`recursion` true).
pub async fn read_ns(
    client: &DnsClient,
    zone: &Fqdn,
    recursion: bool,
) -> Result<Vec<Fqdn>, DnsError> {
    let resp = client
        .send(query_message(zone, RecordType::NS, recursion), Kind::Query)
        .await?;
    let m = &resp.message;
    if m.metadata.response_code != ResponseCode::NoError {
        return Err(rcode_error(
            m.metadata.response_code,
            &Context {
                server: client.label.clone(),
                zone: Some(zone.clone()),
                name: Some(zone.clone()),
                key: client.key_name(),
                op: Operation::ReadState,
            },
        ));
    }
    let mut out: Vec<Fqdn> = m
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::NS(ns) => Some(fqdn_of(&ns.0)),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}
