//! `verify`: the KMS activation troubleshooting ladder, automated (see kms-dns-guide.md).
//!
//! For each domain: (1) the resolver answers, (2) `_vlmcs._tcp.<domain>` SRV through the
//! resolver is what the config asks for, judged as `plan` judges it (a target kept with
//! `prune = false` is an [`Info`] line, not a failure), and every authoritative server
//! (primary and each NS) agrees, (3) every target resolves to A/AAAA and is not a CNAME (RFC 2782), with the port the
//! config gives the host, (4) TCP connect to every address on the SRV port, (5) the client
//! suffixes have `_vlmcs._tcp` records. Every failure is classified with its fix and the manual
//! client-side workaround.
//!
//! This module holds the report and the rules ([`rules`]: observations → checks, pure) and
//! the TCP probe ([`probe`]); `app::verify` gathers the DNS observations and walks the ladder.
#![warn(missing_docs)]

pub mod nagios;
pub mod probe;
pub mod prometheus;
pub mod rules;

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use crate::model::{DesiredState, Fqdn, ServerAddress, SrvRecord};

/// The kinds of failure the guide distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureClass {
    /// The resolver does not answer.
    DnsUnreachable,
    /// No `_vlmcs._tcp` SRV records, or a configured target is missing.
    SrvMissing,
    /// SRV records that differ from the configuration.
    SrvWrong,
    /// Authoritative servers disagree on the records or the serial.
    NsOutOfSync,
    /// A target does not resolve to an address, or is a CNAME.
    NameResolution,
    /// A target does not accept TCP on the SRV port.
    PortBlocked,
    /// A client DNS suffix has no `_vlmcs._tcp` records.
    SuffixNotCovered,
}

impl FailureClass {
    /// A short human-readable name for the class.
    pub fn label(self) -> &'static str {
        match self {
            FailureClass::DnsUnreachable => "DNS unreachable",
            FailureClass::SrvMissing => "SRV record missing",
            FailureClass::SrvWrong => "SRV record wrong",
            FailureClass::NsOutOfSync => "name servers out of sync",
            FailureClass::NameResolution => "name resolution",
            FailureClass::PortBlocked => "port blocked",
            FailureClass::SuffixNotCovered => "suffix not covered",
        }
    }
}

/// What an informational line is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InfoKind {
    /// A target the config does not list, kept because the domain has `prune = false`.
    UnmanagedKept,
}

/// An informational line of a check: worth knowing, not a failure, nothing to apply.
#[derive(Clone, Debug, Serialize)]
pub struct Info {
    /// What the line is about.
    pub kind: InfoKind,
    /// The line's text.
    pub detail: String,
    /// The record it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<SrvRecord>,
    /// What to do, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// One rung of the ladder for one domain.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// The rung: `resolver`, `srv`, `authoritative`, `target`, `tcp` or `suffix`.
    pub rung: &'static str,
    /// True when the check passed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// The kind of failure (failures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<FailureClass>,
    /// How to fix it (failures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Informational lines; they never make a check fail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub info: Vec<Info>,
    /// The TCP probe behind a `tcp` check: every address tried and how long it took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpProbe>,
    /// The client suffix a `suffix` check is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<Fqdn>,
}

/// The TCP probe of one SRV target (rung 4), as plain data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TcpProbe {
    /// The SRV target.
    pub target: Fqdn,
    /// The port of the SRV record.
    pub port: u16,
    /// One connect per address of the target.
    pub attempts: Vec<ConnectAttempt>,
}

impl TcpProbe {
    /// The slowest successful connect among the target's addresses, in seconds (`None` when
    /// none succeeded).
    pub fn max_connect_seconds(&self) -> Option<f64> {
        self.attempts
            .iter()
            .filter(|a| a.error.is_none())
            .map(|a| a.seconds)
            .reduce(f64::max)
    }
}

/// One TCP connect to one address: how long it took (to success, failure or the time limit).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConnectAttempt {
    /// The address and port connected to.
    pub address: SocketAddr,
    /// How long the connect took, in seconds.
    pub seconds: f64,
    /// Why the connect failed; `None` when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    /// A passed check.
    pub fn pass(rung: &'static str, detail: impl Into<String>) -> Self {
        Check {
            rung,
            ok: true,
            detail: detail.into(),
            class: None,
            fix: None,
            info: Vec::new(),
            tcp: None,
            suffix: None,
        }
    }
    /// A failed check with its class and fix.
    pub fn fail(
        rung: &'static str,
        class: FailureClass,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check {
            rung,
            ok: false,
            detail: detail.into(),
            class: Some(class),
            fix: Some(fix.into()),
            info: Vec::new(),
            tcp: None,
            suffix: None,
        }
    }

    /// The same check with informational lines.
    pub fn with_info(mut self, info: Vec<Info>) -> Self {
        self.info = info;
        self
    }
}

