//! `render bind` and `render nsupdate` of random configurations parse back to exactly the
//! config's records; the bind lines also through `named-checkzone -D` for a few cases.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use kmsdns::model::{DesiredState, Fqdn, SrvRecord};
use kmsdns::render::{bind, nsupdate, zone_groups};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use super::HOSTS;
use crate::harness::require;

/// Client domains: a label (or none) below a base; the bases include an IDN.
const LABELS: [&str; 4] = ["", "corp", "lab", "eu.sales"];
const BASES: [&str; 4] = [
    "example.com",
    "example.org",
    "bücher.example",
    "Example.NET",
];

fn maybe<T: std::fmt::Debug + Clone + 'static>(v: Vec<T>) -> impl Strategy<Value = Option<T>> {
    prop::option::of(select(v))
}

/// One `[[domains]]` entry as TOML, given the declared host names (for the `hosts` list).
fn domain_toml(
    name: String,
    zone: Option<String>,
    prune: Option<bool>,
    hosts: Option<Vec<String>>,
) -> String {
    let mut t = format!("[[domains]]\nname = \"{name}\"\n");
    if let Some(z) = zone {
        t.push_str(&format!("zone = \"{z}\"\n"));
    }
    if let Some(p) = prune {
        t.push_str(&format!("prune = {p}\n"));
    }
    if let Some(h) = hosts {
        t.push_str(&format!("hosts = [{}]\n", h.join(", ")));
    }
    t
}

/// A host reference in a domain's `hosts`: the name (another spelling) or a table with
/// overrides; `ttl` is the domain's one TTL when it sets one.
fn host_ref(name: &'static str, ttl: Option<u32>) -> impl Strategy<Value = String> {
    (
        super::spelling(name),
        any::<bool>(),
        maybe(vec![0u16, 5, 65535]),
        maybe(vec![0u16, 100]),
        maybe(vec![1u16, 1688, 65535]),
    )
        .prop_map(move |(spelt, table, prio, weight, port)| {
            if !table && ttl.is_none() {
                return format!("\"{spelt}\"");
            }
            let mut t = format!("{{ name = \"{spelt}\"");
            for (k, v) in [("priority", prio), ("weight", weight), ("port", port)] {
                if let Some(v) = v {
                    t.push_str(&format!(", {k} = {v}"));
                }
            }
            if let Some(ttl) = ttl {
                t.push_str(&format!(", ttl = {ttl}"));
            }
            t + " }"
        })
}

/// A valid configuration as TOML text: some `[[hosts]]` (random spellings and values) and
/// distinct `[[domains]]`, each with or without a zone, a `hosts` list, a TTL, `prune`.
fn config_text() -> impl Strategy<Value = String> {
    let hosts = subsequence(&HOSTS[..], 1..=HOSTS.len());
    let pairs: Vec<(usize, usize)> = (0..LABELS.len())
        .flat_map(|l| (0..BASES.len()).map(move |b| (l, b)))
        .collect();
    let domains = subsequence(pairs, 1..6);
    (hosts, domains, select(vec![0u32, 60, 3600, 2_147_483_647]))
        .prop_flat_map(|(hosts, domains, default_ttl)| {
            let host_entries: Vec<_> = hosts
                .iter()
                .map(|&h| {
                    (
                        super::spelling(h),
                        maybe(vec![1u16, 1688, 65535]),
                        maybe(vec![0u16, 10]),
                        maybe(vec![0u16, 50]),
                    )
                })
                .collect();
            let domain_entries: Vec<_> = domains
                .into_iter()
                .map(|(l, b)| {
                    let hosts = hosts.clone();
                    (
                        Just((l, b)),
                        0..3usize,
                        maybe(vec![false, true]),
                        maybe(vec![1u32, 300]),
                        any::<bool>(),
                    )
                        .prop_flat_map(
                            move |(lb, zone, prune, ttl, listed)| {
                                let refs = if listed {
                                    subsequence(hosts.clone(), 0..=hosts.len())
                                        .prop_flat_map(move |hs| {
                                            hs.into_iter()
                                                .map(|h| host_ref(h, ttl))
                                                .collect::<Vec<_>>()
                                        })
                                        .prop_map(Some)
                                        .boxed()
                                } else {
                                    Just(None).boxed()
                                };
                                (Just((lb, zone, prune)), refs)
                            },
                        )
                })
                .collect();
            (Just(default_ttl), host_entries, domain_entries)
        })
        .prop_map(|(default_ttl, hosts, domains)| {
            let mut t = format!("[defaults]\nttl = {default_ttl}\n\n");
            for (name, port, prio, weight) in hosts {
                t.push_str(&format!("[[hosts]]\nname = \"{name}\"\n"));
                for (k, v) in [("port", port), ("priority", prio), ("weight", weight)] {
                    if let Some(v) = v {
                        t.push_str(&format!("{k} = {v}\n"));
                    }
                }
                t.push('\n');
            }
            for (((l, b), zone, prune), refs) in domains {
                let base = BASES[b].to_string();
                let name = match LABELS[l] {
                    "" => base.clone(),
                    label => format!("{label}.{base}"),
                };
                let zone = match zone {
                    0 => None,
                    1 => Some(base),
                    _ => Some(name.clone()),
                };
                t.push_str(&domain_toml(name, zone, prune, refs));
                t.push('\n');
            }
            t
        })
}

