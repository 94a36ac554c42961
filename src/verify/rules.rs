//! The rules of the ladder: each takes what was observed and returns a classified [`Check`]
//! with its fix. Pure: no I/O.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::{Check, ConnectAttempt, FailureClass, Info, InfoKind, TcpProbe};
use crate::model::{Fqdn, SrvRecord};

/// Rung 1: the resolver answers at all. `Err` holds why not.
pub fn resolver(label: &str, answered: Result<(), String>) -> Check {
    match answered {
        Ok(()) => Check::pass("resolver", format!("{label} answers")),
        Err(e) => Check::fail(
            "resolver",
            FailureClass::DnsUnreachable,
            e,
            "check IP connectivity to the DNS server the clients use (ipconfig /all shows it) and that it runs; then run verify again",
        ),
    }
}

/// How the SRV RRset clients see compares with the config, judged as `plan` judges it:
/// `app::verify` fills it from `plan::diff_rrset` (with [`ttl_as_configured`] records), so
/// verify fails exactly where plan has something to do for the RRset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SrvComparison {
    /// The records the config asks for.
    pub desired: Vec<SrvRecord>,
    /// The domain's `prune` setting.
    pub prune: bool,
    /// What the plan would do: desired targets missing, ...
    pub add: Vec<SrvRecord>,
    /// ... desired targets published with other values (from, to), ...
    pub change: Vec<(SrvRecord, SrvRecord)>,
    /// ... and targets it would delete (not in the config with `prune = true`, or a listed
    /// target published twice).
    pub delete: Vec<SrvRecord>,
    /// Targets the config does not list, kept because `prune = false`.
    pub unmanaged: Vec<SrvRecord>,
}

impl SrvComparison {
    /// True when the plan has nothing to do for the RRset.
    pub fn in_sync(&self) -> bool {
        self.add.is_empty() && self.change.is_empty() && self.delete.is_empty()
    }
}

/// The records seen, with the TTL the config gives each listed target: a caching resolver
/// counts TTLs down, so verify does not compare them (`plan` reads them from the primary).
pub fn ttl_as_configured(seen: &[SrvRecord], desired: &[SrvRecord]) -> Vec<SrvRecord> {
    seen.iter()
        .map(|r| match desired.iter().find(|d| d.target == r.target) {
            Some(d) => SrvRecord {
                ttl: d.ttl,
                ..r.clone()
            },
            None => r.clone(),
        })
        .collect()
}

/// Rung 2: the SRV RRset as clients see it, against the config when known. It fails only
/// where `plan` would change something; a target kept with `prune = false` is an info line.
pub fn srv(
    domain: &Fqdn,
    seen: &Result<Vec<SrvRecord>, String>,
    config: Option<&SrvComparison>,
) -> Check {
    let owner = domain.kms_owner();
    let seen = match seen {
        Ok(s) => s,
        Err(e) => {
            return Check::fail(
                "srv",
                FailureClass::DnsUnreachable,
                e.clone(),
                "check the resolver",
            );
        }
    };
    let rdata = |v: &[SrvRecord]| {
        v.iter()
            .map(SrvRecord::rdata)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let Some(cmp) = config else {
        return if seen.is_empty() {
            missing(domain)
        } else {
            Check::pass("srv", format!("{owner}: {}", rdata(seen)))
        };
    };
    let info = cmp.unmanaged.iter().map(unmanaged_info).collect();
    let check = if !cmp.in_sync() && seen.is_empty() {
        missing(domain)
    } else if !cmp.in_sync() {
        Check::fail(
            "srv",
            FailureClass::SrvWrong,
            format!(
                "{owner} holds [{}] but the config wants [{}]; kmsdns plan would {}",
                rdata(seen),
                rdata(&cmp.desired),
                pending(cmp)
            ),
            "run kmsdns plan to see the difference and kmsdns apply to fix it (or the render outputs)",
        )
    } else if seen.is_empty() {
        Check::pass(
            "srv",
            format!("{owner} has no SRV records, as the config asks (hosts = [])"),
        )
    } else {
        Check::pass("srv", format!("{owner}: {}", rdata(seen)))
    };
    check.with_info(info)
}

fn missing(domain: &Fqdn) -> Check {
    Check::fail(
        "srv",
        FailureClass::SrvMissing,
        format!(
            "{} has no SRV records: clients in {} cannot discover a KMS host",
            domain.kms_owner(),
            domain.as_str()
        ),
        "create the records: kmsdns apply, or paste kmsdns render bind / nsupdate / powershell output",
    )
}

/// "add …, change … (priority 10 → 0), delete …": what the plan would do.
fn pending(cmp: &SrvComparison) -> String {
    let mut parts: Vec<String> = cmp
        .add
        .iter()
        .map(|r| format!("add {}", r.rdata()))
        .collect();
    for (from, to) in &cmp.change {
        let mut what = Vec::new();
        for (name, a, b) in [
            ("priority", from.priority, to.priority),
            ("weight", from.weight, to.weight),
            ("port", from.port, to.port),
        ] {
            if a != b {
                what.push(format!("{name} {a} → {b}"));
            }
        }
        parts.push(format!("change {} ({})", from.rdata(), what.join(", ")));
    }
    parts.extend(cmp.delete.iter().map(|r| format!("delete {}", r.rdata())));
    parts.join(", ")
}

fn unmanaged_info(rec: &SrvRecord) -> Info {
    Info {
        kind: InfoKind::UnmanagedKept,
        detail: format!(
            "unmanaged: {} is not in the config; kept because prune = false (kmsdns plan leaves it)",
            rec.rdata()
        ),
        record: Some(rec.clone()),
        hint: Some(format!(
            "if {} is a Windows KMS host that publishes itself, set DisableDnsPublishing=1 on it (kmsdns render registry --disable-publishing) or list it in the config",
            rec.target
        )),
    }
}

/// Rung 2b when the zone of the domain cannot be found.
pub fn zone_not_found(domain: &Fqdn, error: String, hint: String) -> Check {
    Check::fail(
        "authoritative",
        FailureClass::DnsUnreachable,
        format!("cannot find the zone of {}: {error}", domain.as_str()),
        hint,
    )
}

/// One authoritative server's answer: its label, SOA serial and SRV RRset.
pub type AuthoritativeAnswer = (String, u32, Vec<SrvRecord>);

/// Rung 2b: every authoritative server (primary, MNAME, each NS) answers the same serial and
/// the same RRset. `problems` are the servers that failed to answer, with why.
pub fn authoritative(
    zone: &Fqdn,
    mname: &Fqdn,
    answers: &[AuthoritativeAnswer],
    problems: &[String],
) -> Check {
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
        let mut detail = format!("authoritative servers of {zone} disagree or fail: {summary}");
        if !problems.is_empty() {
            detail.push_str(&format!("; {}", problems.join("; ")));
        }
        return Check::fail(
            "authoritative",
            FailureClass::NsOutOfSync,
            detail,
            format!(
                "check zone transfers from the primary {} to every NS (allow-transfer, also-notify, the secondaries' logs); clients asking a stale server get old records",
                mname.as_str()
            ),
        );
    }
    if answers.is_empty() {
        return Check::fail(
            "authoritative",
            FailureClass::DnsUnreachable,
            format!("no authoritative server of {zone} could be asked"),
            "check the NS records and their addresses",
        );
    }
    Check::pass(
        "authoritative",
        format!("{} server(s) of {zone} agree: {summary}", answers.len()),
    )
}

