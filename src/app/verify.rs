//! `verify`: gathers what clients and servers see through DNS and walks the ladder of
//! `verify::rules` for every domain, then the client suffixes.

use std::net::SocketAddr;
use std::time::Duration;

use crate::dns::{DnsClient, discovery, query};
use crate::model::{Fqdn, SrvRecord};
use crate::plan::{self, Change};
use crate::verify::rules::{self, AuthoritativeAnswer, SrvComparison, TargetLookup};
use crate::verify::{
    Check, DomainReport, DomainSpec, VerifyOptions, VerifyReport, probe, workaround,
};
pub use crate::verify::{nagios, prometheus};

/// What to verify for every configured domain.
pub fn specs(desired: &crate::model::DesiredState) -> Vec<DomainSpec> {
    crate::verify::specs_from_config(desired)
}

/// Walks the ladder for every domain, then the suffix coverage.
pub async fn verify(
    domains: &[DomainSpec],
    opts: &VerifyOptions,
    progress: Option<super::Progress>,
) -> VerifyReport {
    let mut resolver = DnsClient::unsigned(
        opts.resolver,
        format!("resolver {}", opts.resolver),
        Duration::from_secs(2),
        2,
    );
    // Domains are checked `parallel` at once; the resolver gets a server's default bound.
    resolver.inflight = Some(std::sync::Arc::new(tokio::sync::Semaphore::new(
        crate::model::DEFAULT_MAX_INFLIGHT as usize,
    )));
    let reports = super::in_order(
        domains.to_vec(),
        opts.parallel,
        |d| {
            let (resolver, opts) = (resolver.clone(), opts.clone());
            async move { domain_report(&resolver, &d, &opts).await }
        },
        super::counter(&progress, "verifying", domains.len()),
    )
    .await;
    let mut suffixes = Vec::new();
    for s in &opts.suffixes {
        let found = discovery::lookup_srv(&resolver, &s.kms_owner())
            .await
            .map_err(|e| e.to_string());
        suffixes.push(rules::suffix(s, &found));
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

/// The report of one domain: its ladder, and what a client can do meanwhile.
async fn domain_report(resolver: &DnsClient, d: &DomainSpec, opts: &VerifyOptions) -> DomainReport {
    let (checks, records_found) = ladder(resolver, d, opts).await;
    let mut r = DomainReport {
        domain: d.name.clone(),
        prune: d.desired.as_ref().map(|_| d.prune),
        checks,
        records_found,
        records_expected: d.desired.as_ref().map(Vec::len),
        workaround: Vec::new(),
    };
    if !r.ok() {
        r.workaround = workaround(&r);
    }
    r
}

/// The checks of one domain, and how many SRV records the resolver returned (`None` when the
/// lookup failed or was not reached).
async fn ladder(
    resolver: &DnsClient,
    d: &DomainSpec,
    opts: &VerifyOptions,
) -> (Vec<Check>, Option<usize>) {
    let mut checks = Vec::new();
    // 1. The resolver answers at all.
    let answered = discovery::probe(resolver, &d.name)
        .await
        .map_err(|e| e.to_string());
    let reachable = answered.is_ok();
    checks.push(rules::resolver(&resolver.label, answered));
    if !reachable {
        return (checks, None);
    }
    // 2. The SRV RRset as clients see it.
    let seen = discovery::lookup_srv(resolver, &d.name.kms_owner())
        .await
        .map_err(|e| e.to_string());
    let compared = seen.as_ref().ok().and_then(|s| compare(d, s));
    checks.push(rules::srv(&d.name, &seen, compared.as_ref()));
    let Ok(seen) = seen else {
        return (checks, None);
    };
    let found = Some(seen.len());
    // 2b. Every authoritative server agrees.
    checks.push(authoritative(resolver, d, opts).await);
    // 3 and 4. Each target: names, port, TCP.
    let records = if seen.is_empty() {
        d.desired.clone().unwrap_or_default()
    } else {
        seen
    };
    for rec in &records {
        let lookup = discovery::lookup_addresses(resolver, &rec.target)
            .await
            .map(|l| TargetLookup {
                addrs: l.addrs,
                cname: l.cname,
            })
            .map_err(|e| e.to_string());
        let check = rules::target(rec, &lookup, d.desired.as_deref());
        let ok = check.ok;
        checks.push(check);
        if let (true, true, Ok(lookup)) = (ok, opts.connect, &lookup) {
            let attempts = probe::connect_all(&lookup.addrs, rec.port, opts.connect_timeout).await;
            checks.push(rules::connect(rec, &attempts));
        }
    }
    (checks, found)
}

/// The SRV RRset seen against the config, judged by the plan's own diff (TTLs aside: a caching
/// resolver counts them down), so verify and plan cannot disagree. `None` without a config.
fn compare(d: &DomainSpec, seen: &[SrvRecord]) -> Option<SrvComparison> {
    let want = d.desired.as_deref()?;
    let seen = rules::ttl_as_configured(seen, want);
    let diff = plan::diff_rrset(&d.name.kms_owner(), &seen, want, d.prune);
    let mut c = SrvComparison {
        desired: want.to_vec(),
        prune: d.prune,
        unmanaged: diff.unmanaged,
        ..SrvComparison::default()
    };
    for change in diff.changes {
        match change {
            Change::Add { record } => c.add.push(record),
            Change::Change { from, to } => c.change.push((from, to)),
            Change::Delete { record } => c.delete.push(record),
        }
    }
    Some(c)
}

async fn authoritative(resolver: &DnsClient, d: &DomainSpec, opts: &VerifyOptions) -> Check {
    let info = match discovery::find_zone(resolver, &d.name).await {
        Ok(i) => i,
        Err(e) => return rules::zone_not_found(&d.name, e.to_string(), e.hint()),
    };
    // The servers to ask: the configured primary, the MNAME, every NS.
    let mut servers: Vec<(String, SocketAddr)> = Vec::new();
    if let Some(p) = d.primary {
        servers.push((format!("primary {p}"), p));
    }
    let mut names: Vec<Fqdn> = vec![info.mname.clone()];
    if let Ok(ns) = query::read_ns(resolver, &info.zone, true).await {
        names.extend(ns);
    }
    names.sort();
    names.dedup();
    for n in names {
        for ip in discovery::resolve_addresses(resolver, &n)
            .await
            .unwrap_or_default()
        {
            let addr = SocketAddr::new(ip, opts.ns_port);
            if !servers.iter().any(|(_, a)| *a == addr) {
                servers.push((format!("{} ({addr})", n.as_str()), addr));
            }
        }
    }
    let owner = d.name.kms_owner();
    let mut answers: Vec<AuthoritativeAnswer> = Vec::new();
    let mut problems = Vec::new();
    for (label, addr) in &servers {
        let c = DnsClient::unsigned(*addr, label.clone(), Duration::from_secs(2), 1);
        let serial = query::read_serial(&c, &info.zone).await;
        let srv: Result<Vec<SrvRecord>, _> = query::read_srv(&c, Some(&info.zone), &owner).await;
        match (serial, srv) {
            (Ok(s), Ok(r)) => answers.push((label.clone(), s, r)),
            (Err(e), _) | (_, Err(e)) => problems.push(format!("{label}: {e}")),
        }
    }
    rules::authoritative(&info.zone, &info.mname, &answers, &problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::InfoKind;

    fn r(target: &str, priority: u16, ttl: u32) -> SrvRecord {
        SrvRecord::test(target, priority, ttl)
    }

    fn spec(desired: Vec<SrvRecord>, prune: bool) -> DomainSpec {
        DomainSpec {
            name: Fqdn::parse_domain("corp.example.com").unwrap(),
            desired: Some(desired),
            primary: None,
            prune,
        }
    }

    /// The srv rung fails exactly when the plan has changes for the RRset (TTLs aside), and
    /// advises apply only then.
    #[test]
    fn srv_rung_agrees_with_the_plan() {
        let kms1 = r("kms1.example.com", 0, 3600);
        let kms2 = r("kms2.example.com", 10, 3600);
        let foreign = r("self.example.com", 0, 3600);
        let cases: Vec<(Vec<SrvRecord>, Vec<SrvRecord>)> = vec![
            (vec![kms1.clone()], vec![kms1.clone()]),
            (vec![kms1.clone(), foreign.clone()], vec![kms1.clone()]),
            (vec![foreign.clone()], vec![kms1.clone()]),
            (vec![kms1.clone()], vec![kms1.clone(), kms2.clone()]),
            (vec![r("kms2.example.com", 0, 3600)], vec![kms2.clone()]),
            (vec![], vec![kms1.clone()]),
            (vec![], vec![]),
            (vec![foreign.clone()], vec![]),
            // A caching resolver's TTL, counted down: not a difference.
            (vec![r("kms1.example.com", 0, 1234)], vec![kms1.clone()]),
        ];
        for (seen, desired) in cases {
            for prune in [true, false] {
                let d = spec(desired.clone(), prune);
                let check = rules::srv(&d.name, &Ok(seen.clone()), compare(&d, &seen).as_ref());
                let with_ttl = rules::ttl_as_configured(&seen, &desired);
                let plan = plan::diff_rrset(&d.name.kms_owner(), &with_ttl, &desired, prune);
                let case = format!("{seen:?} {desired:?} prune={prune}: {check:?}");
                assert_eq!(check.ok, plan.changes.is_empty(), "{case}");
                let advises_apply = check.fix.as_deref().is_some_and(|f| f.contains("apply"));
                assert_eq!(advises_apply, !check.ok, "{case}");
                assert_eq!(check.info.len(), plan.unmanaged.len(), "{case}");
            }
        }
    }

    #[test]
    fn kept_foreign_target_is_an_info_line_and_pruned_one_a_failure() {
        let kms1 = r("kms1.example.com", 0, 3600);
        let seen = vec![kms1.clone(), r("self.example.com", 0, 600)];
        let d = spec(vec![kms1.clone()], false);
        let check = rules::srv(&d.name, &Ok(seen.clone()), compare(&d, &seen).as_ref());
        assert!(
            check.ok && check.class.is_none() && check.fix.is_none(),
            "{check:?}"
        );
        assert_eq!(check.info.len(), 1);
        let info = &check.info[0];
        assert_eq!(info.kind, InfoKind::UnmanagedKept);
        assert_eq!(
            info.detail,
            "unmanaged: 0 0 1688 self.example.com. is not in the config; kept because prune = false (kmsdns plan leaves it)"
        );
        assert!(
            info.hint
                .as_deref()
                .unwrap()
                .contains("DisableDnsPublishing=1")
        );
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["info"][0]["kind"], "unmanaged-kept");
        assert_eq!(json["info"][0]["record"]["target"], "self.example.com.");

        let d = spec(vec![kms1], true);
        let check = rules::srv(&d.name, &Ok(seen.clone()), compare(&d, &seen).as_ref());
        assert!(!check.ok && check.info.is_empty(), "{check:?}");
        assert_eq!(check.class, Some(crate::verify::FailureClass::SrvWrong));
        assert!(
            check
                .detail
                .ends_with("kmsdns plan would delete 0 0 1688 self.example.com."),
            "{}",
            check.detail
        );
    }
}