fn load(text: &str) -> DesiredState {
    kmsdns::config::from_str(Path::new("props.toml"), text)
        .unwrap_or_else(|e| panic!("the generated config is invalid: {e:?}\n{text}"))
}

type Rec = (Fqdn, SrvRecord);

fn wanted(config: &DesiredState) -> BTreeSet<Rec> {
    config
        .domains
        .iter()
        .flat_map(|d| d.records.iter().map(|r| (d.owner(), r.clone())))
        .collect()
}

fn absolute(name: &str, origin: &str) -> Fqdn {
    match name {
        "@" => Fqdn::from_ascii_unchecked(origin),
        n if n.ends_with('.') => Fqdn::from_ascii_unchecked(n),
        n => Fqdn::from_ascii_unchecked(&format!("{n}.{origin}")),
    }
}

/// `TTL IN SRV prio weight port target.` (the fields after the owner).
fn srv(fields: &[&str]) -> SrvRecord {
    assert_eq!(fields.len(), 7, "{fields:?}");
    assert_eq!(&fields[1..3], ["IN", "SRV"], "{fields:?}");
    assert!(fields[6].ends_with('.'), "relative target {}", fields[6]);
    SrvRecord {
        ttl: fields[0].parse().unwrap(),
        priority: fields[3].parse().unwrap(),
        weight: fields[4].parse().unwrap(),
        port: fields[5].parse().unwrap(),
        target: Fqdn::parse_host(fields[6]).unwrap(),
    }
}

/// The records of zone-file lines: `$ORIGIN`, relative or absolute owners, `;` comments.
fn parse_zone_lines(text: &str) -> Vec<Rec> {
    let mut origin: Option<String> = None;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split(';').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields[0] == "$ORIGIN" {
            assert!(fields[1].ends_with('.'), "relative $ORIGIN: {line}");
            origin = Some(fields[1].to_string());
            continue;
        }
        let origin = origin.as_deref().expect("a record before $ORIGIN");
        out.push((absolute(fields[0], origin), srv(&fields[1..])));
    }
    out
}

/// The records of a script's `update add` lines; checks that pruned RRsets are deleted first.
fn parse_nsupdate(text: &str, config: &DesiredState) -> Vec<Rec> {
    let mut out = Vec::new();
    let mut deleted = BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with(';')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["update", "delete", owner, "SRV"] => {
                deleted.insert(Fqdn::from_ascii_unchecked(owner));
            }
            ["update", "add", owner, rest @ ..] => {
                assert!(owner.ends_with('.'), "relative owner: {line}");
                let owner = Fqdn::from_ascii_unchecked(owner);
                let d = config.domains.iter().find(|d| d.owner() == owner).unwrap();
                assert_eq!(
                    deleted.contains(&owner),
                    d.prune,
                    "RRset delete before: {line}"
                );
                out.push((owner, srv(rest)));
            }
            ["update", ..] | ["prereq", ..] => panic!("unexpected line without state: {line}"),
            _ => {}
        }
    }
    let pruned: BTreeSet<Fqdn> = config
        .domains
        .iter()
        .filter(|d| d.prune)
        .map(|d| d.owner())
        .collect();
    assert_eq!(deleted, pruned, "one RRset delete per pruned domain");
    out
}

/// Asserts `got` holds each wanted record once and nothing else.
fn same_records(got: Vec<Rec>, want: &BTreeSet<Rec>) -> Result<(), TestCaseError> {
    let n = got.len();
    let got: BTreeSet<Rec> = got.into_iter().collect();
    prop_assert_eq!(n, got.len(), "a record printed twice");
    prop_assert_eq!(&got, want);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn bind_and_nsupdate_parse_back_to_the_config(text in config_text()) {
        let config = load(&text);
        let groups = zone_groups(&config, None).unwrap();
        let want = wanted(&config);
        let zone_text = bind::render(&config, &groups).to_text();
        same_records(parse_zone_lines(&zone_text), &want)?;
        let script = nsupdate::render(&config, &groups, None).to_text();
        same_records(parse_nsupdate(&script, &config), &want)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// BIND itself loads each zone's lines after an SOA and NS, and its canonical dump holds
    /// exactly the config's records.
    #[test]
    fn named_checkzone_loads_the_bind_lines(text in config_text()) {
        let config = load(&text);
        let groups = zone_groups(&config, None).unwrap();
        let rendered = bind::render(&config, &groups);
        let dir = tempfile::tempdir().unwrap();
        let mut got = Vec::new();
        for (g, section) in groups.iter().zip(&rendered.sections) {
            let zone = g.zone.to_string();
            let file = dir.path().join(&section.file_name);
            let head = format!(
                "$ORIGIN {zone}\n$TTL 3600\n@ IN SOA ns.{zone} hostmaster.{zone} 1 3600 600 86400 60\n\
                 @ IN NS ns.{zone}\nns IN A 192.0.2.53\n"
            );
            std::fs::write(&file, head + &rendered.header + &section.text).unwrap();
            let out = Command::new(require("named-checkzone"))
                .args(["-i", "none", "-D", "-o", "-", &zone])
                .arg(&file)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            prop_assert!(out.status.success(), "named-checkzone {}:\n{}{}", zone, stdout,
                String::from_utf8_lossy(&out.stderr));
            for line in stdout.lines() {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() > 3 && f[3] == "SRV" {
                    got.push((absolute(f[0], &zone), srv(&f[1..])));
                }
            }
        }
        same_records(got, &wanted(&config))?;
    }
}
