//! `verify`: the KMS activation troubleshooting ladder, automated (see kms-dns-guide.md).
//!
//! For each domain: (1) the resolver answers, (2) `_vlmcs._tcp.<domain>` SRV through the
//! resolver and from every authoritative server (primary and each NS), equal to the config and
//! in sync, (3) every target resolves to A/AAAA and is not a CNAME (RFC 2782), with the port the
//! config gives the host, (4) TCP connect to every address on the SRV port, (5) the client
//! suffixes have `_vlmcs._tcp` records. Every failure is classified with its fix and the manual
//! client-side workaround.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use serde::Serialize;

use crate::config::{Config, Transport};
use crate::dns::client::DnsClient;
use crate::dns::query::{self, fqdn_of, query_message};
use crate::dns::transport::{Endpoint, Kind};
use crate::model::{Fqdn, SrvRecord};

/// The kinds of failure the guide distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureClass {
    DnsUnreachable,
    SrvMissing,
    SrvWrong,
    NsOutOfSync,
    NameResolution,
    PortBlocked,
    SuffixNotCovered,
}

impl FailureClass {
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

/// One rung of the ladder for one domain.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub rung: &'static str,
    pub ok: bool,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<FailureClass>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn pass(rung: &'static str, detail: impl Into<String>) -> Self {
        Check {
            rung,
            ok: true,
            detail: detail.into(),
            class: None,
            fix: None,
        }
    }
    fn fail(
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
        }
    }
}

/// The ladder for one domain.
#[derive(Clone, Debug, Serialize)]
pub struct DomainReport {
    pub domain: Fqdn,
    pub checks: Vec<Check>,
    /// What a client can do by hand meanwhile (only when something failed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workaround: Vec<String>,
}

impl DomainReport {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// The whole verify report.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    pub schema: u32,
    pub resolver: SocketAddr,
    pub domains: Vec<DomainReport>,
    pub suffixes: Vec<Check>,
    pub ok: bool,
}

/// What to verify for one domain.
#[derive(Clone, Debug)]
pub struct DomainSpec {
    pub name: Fqdn,
    /// From the config: the records clients should find (`None` without a config).
    pub desired: Option<Vec<SrvRecord>>,
    /// A configured primary (address) to ask besides the NS set.
    pub primary: Option<SocketAddr>,
}

/// Options for [`verify`].
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    pub resolver: SocketAddr,
    pub connect: bool,
    pub connect_timeout: Duration,
    /// Port to ask name servers on (as `--server-port`).
    pub ns_port: u16,
    pub suffixes: Vec<Fqdn>,
}

/// The specs of every configured domain.
pub fn specs_from_config(config: &Config) -> Vec<DomainSpec> {
    config
        .domains
        .iter()
        .map(|d| DomainSpec {
            name: d.name.clone(),
            desired: Some(d.records.clone()),
            primary: d
                .server
                .as_ref()
                .and_then(|id| config.servers.get(id))
                .and_then(|s| match &s.address {
                    crate::config::ServerAddress::Socket(a) => Some(*a),
                    crate::config::ServerAddress::Name { .. } => None,
                }),
        })
        .collect()
}

fn client(addr: SocketAddr, label: String, tries: u32) -> DnsClient {
    DnsClient::new(
        Endpoint {
            tries,
            ..Endpoint::new(addr, Transport::Udp, Duration::from_secs(2))
        },
        label,
        None,
    )
}

fn workaround(report: &DomainReport) -> Vec<String> {
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
    vec![
        format!("pin a client to a KMS host by hand: slmgr.vbs /skms {host}:1688, then slmgr.vbs /ato (an FQDN that works here but not through discovery means the SRV record is the problem; only the IP form working means name resolution)"),
        "return the client to automatic discovery later: slmgr.vbs /ckms".to_string(),
        "when no KMS host can be reached at all: switch the client to a MAK key with slmgr.vbs /ipk <MAK>, then slmgr.vbs /ato".to_string(),
    ]
}

