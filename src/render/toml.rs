//! `kmsdns import`'s output: a kmsdns TOML file that reproduces live `_vlmcs._tcp` RRsets.
//! Pure: the caller reads the DNS and hands the records over.
//!
//! Written by hand, line by line, rather than serialised with the `toml` crate: the file is
//! for people (it is kept in git and reviewed), so it needs what serialisation cannot give —
//! comments saying where each domain, host and server came from, the `# not imported:` block,
//! the layout of config.example.toml (`[[hosts]]` before `[[domains]]`, `hosts = [ … ]` one
//! entry per line, a plain name where no override is needed). The `toml` crate still quotes
//! every string value ([`quote`]), so a path or name with odd characters stays valid TOML.
//!
//! Rules: an RRset whose records have different TTLs (RFC 2181 §5.2 forbids that) or that
//! holds two records for one target (kmsdns keeps one record per host and domain) is not
//! imported at all; a record whose target is not a host name kmsdns accepts (an address, a
//! single label) is left out and its domain gets `prune = false`, so `apply` keeps it. Each
//! host's values are its most common ones (ties: the smallest); `[defaults]` takes the most
//! common host values; a domain lists a table entry only where it differs.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::{Fqdn, SrvRecord};

/// A TSIG key the records were read with.
#[derive(Clone, Debug)]
pub struct ImportKey {
    /// The key's name, also the `[keys.*]` table name.
    pub name: String,
    /// The key file as it should be written into the config.
    pub file: String,
}

/// A server the records were read from.
#[derive(Clone, Debug)]
pub struct ImportServer {
    /// The `[servers.ID]` table name.
    pub id: String,
    /// `address` as written into the config (`IP:PORT`).
    pub address: String,
    /// The `[keys.ID]` that signs for it.
    pub key: Option<String>,
    /// Where it came from, e.g. `--server` or `SOA MNAME ns1.example.com. of example.com.`.
    pub origin: String,
}

/// One domain as read.
#[derive(Clone, Debug)]
pub struct ImportDomain {
    /// The client domain (`_vlmcs._tcp.` stripped).
    pub name: Fqdn,
    /// The zone its records live in.
    pub zone: Fqdn,
    /// How the zone was found, e.g. `SOA` or `--zone`.
    pub zone_origin: String,
    /// The `[servers.ID]` it was read from.
    pub server: String,
    /// Where the name came from, e.g. `argument`, `names.txt:3`, `AXFR of example.com.`.
    pub origin: String,
    /// The RRset as read, or why it could not be read.
    pub records: Result<Vec<SrvRecord>, String>,
}

/// Everything the file is made from.
#[derive(Clone, Debug)]
pub struct ImportInput {
    /// Lines for the header comment (what was asked, from where).
    pub header: Vec<String>,
    /// The key, when the reads were signed.
    pub key: Option<ImportKey>,
    /// The servers read from.
    pub servers: Vec<ImportServer>,
    /// Every domain, in the order asked.
    pub domains: Vec<ImportDomain>,
}

/// The file and what it leaves out.
#[derive(Clone, Debug, Default)]
pub struct ImportOutput {
    /// The configuration text.
    pub toml: String,
    /// Records kmsdns cannot express, one line each with the reason.
    pub not_imported: Vec<String>,
    /// Domains that could not be read, with the error.
    pub not_read: Vec<String>,
}

/// A TOML basic string, quoted and escaped by the `toml` crate.
pub fn quote(s: &str) -> String {
    ::toml::Value::String(s.to_string()).to_string()
}

/// A table-name key: bare when TOML allows it, quoted otherwise (`kms.update` has dots).
fn table_key(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        s.to_string()
    } else {
        quote(s)
    }
}

/// SRV values of a host or an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Values {
    port: u16,
    priority: u16,
    weight: u16,
    ttl: u32,
}

impl Values {
    fn of(r: &SrvRecord) -> Self {
        Values {
            port: r.port,
            priority: r.priority,
            weight: r.weight,
            ttl: r.ttl,
        }
    }

    /// `key = value` pairs of `self` that differ from `base`.
    fn differences(&self, base: &Values) -> Vec<String> {
        let mut out = Vec::new();
        if self.port != base.port {
            out.push(format!("port = {}", self.port));
        }
        if self.priority != base.priority {
            out.push(format!("priority = {}", self.priority));
        }
        if self.weight != base.weight {
            out.push(format!("weight = {}", self.weight));
        }
        if self.ttl != base.ttl {
            out.push(format!("ttl = {}", self.ttl));
        }
        out
    }
}

