//! `render nsupdate`: a script for BIND's `nsupdate` that brings each zone to the desired
//! state, one RFC 2136 update message (`send`) per zone and server.
//!
//! Without live state the script replaces each pruned `_vlmcs._tcp` RRset (`update delete`
//! of the RRset, RFC 2136 §2.5.2, then `update add`, §2.5.1). Given the current records
//! ([`zone_script`] with `Some(state)`), it also asserts them with `prereq` lines (RFC 2136
//! §2.4.2 value-dependent RRset exists, §2.4.3 RRset does not exist), so the update fails
//! instead of overwriting a change made since the state was read.

use std::collections::BTreeMap;

use super::{Rendered, Section, ZoneGroup, display_domain, domain_key, domain_server, header};
use super::{server_host, server_port};
use crate::model::{DesiredState, Domain, KeySource, KeySpec, Transport};
use crate::model::{Fqdn, SrvRecord};

/// Live `_vlmcs._tcp` records, keyed by owner name (`_vlmcs._tcp.<domain>`); an owner that is
/// absent or maps to an empty list has no SRV records.
pub type CurrentState = BTreeMap<Fqdn, Vec<SrvRecord>>;

/// The script for every zone; with `current` (from a saved plan) each RRset gets `prereq`
/// lines for the records it was read with.
pub fn render(
    config: &DesiredState,
    groups: &[ZoneGroup<'_>],
    current: Option<&CurrentState>,
) -> Rendered {
    // nsupdate keeps `server` and `zone` across `send`s and has no command to forget them:
    // zones without those lines go first.
    let mut ordered: Vec<&ZoneGroup<'_>> = groups.iter().collect();
    ordered.sort_by_key(|g| (has_server(config, g), g.configured));
    let mut apply =
        vec!["nsupdate -k KEYFILE THIS-FILE (see the key line of each zone); add -v to use TCP."];
    if current.is_some() {
        apply.push("The prereq lines hold the records of the saved plan: if a zone changed since,");
        apply
            .push("nsupdate fails for it and writes nothing there. Plan again, then render again.");
    }
    let keys: Vec<Option<&str>> = {
        let mut k: Vec<Option<&str>> = ordered
            .iter()
            .flat_map(|g| &g.domains)
            .map(|d| domain_key(config, d).map(|k| k.id.as_str()))
            .collect();
        k.dedup();
        k.sort();
        k.dedup();
        k
    };
    if keys.len() > 1 {
        apply.push("The zones below use different TSIG keys, and nsupdate signs a whole run with");
        apply.push("one key: render with --out-dir (one file per zone) or --zone Z and run each");
        apply.push("file with its key.");
    }
    if sticky_conflict(config, &ordered) {
        apply.push("nsupdate keeps `server` and `zone` lines across `send`s: the later zones here");
        apply.push("would inherit them. Run the per-zone files of --out-dir instead.");
    }
    let header = header(
        ";",
        "nsupdate script: the _vlmcs._tcp SRV records of the KMS hosts (Microsoft KMS activation).",
        config,
        &apply,
    );
    let sections = ordered
        .into_iter()
        .map(|g| Section {
            file_name: format!("{}.nsupdate", g.zone.as_str()),
            text: zone_script(config, g, current),
        })
        .collect();
    Rendered {
        header,
        sections,
        table_head: None,
    }
}

fn has_server(config: &DesiredState, g: &ZoneGroup<'_>) -> bool {
    g.domains.iter().any(|d| domain_server(config, d).is_some())
}

/// True when a later batch lacks a `server`/`zone` line an earlier batch set.
fn sticky_conflict(config: &DesiredState, ordered: &[&ZoneGroup<'_>]) -> bool {
    let mut server_set = false;
    let mut zone_set = false;
    for g in ordered {
        for batch in batches(config, g) {
            let has_server = batch.first().is_some_and(|d| d.server.is_some());
            if (server_set && !has_server) || (zone_set && !g.configured) {
                return true;
            }
            server_set |= has_server;
            zone_set |= g.configured;
        }
    }
    false
}

/// The group's domains split by server (one update message each), serverless first.
fn batches<'a>(config: &DesiredState, group: &ZoneGroup<'a>) -> Vec<Vec<&'a Domain>> {
    let mut out: Vec<Vec<&'a Domain>> = Vec::new();
    for d in &group.domains {
        let server = domain_server(config, d).map(|s| &s.id);
        match out
            .iter_mut()
            .find(|b| domain_server(config, b[0]).map(|s| &s.id) == server)
        {
            Some(b) => b.push(d),
            None => out.push(vec![d]),
        }
    }
    out.sort_by_key(|b| b[0].server.is_some());
    out
}

