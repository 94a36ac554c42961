//! The declarative configuration: what the TOML file says, validated before any network I/O.
//!
//! Loading has two stages (see `raw.rs` and `validate.rs`); every problem is reported at once
//! with file:line:col, the key path and a hint.

mod diag;
mod raw;
mod schema;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use diag::{ConfigErrors, Diagnostic, line_col};

use crate::model::{Fqdn, SrvRecord, TsigAlgorithm};

/// The default values the file's `[defaults]` table may override.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Defaults {
    pub ttl: u32,
    pub port: u16,
    pub priority: u16,
    pub weight: u16,
    pub prune: bool,
    /// Key id (a `[keys.*]` table name) for servers discovered from the zone's SOA.
    pub key: Option<String>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            ttl: 3600,
            port: crate::model::KMS_DEFAULT_PORT,
            priority: 0,
            weight: 0,
            prune: true,
            key: None,
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
}

/// A `[keys.<id>]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeySpec {
    /// The table name, used to refer to the key from servers and defaults.
    pub id: String,
    /// The TSIG key name on the wire (defaults to `id`).
    pub name: String,
    pub source: KeySource,
    /// Required for `secret_env` (default hmac-sha256); for key files, when given, it must
    /// match the file.
    pub algorithm: Option<TsigAlgorithm>,
}

/// How to reach a server: an address, or a name resolved when needed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ServerAddress {
    Socket(SocketAddr),
    Name { host: Fqdn, port: u16 },
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerAddress::Socket(a) => write!(f, "{a}"),
            ServerAddress::Name { host, port } => write!(f, "{}:{port}", host.as_str()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP first, TCP when the reply is truncated or the message is too large for UDP.
    Udp,
    /// TCP only.
    Tcp,
}

/// A `[servers.<id>]` table: where updates and state reads go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerSpec {
    pub id: String,
    pub address: ServerAddress,
    /// Key id; `None` falls back to `[defaults].key`, and with neither, messages go unsigned.
    pub key: Option<String>,
    pub transport: Transport,
    pub timeout: Duration,
}

/// A `[[hosts]]` entry with defaults applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Host {
    pub name: Fqdn,
    pub port: u16,
    pub priority: u16,
    pub weight: u16,
    pub ttl: u32,
}

/// A `[[domains]]` entry: a DNS domain whose clients must find the KMS hosts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Domain {
    pub name: Fqdn,
    /// The desired `_vlmcs._tcp.<name>` records, sorted by target.
    pub records: Vec<SrvRecord>,
    /// The zone the records live in; `None` = discovered from the SOA.
    pub zone: Option<Fqdn>,
    /// Server id; `None` = the zone's primary from the SOA MNAME.
    pub server: Option<String>,
    pub prune: bool,
}

impl Domain {
    /// `_vlmcs._tcp.<domain>`.
    pub fn owner(&self) -> Fqdn {
        self.name.kms_owner()
    }
}

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    pub defaults: Defaults,
    pub keys: BTreeMap<String, KeySpec>,
    pub servers: BTreeMap<String, ServerSpec>,
    pub hosts: Vec<Host>,
    pub domains: Vec<Domain>,
    /// DNS suffixes clients search (for `verify`); empty = read resolv.conf.
    pub client_suffixes: Vec<Fqdn>,
    /// SHA-256 of the file's text (hex), recorded in saved plans.
    pub sha256: String,
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors::whole_file(
                path,
                format!("cannot read the configuration file: {e}"),
                "pass the file with -c FILE or KMSDNS_CONFIG, or create kmsdns.toml (see config.example.toml)",
            )
        })?;
        Self::from_str(path, &text)
    }

    /// Validates configuration text; `path` names it in errors and anchors relative key
    /// file paths.
    pub fn from_str(path: &Path, text: &str) -> Result<Config, ConfigErrors> {
        validate::validate(path, text)
            .map(|mut c| {
                c.sha256 = sha256_hex(text.as_bytes());
                c
            })
            .map_err(|diagnostics| ConfigErrors {
                file: path.to_path_buf(),
                source_text: text.to_string(),
                diagnostics,
            })
    }

    /// The key a server uses: its own, else `[defaults].key`.
    pub fn key_for_server(&self, server: Option<&ServerSpec>) -> Option<&KeySpec> {
        let id = server
            .and_then(|s| s.key.as_deref())
            .or(self.defaults.key.as_deref())?;
        self.keys.get(id)
    }

    /// Number of desired SRV records over all domains.
    pub fn record_count(&self) -> usize {
        self.domains.iter().map(|d| d.records.len()).sum()
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
