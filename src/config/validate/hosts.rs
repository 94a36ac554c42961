//! `[[hosts]]` and `[[domains]]` entries: the desired SRV records.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::Validator;
use crate::config::raw::{RawDomain, RawHost, RawHostRef};
use crate::config::schema;
use crate::model::{Defaults, Domain, Host};
use crate::model::{Fqdn, SrvRecord};

use super::{get, name_hint, normalise};

impl Validator {
    pub(super) fn hosts(
        &mut self,
        doc: &DeTable<'_>,
        defaults: &(Defaults, Option<(String, Range<usize>)>),
    ) -> Vec<(Host, Range<usize>)> {
        let d = &defaults.0;
        let mut out: Vec<(Host, Range<usize>)> = Vec::new();
        let mut seen: HashSet<Fqdn> = HashSet::new();
        for (i, v) in self.array(doc, "hosts").into_iter().enumerate() {
            let path = format!("hosts[{i}]");
            self.any_host_declared = true;
            if let DeValue::Table(t) = v.get_ref()
                && let Some(n) = get(t, "name")
                && let DeValue::String(n) = n.get_ref()
            {
                self.declared_hosts.insert(normalise(n));
            }
            let Some(raw) = self.table::<RawHost>(&path, v, "a [[hosts]] entry", schema::HOST)
            else {
                continue;
            };
            let Some(name) = self.name(&raw.name, &format!("{path}.name"), true) else {
                continue;
            };
            if !seen.insert(name.clone()) {
                self.err(
                    raw.name.span(),
                    format!("{path}.name"),
                    format!(
                        "duplicate host `{}` (names are case-insensitive)",
                        name.as_str()
                    ),
                    "list each KMS host once; remove this entry or merge it with the first one",
                );
                continue;
            }
            let host = Host {
                port: raw
                    .port
                    .as_ref()
                    .and_then(|p| self.port(p, &format!("{path}.port")))
                    .unwrap_or(d.port),
                priority: raw
                    .priority
                    .as_ref()
                    .and_then(|p| self.u16_field(p, &format!("{path}.priority"), "priority"))
                    .unwrap_or(d.priority),
                weight: raw
                    .weight
                    .as_ref()
                    .and_then(|p| self.u16_field(p, &format!("{path}.weight"), "weight"))
                    .unwrap_or(d.weight),
                ttl: raw
                    .ttl
                    .as_ref()
                    .and_then(|p| self.ttl(p, &format!("{path}.ttl")))
                    .unwrap_or(d.ttl),
                name,
            };
            out.push((host, raw.name.span()));
        }
        out
    }

