//! The observed state: where each domain's records live and what the zone's server holds
//! now. Built by `app::observe` from DNS reads; plain data, so plans and reports can carry it.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::{Fqdn, SrvRecord, Transport};

/// An error with the fix, for output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// The server that takes one zone's updates, as plain data: everything needed to reach it
/// and sign for it, except the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTarget {
    /// How the user knows it: `id (address)` when configured, `mname (address)` when found
    /// from the SOA.
    #[serde(rename = "server")]
    pub label: String,
    /// The address updates and reads go to first.
    #[serde(rename = "server_address")]
    pub address: SocketAddr,
    /// Further addresses of the zone's server, tried in order when the ones before cannot be
    /// reached or time out (never after an answer). Absent (empty) for a single address.
    #[serde(
        rename = "server_fallbacks",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub fallbacks: Vec<ServerCandidate>,
    /// True when found from the SOA MNAME rather than configured.
    #[serde(rename = "server_discovered")]
    pub discovered: bool,
    /// UDP (with TCP fallback) or TCP only.
    pub transport: Transport,
    /// Per try, in milliseconds.
    pub timeout_ms: u64,
    /// Tries after the first one.
    pub retries: u32,
    /// Messages (reads, updates) in flight to this server at once. Left out of the JSON when
    /// it is the default, so plans saved before it existed keep their digest.
    #[serde(
        default = "default_max_inflight",
        skip_serializing_if = "is_default_max_inflight"
    )]
    pub max_inflight: u32,
    /// The TSIG key name on the wire; `None` = unsigned.
    pub key: Option<String>,
}

impl ServerTarget {
    /// Every address in the order they are tried: the first, then the fallbacks.
    pub fn candidates(&self) -> Vec<ServerCandidate> {
        let mut out = vec![ServerCandidate {
            label: self.label.clone(),
            address: self.address,
        }];
        out.extend(self.fallbacks.iter().cloned());
        out
    }
}

/// One address of a zone's server, with how the user knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCandidate {
    /// `id (address)` when configured, `ns-name (address)` when found from the SOA/NS set.
    #[serde(rename = "server")]
    pub label: String,
    /// IP and port.
    pub address: SocketAddr,
}

/// Why an address of a zone's server was passed over for the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SkipReason {
    /// No reply within the tries (`timeout` × (`retries` + 1)).
    Timeout,
    /// Nothing reachable there: connection refused, ICMP unreachable, no route.
    Unreachable,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::Timeout => "timeout",
            SkipReason::Unreachable => "unreachable",
        })
    }
}

/// An address passed over, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedServer {
    /// Its label, `id (address)` or `ns-name (address)`.
    pub server: String,
    /// IP and port.
    pub address: SocketAddr,
    /// Timeout or unreachable.
    pub reason: SkipReason,
    /// The error, in words.
    pub detail: String,
}

/// The address that answered when it was not the first: failover happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failover {
    /// The label of the address that answered.
    pub server: String,
    /// The address that answered.
    pub address: SocketAddr,
    /// The addresses tried before it, in order, and why each was passed over.
    pub skipped: Vec<SkippedServer>,
}

/// One zone and its server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneTarget {
    /// The zone (its apex).
    pub zone: Fqdn,
    /// True when found from the SOA rather than configured.
    pub zone_discovered: bool,
    /// The server that takes the zone's updates.
    #[serde(flatten)]
    pub server: ServerTarget,
}

/// One `_vlmcs._tcp` RRset as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedRrset {
    /// The configured domain.
    pub domain: Fqdn,
    /// The records read at `_vlmcs._tcp.<domain>`.
    pub records: Vec<SrvRecord>,
}

/// What one zone's server holds for the managed domains of that zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedZone {
    /// The zone and its server.
    pub target: ZoneTarget,
    /// The managed domains of this zone, in configuration order.
    pub domains: Vec<Fqdn>,
    /// Per domain (same order), the records read; empty when `error` is set.
    pub rrsets: Vec<ObservedRrset>,
    /// Reading failed: nothing can be planned for this zone.
    pub error: Option<Problem>,
    /// The reads went to a fallback address: which one, and what was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<Failover>,
}

/// A domain that could not be placed in a zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainProblem {
    /// The configured domain.
    pub domain: Fqdn,
    /// Why it could not be placed.
    #[serde(flatten)]
    pub problem: Problem,
}

/// The live state of every configured domain, zone by zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedState {
    /// The zones read, in order of first domain.
    pub zones: Vec<ObservedZone>,
    /// Domains whose zone or server could not be found.
    pub failed_domains: Vec<DomainProblem>,
}

fn is_default_max_inflight(n: &u32) -> bool {
    *n == default_max_inflight()
}

fn default_max_inflight() -> u32 {
    super::DEFAULT_MAX_INFLIGHT
}
