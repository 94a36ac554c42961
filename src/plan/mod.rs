//! Plans: what would change, as plain data (per zone: the server, transport and key name;
//! per RRset: the records read, the records wanted, the ordered changes). Pure: [`diff`] of
//! the desired against the observed state. Every output format is a separate reader of it;
//! `app::apply` sends it.
#![warn(missing_docs)]

mod diff;
pub mod saved;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use diff::{Change, RrsetDiff, TtlKept, diff_rrset};

use crate::model::{
    DesiredState, Domain, DomainProblem, Failover, Fqdn, ObservedState, Problem, ZoneTarget,
};

/// The version of the JSON plan schema (`plan --json`, `plan --out`).
pub const SCHEMA_VERSION: u32 = 1;

/// The plan of one zone: one UPDATE at most.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZonePlan {
    /// The zone and the server the UPDATE goes to (serialised flat).
    #[serde(flatten)]
    pub target: ZoneTarget,
    /// One diff per managed `_vlmcs._tcp` RRset of the zone.
    pub rrsets: Vec<RrsetDiff>,
    /// Reading the zone's state failed: nothing can be planned for it.
    pub error: Option<Problem>,
    /// The state was read from a fallback address of the server (the ones before it could not
    /// be reached or timed out): which one, and why each earlier one was passed over. Absent
    /// when the first address answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<Failover>,
}

impl ZonePlan {
    /// True when an UPDATE would be sent: changes, and no error (unread or stale zone).
    pub fn has_changes(&self) -> bool {
        self.error.is_none() && self.rrsets.iter().any(|r| !r.changes.is_empty())
    }

    /// Number of record changes (add, change, delete) in this zone.
    pub fn change_count(&self) -> usize {
        self.rrsets.iter().map(|r| r.changes.len()).sum()
    }
}

/// Counts for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Records to add.
    pub add: usize,
    /// Records to change in place (same target).
    pub change: usize,
    /// Records to delete.
    pub delete: usize,
}

/// The whole plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The plan schema version, [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The version of kmsdns that made the plan.
    pub kmsdns_version: String,
    /// The configuration file the plan was made from, and the SHA-256 of its text.
    pub config_file: String,
    /// SHA-256 of the configuration file's text (hex).
    pub config_sha256: String,
    /// SHA-256 of the state read (every zone's current records), see [`state_sha256`].
    pub state_sha256: String,
    /// SHA-256 over the plan's whole canonical content (this field empty): zones, servers,
    /// transports, key names, prerequisites, changes. A saved plan whose digest does not
    /// match was edited after it was written. See [`Plan::digest`].
    pub plan_sha256: String,
    /// The plan of each zone.
    pub zones: Vec<ZonePlan>,
    /// Domains whose zone or server could not be found: nothing is planned for them.
    pub failed_domains: Vec<DomainProblem>,
}

/// Diffs the observed state against the desired records, zone by zone, in the order of
/// `observed`.
pub fn diff(desired: &DesiredState, observed: &ObservedState) -> Plan {
    let by_name: HashMap<&Fqdn, &Domain> = desired.domains.iter().map(|d| (&d.name, d)).collect();
    let zones: Vec<ZonePlan> = observed
        .zones
        .iter()
        .map(|z| {
            let rrsets = if z.error.is_some() {
                Vec::new()
            } else {
                z.rrsets
                    .iter()
                    .filter_map(|o| {
                        let d = by_name.get(&o.domain)?;
                        Some(diff_rrset(&d.owner(), &o.records, &d.records, d.prune))
                    })
                    .collect()
            };
            ZonePlan {
                target: z.target.clone(),
                rrsets,
                error: z.error.clone(),
                failover: z.failover.clone(),
            }
        })
        .collect();
    let state_sha256 = state_sha256(&zones);
    let mut plan = Plan {
        schema: SCHEMA_VERSION,
        kmsdns_version: env!("CARGO_PKG_VERSION").to_string(),
        config_file: desired.path.display().to_string(),
        config_sha256: desired.sha256.clone(),
        state_sha256,
        plan_sha256: String::new(),
        zones,
        failed_domains: observed.failed_domains.clone(),
    };
    plan.plan_sha256 = plan.digest();
    plan
}

/// Feeds what is written into a SHA-256 computation.
struct HashWriter(ring::digest::Context);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 over the current records of every RRset of every zone, in plan order: lets `apply
/// PLAN.json` detect a plan file whose state was edited by hand.
pub fn state_sha256(zones: &[ZonePlan]) -> String {
    use std::io::Write;
    let mut hash = HashWriter(ring::digest::Context::new(&ring::digest::SHA256));
    let mut out = std::io::BufWriter::with_capacity(16 * 1024, &mut hash);
    let mut line = |args: std::fmt::Arguments<'_>| {
        out.write_fmt(args).expect("hashing does not fail");
    };
    for z in zones {
        line(format_args!("zone {}\n", z.target.zone));
        for r in &z.rrsets {
            line(format_args!("rrset {}\n", r.owner));
            for rec in &r.current {
                line(format_args!("{rec}\n"));
            }
        }
    }
    out.flush().expect("hashing does not fail");
    drop(out);
    data_encoding::HEXLOWER.encode(hash.0.finish().as_ref())
}

impl Plan {
    /// SHA-256 of the canonical JSON form of the plan with `plan_sha256` empty. The JSON form
    /// is canonical: fields in declaration order, lists in plan order, names normalised.
    pub fn digest(&self) -> String {
        // The JSON of the plan with `plan_sha256` blank, streamed into the hash: neither a
        // copy of the plan nor its JSON text is held (at 10,000 zones they were the peak).
        #[derive(Serialize)]
        struct Blank<'a> {
            schema: u32,
            kmsdns_version: &'a str,
            config_file: &'a str,
            config_sha256: &'a str,
            state_sha256: &'a str,
            plan_sha256: &'a str,
            zones: &'a [ZonePlan],
            failed_domains: &'a [DomainProblem],
        }
        let blank = Blank {
            schema: self.schema,
            kmsdns_version: &self.kmsdns_version,
            config_file: &self.config_file,
            config_sha256: &self.config_sha256,
            state_sha256: &self.state_sha256,
            plan_sha256: "",
            zones: &self.zones,
            failed_domains: &self.failed_domains,
        };
        let mut hash = HashWriter(ring::digest::Context::new(&ring::digest::SHA256));
        // Buffered: serde_json writes a few bytes at a time.
        let mut out = std::io::BufWriter::with_capacity(16 * 1024, &mut hash);
        serde_json::to_writer(&mut out, &blank).expect("a plan always encodes as JSON");
        std::io::Write::flush(&mut out).expect("hashing does not fail");
        drop(out);
        data_encoding::HEXLOWER.encode(hash.0.finish().as_ref())
    }

    /// Counts of adds, changes and deletes over the zones that could be read.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for c in self
            .zones
            .iter()
            .filter(|z| z.error.is_none())
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

    /// True when `apply` would send at least one UPDATE.
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

#[cfg(test)]
mod tests;
