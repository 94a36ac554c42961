//! Lookups through a resolver (recursion desired): zone and primary discovery (RFC 2136 §4:
//! the zone is the owner of the enclosing SOA, the primary its MNAME, as nsupdate finds
//! them), server and host addresses, and the SRV RRset as clients see it.
//!
//! The resolver is `--resolver` or the first `nameserver` of /etc/resolv.conf; nothing here
//! uses the system's own name resolution, so `--resolver` is honoured everywhere.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, Record, RecordType};

use super::client::{Clock, DnsClient};
use super::error::DnsError;
use super::query::{fqdn_of, query_message, srv_records};
use super::resolv::ResolvConf;
use super::transport::{Endpoint, Kind};
use crate::model::{Fqdn, SrvRecord, Transport};

/// The resolver client: `addr`, or the first nameserver of /etc/resolv.conf.
pub fn resolver_client(addr: Option<SocketAddr>, clock: Clock) -> Result<DnsClient, DnsError> {
    let system = || ResolvConf::system().ok()?.nameservers.first().copied();
    let addr = addr.or_else(system).ok_or_else(|| DnsError::Discovery {
        name: Fqdn::from_ascii_unchecked("."),
        reason: "no nameserver in /etc/resolv.conf; pass --resolver ADDR".into(),
    })?;
    let mut c = DnsClient::new(
        Endpoint::new(addr, Transport::Udp, Duration::from_secs(2)),
        format!("resolver {addr}"),
        None,
    );
    c.clock = clock;
    Ok(c)
}

/// A zone found by discovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneInfo {
    pub zone: Fqdn,
    /// The SOA MNAME: the primary that takes updates.
    pub mname: Fqdn,
}

fn soa_in(records: &[Record]) -> Option<ZoneInfo> {
    records.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(ZoneInfo {
            zone: fqdn_of(&r.name),
            mname: fqdn_of(&soa.mname),
        }),
        _ => None,
    })
}

/// Finds the zone that contains `name`: asks the resolver for `name SOA`; the SOA in the
/// answer (at the apex) or in the authority section (below it) names the zone. A REFUSED or
/// an answer without SOA moves one label up, as nsupdate does.
pub async fn find_zone(resolver: &DnsClient, name: &Fqdn) -> Result<ZoneInfo, DnsError> {
    let mut current = Some(name.clone());
    let mut last_reason = String::from("no SOA record found at or above it");
    while let Some(n) = current {
        let resp = resolver
            .send(query_message(&n, RecordType::SOA, true), Kind::Query)
            .await?;
        let m = &resp.message;
        match m.metadata.response_code {
            ResponseCode::NoError | ResponseCode::NXDomain => {
                if let Some(info) = soa_in(&m.answers).or_else(|| soa_in(&m.authorities))
                    && name.is_at_or_below(&info.zone)
                {
                    tracing::debug!(name = %name, zone = %info.zone, mname = %info.mname, "zone discovered");
                    return Ok(info);
                }
            }
            ResponseCode::Refused => {
                last_reason = format!("{} refused the SOA query for {n}", resolver.label);
            }
            rc => {
                return Err(DnsError::Discovery {
                    name: name.clone(),
                    reason: format!(
                        "{} answered {} to the SOA query for {n}",
                        resolver.label,
                        super::error::rcode_name(rc)
                    ),
                });
            }
        }
        current = n.parent();
    }
    Err(DnsError::Discovery {
        name: name.clone(),
        reason: last_reason,
    })
}

/// The addresses of `host` (A, then AAAA) through the resolver.
pub async fn resolve_addresses(resolver: &DnsClient, host: &Fqdn) -> Result<Vec<IpAddr>, DnsError> {
    let mut out = Vec::new();
    for rtype in [RecordType::A, RecordType::AAAA] {
        let resp = resolver
            .send(query_message(host, rtype, true), Kind::Query)
            .await?;
        for r in &resp.message.answers {
            match &r.data {
                RData::A(a) => out.push(IpAddr::V4(a.0)),
                RData::AAAA(a) => out.push(IpAddr::V6(a.0)),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// The first address of `host` through the resolver, with `port`: how a server given by
/// name in the config is reached.
pub async fn resolve_server(
    resolver: &DnsClient,
    host: &Fqdn,
    port: u16,
) -> Result<SocketAddr, DnsError> {
    let addrs = resolve_addresses(resolver, host).await?;
    addrs
        .first()
        .map(|ip| SocketAddr::new(*ip, port))
        .ok_or_else(|| DnsError::Discovery {
            name: host.clone(),
            reason: format!("{} finds no A/AAAA record for it", resolver.label),
        })
}

/// The answer to an A and AAAA lookup of a host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostLookup {
    pub addrs: Vec<IpAddr>,
    /// The name is an alias: the target of its CNAME (RFC 2782 forbids that for SRV targets).
    pub cname: Option<String>,
}

/// Looks up `host` A, then AAAA. A CNAME at `host` ends the lookup (it is reported, not
/// followed); NXDOMAIN and NODATA give no addresses.
pub async fn lookup_addresses(resolver: &DnsClient, host: &Fqdn) -> Result<HostLookup, DnsError> {
    let mut out = HostLookup::default();
    for rtype in [RecordType::A, RecordType::AAAA] {
        let resp = resolver
            .send(query_message(host, rtype, true), Kind::Query)
            .await?;
        let m = &resp.message;
        if let Some(c) = m
            .answers
            .iter()
            .find(|r| r.record_type() == RecordType::CNAME && fqdn_of(&r.name) == *host)
        {
            out.cname = Some(c.data.to_string());
            return Ok(out);
        }
        if m.metadata.response_code == ResponseCode::NoError {
            out.addrs.extend(addresses_at(host, &m.answers));
        }
    }
    Ok(out)
}

fn addresses_at<'a>(host: &'a Fqdn, records: &'a [Record]) -> impl Iterator<Item = IpAddr> + 'a {
    records.iter().filter_map(move |r| match &r.data {
        RData::A(a) if fqdn_of(&r.name) == *host => Some(IpAddr::V4(a.0)),
        RData::AAAA(a) if fqdn_of(&r.name) == *host => Some(IpAddr::V6(a.0)),
        _ => None,
    })
}

/// The SRV records at `owner` as the resolver returns them (what clients find).
pub async fn lookup_srv(resolver: &DnsClient, owner: &Fqdn) -> Result<Vec<SrvRecord>, DnsError> {
    let resp = resolver
        .send(query_message(owner, RecordType::SRV, true), Kind::Query)
        .await?;
    Ok(srv_records(owner, &resp.message.answers))
}

/// Asks the resolver for `name` SOA: succeeds when it answers at all, whatever the RCODE.
pub async fn probe(resolver: &DnsClient, name: &Fqdn) -> Result<(), DnsError> {
    resolver
        .send(query_message(name, RecordType::SOA, true), Kind::Query)
        .await
        .map(|_| ())
}