/// Walks the ladder for every domain, then the suffix coverage.
pub async fn verify(domains: &[DomainSpec], opts: &VerifyOptions) -> VerifyReport {
    let resolver = client(opts.resolver, format!("resolver {}", opts.resolver), 2);
    let mut reports = Vec::new();
    for d in domains {
        let mut r = DomainReport {
            domain: d.name.clone(),
            checks: ladder(&resolver, d, opts).await,
            workaround: Vec::new(),
        };
        if !r.ok() {
            r.workaround = workaround(&r);
        }
        reports.push(r);
    }
    let mut suffixes = Vec::new();
    for s in &opts.suffixes {
        suffixes.push(suffix_check(&resolver, s).await);
    }
    let ok = reports.iter().all(DomainReport::ok) && suffixes.iter().all(|c| c.ok);
    VerifyReport {
        schema: 1,
        resolver: opts.resolver,
        domains: reports,
        suffixes,
        ok,
    }
}

async fn suffix_check(resolver: &DnsClient, suffix: &Fqdn) -> Check {
    let owner = suffix.kms_owner();
    match resolver
        .send(query_message(&owner, RecordType::SRV, true), Kind::Query)
        .await
    {
        Ok(resp) if !query::srv_records(&owner, &resp.message.answers).is_empty() => Check::pass(
            "suffix",
            format!("suffix {} has _vlmcs._tcp records", suffix),
        ),
        Ok(_) => Check::fail(
            "suffix",
            FailureClass::SuffixNotCovered,
            format!(
                "suffix {} has no _vlmcs._tcp records: clients searching it find no KMS host",
                suffix
            ),
            format!(
                "add a [[domains]] entry with name = \"{}\" and run kmsdns apply, or add {} to DnsDomainPublishList on the KMS host (kmsdns render registry)",
                suffix.as_str(),
                suffix.as_str()
            ),
        ),
        Err(e) => Check::fail(
            "suffix",
            FailureClass::DnsUnreachable,
            format!("cannot look up {owner}: {e}"),
            "check the client's DNS server (ipconfig /all) and that it answers",
        ),
    }
}

async fn ladder(resolver: &DnsClient, d: &DomainSpec, opts: &VerifyOptions) -> Vec<Check> {
    let mut checks = Vec::new();
    // 1. The resolver answers at all.
    if let Err(e) = resolver
        .send(query_message(&d.name, RecordType::SOA, true), Kind::Query)
        .await
    {
        checks.push(Check::fail(
            "resolver",
            FailureClass::DnsUnreachable,
            format!("{e}"),
            "check IP connectivity to the DNS server the clients use (ipconfig /all shows it) and that it runs; then run verify again",
        ));
        return checks;
    }
    checks.push(Check::pass(
        "resolver",
        format!("{} answers", resolver.label),
    ));

    // 2. The SRV RRset as clients see it.
    let owner = d.name.kms_owner();
    let seen = match resolver
        .send(query_message(&owner, RecordType::SRV, true), Kind::Query)
        .await
    {
        Ok(resp) => query::srv_records(&owner, &resp.message.answers),
        Err(e) => {
            checks.push(Check::fail(
                "srv",
                FailureClass::DnsUnreachable,
                format!("{e}"),
                "check the resolver",
            ));
            return checks;
        }
    };
    if seen.is_empty() {
        checks.push(Check::fail(
            "srv",
            FailureClass::SrvMissing,
            format!("{owner} has no SRV records: clients in {} cannot discover a KMS host", d.name.as_str()),
            "create the records: kmsdns apply, or paste kmsdns render bind / nsupdate / powershell output",
        ));
    } else {
        let shown: Vec<String> = seen.iter().map(SrvRecord::rdata).collect();
        match &d.desired {
            Some(want) if !same_rdata(&seen, want) => checks.push(Check::fail(
                "srv",
                FailureClass::SrvWrong,
                format!("{owner} holds [{}] but the config wants [{}]", shown.join("; "), want.iter().map(SrvRecord::rdata).collect::<Vec<_>>().join("; ")),
                "run kmsdns plan to see the difference and kmsdns apply to fix it (or the render outputs)",
            )),
            _ => checks.push(Check::pass("srv", format!("{owner}: {}", shown.join("; ")))),
        }
    }

    // 2b. Every authoritative server agrees.
    checks.push(authoritative_check(resolver, d, opts).await);

    // 3 and 4. Each target: names, port, TCP.
    let records = if seen.is_empty() {
        d.desired.clone().unwrap_or_default()
    } else {
        seen.clone()
    };
    for rec in &records {
        let (name_check, addrs) = target_check(resolver, rec, d).await;
        let ok = name_check.ok;
        checks.push(name_check);
        if !ok || !opts.connect {
            continue;
        }
        checks.push(connect_check(rec, &addrs, opts.connect_timeout).await);
    }
    checks
}

