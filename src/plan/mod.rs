//! Plans: what would change, as plain data (existing, desired, ordered changes). Every output
//! format is a separate reader of it; `apply` sends it.

pub mod diff;

use serde::{Deserialize, Serialize};

pub use diff::{Change, RrsetDiff, diff};

use crate::config::{Config, sha256_hex};
use crate::model::Fqdn;
use crate::state::{DomainFailure, ZoneOrigin, ZoneState, ZoneTarget};

/// SHA-256 over the current records of every RRset of every zone, in plan order: lets `apply
/// PLAN.json` detect a plan file edited by hand.
pub fn state_sha256<'a>(zones: impl Iterator<Item = (&'a Fqdn, &'a [RrsetDiff])>) -> String {
    let mut text = String::new();
    for (zone, rrsets) in zones {
        text.push_str(&format!("zone {zone}\n"));
        for r in rrsets {
            text.push_str(&format!("rrset {}\n", r.owner));
            for rec in &r.current {
                text.push_str(&format!("{rec}\n"));
            }
        }
    }
    sha256_hex(text.as_bytes())
}

/// A saved plan as read back from `plan --out FILE` (unknown fields are ignored).
#[derive(Clone, Debug, Deserialize)]
pub struct PlanFile {
    pub schema: u32,
    pub config_sha256: String,
    pub state_sha256: String,
    pub zones: Vec<PlanFileZone>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PlanFileZone {
    pub zone: Fqdn,
    pub server_address: std::net::SocketAddr,
    pub rrsets: Vec<RrsetDiff>,
    pub error: Option<Problem>,
}

/// The version of the JSON plan schema (`plan --json`).
pub const SCHEMA_VERSION: u32 = 1;

/// An error with the fix, for output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub message: String,
    pub hint: String,
}

impl From<&crate::dns::DnsError> for Problem {
    fn from(e: &crate::dns::DnsError) -> Self {
        Problem {
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

/// The plan of one zone: one UPDATE at most.
#[derive(Clone, Debug, Serialize)]
pub struct ZonePlan {
    #[serde(flatten)]
    pub origin: ZoneOrigin,
    pub rrsets: Vec<RrsetDiff>,
    /// Reading the zone's state failed: nothing can be planned for it.
    pub error: Option<Problem>,
    #[serde(skip)]
    pub target: ZoneTarget,
}

impl ZonePlan {
    pub fn has_changes(&self) -> bool {
        self.rrsets.iter().any(|r| !r.changes.is_empty())
    }
}

/// A domain that could not be placed in a zone.
#[derive(Clone, Debug, Serialize)]
pub struct DomainProblem {
    pub domain: crate::model::Fqdn,
    #[serde(flatten)]
    pub problem: Problem,
}

/// Counts for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub add: usize,
    pub change: usize,
    pub delete: usize,
}

/// The whole plan.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub schema: u32,
    pub kmsdns_version: String,
    /// The configuration file the plan was made from, and the SHA-256 of its text.
    pub config_file: String,
    pub config_sha256: String,
    /// SHA-256 of the state read (every zone's current records), see [`state_sha256`].
    pub state_sha256: String,
    pub zones: Vec<ZonePlan>,
    pub failed_domains: Vec<DomainProblem>,
}

impl Plan {
    /// Diffs the state read against the desired records.
    pub fn build(config: &Config, states: Vec<ZoneState>, failures: Vec<DomainFailure>) -> Plan {
        let zones: Vec<ZonePlan> = states
            .into_iter()
            .map(|s| {
                let (rrsets, error) = match &s.current {
                    Ok(current) => (
                        s.target
                            .domains
                            .iter()
                            .zip(current)
                            .map(|(d, cur)| diff(&d.owner(), cur, &d.records, d.prune))
                            .collect(),
                        None,
                    ),
                    Err(e) => (Vec::new(), Some(Problem::from(e))),
                };
                ZonePlan {
                    origin: s.target.origin(),
                    rrsets,
                    error,
                    target: s.target,
                }
            })
            .collect();
        let failed_domains = failures
            .iter()
            .map(|f| DomainProblem {
                domain: f.domain.clone(),
                problem: Problem::from(&f.error),
            })
            .collect();
        let state_sha256 = state_sha256(
            zones
                .iter()
                .map(|z: &ZonePlan| (&z.origin.zone, z.rrsets.as_slice())),
        );
        Plan {
            schema: SCHEMA_VERSION,
            kmsdns_version: env!("CARGO_PKG_VERSION").to_string(),
            config_file: config.path.display().to_string(),
            config_sha256: config.sha256.clone(),
            state_sha256,
            zones,
            failed_domains,
        }
    }

    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for c in self
            .zones
            .iter()
            .flat_map(|z| &z.rrsets)
            .flat_map(|r| &r.changes)
        {
            match c {
                Change::Add { .. } => t.add += 1,
                Change::Change { .. } => t.change += 1,
                Change::Delete { .. } => t.delete += 1,
            }
        }
        t
    }

    pub fn has_changes(&self) -> bool {
        self.zones.iter().any(ZonePlan::has_changes)
    }

    /// True when some zone or domain could not be read.
    pub fn has_errors(&self) -> bool {
        !self.failed_domains.is_empty() || self.zones.iter().any(|z| z.error.is_some())
    }

    /// RRsets where this plan removes every record that exists now (all targets deleted, even
    /// when others are added): the "remove every KMS record" guard of `apply`. A domain with
    /// `hosts = []` is explicit and allowed.
    pub fn removes_all_records(&self) -> Vec<&RrsetDiff> {
        self.zones
            .iter()
            .flat_map(|z| &z.rrsets)
            .filter(|r| {
                let deletes = r
                    .changes
                    .iter()
                    .filter(|c| matches!(c, Change::Delete { .. }))
                    .count();
                !r.current.is_empty() && !r.desired.is_empty() && deletes == r.current.len()
            })
            .collect()
    }
}
