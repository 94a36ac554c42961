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
    ServerAddress, ServerSpec, ServerTarget, Transport, ZoneTarget,
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
    key: Result<Option<Arc<crate::dns::tsig::TsigKey>>, Problem>,
    default_retries: u32,
}

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
                Some(k) => match keys.by_id(&k.id) {
                    Some(Ok(key)) => Ok(Some(key.clone())),
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
    let results = super::in_order(
        inputs,
        opts.parallel,
        |input| {
            let (opts, resolver) = (opts.clone(), resolver.clone());
            async move {
                let name = input.domain.name.clone();
                (name, place(input, &opts, resolver.as_ref()).await)
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
    opts: &NetOptions,
    resolver: Result<&DnsClient, &String>,
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
                max_inflight: spec.max_inflight,
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
                retries: default_retries,
                max_inflight: crate::model::DEFAULT_MAX_INFLIGHT,
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

/// Reads the managed RRsets of every zone from its server, `opts.parallel` zones at once
/// (and each zone's reads concurrently, under its server's `max_inflight`); results come back
/// in the order of `placed`.
async fn read_zones(placed: Vec<Placed>, opts: &NetOptions) -> Vec<ObservedZone> {
    let total = placed.len();
    let progress = super::counter(&opts.progress, "reading zones", total);
    super::in_order(placed, opts.parallel, read_zone, progress).await
}

async fn read_zone(p: Placed) -> ObservedZone {
    let owners = p.domains.iter().map(|d| d.owner()).collect();
    let (rrsets, error) = match super::reads::read_rrsets(&p.client, &p.target.zone, owners).await {
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
        Err(e) => (Vec::new(), Some(Problem::from(&e))),
    };
    ObservedZone {
        domains: p.domains.iter().map(|d| d.name.clone()).collect(),
        target: p.target,
        rrsets,
        error,
    }
}
