//! Unit tests of the plan: the diff of desired against observed state, the plain-data round
//! trip through JSON, and the saved-plan checks.

use std::path::Path;

use super::saved::{SavedPlanError, load};
use super::*;
use crate::model::{DesiredState, ObservedRrset, ObservedZone, ServerTarget, SrvRecord, Transport};

const CONFIG: &str = r#"
[keys.kms-update]
secret_env = "KMSDNS_UNIT_TEST_UNUSED"

[servers.lab]
address = "127.0.0.1:5353"
key = "kms-update"
transport = "tcp"

[[hosts]]
name = "kms1.example.com"

[[hosts]]
name = "kms2.example.net"
priority = 10

[[domains]]
name = "corp.example.com"
zone = "example.com"
server = "lab"

[[domains]]
name = "branch.example.com"
zone = "example.com"
server = "lab"
prune = false
"#;

fn desired() -> DesiredState {
    crate::config::from_str(Path::new("kmsdns.toml"), CONFIG).expect("valid config")
}

fn rec(target: &str, priority: u16, ttl: u32) -> SrvRecord {
    SrvRecord::test(target, priority, ttl)
}

fn observed() -> ObservedState {
    let target = ZoneTarget {
        zone: Fqdn::parse_domain("example.com").unwrap(),
        zone_discovered: false,
        server: ServerTarget {
            label: "lab (127.0.0.1:5353)".into(),
            address: "127.0.0.1:5353".parse().unwrap(),
            fallbacks: vec![],
            discovered: false,
            transport: Transport::Tcp,
            timeout_ms: 3000,
            retries: 2,
            max_inflight: 8,
            key: Some("kms-update".into()),
        },
    };
    let corp = Fqdn::parse_domain("corp.example.com").unwrap();
    let branch = Fqdn::parse_domain("branch.example.com").unwrap();
    ObservedState {
        zones: vec![ObservedZone {
            target,
            domains: vec![corp.clone(), branch.clone()],
            rrsets: vec![
                ObservedRrset {
                    domain: corp,
                    records: vec![
                        rec("kms1.example.com", 0, 60),
                        rec("old.example.com", 0, 60),
                    ],
                },
                ObservedRrset {
                    domain: branch,
                    records: vec![rec("self.example.com", 0, 3600)],
                },
            ],
            error: None,
            failover: None,
        }],
        failed_domains: vec![DomainProblem {
            domain: Fqdn::parse_domain("lost.example.org").unwrap(),
            problem: Problem {
                message: "cannot find the zone".into(),
                hint: "set zone".into(),
            },
        }],
    }
}

#[test]
fn diff_desired_against_observed() {
    let plan = diff(&desired(), &observed());
    assert_eq!(plan.zones.len(), 1);
    let z = &plan.zones[0];
    assert_eq!(z.target.server.transport, Transport::Tcp);
    assert_eq!(z.target.server.key.as_deref(), Some("kms-update"));
    let corp = &z.rrsets[0];
    assert_eq!(corp.owner.as_str(), "_vlmcs._tcp.corp.example.com");
    // kms1 TTL 60 → 3600, kms2 added, old deleted.
    assert_eq!(corp.changes.len(), 3, "{:?}", corp.changes);
    let branch = &z.rrsets[1];
    assert_eq!(branch.unmanaged, vec![rec("self.example.com", 0, 3600)]);
    assert_eq!(branch.changes.len(), 2);
    assert_eq!(
        plan.totals(),
        Totals {
            add: 3,
            change: 1,
            delete: 1
        }
    );
    assert!(plan.has_errors(), "a failed domain is an error");
    assert_eq!(plan.config_sha256, desired().sha256);
}

#[test]
fn plan_round_trips_through_json_and_compares_equal() {
    let plan = diff(&desired(), &observed());
    let json = serde_json::to_string_pretty(&plan).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, plan);
    // The wire-relevant facts are in the JSON itself, not re-bound on load.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["zones"][0]["transport"], "tcp");
    assert_eq!(v["zones"][0]["server_address"], "127.0.0.1:5353");
    assert_eq!(v["zones"][0]["key"], "kms-update");
    // A different plan does not compare equal.
    let mut other = back.clone();
    other.zones[0].target.server.timeout_ms += 1;
    assert_ne!(other, plan);
}

