//! Observing the live state: which zone each domain lives in, which server takes its updates
//! (configured, or the SOA MNAME found through the resolver), which key signs, and the SRV
//! RRsets that server holds now. Domains are grouped per zone and server; zones are read
//! concurrently, bounded.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use super::NetOptions;
use super::keys::KeyRing;
use crate::dns::discovery::{self, ZoneInfo};
use crate::dns::transport::Endpoint;
use crate::dns::{DnsClient, DnsError, query};
use crate::model::{
    DesiredState, Domain, DomainProblem, Fqdn, ObservedRrset, ObservedState, ObservedZone, Problem,
    ServerAddress, ServerTarget, Transport, ZoneTarget,
};

/// Per try, for primaries found from the SOA MNAME.
const DISCOVERED_TIMEOUT_MS: u64 = 3000;

/// A zone's target with the client that reaches it (secret included), for this process only.
pub(crate) struct Placed {
    pub target: ZoneTarget,
    pub client: DnsClient,
    pub domains: Vec<Domain>,
}

/// A client for a plan's or an observation's target, signing with `key`.
pub(crate) fn client_for(
    server: &ServerTarget,
    key: Option<Arc<crate::dns::tsig::TsigKey>>,
    opts: &NetOptions,
) -> DnsClient {
    let mut endpoint = Endpoint::new(
        server.address,
        server.transport,
        std::time::Duration::from_millis(server.timeout_ms),
    );
    endpoint.tries = server.retries + 1;
    let mut c = DnsClient::new(endpoint, server.label.clone(), key);
    c.clock = opts.clock.clone();
    c
}

/// Reads every configured domain's live records.
pub async fn observe(desired: &DesiredState, keys: &KeyRing, opts: &NetOptions) -> ObservedState {
    let (placed, failed_domains) = place_all(desired, keys, opts).await;
    let zones = read_zones(placed, opts).await;
    ObservedState {
        zones,
        failed_domains,
    }
}

/// Decides zone and server for every domain and groups the domains per zone and server.
async fn place_all(
    desired: &DesiredState,
    keys: &KeyRing,
    opts: &NetOptions,
) -> (Vec<Placed>, Vec<DomainProblem>) {
    let mut placed: Vec<Placed> = Vec::new();
    let mut index: HashMap<(Fqdn, SocketAddr), usize> = HashMap::new();
    let mut failed = Vec::new();
    let resolver = discovery::resolver_client(opts.resolver, opts.clock.clone());
    for domain in &desired.domains {
        match place(desired, keys, opts, resolver.as_ref(), domain).await {
            Ok(p) => {
                let k = (p.target.zone.clone(), p.target.server.address);
                match index.get(&k) {
                    Some(&i) => placed[i].domains.push(domain.clone()),
                    None => {
                        index.insert(k, placed.len());
                        placed.push(p);
                    }
                }
            }
            Err(problem) => failed.push(DomainProblem {
                domain: domain.name.clone(),
                problem,
            }),
        }
    }
    (placed, failed)
}