fn same_rdata(a: &[SrvRecord], b: &[SrvRecord]) -> bool {
    let set = |v: &[SrvRecord]| v.iter().map(SrvRecord::rdata).collect::<BTreeSet<_>>();
    set(a) == set(b)
}

async fn authoritative_check(resolver: &DnsClient, d: &DomainSpec, opts: &VerifyOptions) -> Check {
    let owner = d.name.kms_owner();
    let info = match query::find_zone(resolver, &d.name).await {
        Ok(i) => i,
        Err(e) => {
            return Check::fail(
                "authoritative",
                FailureClass::DnsUnreachable,
                format!("cannot find the zone of {}: {e}", d.name.as_str()),
                e.hint(),
            );
        }
    };
    // The servers to ask: the configured primary, the MNAME, every NS.
    let mut servers: Vec<(String, SocketAddr)> = Vec::new();
    if let Some(p) = d.primary {
        servers.push((format!("primary {p}"), p));
    }
    let mut names = vec![info.mname.clone()];
    if let Ok(ns) = query::read_ns(resolver, &info.zone, true).await {
        names.extend(ns);
    }
    names.sort();
    names.dedup();
    for n in names {
        for ip in query::resolve_addresses(resolver, &n)
            .await
            .unwrap_or_default()
        {
            let addr = SocketAddr::new(ip, opts.ns_port);
            if !servers.iter().any(|(_, a)| *a == addr) {
                servers.push((format!("{} ({addr})", n.as_str()), addr));
            }
        }
    }
    let mut answers = Vec::new();
    let mut problems = Vec::new();
    for (label, addr) in &servers {
        let c = client(*addr, label.clone(), 1);
        let serial = query::read_serial(&c, &info.zone).await;
        let srv = query::read_srv(&c, Some(&info.zone), &owner).await;
        match (serial, srv) {
            (Ok(s), Ok(r)) => answers.push((label.clone(), s, r)),
            (Err(e), _) | (_, Err(e)) => problems.push(format!("{label}: {e}")),
        }
    }
    let serials: BTreeSet<u32> = answers.iter().map(|a| a.1).collect();
    let rrsets: BTreeSet<Vec<String>> = answers
        .iter()
        .map(|a| {
            let mut v: Vec<String> = a.2.iter().map(SrvRecord::rdata).collect();
            v.sort();
            v
        })
        .collect();
    let summary = answers
        .iter()
        .map(|(l, s, r)| format!("{l}: serial {s}, {} SRV", r.len()))
        .collect::<Vec<_>>()
        .join("; ");
    if !problems.is_empty() || serials.len() > 1 || rrsets.len() > 1 {
        let mut detail = format!(
            "authoritative servers of {} disagree or fail: {summary}",
            info.zone
        );
        if !problems.is_empty() {
            detail.push_str(&format!("; {}", problems.join("; ")));
        }
        return Check::fail(
            "authoritative",
            FailureClass::NsOutOfSync,
            detail,
            format!(
                "check zone transfers from the primary {} to every NS (allow-transfer, also-notify, the secondaries' logs); clients asking a stale server get old records",
                info.mname.as_str()
            ),
        );
    }
    if answers.is_empty() {
        return Check::fail(
            "authoritative",
            FailureClass::DnsUnreachable,
            format!("no authoritative server of {} could be asked", info.zone),
            "check the NS records and their addresses",
        );
    }
    Check::pass(
        "authoritative",
        format!(
            "{} server(s) of {} agree: {summary}",
            answers.len(),
            info.zone
        ),
    )
}