#[test]
fn saved_plan_checks() {
    let d = desired();
    let plan = diff(&d, &observed());
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(load("p.json", &json, &d).unwrap(), plan);

    let edited = json.replace("old.example.com", "evil.example.com");
    assert!(matches!(
        load("p.json", &edited, &d),
        Err(SavedPlanError::Modified { .. })
    ));
    let mut other = d.clone();
    other.sha256 = "0".repeat(64);
    assert!(matches!(
        load("p.json", &json, &other),
        Err(SavedPlanError::ConfigChanged { .. })
    ));
    let future = json.replacen("\"schema\":1", "\"schema\":2", 1);
    assert!(matches!(
        load("p.json", &future, &d),
        Err(SavedPlanError::Schema { found: 2, .. })
    ));
    let err = load("p.json", "{\"zones\": 3}", &d).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("p.json is not a kmsdns plan file"),
        "{err}"
    );
}

#[test]
fn fallbacks_and_failover_round_trip_and_are_covered_by_the_digest() {
    use crate::model::{Failover, ServerCandidate, SkipReason, SkippedServer};
    let d = desired();
    let single = diff(&d, &observed());
    let json = serde_json::to_string(&single).unwrap();
    // One address, first one answered: the JSON is what it was before lists existed.
    assert!(
        !json.contains("server_fallbacks") && !json.contains("failover"),
        "{json}"
    );

    let mut obs = observed();
    let second: std::net::SocketAddr = "127.0.0.1:5354".parse().unwrap();
    obs.zones[0].target.server.fallbacks = vec![ServerCandidate {
        label: format!("lab ({second})"),
        address: second,
    }];
    obs.zones[0].failover = Some(Failover {
        server: format!("lab ({second})"),
        address: second,
        skipped: vec![SkippedServer {
            server: "lab (127.0.0.1:5353)".into(),
            address: "127.0.0.1:5353".parse().unwrap(),
            reason: SkipReason::Timeout,
            detail: "no reply".into(),
        }],
    });
    let plan = diff(&d, &obs);
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(load("p.json", &json, &d).unwrap(), plan);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["zones"][0]["server_fallbacks"][0]["address"],
        "127.0.0.1:5354"
    );
    assert_eq!(v["zones"][0]["failover"]["skipped"][0]["reason"], "timeout");
    assert_eq!(plan.zones[0].target.server.candidates().len(), 2);
    // The list is part of what was reviewed: an edit is caught.
    let edited = json.replace("127.0.0.1:5354", "192.0.2.9:53");
    assert!(matches!(
        load("p.json", &edited, &d),
        Err(SavedPlanError::Modified { .. })
    ));
}

/// The digests are streamed into the hash; they are the SHA-256 of the same texts as
/// before: the plan's JSON with `plan_sha256` blank, and the zone/rrset/record lines.
#[test]
fn digests_hash_the_documented_texts() {
    let plan = diff(&desired(), &observed());
    let mut blank = plan.clone();
    blank.plan_sha256 = String::new();
    let json = serde_json::to_vec(&blank).unwrap();
    assert_eq!(plan.plan_sha256, crate::model::sha256_hex(&json));
    let mut text = String::new();
    for z in &plan.zones {
        text.push_str(&format!("zone {}\n", z.target.zone));
        for r in &z.rrsets {
            text.push_str(&format!("rrset {}\n", r.owner));
            for rec in &r.current {
                text.push_str(&format!("{rec}\n"));
            }
        }
    }
    assert!(
        text.contains("rrset ") && text.lines().count() > 3,
        "{text}"
    );
    assert_eq!(plan.state_sha256, crate::model::sha256_hex(text.as_bytes()));
}

/// `max_inflight` at its default is left out of the JSON: a plan saved before the field existed
/// keeps its digest and loads; another value is written, read back and covered by the digest.
#[test]
fn default_max_inflight_is_left_out_and_other_values_round_trip() {
    let d = desired();
    let plan = diff(&d, &observed());
    let json = serde_json::to_string(&plan).unwrap();
    assert!(!json.contains("max_inflight"), "{json}");
    assert_eq!(load("p.json", &json, &d).unwrap(), plan);

    let mut obs = observed();
    obs.zones[0].target.server.max_inflight = 32;
    let plan = diff(&d, &obs);
    let json = serde_json::to_string(&plan).unwrap();
    assert!(json.contains("\"max_inflight\":32"), "{json}");
    assert_eq!(load("p.json", &json, &d).unwrap(), plan);
    let edited = json.replace("\"max_inflight\":32", "\"max_inflight\":64");
    assert!(matches!(
        load("p.json", &edited, &d),
        Err(SavedPlanError::Modified { .. })
    ));
}
