//! The desired state: what the configuration file asks for, validated. Built by `config`,
//! read by `plan`, `render`, `verify` and `app`; the secrets themselves are never here.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::{Fqdn, SrvRecord, Transport, TsigAlgorithm};

/// The default values the file's `[defaults]` table may override.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Defaults {
    /// TTL of the records, in seconds (default 3600).
    pub ttl: u32,
    /// Port the KMS hosts listen on (default 1688).
    pub port: u16,
    /// SRV priority (default 0; lower is tried first).
    pub priority: u16,
    /// SRV weight among equal priorities (default 0).
    pub weight: u16,
    /// Whether targets the file does not list are deleted (default true).
    pub prune: bool,
    /// Key id (a `[keys.*]` table name) for servers discovered from the zone's SOA.
    pub key: Option<String>,
    /// Tries after the first one, for servers that do not set their own.
    pub retries: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            ttl: 3600,
            port: super::KMS_DEFAULT_PORT,
            priority: 0,
            weight: 0,
            prune: true,
            key: None,
            retries: super::DEFAULT_RETRIES,
        }
    }
}

/// Where a TSIG secret comes from. The secret itself never lives in the config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum KeySource {
    /// A BIND key file (`key "name" { algorithm …; secret "…"; };`), path resolved
    /// against the config file's directory.
    File(PathBuf),
    /// An environment variable holding the base64 secret, or nsupdate's `-y` form
    /// `[alg:]name:secret`.
    Env(String),
    /// No shared secret: a Kerberos credential and a GSS-TSIG context negotiated per server
    /// (`type = "gss-tsig"`).
    Gss(super::GssKeySpec),
}

/// A `[keys.<id>]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeySpec {
    /// The table name, used to refer to the key from servers and defaults.
    pub id: String,
    /// The TSIG key name on the wire (defaults to `id`).
    pub name: String,
    /// Where the secret comes from.
    pub source: KeySource,
    /// Required for `secret_env` (default hmac-sha256); for key files, when given, it must
    /// match the file.
    pub algorithm: Option<TsigAlgorithm>,
}

/// How to reach a server: an address, or a name resolved when needed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ServerAddress {
    /// An IP address and port.
    Socket(SocketAddr),
    /// A host name, resolved through the resolver when needed, and a port.
    Name {
        /// The server's host name.
        host: Fqdn,
        /// The port.
        port: u16,
    },
}

impl ServerAddress {
    /// The host part without the port: an IP address or a name (no trailing dot).
    pub fn host(&self) -> String {
        match self {
            ServerAddress::Socket(a) => a.ip().to_string(),
            ServerAddress::Name { host, .. } => host.as_str().to_string(),
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        match self {
            ServerAddress::Socket(a) => a.port(),
            ServerAddress::Name { port, .. } => *port,
        }
    }
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerAddress::Socket(a) => write!(f, "{a}"),
            ServerAddress::Name { host, port } => write!(f, "{}:{port}", host.as_str()),
        }
    }
}

/// A `[servers.<id>]` table: where updates and state reads go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerSpec {
    /// The table name (`[servers.<id>]`).
    pub id: String,
    /// Where the server is: one address or several, tried in order when the ones before
    /// cannot be reached or time out. Never empty.
    pub addresses: Vec<ServerAddress>,
    /// Key id; `None` falls back to `[defaults].key`, and with neither, messages go unsigned.
    pub key: Option<String>,
    /// UDP (with TCP fallback) or TCP only.
    pub transport: Transport,
    /// Per try; at most [`super::MAX_TIMEOUT`].
    pub timeout: Duration,
    /// Tries after the first one: an exchange costs at most `(retries + 1) × timeout`.
    pub retries: u32,
    /// Messages (reads, updates) in flight to this server at once, 1..=[`super::MAX_MAX_INFLIGHT`].
    pub max_inflight: u32,
}

impl ServerSpec {
    /// The first address (the one tried first).
    pub fn address(&self) -> &ServerAddress {
        &self.addresses[0]
    }

    /// Every address, comma-separated, in the order they are tried.
    pub fn address_list(&self) -> String {
        self.addresses
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A `[[hosts]]` entry with defaults applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Host {
    /// The KMS host name, the SRV target.
    pub name: Fqdn,
    /// The port it listens on.
    pub port: u16,
    /// SRV priority.
    pub priority: u16,
    /// SRV weight.
    pub weight: u16,
    /// TTL of its records, in seconds.
    pub ttl: u32,
}

/// A `[[domains]]` entry: a DNS domain whose clients must find the KMS hosts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Domain {
    /// The client DNS domain (the records go at `_vlmcs._tcp.<name>`).
    pub name: Fqdn,
    /// The desired `_vlmcs._tcp.<name>` records, sorted by target.
    pub records: Vec<SrvRecord>,
    /// The zone the records live in; `None` = discovered from the SOA.
    pub zone: Option<Fqdn>,
    /// Server id; `None` = the zone's primary from the SOA MNAME.
    pub server: Option<String>,
    /// Whether targets the file does not list are deleted (`false`: kept and reported).
    pub prune: bool,
}

impl Domain {
    /// `_vlmcs._tcp.<domain>`.
    pub fn owner(&self) -> Fqdn {
        self.name.kms_owner()
    }
}

/// Everything the configuration file asks for, validated before any network I/O.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DesiredState {
    /// The file it was read from.
    pub path: PathBuf,
    /// SHA-256 of the file's text (hex), recorded in saved plans.
    pub sha256: String,
    /// The `[defaults]` table, with built-in defaults for what it leaves out.
    pub defaults: Defaults,
    /// The `[keys.*]` tables, by id.
    pub keys: BTreeMap<String, KeySpec>,
    /// The `[servers.*]` tables, by id.
    pub servers: BTreeMap<String, ServerSpec>,
    /// The `[[hosts]]` entries: the KMS hosts, in file order.
    pub hosts: Vec<Host>,
    /// The `[[domains]]` entries, in file order.
    pub domains: Vec<Domain>,
    /// DNS suffixes clients search (for `verify`); empty = read resolv.conf.
    pub client_suffixes: Vec<Fqdn>,
}

impl DesiredState {
    /// The key a server uses: its own, else `[defaults].key`.
    pub fn key_for_server(&self, server: Option<&ServerSpec>) -> Option<&KeySpec> {
        let id = server
            .and_then(|s| s.key.as_deref())
            .or(self.defaults.key.as_deref())?;
        self.keys.get(id)
    }

    /// The configured server of a domain, if any.
    pub fn server_of(&self, domain: &Domain) -> Option<&ServerSpec> {
        domain.server.as_deref().and_then(|id| self.servers.get(id))
    }

    /// The key that signs a domain's messages: its server's key, else `[defaults].key`.
    pub fn key_of(&self, domain: &Domain) -> Option<&KeySpec> {
        self.key_for_server(self.server_of(domain))
    }

    /// Number of desired SRV records over all domains.
    pub fn record_count(&self) -> usize {
        self.domains.iter().map(|d| d.records.len()).sum()
    }
}