/// The most common value; ties go to the smallest.
fn mode<T: Ord + Copy>(values: impl IntoIterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(v, _)| v)
}

fn mode_values(all: &[Values]) -> Values {
    Values {
        port: mode(all.iter().map(|v| v.port)).unwrap_or(crate::model::KMS_DEFAULT_PORT),
        priority: mode(all.iter().map(|v| v.priority)).unwrap_or(0),
        weight: mode(all.iter().map(|v| v.weight)).unwrap_or(0),
        ttl: mode(all.iter().map(|v| v.ttl)).unwrap_or(3600),
    }
}

/// A domain that will be written: its expressible records and whether foreign ones stay.
struct Kept<'a> {
    domain: &'a ImportDomain,
    records: Vec<SrvRecord>,
    left_out: usize,
}

fn line(owner: &Fqdn, r: &SrvRecord, why: &str) -> String {
    format!("{owner} {r}  ({why})")
}

/// Sorts the domains into those written and the records left out.
fn sift<'a>(input: &'a ImportInput, out: &mut ImportOutput) -> Vec<Kept<'a>> {
    let mut kept = Vec::new();
    for d in &input.domains {
        let owner = d.name.kms_owner();
        let records = match &d.records {
            Ok(r) => r,
            Err(e) => {
                out.not_read.push(format!("{owner}: {e}"));
                continue;
            }
        };
        let all = |why: &str, out: &mut ImportOutput| {
            for r in records {
                out.not_imported.push(line(&owner, r, why));
            }
        };
        if let Err(e) = Fqdn::parse_domain(d.name.as_str()) {
            all(
                &format!("the domain is not a name kmsdns accepts: {e}"),
                out,
            );
            continue;
        }
        if records.iter().any(|r| r.ttl != records[0].ttl) {
            all(
                "the records of this RRset have different TTLs; one RRset has one TTL (RFC 2181 §5.2), so kmsdns would change them: set one TTL, then import again",
                out,
            );
            continue;
        }
        let mut good: Vec<SrvRecord> = Vec::new();
        let mut left_out = 0;
        for r in records {
            match Fqdn::parse_host(r.target.as_str()) {
                Ok(_) => good.push(r.clone()),
                Err(e) => {
                    left_out += 1;
                    out.not_imported.push(line(
                        &owner,
                        r,
                        &format!("the target is not a host name kmsdns accepts: {e}; the domain gets prune = false so apply keeps it"),
                    ));
                }
            }
        }
        let dup = good.windows(2).any(|w| w[0].target == w[1].target);
        if dup {
            all(
                "two records for one target in this RRset (kmsdns keeps one record per host and domain): remove one, then import again",
                out,
            );
            continue;
        }
        kept.push(Kept {
            domain: d,
            records: good,
            left_out,
        });
    }
    kept
}

