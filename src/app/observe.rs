//! Observing the live state: which zone each domain lives in, which server takes its updates
//! (configured, or the SOA MNAME found through the resolver), which key signs, and the SRV
//! RRsets that server holds now. Domains are grouped per zone and server; zones are read
//! concurrently, bounded.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use super::NetOptions;
use super::failover::{self, ServerChain, Unanswered};
use super::keys::{KeyRing, Signer};
use crate::dns::discovery::{self, ZoneInfo};
use crate::dns::transport::Endpoint;
use crate::dns::{DnsClient, DnsError, query};
use crate::model::{
    DesiredState, Domain, DomainProblem, Fqdn, ObservedRrset, ObservedState, ObservedZone, Problem,
    ServerAddress, ServerCandidate, ServerSpec, ServerTarget, Transport, ZoneTarget,
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
    c.inflight = Some(opts.caps.of(server.address, server.max_inflight));
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

/// What placing one domain needs, owned, so domains are placed concurrently.
struct PlaceInput {
    domain: Domain,
    spec: Option<ServerSpec>,
    key: Result<Option<Signer>, Problem>,
    default_retries: u32,
}

/// The other name servers of each discovered zone, looked up once per zone however many of
/// its domains are placed at the same time.
type NameServers =
    Arc<std::sync::Mutex<HashMap<Fqdn, Arc<tokio::sync::OnceCell<Vec<ServerCandidate>>>>>>;

/// Decides zone and server for every domain (`opts.parallel` at once) and groups the domains
/// per zone and server, in the order of the file.
async fn place_all(
    desired: &DesiredState,
    keys: &KeyRing,
    opts: &NetOptions,
) -> (Vec<Placed>, Vec<DomainProblem>) {
    let resolver = discovery::resolver_client(opts.resolver, opts.clock.clone())
        .map(|mut r| {
            // Discovery through the resolver is bounded like a server (a bound of its own).
            r.inflight = Some(Arc::new(tokio::sync::Semaphore::new(
                crate::model::DEFAULT_MAX_INFLIGHT as usize,
            )));
            r
        })
        .map_err(|e| e.to_string());
    let inputs: Vec<PlaceInput> = desired
        .domains
        .iter()
        .map(|domain| {
            let spec = desired.server_of(domain);
            let key = match desired.key_for_server(spec) {
                None => Ok(None),
                Some(k) => match keys.signer(&k.id) {
                    Some(Ok(key)) => Ok(Some(key)),
                    Some(Err(e)) => Err(Problem {
                        message: format!("cannot load TSIG key `{}`: {e}", k.id),
                        hint: "fix the [keys.*] table, the key file it names or the environment variable".to_string(),
                    }),
                    None => Ok(None),
                },
            };
            PlaceInput {
                domain: domain.clone(),
                spec: spec.cloned(),
                key,
                default_retries: desired.defaults.retries,
            }
        })
        .collect();
    let total = inputs.len();
    // Shared by every task: GSS-TSIG contexts live in the ring's one session map.
    let keys = Arc::new(keys.clone());
    let name_servers = NameServers::default();
    let results = super::in_order(
        inputs,
        opts.parallel,
        |input| {
            let (opts, resolver) = (opts.clone(), resolver.clone());
            let (keys, name_servers) = (keys.clone(), name_servers.clone());
            async move {
                let name = input.domain.name.clone();
                let placed = place(input, &keys, &opts, resolver.as_ref(), &name_servers).await;
                (name, placed)
            }
        },
        super::counter(&opts.progress, "finding zones", total),
    )
    .await;
    let mut placed: Vec<Placed> = Vec::new();
    let mut index: HashMap<(Fqdn, SocketAddr), usize> = HashMap::new();
    let mut failed = Vec::new();
    for (domain, result) in results {
        match result {
            Ok(p) => {
                let k = (p.target.zone.clone(), p.target.server.address);
                match index.get(&k) {
                    Some(&i) => placed[i].domains.extend(p.domains),
                    None => {
                        index.insert(k, placed.len());
                        placed.push(p);
                    }
                }
            }
            Err(problem) => failed.push(DomainProblem { domain, problem }),
        }
    }
    (placed, failed)
}

async fn place(
    input: PlaceInput,
    keys: &KeyRing,
    opts: &NetOptions,
    resolver: Result<&DnsClient, &String>,
    name_servers: &NameServers,
) -> Result<Placed, Problem> {
    let PlaceInput {
        domain,
        spec,
        key,
        default_retries,
    } = input;
    let domain = &domain;
    let spec = spec.as_ref();
    let key = key?;
    let resolver_err = |e: &String| {
        Problem::from(&DnsError::Discovery {
            name: domain.name.clone(),
            reason: e.clone(),
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
                max_inflight: spec.max_inflight,
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
            let cell = name_servers
                .lock()
                .expect("name servers lock")
                .entry(info.zone.clone())
                .or_default()
                .clone();
            let others = cell
                .get_or_init(|| other_name_servers(resolver, &info, opts))
                .await;
            for c in others {
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
                retries: default_retries,
                max_inflight: crate::model::DEFAULT_MAX_INFLIGHT,
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

/// Reads the managed RRsets of every zone from its server, `opts.parallel` zones at once
/// (and each zone's reads concurrently, under its server's `max_inflight`); results come back
/// in the order of `placed`.
async fn read_zones(placed: Vec<Placed>, opts: &NetOptions) -> Vec<ObservedZone> {
    let total = placed.len();
    let progress = super::counter(&opts.progress, "reading zones", total);
    let unanswered = Unanswered::default();
    super::in_order(
        placed,
        opts.parallel,
        |p| read_zone(p, unanswered.clone()),
        progress,
    )
    .await
}

/// Reads every managed RRset of the zone from the first address that answers; an address that
/// cannot be reached or times out passes the whole zone to the next one.
async fn read_zone(p: Placed, unanswered: Unanswered) -> ObservedZone {
    let mut chain = ServerChain::new(p.clients).sharing(&unanswered);
    let zone = &p.target.zone;
    let owners: Vec<Fqdn> = p.domains.iter().map(|d| d.owner()).collect();
    let read = failover::first_answer(&mut chain, |c: DnsClient| {
        let owners = owners.clone();
        async move { super::reads::read_rrsets(&c, zone, owners).await }
    })
    .await;
    let (rrsets, error) = match read {
        Ok(reads) => (
            p.domains
                .iter()
                .zip(reads)
                .map(|(d, records)| ObservedRrset {
                    domain: d.name.clone(),
                    records,
                })
                .collect(),
            None,
        ),
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
