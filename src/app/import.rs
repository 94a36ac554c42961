//! `import`: read live `_vlmcs._tcp` SRV RRsets and write the kmsdns TOML that reproduces
//! them (`render::toml` writes the file). Names come from the command line, a file, or a
//! zone transfer; records are read from `--server` or from each zone's primary (SOA MNAME)
//! found through the resolver, like `plan` does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::NetOptions;
use crate::dns::discovery;
use crate::dns::transport::Endpoint;
use crate::dns::tsig::TsigKey;
use crate::dns::{DnsClient, axfr, query};
use crate::error::{Error, Result};
use crate::model::{Fqdn, KMS_SERVICE, Transport};
pub use crate::render::toml::ImportOutput;
use crate::render::toml::{ImportDomain, ImportInput, ImportKey, ImportServer};

/// Per try, for every read.
const TIMEOUT: Duration = Duration::from_secs(3);

/// What to import.
pub struct ImportRequest {
    /// Domain names (or `_vlmcs._tcp.` owners) with where each came from.
    pub names: Vec<(String, String)>,
    /// Zones whose `_vlmcs._tcp` owners are listed by AXFR.
    pub zones: Vec<String>,
    /// Read everything here instead of each zone's primary.
    pub server: Option<SocketAddr>,
    /// A BIND key file that signs the reads and the transfer (written into the config).
    pub key_file: Option<PathBuf>,
    /// Resolver and port for finding each zone's primary when `server` is not given.
    pub net: NetOptions,
}

/// The names of a `--from-file` file: one per line, `#` starts a comment; each with
/// `FILE:LINE` as its origin.
pub fn names_from_file(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Usage {
        message: format!(
            "--from-file: cannot read {}: {e}; nothing was sent",
            path.display()
        ),
    })?;
    Ok(text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let name = l.split('#').next().unwrap_or("").trim();
            (!name.is_empty()).then(|| (name.to_string(), format!("{}:{}", path.display(), i + 1)))
        })
        .collect())
}

fn usage(message: String) -> Error {
    Error::Usage { message }
}

/// A domain name from the user: `corp.example.com` or `_vlmcs._tcp.corp.example.com`.
fn domain_of(text: &str) -> Result<Fqdn> {
    let prefix = format!("{KMS_SERVICE}.");
    let bare = text.trim();
    let bare = bare.strip_prefix(prefix.as_str()).unwrap_or(bare);
    Fqdn::parse_domain(bare).map_err(|e| usage(format!("`{text}` is not a domain name: {e}")))
}

fn load_key(path: &Path) -> Result<(Arc<TsigKey>, ImportKey)> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        usage(format!(
            "--key: cannot read key file {}: {e}",
            path.display()
        ))
    })?;
    let keys = crate::dns::tsig::parse_key_file(path, &text)
        .map_err(|e| usage(format!("--key {}: {e}", path.display())))?;
    let Some(key) = keys.into_iter().next() else {
        return Err(usage(format!(
            "--key {}: no key statement in the file",
            path.display()
        )));
    };
    let file = std::path::absolute(path).map_err(|source| Error::Io {
        context: format!("cannot resolve {}", path.display()),
        source,
    })?;
    let spec = ImportKey {
        name: key.name.trim_end_matches('.').to_string(),
        file: file.display().to_string(),
    };
    Ok((Arc::new(key), spec))
}

/// Where records are read: clients by server id, and the servers as they go into the file.
struct Servers {
    key: Option<Arc<TsigKey>>,
    net: NetOptions,
    clients: HashMap<String, DnsClient>,
    list: Vec<ImportServer>,
    /// Primary (SOA MNAME) → server id.
    by_mname: HashMap<Fqdn, String>,
}

impl Servers {
    fn add(&mut self, id: String, addr: SocketAddr, origin: String) {
        let mut endpoint = Endpoint::new(addr, Transport::Udp, TIMEOUT);
        endpoint.tries = 3;
        let mut client = DnsClient::new(endpoint, format!("{id} ({addr})"), self.key.clone());
        client.clock = self.net.clock.clone();
        self.clients.insert(id.clone(), client);
        self.list.push(ImportServer {
            id,
            address: addr.to_string(),
            key: self
                .key
                .as_ref()
                .map(|k| k.name.trim_end_matches('.').to_string()),
            origin,
        });
    }