/// What the A/AAAA lookup of an SRV target found.
#[derive(Clone, Debug, Default)]
pub struct TargetLookup {
    /// The A and AAAA addresses found.
    pub addrs: Vec<IpAddr>,
    /// The target is an alias: the CNAME's target.
    pub cname: Option<String>,
}

/// Rung 3: the target resolves to A/AAAA, is not a CNAME, and carries the port the config
/// gives the host.
pub fn target(
    rec: &SrvRecord,
    lookup: &Result<TargetLookup, String>,
    desired: Option<&[SrvRecord]>,
) -> Check {
    let target = &rec.target;
    let lookup = match lookup {
        Ok(l) => l,
        Err(e) => {
            return Check::fail(
                "target",
                FailureClass::DnsUnreachable,
                format!("cannot resolve {target}: {e}"),
                "check the resolver",
            );
        }
    };
    if let Some(cname) = &lookup.cname {
        return Check::fail(
            "target",
            FailureClass::NameResolution,
            format!(
                "target {target} is a CNAME (to {cname}): RFC 2782 forbids an alias as SRV target and clients may not follow it"
            ),
            format!(
                "point the SRV record at the host's real name, or replace the CNAME at {target} with A/AAAA records"
            ),
        );
    }
    if lookup.addrs.is_empty() {
        return Check::fail(
            "target",
            FailureClass::NameResolution,
            format!(
                "target {target} has no A/AAAA record: clients find the SRV record but cannot reach the host"
            ),
            format!(
                "add A/AAAA records for {target} (or fix the host name in the config), e.g. {target} IN A <address>"
            ),
        );
    }
    if let Some(want) = desired.and_then(|w| w.iter().find(|w| w.target == *target))
        && want.port != rec.port
    {
        return Check::fail(
            "target",
            FailureClass::SrvWrong,
            format!(
                "target {target} is published with port {} but the config gives the host port {}",
                rec.port, want.port
            ),
            "run kmsdns apply so the SRV port matches the port the KMS host listens on",
        );
    }
    let list = lookup
        .addrs
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Check::pass("target", format!("target {target} resolves to {list}"))
}

/// Rung 4: TCP to every address of the target on the SRV port. `attempts` are the probe's
/// connects; the check carries them (with their durations) as [`TcpProbe`].
pub fn connect(rec: &SrvRecord, attempts: &[ConnectAttempt]) -> Check {
    let failed: Vec<String> = attempts
        .iter()
        .filter_map(|a| a.error.as_ref().map(|e| format!("{}: {e}", a.address)))
        .collect();
    let mut check = if failed.is_empty() {
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
    };
    check.tcp = Some(TcpProbe {
        target: rec.target.clone(),
        port: rec.port,
        attempts: attempts.to_vec(),
    });
    check
}

/// Rung 5: a DNS suffix clients search has `_vlmcs._tcp` records.
pub fn suffix(suffix: &Fqdn, found: &Result<Vec<SrvRecord>, String>) -> Check {
    let mut check = match found {
        Ok(records) if !records.is_empty() => {
            Check::pass("suffix", format!("suffix {suffix} has _vlmcs._tcp records"))
        }
        Ok(_) => Check::fail(
            "suffix",
            FailureClass::SuffixNotCovered,
            format!(
                "suffix {suffix} has no _vlmcs._tcp records: clients searching it find no KMS host"
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
            format!("cannot look up {}: {e}", suffix.kms_owner()),
            "check the client's DNS server (ipconfig /all) and that it answers",
        ),
    };
    check.suffix = Some(suffix.clone());
    check
}
