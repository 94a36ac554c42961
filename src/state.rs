//! From the validated config to live state: which zone each domain lives in, which server
//! takes its updates (configured, or the SOA MNAME), which key signs, and the SRV RRsets read
//! from that server. Domains are grouped per zone; reads run concurrently, bounded.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::{Config, Domain, KeySpec, ServerAddress, ServerSpec, Transport};
use crate::dns::DnsError;
use crate::dns::client::{Clock, DnsClient, system_clock};
use crate::dns::query::{self, ZoneInfo};
use crate::dns::resolv::ResolvConf;
use crate::dns::transport::Endpoint;
use crate::dns::tsig::TsigKey;
use crate::model::{Fqdn, SrvRecord};

/// Network options shared by plan, apply and verify.
#[derive(Clone)]
pub struct NetOptions {
    /// Resolver for discovery; `None` = the first nameserver of /etc/resolv.conf.
    pub resolver: Option<SocketAddr>,
    /// Port for servers discovered from the SOA MNAME.
    pub discovered_port: u16,
    /// Zones read or updated at the same time.
    pub concurrency: usize,
    pub clock: Clock,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            resolver: None,
            discovered_port: 53,
            concurrency: 8,
            clock: system_clock(),
        }
    }
}

/// Where one zone's updates go.
#[derive(Clone, Debug)]
pub struct ZoneTarget {
    pub zone: Fqdn,
    pub zone_discovered: bool,
    pub client: DnsClient,
    /// The `[servers.*]` id when configured.
    pub server_id: Option<String>,
    pub server_discovered: bool,
    pub domains: Vec<Domain>,
}

/// A domain that could not be placed in a zone, with why.
#[derive(Debug)]
pub struct DomainFailure {
    pub domain: Fqdn,
    pub error: DnsError,
}

/// Live state of one zone's managed RRsets.
#[derive(Debug)]
pub struct ZoneState {
    pub target: ZoneTarget,
    /// Per domain (same order as `target.domains`): the records read.
    pub current: Result<Vec<Vec<SrvRecord>>, DnsError>,
}

/// Summary of where a zone's records live, for output.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneOrigin {
    pub zone: Fqdn,
    pub zone_discovered: bool,
    pub server: String,
    pub server_address: SocketAddr,
    pub server_discovered: bool,
    pub key: Option<String>,
}

impl ZoneTarget {
    pub fn origin(&self) -> ZoneOrigin {
        ZoneOrigin {
            zone: self.zone.clone(),
            zone_discovered: self.zone_discovered,
            server: self.client.label.clone(),
            server_address: self.client.addr(),
            server_discovered: self.server_discovered,
            key: self.client.key_name(),
        }
    }
}

/// Loads every key the config's servers may use, once.
fn load_keys(config: &Config) -> BTreeMap<String, Result<Arc<TsigKey>, String>> {
    config
        .keys
        .values()
        .map(|spec: &KeySpec| {
            let k = crate::dns::keyfile::load_key(spec)
                .map(Arc::new)
                .map_err(|e| e.to_string());
            (spec.id.clone(), k)
        })
        .collect()
}

/// The resolver for discovery: `--resolver` or the first nameserver of /etc/resolv.conf.
pub fn resolver_client(opts: &NetOptions) -> Result<DnsClient, DnsError> {
    let system = || ResolvConf::system().ok()?.nameservers.first().copied();
    let addr = opts
        .resolver
        .or_else(system)
        .ok_or_else(|| DnsError::Discovery {
            name: Fqdn::from_ascii_unchecked("."),
            reason: "no nameserver in /etc/resolv.conf; pass --resolver ADDR".into(),
        })?;
    let mut c = DnsClient::new(
        Endpoint::new(addr, Transport::Udp, Duration::from_secs(2)),
        format!("resolver {addr}"),
        None,
    );
    c.clock = opts.clock.clone();
    Ok(c)
}

async fn server_addr(spec: &ServerSpec) -> Result<SocketAddr, DnsError> {
    match &spec.address {
        ServerAddress::Socket(a) => Ok(*a),
        ServerAddress::Name { host, port } => {
            let mut addrs = tokio::net::lookup_host((host.as_str(), *port))
                .await
                .map_err(|e| DnsError::Discovery {
                    name: host.clone(),
                    reason: format!("cannot resolve the address of server `{}`: {e}", spec.id),
                })?;
            addrs.next().ok_or_else(|| DnsError::Discovery {
                name: host.clone(),
                reason: format!("server `{}` has no address", spec.id),
            })
        }
    }
}