    /// The zone of `name` and the server id to read it from.
    async fn place(&mut self, name: &Fqdn) -> Result<(Fqdn, String, String)> {
        let runtime = |e: crate::dns::DnsError| Error::Runtime(format!("{e} ({})", e.hint()));
        if let Some(client) = self
            .clients
            .get("primary")
            .filter(|_| self.by_mname.is_empty())
        {
            let info = discovery::find_zone(client, name).await.map_err(runtime)?;
            return Ok((info.zone, "primary".into(), "the SOA on --server".into()));
        }
        let resolver = discovery::resolver_client(self.net.resolver, self.net.clock.clone())
            .map_err(runtime)?;
        let info = discovery::find_zone(&resolver, name)
            .await
            .map_err(runtime)?;
        let origin = format!("the SOA through {}", resolver.label);
        if let Some(id) = self.by_mname.get(&info.mname) {
            return Ok((info.zone, id.clone(), origin));
        }
        let ips = discovery::resolve_addresses(&resolver, &info.mname)
            .await
            .map_err(runtime)?;
        let Some(ip) = ips.first() else {
            return Err(Error::Runtime(format!(
                "the primary {} (SOA MNAME of {}) has no A/AAAA record; pass --server ADDR",
                info.mname, info.zone
            )));
        };
        let id = info.mname.as_str().replace('.', "-");
        let addr = SocketAddr::new(*ip, self.net.discovered_port);
        self.add(
            id.clone(),
            addr,
            format!("{}, the SOA MNAME of {}", info.mname, info.zone),
        );
        self.by_mname.insert(info.mname, id.clone());
        Ok((info.zone, id, origin))
    }
}

/// Reads the RRsets and writes the configuration text. Read failures of single domains are
/// in the output (`not_read`), not errors; bad input is a usage error.
pub async fn import(req: &ImportRequest) -> Result<ImportOutput> {
    let (key, key_spec) = match &req.key_file {
        Some(p) => {
            let (k, s) = load_key(p)?;
            (Some(k), Some(s))
        }
        None => (None, None),
    };
    let mut servers = Servers {
        key,
        net: req.net.clone(),
        clients: HashMap::new(),
        list: Vec::new(),
        by_mname: HashMap::new(),
    };
    if let Some(addr) = req.server {
        servers.add("primary".into(), addr, format!("--server {addr}"));
    }
    // (domain, origin, known zone)
    let mut wanted: Vec<(Fqdn, String, Option<Fqdn>)> = Vec::new();
    for (text, origin) in &req.names {
        wanted.push((domain_of(text)?, origin.clone(), None));
    }
    let mut transferred: Vec<(Fqdn, String)> = Vec::new();
    for z in &req.zones {
        let zone = Fqdn::parse_domain(z).map_err(|e| usage(format!("--zone {z}: {e}")))?;
        let (_, id, _) = servers.place(&zone).await?;
        let client = &servers.clients[&id];
        let owners = axfr::kms_owners(client, &zone)
            .await
            .map_err(|e| Error::Runtime(format!("{e} ({})", e.hint())))?;
        tracing::info!(zone = %zone, owners = owners.len(), "zone transferred");
        transferred.push((zone.clone(), id.clone()));
        for owner in owners {
            let domain = owner.as_str()[KMS_SERVICE.len() + 1..].to_string();
            wanted.push((
                Fqdn::from_ascii_unchecked(&domain),
                format!("the AXFR of {zone}"),
                Some(zone.clone()),
            ));
        }
    }
    // The server each transferred zone was read from: no second discovery for its domains.
    let mut zone_server: HashMap<Fqdn, String> = HashMap::new();
    zone_server.extend(transferred);
    let mut domains: Vec<ImportDomain> = Vec::new();
    for (name, origin, zone) in wanted {
        if domains.iter().any(|d| d.name == name) {
            continue;
        }
        let placed = match &zone {
            Some(z) if zone_server.contains_key(z) => {
                Ok((z.clone(), zone_server[z].clone(), "--zone".to_string()))
            }
            Some(z) => servers
                .place(z)
                .await
                .map(|(_, id, _)| (z.clone(), id, "--zone".to_string())),
            None => servers.place(&name).await,
        };
        let (zone, server, zone_origin) = match placed {
            Ok(p) => p,
            Err(e) => {
                domains.push(ImportDomain {
                    name: name.clone(),
                    zone: name,
                    zone_origin: String::new(),
                    server: String::new(),
                    origin,
                    records: Err(e.to_string()),
                });
                continue;
            }
        };
        let client = &servers.clients[&server];
        let records = query::read_srv(client, Some(&zone), &name.kms_owner())
            .await
            .map_err(|e| format!("{e} ({})", e.hint()));
        domains.push(ImportDomain {
            name,
            zone,
            zone_origin,
            server,
            origin,
            records,
        });
    }
    let mut header = vec![format!(
        "kmsdns configuration written by `kmsdns import` (kmsdns {}) from the live _vlmcs._tcp SRV records.",
        crate::render::VERSION
    )];
    if !req.zones.is_empty() {
        header.push(format!(
            "Names from the zone transfer (AXFR) of: {}.",
            req.zones.join(", ")
        ));
    }
    Ok(crate::render::toml::render(&ImportInput {
        header,
        key: key_spec,
        servers: servers.list,
        domains,
    }))
}