/// Writes the configuration; see the module comment for the rules.
pub fn render(input: &ImportInput) -> ImportOutput {
    let mut out = ImportOutput::default();
    let mut kept = sift(input, &mut out);
    for k in &mut kept {
        k.records.sort_by(|a, b| {
            (a.priority, a.weight, &a.target).cmp(&(b.priority, b.weight, &b.target))
        });
    }
    // Hosts in order of first appearance, with the domains that name them.
    let mut hosts: Vec<(Fqdn, Vec<Values>, Vec<Fqdn>)> = Vec::new();
    for k in &kept {
        for r in &k.records {
            let i = match hosts.iter().position(|(h, _, _)| *h == r.target) {
                Some(i) => i,
                None => {
                    hosts.push((r.target.clone(), Vec::new(), Vec::new()));
                    hosts.len() - 1
                }
            };
            hosts[i].1.push(Values::of(r));
            hosts[i].2.push(k.domain.name.clone());
        }
    }
    let host_values: Vec<Values> = hosts.iter().map(|(_, v, _)| mode_values(v)).collect();
    let defaults = mode_values(&host_values);

    let t = &mut out.toml;
    for h in &input.header {
        let _ = writeln!(t, "# {h}");
    }
    let _ = writeln!(
        t,
        "# Check it with `kmsdns validate`; `kmsdns plan` then reports no changes.\n"
    );
    let _ = writeln!(
        t,
        "[defaults]                 # the most common values of the hosts below"
    );
    let _ = writeln!(t, "ttl = {}", defaults.ttl);
    let _ = writeln!(t, "port = {}", defaults.port);
    let _ = writeln!(t, "priority = {}", defaults.priority);
    let _ = writeln!(t, "weight = {}", defaults.weight);
    let _ = writeln!(t, "prune = true");
    if let Some(k) = &input.key {
        let _ = writeln!(
            t,
            "\n# The TSIG key the records were read with (--key). The secret stays in the file."
        );
        let _ = writeln!(t, "[keys.{}]", table_key(&k.name));
        let _ = writeln!(t, "file = {}", quote(&k.file));
    }
    for s in &input.servers {
        let _ = writeln!(t, "\n# Records were read here: {}.", s.origin);
        let _ = writeln!(t, "[servers.{}]", table_key(&s.id));
        let _ = writeln!(t, "address = {}", quote(&s.address));
        if let Some(k) = &s.key {
            let _ = writeln!(t, "key = {}", quote(k));
        }
    }
    if !hosts.is_empty() {
        let _ = writeln!(
            t,
            "\n# KMS hosts: every SRV target, once. Each host's values are its most common ones."
        );
    }
    for ((name, _, domains), v) in hosts.iter().zip(&host_values) {
        let mut ds: Vec<&str> = domains.iter().map(|d| d.as_str()).collect();
        ds.dedup();
        let _ = writeln!(t, "\n# target in {}", ds.join(", "));
        let _ = writeln!(t, "[[hosts]]");
        let _ = writeln!(t, "name = {}", quote(name.as_str()));
        for d in v.differences(&defaults) {
            let _ = writeln!(t, "{d}");
        }
    }
    for k in &kept {
        write_domain(t, k, &hosts, &host_values);
    }
    if !out.not_imported.is_empty() || !out.not_read.is_empty() {
        let _ = writeln!(
            t,
            "\n# not imported: kmsdns cannot express these records; they were left out of this file"
        );
        for l in &out.not_imported {
            let _ = writeln!(t, "#   {l}");
        }
        for l in &out.not_read {
            let _ = writeln!(t, "#   not read: {l}");
        }
    }
    out
}

fn write_domain(
    t: &mut String,
    k: &Kept<'_>,
    hosts: &[(Fqdn, Vec<Values>, Vec<Fqdn>)],
    host_values: &[Values],
) {
    let d = k.domain;
    let _ = writeln!(
        t,
        "\n# {} — {} record(s) read from {}; name from {}, zone from {}",
        d.name.kms_owner(),
        k.records.len() + k.left_out,
        d.server,
        d.origin,
        d.zone_origin
    );
    let _ = writeln!(t, "[[domains]]");
    let _ = writeln!(t, "name = {}", quote(d.name.as_str()));
    let _ = writeln!(t, "zone = {}", quote(d.zone.as_str()));
    let _ = writeln!(t, "server = {}", quote(&d.server));
    let entries: Vec<String> = k
        .records
        .iter()
        .map(|r| {
            let i = hosts
                .iter()
                .position(|(h, _, _)| *h == r.target)
                .expect("every kept target is a host");
            let diff = Values::of(r).differences(&host_values[i]);
            if diff.is_empty() {
                quote(r.target.as_str())
            } else {
                format!(
                    "{{ name = {}, {} }}",
                    quote(r.target.as_str()),
                    diff.join(", ")
                )
            }
        })
        .collect();
    let every_host = k.records.len() == hosts.len()
        && entries.iter().all(|e| !e.starts_with('{'))
        && k.left_out == 0;
    if every_host {
        let _ = writeln!(t, "# hosts: every [[hosts]] entry, with its own values");
    } else if entries.is_empty() {
        let _ = writeln!(t, "hosts = []                 # no kmsdns record there now");
    } else {
        let _ = writeln!(t, "hosts = [");
        for e in &entries {
            let _ = writeln!(t, "  {e},");
        }
        let _ = writeln!(t, "]");
    }
    if k.left_out > 0 {
        let _ = writeln!(
            t,
            "prune = false              # keeps the {} record(s) listed under `not imported`",
            k.left_out
        );
    }
}