    /// Checks the `[[domains]]` entries of `doc` (the whole file, or one batch of it whose
    /// first entry is the file's entry number `first`) into `acc`.
    pub(super) fn domains_in(&mut self, doc: &DeTable<'_>, first: usize, acc: &mut DomainAcc<'_>) {
        let d = acc.defaults;
        let hosts = acc.hosts;
        for (i, v) in self.array(doc, "domains").into_iter().enumerate() {
            let i = first + i;
            let path = format!("domains[{i}]");
            let Some(raw) =
                self.table::<RawDomain>(&path, v, "a [[domains]] entry", schema::DOMAIN)
            else {
                continue;
            };
            let Some(name) = self.name(&raw.name, &format!("{path}.name"), false) else {
                continue;
            };
            if !acc.seen.insert(name.clone()) {
                self.err(
                    raw.name.span(),
                    format!("{path}.name"),
                    format!(
                        "duplicate domain `{}` (names are case-insensitive)",
                        name.as_str()
                    ),
                    "list each client domain once; merge the two entries",
                );
                continue;
            }
            if name.kms_owner().wire_len() > 255 {
                self.err(
                    raw.name.span(),
                    format!("{path}.name"),
                    format!(
                        "`_vlmcs._tcp.{}` would be longer than 255 octets",
                        name.as_str()
                    ),
                    "use a shorter domain name (RFC 1035 limit)",
                );
                continue;
            }
            let zone = match &raw.zone {
                None => None,
                Some(z) => match self.name(z, &format!("{path}.zone"), false) {
                    Some(zn) if name.is_at_or_below(&zn) => Some(acc.intern_zone(zn)),
                    Some(zn) => {
                        self.err(z.span(), format!("{path}.zone"), format!("domain `{}` is not inside zone `{}`", name.as_str(), zn.as_str()), format!("set zone to `{}` or one of its parent domains, or remove `zone` to discover it", name.as_str()));
                        None
                    }
                    None => None,
                },
            };
            let mut records: Vec<SrvRecord> = Vec::new();
            match &raw.hosts {
                None => {
                    records = hosts
                        .iter()
                        .map(|(h, _)| SrvRecord {
                            target: h.name.clone(),
                            port: h.port,
                            priority: h.priority,
                            weight: h.weight,
                            ttl: h.ttl,
                        })
                        .collect();
                    if hosts.is_empty() && !self.any_host_declared {
                        self.err(raw.name.span(), format!("{path}.hosts"), format!("domain `{}` gets no KMS hosts: there are no [[hosts]] entries", name.as_str()), "add [[hosts]] entries, or write hosts = [] to say on purpose that this domain has no KMS records");
                    }
                }
                Some(list) => {
                    // A long list is checked for repeats with a set, a short one by a scan.
                    let mut listed: Option<HashSet<Fqdn>> =
                        (list.get_ref().len() > 8).then(HashSet::new);
                    for (j, entry) in list.get_ref().iter().enumerate() {
                        let epath = format!("{path}.hosts[{j}]");
                        let ref_name = entry.get_ref().name();
                        let parsed = match Fqdn::parse_host(ref_name) {
                            Ok(n) => n,
                            Err(e) => {
                                self.err(
                                    entry.span(),
                                    epath,
                                    format!("invalid host name `{ref_name}`: {e}"),
                                    name_hint(&e, true),
                                );
                                continue;
                            }
                        };
                        let Some(&host) = acc.by_name.get(&parsed) else {
                            if self.declared_hosts.contains(parsed.as_str()) {
                                // Its [[hosts]] entry is invalid and reported already.
                                continue;
                            }
                            let known: Vec<&str> =
                                hosts.iter().map(|(h, _)| h.name.as_str()).collect();
                            let hint = match schema::did_you_mean(parsed.as_str(), &known) {
                                Some(m) => format!(
                                    "did you mean `{m}`? Every host a domain lists must have a [[hosts]] entry"
                                ),
                                None => format!(
                                    "add a [[hosts]] entry with name = \"{}\"; defined hosts: {}",
                                    parsed.as_str(),
                                    if known.is_empty() {
                                        "none".to_string()
                                    } else {
                                        known.join(", ")
                                    }
                                ),
                            };
                            self.err(
                                entry.span(),
                                epath,
                                format!("unknown host `{}`", parsed.as_str()),
                                hint,
                            );
                            continue;
                        };
                        let twice = match &mut listed {
                            Some(set) => !set.insert(parsed.clone()),
                            None => records.iter().any(|r| r.target == parsed),
                        };
                        if twice {
                            self.err(
                                entry.span(),
                                epath,
                                format!(
                                    "host `{}` is listed twice for this domain",
                                    parsed.as_str()
                                ),
                                "list each host once per domain",
                            );
                            continue;
                        }
                        let mut rec = SrvRecord {
                            target: host.name.clone(),
                            port: host.port,
                            priority: host.priority,
                            weight: host.weight,
                            ttl: host.ttl,
                        };
                        if let RawHostRef::Table(t) = entry.get_ref() {
                            if let Some(p) = &t.port {
                                rec.port =
                                    self.port(p, &format!("{epath}.port")).unwrap_or(rec.port)
                            }
                            if let Some(p) = &t.priority {
                                rec.priority = self
                                    .u16_field(p, &format!("{epath}.priority"), "priority")
                                    .unwrap_or(rec.priority)
                            }
                            if let Some(p) = &t.weight {
                                rec.weight = self
                                    .u16_field(p, &format!("{epath}.weight"), "weight")
                                    .unwrap_or(rec.weight)
                            }
                            if let Some(p) = &t.ttl {
                                rec.ttl = self.ttl(p, &format!("{epath}.ttl")).unwrap_or(rec.ttl)
                            }
                        }
                        records.push(rec);
                    }
                }
            }
            records.sort();
            // One RRset has one TTL (RFC 2181 §5.2): differing TTLs would be merged by servers.
            if let Some(first) = records.first()
                && let Some(other) = records.iter().find(|r| r.ttl != first.ttl)
            {
                let span = raw.hosts.as_ref().map_or(raw.name.span(), |h| h.span());
                self.err(span, format!("{path}.hosts"), format!("the records of `_vlmcs._tcp.{}` would have different TTLs ({} for {}, {} for {})", name.as_str(), first.ttl, first.target.as_str(), other.ttl, other.target.as_str()), "one RRset has one TTL (RFC 2181 §5.2): give these hosts the same ttl");
            }
            let prune = raw.prune.as_ref().map_or(d.prune, |p| *p.get_ref());
            if let Some(server) = &raw.server {
                self.unknown_server(server, &path, acc.servers);
            }
            acc.out.push(Domain {
                name,
                records,
                zone,
                server: raw.server.map(|s| s.into_inner()),
                prune,
            });
        }
    }

    /// The one error of a file without domains, when it has no other.
    pub(super) fn no_domains(&mut self, acc: &DomainAcc<'_>) {
        if acc.out.is_empty() && self.diags.is_empty() {
            self.err(
                0..0,
                "domains",
                "the configuration lists no [[domains]]",
                "add at least one [[domains]] entry with name = \"corp.example.com\"",
            );
        }
    }
}

/// The `[[domains]]` entries checked so far, and what checking the next one needs: the
/// defaults, the hosts (and an index of them by name) and the names already seen. Lookups
/// by name: a linear search per entry made 10,000 domains quadratic.
pub(super) struct DomainAcc<'a> {
    pub defaults: &'a Defaults,
    pub hosts: &'a [(Host, Range<usize>)],
    pub by_name: HashMap<&'a Fqdn, &'a Host>,
    /// The valid server ids, sorted.
    pub servers: &'a [&'a str],
    pub seen: HashSet<Fqdn>,
    /// The zone names written so far, so that the domains of one zone share its name.
    pub zones: HashSet<Fqdn>,
    pub out: Vec<Domain>,
}

impl<'a> DomainAcc<'a> {
    pub fn new(
        defaults: &'a Defaults,
        hosts: &'a [(Host, Range<usize>)],
        servers: &'a [&'a str],
    ) -> Self {
        DomainAcc {
            defaults,
            hosts,
            servers,
            by_name: hosts.iter().map(|(h, _)| (&h.name, h)).collect(),
            seen: HashSet::new(),
            zones: HashSet::new(),
            out: Vec::new(),
        }
    }

    /// `zone`, or the equal name seen before (shared, not a second copy).
    pub fn intern_zone(&mut self, zone: Fqdn) -> Fqdn {
        match self.zones.get(&zone) {
            Some(z) => z.clone(),
            None => {
                self.zones.insert(zone.clone());
                zone
            }
        }
    }
}
