//! `apply --wait`: after an update, poll every name server of the zone until it serves the
//! new SOA serial.

use std::time::Duration;

use serde::Serialize;

use super::NetOptions;
use super::apply::{ZoneOutcome, ZoneReport, zone_client};
use super::keys::KeyRing;
use crate::dns::{DnsClient, DnsError, discovery, query};
use crate::model::{Fqdn, Problem};
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
    /// True once it serves the new serial (or a later one).
    pub in_sync: bool,
}

/// The result of `--wait` for one applied zone.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneSync {
    /// The applied zone.
    pub zone: Fqdn,
    /// The serial read back after the update, which every NS must reach.
    pub serial: u32,
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
/// serial (or newer, RFC 1982) or `limit` passes.
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
                serial,
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
            servers,
        });
    }
    out
}

/// NS names are resolved through the primary (in-zone names) or the resolver; they are asked
/// on `opts.discovered_port`.
async fn wait_for_serial(
    primary: &DnsClient,
    zone: &Fqdn,
    serial: u32,
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
            if let Ok(got) = query::read_serial(&client, zone).await {
                s.serial = Some(got);
                s.in_sync = got.wrapping_sub(serial) < (1 << 31);
            }
        }
        if servers.iter().all(|s| s.in_sync) || tokio::time::Instant::now() >= deadline {
            return Ok(servers);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
