//! `apply --wait`: after an update, poll every name server of the zone until it serves the
//! new SOA serial — or, where the serial does not move on updates (Active Directory: the
//! serial read back equals the one before), until it serves the applied record sets: each
//! changed RRset read from each NS must hold the records added and none of those deleted.

use std::time::Duration;

use serde::Serialize;

use super::NetOptions;
use super::apply::{ZoneOutcome, ZoneReport, zone_client};
use super::keys::KeyRing;
use crate::dns::{DnsClient, DnsError, discovery, query};
use crate::model::{Fqdn, Problem, RrsetChange};
use crate::plan::Plan;

/// One name server's answer while waiting for a new serial.
#[derive(Clone, Debug, Serialize)]
pub struct NsSync {
    /// The name server (an NS target of the zone).
    pub ns: Fqdn,
    /// The address asked, when the name resolved.
    pub address: Option<std::net::SocketAddr>,
    /// The last SOA serial it served, if it answered.
    pub serial: Option<u32>,
    /// True once it serves the new serial (or a later one) — or, comparing record sets, every
    /// applied RRset.
    pub in_sync: bool,
    /// Comparing record sets: the first changed owner it does not serve as applied yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind_at: Option<Fqdn>,
}

/// The result of `--wait` for one applied zone.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneSync {
    /// The applied zone.
    pub zone: Fqdn,
    /// The serial read back after the update, which every NS must reach.
    pub serial: u32,
    /// The serial did not move on the update (Active Directory): the name servers were
    /// compared by the applied record sets instead.
    pub by_records: bool,
    /// Each name server's state, or why the NS set could not be found.
    pub servers: std::result::Result<Vec<NsSync>, Problem>,
}

impl ZoneSync {
    /// True when every name server serves the new serial.
    pub fn ok(&self) -> bool {
        self.servers
            .as_ref()
            .is_ok_and(|list| list.iter().all(|s| s.in_sync))
    }
}

/// For every zone applied with a known serial: polls each of its NS until it serves that
/// serial (or newer, RFC 1982) — or the applied record sets, when the serial did not move —
/// or `limit` passes.
pub async fn wait_for_serials(
    plan: &Plan,
    reports: &[ZoneReport],
    keys: &KeyRing,
    opts: &NetOptions,
    limit: Duration,
) -> Vec<ZoneSync> {
    let resolver = discovery::resolver_client(opts.resolver, opts.clock.clone()).ok();
    let mut out = Vec::new();
    for (zp, r) in plan.zones.iter().zip(reports) {
        let ZoneOutcome::Applied {
            serial: Some(serial),
            ..
        } = r.outcome
        else {
            continue;
        };
        // The serial did not move: compare the record sets the update changed.
        let by_records = r.outcome.serial_unmoved().is_some();
        let target = if by_records {
            Target::Records(
                zp.rrsets
                    .iter()
                    .map(|d| d.to_rrset_change())
                    .filter(|c| !c.is_empty())
                    .collect(),
            )
        } else {
            Target::Serial(serial)
        };
        // Ask the address that took the update (a fallback after failover).
        let took = zone_client(zp, keys, opts).map(|mut c| {
            c.endpoint.addr = r.server_address;
            c.label = r.server.clone();
            c
        });
        let servers = match took {
            Ok(primary) => wait_for_serial(
                &primary,
                &zp.target.zone,
                &target,
                resolver.as_ref(),
                opts,
                limit,
            )
            .await
            .map_err(|e| Problem::from(&e)),
            Err(p) => Err(p),
        };
        out.push(ZoneSync {
            zone: zp.target.zone.clone(),
            serial,
            by_records,
            servers,
        });
    }
    out
}

/// What each name server must serve.
enum Target {
    /// This SOA serial or a later one.
    Serial(u32),
    /// These changes, applied (the serial does not tell).
    Records(Vec<RrsetChange>),
}

/// Whether `client` serves `target` for `zone`: `(in sync, serial seen, first owner behind)`,
/// or `None` when it did not answer.
async fn check(
    client: &DnsClient,
    zone: &Fqdn,
    target: &Target,
) -> Option<(bool, Option<u32>, Option<Fqdn>)> {
    match target {
        Target::Serial(serial) => {
            let got = query::read_serial(client, zone).await.ok()?;
            Some((got.wrapping_sub(*serial) < (1 << 31), Some(got), None))
        }
        Target::Records(changes) => {
            let serial = query::read_serial(client, zone).await.ok();
            for c in changes {
                let got = query::read_srv(client, Some(zone), &c.owner).await.ok()?;
                if !c.judge(&got).applied {
                    return Some((false, serial, Some(c.owner.clone())));
                }
            }
            Some((true, serial, None))
        }
    }
}

/// NS names are resolved through the primary (in-zone names) or the resolver; they are asked
/// on `opts.discovered_port`.
async fn wait_for_serial(
    primary: &DnsClient,
    zone: &Fqdn,
    target: &Target,
    resolver: Option<&DnsClient>,
    opts: &NetOptions,
    limit: Duration,
) -> std::result::Result<Vec<NsSync>, DnsError> {
    let mut servers = Vec::new();
    for ns in query::read_ns(primary, zone, false).await? {
        let mut addrs = discovery::resolve_addresses(primary, &ns)
            .await
            .unwrap_or_default();
        if addrs.is_empty()
            && let Some(r) = resolver
        {
            addrs = discovery::resolve_addresses(r, &ns)
                .await
                .unwrap_or_default();
        }
        let addr = addrs
            .first()
            .map(|ip| std::net::SocketAddr::new(*ip, opts.discovered_port));
        servers.push(NsSync {
            ns,
            address: addr,
            serial: None,
            in_sync: false,
            behind_at: None,
        });
    }
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        for s in servers.iter_mut().filter(|s| !s.in_sync) {
            let Some(addr) = s.address else { continue };
            let client = DnsClient::unsigned(
                addr,
                format!("{} ({addr})", s.ns.as_str()),
                Duration::from_secs(1),
                1,
            );
            if let Some((in_sync, serial, behind_at)) = check(&client, zone, target).await {
                s.serial = serial.or(s.serial);
                s.in_sync = in_sync;
                s.behind_at = behind_at;
            }
        }
        if servers.iter().all(|s| s.in_sync) || tokio::time::Instant::now() >= deadline {
            return Ok(servers);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
