//! Renderers: pure functions of the desired state. They never touch the network.
//!
//! Each format module turns a [`DesiredState`] (already filtered into [`ZoneGroup`]s) into a
//! [`Rendered`] document: a header comment and one section per zone (per KMS host for the
//! registry format). On stdout the sections follow the header; with `--out-dir` each section
//! becomes a file that starts with the header. Reading key files (for
//! `named-conf --include-secret`) is the caller's job, so everything here stays pure.
#![warn(missing_docs)]

pub mod bind;
pub mod knot;
pub mod named_conf;
pub mod nsupdate;
pub mod pdns;
pub mod powershell;
pub mod registry;
pub mod table;
pub mod toml;

use crate::model::{DesiredState, Domain, Fqdn, KeySpec, ServerAddress, ServerSpec};

/// The kmsdns version written into every output header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The domains of one zone, in configuration order.
#[derive(Clone, Debug)]
pub struct ZoneGroup<'a> {
    /// The configured zone, or the domain itself when no domain of the group names its zone
    /// (the zone is then discovered at run time by `plan`/`apply`; renderers are pure).
    pub zone: Fqdn,
    /// False when `zone` is only the domain standing in for an unknown enclosing zone.
    pub configured: bool,
    /// The domains of the zone, in configuration order.
    pub domains: Vec<&'a Domain>,
}

/// Groups the configuration's domains by zone, keeping the file's order. With `only`, keeps
/// that zone alone; an unknown zone is an error that names the valid ones.
pub fn zone_groups<'a>(
    config: &'a DesiredState,
    only: Option<&Fqdn>,
) -> Result<Vec<ZoneGroup<'a>>, String> {
    let mut groups: Vec<ZoneGroup<'a>> = Vec::new();
    for d in &config.domains {
        let zone = d.zone.clone().unwrap_or_else(|| d.name.clone());
        match groups.iter_mut().find(|g| g.zone == zone) {
            Some(g) => {
                g.configured |= d.zone.is_some();
                g.domains.push(d);
            }
            None => groups.push(ZoneGroup {
                zone,
                configured: d.zone.is_some(),
                domains: vec![d],
            }),
        }
    }
    let Some(only) = only else {
        return Ok(groups);
    };
    if let Some(g) = groups.iter().find(|g| &g.zone == only) {
        return Ok(vec![g.clone()]);
    }
    let valid: Vec<String> = groups
        .iter()
        .map(|g| {
            if g.configured {
                g.zone.as_str().to_string()
            } else {
                format!("{} (zone not configured)", g.zone.as_str())
            }
        })
        .collect();
    Err(format!(
        "unknown zone `{}` for --zone; the zones in {} are: {}",
        only.as_str(),
        config.path.display(),
        valid.join(", ")
    ))
}

/// One output unit: a zone (or, for the registry, a KMS host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The file name used with `--out-dir` (ASCII: names are A-labels).
    pub file_name: String,
    /// The section's text.
    pub text: String,
}

/// A rendered document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// Printed once before the sections on stdout, and at the top of every file with
    /// `--out-dir`. Empty when the sections carry their own header (registry files must
    /// start with the regedit version line).
    pub header: String,
    /// The sections, in configuration order.
    pub sections: Vec<Section>,
    /// A table's column line: printed once after the header on stdout (the sections then
    /// follow without blank lines, as one table), and at the top of every file.
    pub table_head: Option<String>,
}

impl Rendered {
    /// The whole document as printed on stdout.
    pub fn to_text(&self) -> String {
        if let Some(head) = &self.table_head {
            let mut out = format!("{}\n{head}", self.header);
            for s in &self.sections {
                out.push_str(&s.text);
            }
            return out;
        }
        let mut out = self.header.clone();
        for (i, s) in self.sections.iter().enumerate() {
            if i > 0 || !out.is_empty() {
                out.push_str(if s.text.contains("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                });
            }
            out.push_str(&s.text);
        }
        out
    }

    /// `(file name, contents)` for `--out-dir`: every file starts with the header (and a
    /// table's column line).
    pub fn files(&self) -> Vec<(String, String)> {
        let head = self.table_head.as_deref().unwrap_or("");
        self.sections
            .iter()
            .map(|s| {
                let text = if self.header.is_empty() {
                    format!("{head}{}", s.text)
                } else {
                    format!("{}\n{head}{}", self.header, s.text)
                };
                (s.file_name.clone(), text)
            })
            .collect()
    }
}

/// The header every output starts with: what it is, which kmsdns and config made it, and
/// how to apply it. `comment` is the format's comment prefix (`;`, `#`, `//`).
pub fn header(comment: &str, what: &str, config: &DesiredState, apply: &[&str]) -> String {
    let mut out = String::new();
    out.push_str(&format!("{comment} {what}\n"));
    out.push_str(&format!(
        "{comment} Generated by kmsdns {VERSION} from {}; do not edit by hand, edit the TOML and render again.\n",
        config.path.display()
    ));
    for (i, line) in apply.iter().enumerate() {
        let lead = if i == 0 { "Apply:" } else { "      " };
        out.push_str(&format!("{comment} {lead} {line}\n"));
    }
    out
}

/// The server a domain's updates go to, when configured.
pub fn domain_server<'a>(config: &'a DesiredState, domain: &Domain) -> Option<&'a ServerSpec> {
    config.server_of(domain)
}