async fn target_check(
    resolver: &DnsClient,
    rec: &SrvRecord,
    d: &DomainSpec,
) -> (Check, Vec<IpAddr>) {
    let target = &rec.target;
    let mut addrs = Vec::new();
    for rtype in [RecordType::A, RecordType::AAAA] {
        match resolver
            .send(query_message(target, rtype, true), Kind::Query)
            .await
        {
            Ok(resp) => {
                if let Some(c) =
                    resp.message.answers.iter().find(|r| {
                        r.record_type() == RecordType::CNAME && fqdn_of(&r.name) == *target
                    })
                {
                    let check = Check::fail(
                        "target",
                        FailureClass::NameResolution,
                        format!(
                            "target {target} is a CNAME (to {}): RFC 2782 forbids an alias as SRV target and clients may not follow it",
                            c.data
                        ),
                        format!(
                            "point the SRV record at the host's real name, or replace the CNAME at {target} with A/AAAA records"
                        ),
                    );
                    return (check, addrs);
                }
                if resp.message.metadata.response_code == ResponseCode::NoError {
                    for r in &resp.message.answers {
                        match &r.data {
                            RData::A(a) if fqdn_of(&r.name) == *target => {
                                addrs.push(IpAddr::V4(a.0))
                            }
                            RData::AAAA(a) if fqdn_of(&r.name) == *target => {
                                addrs.push(IpAddr::V6(a.0))
                            }
                            _ => {}
                        }
                    }
                }
            }
            Err(e) => {
                return (
                    Check::fail(
                        "target",
                        FailureClass::DnsUnreachable,
                        format!("cannot resolve {target}: {e}"),
                        "check the resolver",
                    ),
                    addrs,
                );
            }
        }
    }
    if addrs.is_empty() {
        let check = Check::fail(
            "target",
            FailureClass::NameResolution,
            format!(
                "target {target} has no A/AAAA record: clients find the SRV record but cannot reach the host"
            ),
            format!(
                "add A/AAAA records for {target} (or fix the host name in the config), e.g. {} IN A <address>",
                target
            ),
        );
        return (check, addrs);
    }
    if let Some(want) = d
        .desired
        .as_ref()
        .and_then(|w| w.iter().find(|w| w.target == *target))
        && want.port != rec.port
    {
        let check = Check::fail(
            "target",
            FailureClass::SrvWrong,
            format!(
                "target {target} is published with port {} but the config gives the host port {}",
                rec.port, want.port
            ),
            "run kmsdns apply so the SRV port matches the port the KMS host listens on",
        );
        return (check, addrs);
    }
    let list = addrs
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    (
        Check::pass("target", format!("target {target} resolves to {list}")),
        addrs,
    )
}

async fn connect_check(rec: &SrvRecord, addrs: &[IpAddr], limit: Duration) -> Check {
    let mut failed = Vec::new();
    for ip in addrs {
        let sa = SocketAddr::new(*ip, rec.port);
        match tokio::time::timeout(limit, tokio::net::TcpStream::connect(sa)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => failed.push(format!("{sa}: {e}")),
            Err(_) => failed.push(format!("{sa}: no answer within {limit:?}")),
        }
    }
    if failed.is_empty() {
        Check::pass(
            "tcp",
            format!("target {} accepts TCP on port {}", rec.target, rec.port),
        )
    } else {
        Check::fail(
            "tcp",
            FailureClass::PortBlocked,
            format!(
                "target {} does not accept TCP on port {}: {}",
                rec.target,
                rec.port,
                failed.join("; ")
            ),
            format!(
                "open TCP {} on the KMS host's firewall and on the path from the clients, and check that the Software Protection service (sppsvc) runs on {}",
                rec.port, rec.target
            ),
        )
    }
}