/// The script for one zone: `server`/`zone` lines, optional `prereq` lines from `current`,
/// deletes and adds per domain, and one `send` per server.
pub fn zone_script(
    config: &DesiredState,
    group: &ZoneGroup<'_>,
    current: Option<&CurrentState>,
) -> String {
    let mut out = String::new();
    out.push_str(&format!("; zone {}\n", display_domain(&group.zone)));
    for batch in batches(config, group) {
        let key = domain_key(config, batch[0]);
        out.push_str(&key_line(key));
        match domain_server(config, batch[0]) {
            Some(s) => {
                if s.transport == Transport::Tcp {
                    out.push_str(&format!(
                        "; server {} is set to TCP: run nsupdate with -v\n",
                        s.id
                    ));
                }
                if s.addresses.len() > 1 {
                    out.push_str(&format!(
                        "; server {} has several addresses ({}); nsupdate takes one: if the first does not answer, use the next\n",
                        s.id,
                        s.address_list()
                    ));
                }
                out.push_str(&format!(
                    "server {} {}\n",
                    server_host(s.address()),
                    server_port(s.address())
                ))
            }
            None => out.push_str(
                "; no server configured: nsupdate sends to the zone's primary (SOA MNAME)\n",
            ),
        }
        if group.configured {
            out.push_str(&format!("zone {}\n", group.zone));
        } else {
            out.push_str(&format!(
                "; zone not configured: nsupdate finds the zone that contains {} from the SOA\n",
                group.zone.as_str()
            ));
        }
        for d in batch {
            domain_lines(&mut out, d, current);
        }
        out.push_str("send\n");
    }
    out
}

fn key_line(key: Option<&KeySpec>) -> String {
    match key {
        None => "; key: none configured, the update goes unsigned\n".to_string(),
        Some(k) => match &k.source {
            KeySource::File(path) => {
                format!("; key: {} (nsupdate -k {} FILE)\n", k.name, path.display())
            }
            KeySource::Env(var) => format!(
                "; key: {name} from ${var} (nsupdate -y \"{alg}:{name}:${var}\" FILE when it holds only the secret)\n",
                name = k.name,
                alg = k.algorithm.map(|a| a.name()).unwrap_or("hmac-sha256"),
            ),
            KeySource::Gss(g) => format!(
                "; key: {} is GSS-TSIG: run nsupdate -g{} with a Kerberos ticket (kinit)\n",
                k.id,
                if g.algorithm == crate::model::GssAlgorithm::GssMicrosoft {
                    " -o"
                } else {
                    ""
                }
            ),
        },
    }
}

fn domain_lines(out: &mut String, d: &Domain, current: Option<&CurrentState>) {
    let owner = d.owner();
    let live = current.map(|c| c.get(&owner).map(Vec::as_slice).unwrap_or(&[]));
    match (d.prune, d.records.is_empty()) {
        (true, false) => out.push_str(&format!(
            "; {}: replace the whole RRset\n",
            display_domain(&d.name)
        )),
        (true, true) => out.push_str(&format!(
            "; {}: no KMS hosts (hosts = []): delete the RRset\n",
            display_domain(&d.name)
        )),
        (false, _) => out.push_str(&format!(
            "; {}: prune = false: only adds; other SRV records at this name stay\n",
            display_domain(&d.name)
        )),
    }
    if let Some(live) = live {
        if live.is_empty() {
            out.push_str(&format!("prereq nxrrset {owner} SRV\n"));
        }
        for r in live {
            out.push_str(&format!("prereq yxrrset {owner} SRV {}\n", r.rdata()));
        }
    }
    if d.prune {
        out.push_str(&format!("update delete {owner} SRV\n"));
    } else if let Some(live) = live {
        // Our own targets with other values than the file's: replace just those records.
        for r in live {
            if d.records.iter().any(|w| w.target == r.target) && !d.records.contains(r) {
                out.push_str(&format!("update delete {owner} SRV {}\n", r.rdata()));
            }
        }
    }
    for r in &d.records {
        out.push_str(&format!(
            "update add {owner} {} IN SRV {}\n",
            r.ttl,
            r.rdata()
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::render::zone_groups;

    const CONFIG: &str = r#"
[[hosts]]
name = "kms1.example.com"
[[hosts]]
name = "kms2.example.com"
[[domains]]
name = "corp.example.com"
zone = "example.com"
[[domains]]
name = "lab.example.com"
zone = "example.com"
hosts = ["kms1.example.com"]
prune = false
"#;

    #[test]
    fn current_state_adds_prerequisites() {
        let config = crate::config::from_str(Path::new("t.toml"), CONFIG).unwrap();
        let groups = zone_groups(&config, None).unwrap();
        let lab = Fqdn::parse_domain("lab.example.com").unwrap().kms_owner();
        let old = SrvRecord {
            target: Fqdn::parse_host("kms1.example.com").unwrap(),
            port: 1688,
            priority: 5,
            weight: 0,
            ttl: 3600,
        };
        let current = CurrentState::from([(lab, vec![old])]);
        let script = zone_script(&config, &groups[0], Some(&current));
        assert!(script.contains("prereq nxrrset _vlmcs._tcp.corp.example.com. SRV\n"));
        assert!(script.contains(
            "prereq yxrrset _vlmcs._tcp.lab.example.com. SRV 5 0 1688 kms1.example.com.\n\
             update delete _vlmcs._tcp.lab.example.com. SRV 5 0 1688 kms1.example.com.\n\
             update add _vlmcs._tcp.lab.example.com. 3600 IN SRV 0 0 1688 kms1.example.com.\n"
        ));
        assert_eq!(script.matches("send\n").count(), 1);
        let plain = zone_script(&config, &groups[0], None);
        assert!(!plain.contains("prereq"));
    }
}
