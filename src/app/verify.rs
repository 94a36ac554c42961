//! `verify`: gathers what clients and servers see through DNS and walks the ladder of
//! `verify::rules` for every domain, then the client suffixes.

use std::net::SocketAddr;
use std::time::Duration;

use crate::dns::{DnsClient, discovery, query};
use crate::model::{Fqdn, SrvRecord};
use crate::verify::rules::{self, AuthoritativeAnswer, TargetLookup};
use crate::verify::{
    Check, DomainReport, DomainSpec, VerifyOptions, VerifyReport, probe, workaround,
};

/// What to verify for every configured domain.
pub fn specs(desired: &crate::model::DesiredState) -> Vec<DomainSpec> {
    crate::verify::specs_from_config(desired)
}

/// Walks the ladder for every domain, then the suffix coverage.
pub async fn verify(domains: &[DomainSpec], opts: &VerifyOptions) -> VerifyReport {
    let resolver = DnsClient::unsigned(
        opts.resolver,
        format!("resolver {}", opts.resolver),
        Duration::from_secs(2),
        2,
    );
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

async fn ladder(resolver: &DnsClient, d: &DomainSpec, opts: &VerifyOptions) -> Vec<Check> {
    let mut checks = Vec::new();
    // 1. The resolver answers at all.
    let answered = discovery::probe(resolver, &d.name)
        .await
        .map_err(|e| e.to_string());
    let reachable = answered.is_ok();
    checks.push(rules::resolver(&resolver.label, answered));
    if !reachable {
        return checks;
    }
    // 2. The SRV RRset as clients see it.
    let seen = discovery::lookup_srv(resolver, &d.name.kms_owner())
        .await
        .map_err(|e| e.to_string());
    checks.push(rules::srv(&d.name, &seen, d.desired.as_deref()));
    let Ok(seen) = seen else { return checks };
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
            let failed = probe::connect_all(&lookup.addrs, rec.port, opts.connect_timeout).await;
            checks.push(rules::connect(rec, &failed));
        }
    }
    checks
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