async fn place(
    desired: &DesiredState,
    keys: &KeyRing,
    opts: &NetOptions,
    resolver: Result<&DnsClient, &DnsError>,
    domain: &Domain,
) -> Result<Placed, Problem> {
    let spec = desired.server_of(domain);
    let key = match desired.key_for_server(spec) {
        None => None,
        Some(k) => {
            match keys.by_id(&k.id) {
                Some(Ok(key)) => Some(key.clone()),
                Some(Err(e)) => {
                    return Err(Problem {
                    message: format!("cannot load TSIG key `{}`: {e}", k.id),
                    hint: "fix the [keys.*] table, the key file it names or the environment variable".to_string(),
                });
                }
                None => None,
            }
        }
    };
    let resolver_err = |e: &DnsError| {
        Problem::from(&DnsError::Discovery {
            name: domain.name.clone(),
            reason: e.to_string(),
        })
    };
    let problem = |e: DnsError| Problem::from(&e);
    let (server, zone_info) = match spec {
        Some(spec) => {
            let address = match &spec.address {
                ServerAddress::Socket(a) => *a,
                ServerAddress::Name { host, port } => {
                    let resolver = resolver.map_err(resolver_err)?;
                    discovery::resolve_server(resolver, host, *port)
                        .await
                        .map_err(|e| Problem {
                            message: format!(
                                "cannot resolve the address of server `{}`: {e}",
                                spec.id
                            ),
                            hint: e.hint(),
                        })?
                }
            };
            let server = ServerTarget {
                label: format!("{} ({address})", spec.id),
                address,
                discovered: false,
                transport: spec.transport,
                timeout_ms: spec.timeout.as_millis() as u64,
                retries: spec.retries,
                key: key.as_ref().map(|k| k.name.clone()),
            };
            (server, None)
        }
        None => {
            let resolver = resolver.map_err(resolver_err)?;
            let start = domain.zone.clone().unwrap_or_else(|| domain.name.clone());
            let info = discovery::find_zone(resolver, &start)
                .await
                .map_err(problem)?;
            let ips = discovery::resolve_addresses(resolver, &info.mname)
                .await
                .map_err(problem)?;
            if ips.is_empty() {
                return Err(problem(DnsError::Discovery {
                    name: domain.name.clone(),
                    reason: format!(
                        "the primary {} (SOA MNAME of {}) has no A/AAAA record",
                        info.mname, info.zone
                    ),
                }));
            }
            let address = answering(&ips, opts.discovered_port, &info.zone).await;
            let server = ServerTarget {
                label: format!("{} ({address})", info.mname.as_str()),
                address,
                discovered: true,
                transport: Transport::Udp,
                timeout_ms: DISCOVERED_TIMEOUT_MS,
                retries: desired.defaults.retries,
                key: key.as_ref().map(|k| k.name.clone()),
            };
            (server, Some(info))
        }
    };
    let client = client_for(&server, key, opts);
    let (zone, zone_discovered) = match (&domain.zone, zone_info) {
        (Some(z), _) => (z.clone(), false),
        (None, Some(ZoneInfo { zone, .. })) => (zone, true),
        // A configured server knows its zones: ask it where the domain's zone starts.
        (None, None) => (
            discovery::find_zone(&client, &domain.name)
                .await
                .map_err(problem)?
                .zone,
            true,
        ),
    };
    Ok(Placed {
        target: ZoneTarget {
            zone,
            zone_discovered,
            server,
        },
        client,
        domains: vec![domain.clone()],
    })
}

/// The first address of a primary that answers for `zone` (a host with A and AAAA records may
/// listen on only one of them); the first address when none does, so the error names it.
async fn answering(ips: &[std::net::IpAddr], port: u16, zone: &Fqdn) -> SocketAddr {
    let candidates: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
    if candidates.len() > 1 {
        for addr in &candidates {
            let probe = DnsClient::unsigned(
                *addr,
                addr.to_string(),
                std::time::Duration::from_secs(1),
                1,
            );
            if query::read_serial(&probe, zone).await.is_ok() {
                return *addr;
            }
            tracing::debug!(%addr, zone = %zone, "this address of the primary does not answer");
        }
    }
    candidates[0]
}

/// Reads the managed RRsets of every zone from its server, `opts.concurrency` zones at once per
/// server;
/// results come back in the order of `placed`.
async fn read_zones(placed: Vec<Placed>, opts: &NetOptions) -> Vec<ObservedZone> {
    super::per_server(
        placed,
        opts.concurrency,
        |p| p.target.server.address,
        read_zone,
        |_| {},
    )
    .await
}

async fn read_zone(p: Placed) -> ObservedZone {
    let mut rrsets = Vec::new();
    let mut error = None;
    for d in &p.domains {
        match query::read_srv(&p.client, Some(&p.target.zone), &d.owner()).await {
            Ok(records) => rrsets.push(ObservedRrset {
                domain: d.name.clone(),
                records,
            }),
            Err(e) => {
                error = Some(Problem::from(&e));
                rrsets.clear();
                break;
            }
        }
    }
    ObservedZone {
        domains: p.domains.iter().map(|d| d.name.clone()).collect(),
        target: p.target,
        rrsets,
        error,
    }
}
