//! Observing the live state: which zone each domain lives in, which server takes its updates
//! (configured, or the SOA MNAME found through the resolver), which key signs, and the SRV
//! RRsets that server holds now. Domains are grouped per zone and server; zones are read
//! concurrently, bounded.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::NetOptions;
use super::failover::{self, ServerChain, Unanswered};
use super::keys::KeyRing;
use crate::dns::discovery::{self, ZoneInfo};
use crate::dns::transport::Endpoint;
use crate::dns::{DnsClient, DnsError, query};
use crate::model::{
    DesiredState, Domain, DomainProblem, Fqdn, ObservedRrset, ObservedState, ObservedZone, Problem,
    ServerAddress, ServerCandidate, ServerTarget, Transport, ZoneTarget,
};

/// Per try, for primaries found from the SOA MNAME.
const DISCOVERED_TIMEOUT_MS: u64 = 3000;

/// A zone's target with the client that reaches it (secret included), for this process only.
pub(crate) struct Placed {
    pub target: ZoneTarget,
    /// One client per address of the server, in the order they are tried.
    pub clients: Vec<DnsClient>,
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
    let mut name_servers = HashMap::new();
    for domain in &desired.domains {
        match place(
            desired,
            keys,
            opts,
            resolver.as_ref(),
            &mut name_servers,
            domain,
        )
        .await
        {
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
    name_servers: &mut HashMap<Fqdn, Vec<ServerCandidate>>,
    domain: &Domain,
) -> Result<Placed, Problem> {
    let spec = desired.server_of(domain);
    let key = match desired.key_for_server(spec) {
        None => None,
        Some(k) => {
            match keys.signer(&k.id) {
                Some(Ok(key)) => Some(key),
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
            let mut candidates: Vec<ServerCandidate> = Vec::new();
            for a in &spec.addresses {
                let address = match a {
                    ServerAddress::Socket(a) => *a,
                    ServerAddress::Name { host, port } => {
                        let resolver = resolver.map_err(resolver_err)?;
                        discovery::resolve_server(resolver, host, *port)
                            .await
                            .map_err(|e| Problem {
                                message: format!(
                                    "cannot resolve the address {a} of server `{}`: {e}",
                                    spec.id
                                ),
                                hint: e.hint(),
                            })?
                    }
                };
                // Two names for one address: tried once.
                if !candidates.iter().any(|c| c.address == address) {
                    candidates.push(ServerCandidate {
                        label: format!("{} ({address})", spec.id),
                        address,
                    });
                }
            }
            let first = candidates.remove(0);
            let server = ServerTarget {
                label: first.label,
                address: first.address,
                fallbacks: candidates,
                discovered: false,
                transport: spec.transport,
                timeout_ms: spec.timeout.as_millis() as u64,
                retries: spec.retries,
                key: key.as_ref().map(KeyRing::plan_name),
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
            // The primary's other addresses, then the other name servers.
            let mut fallbacks: Vec<ServerCandidate> = ips
                .iter()
                .map(|ip| SocketAddr::new(*ip, opts.discovered_port))
                .filter(|a| *a != address)
                .map(|a| ServerCandidate {
                    label: format!("{} ({a})", info.mname.as_str()),
                    address: a,
                })
                .collect();
            if !name_servers.contains_key(&info.zone) {
                let found = other_name_servers(resolver, &info, opts).await;
                name_servers.insert(info.zone.clone(), found);
            }
            for c in &name_servers[&info.zone] {
                if c.address != address && !fallbacks.iter().any(|f| f.address == c.address) {
                    fallbacks.push(c.clone());
                }
            }
            let server = ServerTarget {
                label: format!("{} ({address})", info.mname.as_str()),
                address,
                fallbacks,
                discovered: true,
                transport: Transport::Udp,
                timeout_ms: DISCOVERED_TIMEOUT_MS,
                retries: desired.defaults.retries,
                key: key.as_ref().map(KeyRing::plan_name),
            };
            (server, Some(info))
        }
    };
    let clients = failover::clients_for(&server, keys, key.as_ref(), opts);
    let (zone, zone_discovered) = match (&domain.zone, zone_info) {
        (Some(z), _) => (z.clone(), false),
        (None, Some(ZoneInfo { zone, .. })) => (zone, true),
        // A configured server knows its zones: ask it where the domain's zone starts.
        (None, None) => {
            let mut chain = ServerChain::new(clients.clone());
            let found = failover::first_answer(&mut chain, |c: DnsClient| async move {
                discovery::find_zone(&c, &domain.name).await
            })
            .await;
            (found.map_err(|e| chain.all_failed(&e))?.zone, true)
        }
    };
    Ok(Placed {
        target: ZoneTarget {
            zone,
            zone_discovered,
            server,
        },
        clients,
        domains: vec![domain.clone()],
    })
}

/// The zone's other name servers after its primary, for failover: AD-integrated zones are
/// multi-master, every domain controller in the NS set takes updates. NS names sorted (an
/// RRset has no order; sorted, plans stay stable), every address of each, the MNAME left out.
/// A lookup that fails leaves a name out (logged at debug).
async fn other_name_servers(
    resolver: &DnsClient,
    info: &ZoneInfo,
    opts: &NetOptions,
) -> Vec<ServerCandidate> {
    let names = match query::read_ns(resolver, &info.zone, true).await {
        Ok(n) => n,
        Err(e) => {
            tracing::debug!(zone = %info.zone, "no NS set for failover: {e}");
            return Vec::new();
        }
    };
    let mut out: Vec<ServerCandidate> = Vec::new();
    for ns in names.iter().filter(|n| **n != info.mname) {
        let ips = match discovery::resolve_addresses(resolver, ns).await {
            Ok(ips) => ips,
            Err(e) => {
                tracing::debug!(ns = %ns, "no address for failover: {e}");
                continue;
            }
        };
        for ip in ips {
            let address = SocketAddr::new(ip, opts.discovered_port);
            if !out.iter().any(|c| c.address == address) {
                out.push(ServerCandidate {
                    label: format!("{} ({address})", ns.as_str()),
                    address,
                });
            }
        }
    }
    out
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
    let limits = super::Limits::new(opts.concurrency);
    let unanswered = Unanswered::default();
    let mut set = JoinSet::new();
    for (i, p) in placed.into_iter().enumerate() {
        let limits = limits.clone();
        let unanswered = unanswered.clone();
        set.spawn(async move {
            let _slot = limits.slot(p.target.server.address).await;
            (i, read_zone(p, &unanswered).await)
        });
    }
    let mut out: Vec<(usize, ObservedZone)> = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.expect("state read task does not panic"));
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, z)| z).collect()
}

/// Reads every managed RRset of the zone from the first address that answers; an address that
/// cannot be reached or times out passes the whole zone to the next one.
async fn read_zone(p: Placed, unanswered: &Unanswered) -> ObservedZone {
    let mut chain = ServerChain::new(p.clients).sharing(unanswered);
    let (domains, zone) = (&p.domains, &p.target.zone);
    let read = failover::first_answer(&mut chain, |c: DnsClient| async move {
        let mut rrsets = Vec::new();
        for d in domains {
            rrsets.push(ObservedRrset {
                domain: d.name.clone(),
                records: query::read_srv(&c, Some(zone), &d.owner()).await?,
            });
        }
        Ok(rrsets)
    })
    .await;
    let (rrsets, error) = match read {
        Ok(r) => (r, None),
        Err(e) => (Vec::new(), Some(chain.all_failed(&e))),
    };
    ObservedZone {
        domains: p.domains.iter().map(|d| d.name.clone()).collect(),
        target: p.target,
        rrsets,
        failover: if error.is_none() {
            chain.failover()
        } else {
            None
        },
        error,
    }
}