/// The ladder for one domain.
#[derive(Clone, Debug, Serialize)]
pub struct DomainReport {
    /// The client domain.
    pub domain: Fqdn,
    /// The domain's `prune` setting from the config (absent without a config).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune: Option<bool>,
    /// The rungs walked, in order.
    pub checks: Vec<Check>,
    /// How many `_vlmcs._tcp` SRV records the resolver returned (absent when the lookup
    /// failed or was not reached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records_found: Option<usize>,
    /// How many the config asks for (absent without a config).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records_expected: Option<usize>,
    /// What a client can do by hand meanwhile (only when something failed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workaround: Vec<String>,
}

impl DomainReport {
    /// True when every check passed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// The whole verify report.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// The version of the JSON report schema.
    pub schema: u32,
    /// The resolver asked.
    pub resolver: SocketAddr,
    /// The ladder for each domain.
    pub domains: Vec<DomainReport>,
    /// One check per client suffix.
    pub suffixes: Vec<Check>,
    /// True when every check passed (the exit code is 0 only then).
    pub ok: bool,
}

/// What to verify for one domain.
#[derive(Clone, Debug)]
pub struct DomainSpec {
    /// The client domain.
    pub name: Fqdn,
    /// From the config: the records clients should find (`None` without a config).
    pub desired: Option<Vec<SrvRecord>>,
    /// A configured primary (address) to ask besides the NS set.
    pub primary: Option<SocketAddr>,
    /// From the config: targets it does not list are deleted (`true`) or kept (`false`), as
    /// `plan` does. Only meaningful with `desired`.
    pub prune: bool,
}

/// Options for `app::verify::verify`.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// The resolver clients use (rungs 1–3).
    pub resolver: SocketAddr,
    /// Whether to try TCP connections to the targets (rung 4); `--no-connect` turns it off.
    pub connect: bool,
    /// How long one TCP connection attempt may take.
    pub connect_timeout: Duration,
    /// Port to ask name servers on (as `--server-port`).
    pub ns_port: u16,
    /// The client suffixes to check (rung 5).
    pub suffixes: Vec<Fqdn>,
    /// Domains checked at once (`--parallel`).
    pub parallel: usize,
}

/// The specs of every configured domain.
pub fn specs_from_config(desired: &DesiredState) -> Vec<DomainSpec> {
    desired
        .domains
        .iter()
        .map(|d| DomainSpec {
            name: d.name.clone(),
            desired: Some(d.records.clone()),
            prune: d.prune,
            primary: desired.server_of(d).and_then(|s| match s.address() {
                ServerAddress::Socket(a) => Some(*a),
                ServerAddress::Name { .. } => None,
            }),
        })
        .collect()
}

/// What a client can do by hand meanwhile.
pub fn workaround(report: &DomainReport) -> Vec<String> {
    // A target that resolved is the best one to pin a client to.
    let host = report
        .checks
        .iter()
        .filter(|c| c.rung == "target" && c.ok)
        .find_map(|c| {
            c.detail
                .strip_prefix("target ")
                .and_then(|d| d.split_whitespace().next())
        })
        .map_or_else(
            || "<kms-host-fqdn>".to_string(),
            |h| h.trim_end_matches('.').to_string(),
        );
    // Its port, when the TCP probe ran (a host may listen elsewhere than 1688).
    let port = report
        .checks
        .iter()
        .filter_map(|c| c.tcp.as_ref())
        .find(|t| t.target.as_str() == host)
        .map_or(crate::model::KMS_DEFAULT_PORT, |t| t.port);
    vec![
        format!("pin a client to a KMS host by hand: slmgr.vbs /skms {host}:{port}, then slmgr.vbs /ato (an FQDN that works here but not through discovery means the SRV record is the problem; only the IP form working means name resolution)"),
        "return the client to automatic discovery later: slmgr.vbs /ckms".to_string(),
        "when no KMS host can be reached at all: switch the client to a MAK key with slmgr.vbs /ipk <MAK>, then slmgr.vbs /ato".to_string(),
    ]
}
