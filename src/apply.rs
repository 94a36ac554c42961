//! Applying a plan: one signed UPDATE per zone with the prerequisites from the state read,
//! then every changed RRset read back from the server and compared with what was intended.
//! Zones are independent: one failing does not stop the others.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::dns::update::{self, RrsetChange};
use crate::dns::{DnsClient, query};
use crate::model::{Fqdn, SrvRecord};
use crate::plan::{Plan, Problem, ZonePlan};

/// What happened to one zone.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ZoneOutcome {
    /// The UPDATE was accepted and the read-back matches.
    Applied { changes: usize, serial: Option<u32> },
    /// Nothing to change: no UPDATE was sent.
    Unchanged,
    /// Not applied (or not verified): why and what to do.
    Failed(Problem),
}

/// The outcome of one zone with its name and server.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneReport {
    pub zone: Fqdn,
    pub server: String,
    #[serde(flatten)]
    pub outcome: ZoneOutcome,
}

/// The records an RRset must hold after the change: what was seen, minus deletes, plus adds.
pub fn expected_after(c: &RrsetChange) -> Vec<SrvRecord> {
    let mut out: Vec<SrvRecord> = c
        .seen
        .iter()
        .filter(|r| !c.delete.contains(r))
        .cloned()
        .collect();
    for a in &c.add {
        if !out.contains(a) {
            out.push(a.clone());
        }
    }
    out.sort();
    out
}

/// True when the RRset read back is what the update intended: the same records, and the added
/// ones with their TTL. Servers give one RRset one TTL (RFC 2181 §5.2; BIND sets the RRset's TTL
/// to the last one added), so records kept unchanged may come back with the new TTL.
pub fn matches_after_update(got: &[SrvRecord], want: &[SrvRecord], added: &[SrvRecord]) -> bool {
    let rdata = |v: &[SrvRecord]| {
        let mut r: Vec<String> = v.iter().map(SrvRecord::rdata).collect();
        r.sort();
        r
    };
    rdata(got) == rdata(want) && added.iter().all(|a| got.contains(a))
}

/// Sends one zone's UPDATE and verifies it.
pub async fn apply_zone(zp: &ZonePlan) -> ZoneOutcome {
    if let Some(p) = &zp.error {
        return ZoneOutcome::Failed(p.clone());
    }
    let changes: Vec<RrsetChange> = zp.rrsets.iter().map(|r| r.to_rrset_change()).collect();
    let count = zp.rrsets.iter().map(|r| r.changes.len()).sum();
    let zone = &zp.target.zone;
    let Some(msg) = update::build_update(zone, &changes) else {
        return ZoneOutcome::Unchanged;
    };
    let client = &zp.target.client;
    if let Err(e) = update::send_update(client, zone, msg).await {
        return ZoneOutcome::Failed(Problem::from(&e));
    }
    // Read back every changed RRset from the same server.
    for c in changes.iter().filter(|c| !c.is_empty()) {
        let want = expected_after(c);
        match query::read_srv(client, Some(zone), &c.owner).await {
            Ok(got) if matches_after_update(&got, &want, &c.add) => {}
            Ok(got) => {
                return ZoneOutcome::Failed(Problem {
                    message: format!(
                        "{} accepted the update, but {} now holds {} record(s) instead of the {} intended",
                        client.label,
                        c.owner,
                        got.len(),
                        want.len()
                    ),
                    hint: "the server may have applied only part of the update (policy filtering); run `kmsdns plan` and check the server's update policy".into(),
                });
            }
            Err(e) => {
                return ZoneOutcome::Failed(Problem {
                    message: format!(
                        "the update was accepted, but reading {} back failed: {e}",
                        c.owner
                    ),
                    hint: e.hint(),
                });
            }
        }
    }
    let serial = query::read_serial(client, zone).await.ok();
    ZoneOutcome::Applied {
        changes: count,
        serial,
    }
}

/// One name server's answer while waiting for a new serial.
#[derive(Clone, Debug, Serialize)]
pub struct NsSync {
    pub ns: Fqdn,
    pub address: Option<std::net::SocketAddr>,
    pub serial: Option<u32>,
    pub in_sync: bool,
}

/// Polls every NS of the zone until each serves `serial` (or newer, RFC 1982) or `limit`
/// passes. NS names are resolved through the primary (in-zone names) or the resolver; they
/// are asked on `port`.
pub async fn wait_for_serial(
    zp: &ZonePlan,
    serial: u32,
    resolver: Option<&DnsClient>,
    port: u16,
    limit: std::time::Duration,
) -> Result<Vec<NsSync>, crate::dns::DnsError> {
    let primary = &zp.target.client;
    let zone = &zp.target.zone;
    let mut servers = Vec::new();
    for ns in query::read_ns(primary, zone, false).await? {
        let mut addrs = query::resolve_addresses(primary, &ns)
            .await
            .unwrap_or_default();
        if addrs.is_empty()
            && let Some(r) = resolver
        {
            addrs = query::resolve_addresses(r, &ns).await.unwrap_or_default();
        }
        let addr = addrs.first().map(|ip| std::net::SocketAddr::new(*ip, port));
        servers.push(NsSync {
            ns,
            address: addr,
            serial: None,
            in_sync: false,
        });
    }
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        for s in servers.iter_mut().filter(|s| !s.in_sync) {
            let Some(addr) = s.address else { continue };
            let client = DnsClient::new(
                crate::dns::transport::Endpoint {
                    tries: 1,
                    ..crate::dns::transport::Endpoint::new(
                        addr,
                        crate::config::Transport::Udp,
                        std::time::Duration::from_secs(1),
                    )
                },
                format!("{} ({addr})", s.ns.as_str()),
                None,
            );
            if let Ok(got) = query::read_serial(&client, zone).await {
                s.serial = Some(got);
                s.in_sync = got.wrapping_sub(serial) < (1 << 31);
            }
        }
        if servers.iter().all(|s| s.in_sync) || tokio::time::Instant::now() >= deadline {
            return Ok(servers);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Applies every zone of the plan, `concurrency` at a time; reports come back in plan order.
/// `progress` (a bar on a terminal) advances by one per finished zone.
pub async fn apply_plan(
    plan: &Plan,
    concurrency: usize,
    progress: Option<&indicatif::ProgressBar>,
) -> Vec<ZoneReport> {
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = JoinSet::new();
    for (i, zp) in plan.zones.iter().cloned().enumerate() {
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let outcome = apply_zone(&zp).await;
            (
                i,
                ZoneReport {
                    zone: zp.target.zone.clone(),
                    server: zp.target.client.label.clone(),
                    outcome,
                },
            )
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        let r = r.expect("apply task does not panic");
        if let Some(p) = progress {
            p.set_message(r.1.zone.to_string());
            p.inc(1);
        }
        out.push(r);
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}