/// Decides zone and server for every domain and groups the domains per zone.
pub async fn resolve_targets(
    config: &Config,
    opts: &NetOptions,
) -> (Vec<ZoneTarget>, Vec<DomainFailure>) {
    let keys = load_keys(config);
    let mut targets: Vec<ZoneTarget> = Vec::new();
    let mut failures = Vec::new();
    let resolver = resolver_client(opts);
    for domain in &config.domains {
        match place(config, opts, &keys, resolver.as_ref(), domain).await {
            Ok(t) => {
                if let Some(existing) = targets
                    .iter_mut()
                    .find(|e| e.zone == t.zone && e.client.addr() == t.client.addr())
                {
                    existing.domains.push(domain.clone());
                } else {
                    targets.push(t);
                }
            }
            Err(error) => failures.push(DomainFailure {
                domain: domain.name.clone(),
                error,
            }),
        }
    }
    (targets, failures)
}

async fn place(
    config: &Config,
    opts: &NetOptions,
    keys: &BTreeMap<String, Result<Arc<TsigKey>, String>>,
    resolver: Result<&DnsClient, &DnsError>,
    domain: &Domain,
) -> Result<ZoneTarget, DnsError> {
    let spec = domain.server.as_ref().and_then(|id| config.servers.get(id));
    let key = match config.key_for_server(spec) {
        None => None,
        Some(k) => match keys.get(&k.id) {
            Some(Ok(key)) => Some(key.clone()),
            Some(Err(e)) => {
                return Err(DnsError::KeyLoad {
                    key_id: k.id.clone(),
                    message: e.clone(),
                });
            }
            None => None,
        },
    };
    let resolver_err = |e: &DnsError| DnsError::Discovery {
        name: domain.name.clone(),
        reason: e.to_string(),
    };
    let (client, server_discovered, zone_info) = match spec {
        Some(spec) => {
            let addr = server_addr(spec).await?;
            let mut c = DnsClient::new(
                Endpoint::new(addr, spec.transport, spec.timeout),
                format!("{} ({addr})", spec.id),
                key.clone(),
            );
            c.clock = opts.clock.clone();
            (c, false, None)
        }
        None => {
            let resolver = resolver.map_err(resolver_err)?;
            let start = domain.zone.clone().unwrap_or_else(|| domain.name.clone());
            let info = query::find_zone(resolver, &start).await?;
            let ips = query::resolve_addresses(resolver, &info.mname).await?;
            let Some(ip) = ips.first() else {
                return Err(DnsError::Discovery {
                    name: domain.name.clone(),
                    reason: format!(
                        "the primary {} (SOA MNAME of {}) has no A/AAAA record",
                        info.mname, info.zone
                    ),
                });
            };
            let addr = SocketAddr::new(*ip, opts.discovered_port);
            let mut c = DnsClient::new(
                Endpoint::new(addr, Transport::Udp, Duration::from_secs(3)),
                format!("{} ({addr})", info.mname.as_str()),
                key.clone(),
            );
            c.clock = opts.clock.clone();
            (c, true, Some(info))
        }
    };
    let (zone, zone_discovered) = match (&domain.zone, zone_info) {
        (Some(z), _) => (z.clone(), false),
        (None, Some(ZoneInfo { zone, .. })) => (zone, true),
        // A configured server knows its zones: ask it where the domain's zone starts.
        (None, None) => (query::find_zone(&client, &domain.name).await?.zone, true),
    };
    Ok(ZoneTarget {
        zone,
        zone_discovered,
        client,
        server_id: domain.server.clone(),
        server_discovered,
        domains: vec![domain.clone()],
    })
}

/// Reads the managed RRsets of every zone from its server, `opts.concurrency` zones at once.
pub async fn read_state(targets: Vec<ZoneTarget>, opts: &NetOptions) -> Vec<ZoneState> {
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut set = JoinSet::new();
    for (i, target) in targets.into_iter().enumerate() {
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let current = read_zone(&target).await;
            (i, ZoneState { target, current })
        });
    }
    let mut out: Vec<(usize, ZoneState)> = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.expect("state read task does not panic"));
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, s)| s).collect()
}

/// Reads one zone's managed RRsets.
pub async fn read_zone(target: &ZoneTarget) -> Result<Vec<Vec<SrvRecord>>, DnsError> {
    let mut per_domain = Vec::new();
    for d in &target.domains {
        per_domain.push(query::read_srv(&target.client, Some(&target.zone), &d.owner()).await?);
    }
    Ok(per_domain)
}