/// The TSIG key that signs a domain's updates: its server's key, else `[defaults].key`.
pub fn domain_key<'a>(config: &'a DesiredState, domain: &Domain) -> Option<&'a KeySpec> {
    config.key_of(domain)
}

/// The server's host part without the port: an IP address or a name (no trailing dot).
pub fn server_host(address: &ServerAddress) -> String {
    address.host()
}

/// The server's port.
pub fn server_port(address: &ServerAddress) -> u16 {
    address.port()
}

/// `corp.example.com` or `xn--bcher-kva.example (bücher.example)`.
pub fn display_domain(name: &Fqdn) -> String {
    match name.unicode() {
        Some(u) => format!("{} ({u})", name.as_str()),
        None => name.as_str().to_string(),
    }
}

/// The zone-relative owner name of a domain's `_vlmcs._tcp` RRset (`_vlmcs._tcp` at the apex).
pub fn relative_owner(domain: &Domain, zone: &Fqdn) -> String {
    domain
        .owner()
        .relative_to(zone)
        .unwrap_or_else(|| domain.owner().to_string())
}

/// The keys the zones use, in order of first use, without duplicates.
pub fn used_keys<'a>(config: &'a DesiredState, groups: &[ZoneGroup<'_>]) -> Vec<&'a KeySpec> {
    let mut keys: Vec<&KeySpec> = Vec::new();
    for d in groups.iter().flat_map(|g| &g.domains) {
        if let Some(k) = domain_key(config, d)
            && !keys.iter().any(|x| x.id == k.id)
        {
            keys.push(k);
        }
    }
    keys
}

/// What one key may change in one zone: the `_vlmcs._tcp` owners of its domains there.
#[derive(Clone, Debug)]
pub struct KeyGrant<'a> {
    /// The key.
    pub key: &'a KeySpec,
    /// Absolute owner names, in configuration order, without duplicates.
    pub owners: Vec<Fqdn>,
}

/// A zone's least-privilege grants, one per key (in order of first use), and the domains
/// that have no key (kmsdns updates them unsigned, which a grant cannot allow).
pub fn zone_grants<'a, 'g>(
    config: &'a DesiredState,
    group: &ZoneGroup<'g>,
) -> (Vec<KeyGrant<'a>>, Vec<&'g Domain>) {
    let mut grants: Vec<KeyGrant<'a>> = Vec::new();
    let mut unsigned = Vec::new();
    for d in &group.domains {
        let Some(key) = domain_key(config, d) else {
            unsigned.push(*d);
            continue;
        };
        let owner = d.owner();
        match grants.iter_mut().find(|g| g.key.id == key.id) {
            Some(g) if g.owners.contains(&owner) => {}
            Some(g) => g.owners.push(owner),
            None => grants.push(KeyGrant {
                key,
                owners: vec![owner],
            }),
        }
    }
    (grants, unsigned)
}

/// [`zone_grants`] without GSS-TSIG keys, for servers that do not support GSS-TSIG (Knot,
/// PowerDNS): a grant naming such a key would refer to a key the server cannot have.
pub fn zone_grants_hmac<'a, 'g>(
    config: &'a DesiredState,
    group: &ZoneGroup<'g>,
) -> (Vec<KeyGrant<'a>>, Vec<&'g Domain>) {
    let (grants, unsigned) = zone_grants(config, group);
    let grants = grants
        .into_iter()
        .filter(|g| !matches!(g.key.source, crate::model::KeySource::Gss(_)))
        .collect();
    (grants, unsigned)
}
