//! Applying a plan: one signed UPDATE per zone with the prerequisites from the state read,
//! then every changed RRset read back from the server and compared with what was intended.
//! Zones are independent: one failing does not stop the others.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::NetOptions;
use super::keys::KeyRing;
use super::observe::{client_for, place_all};
use crate::dns::{DnsClient, DnsError, discovery, query, update};
use crate::error::{Error, Result};
use crate::model::{DesiredState, Fqdn, Problem, RrsetChange, SrvRecord};
use crate::plan::{Plan, ZonePlan, saved};

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

/// Reads a saved plan (`plan --out FILE`) and checks that it belongs to this configuration
/// and that every zone still goes to the server it was planned against. The records it was
/// planned from travel with it as the UPDATE prerequisites, so a zone changed since is
/// refused by the server.
pub async fn load_saved_plan(
    file: &Path,
    desired: &DesiredState,
    keys: &KeyRing,
    opts: &NetOptions,
) -> Result<Plan> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::Io {
        context: format!("cannot read the plan {}", file.display()),
        source: e,
    })?;
    let plan =
        saved::load(&file.display().to_string(), &text, desired).map_err(|e| Error::Usage {
            message: e.to_string(),
        })?;
    let (placed, _) = place_all(desired, keys, opts).await;
    for z in &plan.zones {
        let Some(p) = placed.iter().find(|p| p.target.zone == z.target.zone) else {
            return Err(Error::Runtime(format!(
                "zone {} of the plan is no longer found for this config; run `kmsdns plan` again",
                z.target.zone
            )));
        };
        if p.target.server.address != z.target.server.address {
            return Err(Error::Runtime(format!(
                "zone {} was planned against {} but its server is now {}; run `kmsdns plan` again",
                z.target.zone, z.target.server.address, p.target.server.address
            )));
        }
    }
    Ok(plan)
}

/// Reads a saved plan file and checks it against `desired` (see `plan::saved`).
pub fn read_saved_plan(file: &Path, desired: &DesiredState) -> Result<Plan> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::Io {
        context: format!("cannot read the plan {}", file.display()),
        source: e,
    })?;
    saved::load(&file.display().to_string(), &text, desired).map_err(|e| Error::Usage {
        message: e.to_string(),
    })
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
async fn apply_zone(zp: &ZonePlan, client: Result<DnsClient, Problem>) -> ZoneOutcome {
    if let Some(p) = &zp.error {
        return ZoneOutcome::Failed(p.clone());
    }
    let changes: Vec<RrsetChange> = zp.rrsets.iter().map(|r| r.to_rrset_change()).collect();
    let zone = &zp.target.zone;
    let Some(msg) = update::build_update(zone, &changes) else {
        return ZoneOutcome::Unchanged;
    };
    let client = match client {
        Ok(c) => c,
        Err(p) => return ZoneOutcome::Failed(p),
    };
    if let Err(e) = update::send_update(&client, zone, msg).await {
        return ZoneOutcome::Failed(Problem::from(&e));
    }
    // Read back every changed RRset from the same server.
    for c in changes.iter().filter(|c| !c.is_empty()) {
        let want = c.expected_after();
        match query::read_srv(&client, Some(zone), &c.owner).await {
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
    let serial = query::read_serial(&client, zone).await.ok();
    ZoneOutcome::Applied {
        changes: zp.change_count(),
        serial,
    }
}

/// The client for a zone of the plan: its server, signed with the key the plan names.
fn zone_client(zp: &ZonePlan, keys: &KeyRing, opts: &NetOptions) -> Result<DnsClient, Problem> {
    let key = match &zp.target.server.key {
        None => None,
        Some(name) => Some(keys.by_name(name).ok_or_else(|| Problem {
            message: format!(
                "the plan signs zone {} with TSIG key {name}, which no [keys.*] table of the configuration loads",
                zp.target.zone
            ),
            hint: "fix the key file or environment variable of that key, or run `kmsdns plan` again".into(),
        })?),
    };
    Ok(client_for(&zp.target.server, key, opts))
}

/// Applies every zone of the plan, `opts.concurrency` at a time; reports come back in plan
/// order. `on_done` is called as each zone finishes (e.g. to advance a progress bar).
pub async fn apply_plan(
    plan: &Plan,
    keys: &KeyRing,
    opts: &NetOptions,
    mut on_done: impl FnMut(&ZoneReport),
) -> Vec<ZoneReport> {
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut set = JoinSet::new();
    for (i, zp) in plan.zones.iter().enumerate() {
        let sem = sem.clone();
        let client = zone_client(zp, keys, opts);
        let zp = zp.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let outcome = apply_zone(&zp, client).await;
            let report = ZoneReport {
                zone: zp.target.zone,
                server: zp.target.server.label,
                outcome,
            };
            (i, report)
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        let r = r.expect("apply task does not panic");
        on_done(&r.1);
        out.push(r);
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// One name server's answer while waiting for a new serial.
#[derive(Clone, Debug, Serialize)]
pub struct NsSync {
    pub ns: Fqdn,
    pub address: Option<std::net::SocketAddr>,
    pub serial: Option<u32>,
    pub in_sync: bool,
}

/// The result of `--wait` for one applied zone.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneSync {
    pub zone: Fqdn,
    pub serial: u32,
    pub servers: std::result::Result<Vec<NsSync>, Problem>,
}

impl ZoneSync {
    pub fn ok(&self) -> bool {
        self.servers
            .as_ref()
            .is_ok_and(|list| list.iter().all(|s| s.in_sync))
    }
}

/// For every zone applied with a known serial: polls each of its NS until it serves that
/// serial (or newer, RFC 1982) or `limit` passes.
pub async fn wait_for_serials(
    plan: &Plan,
    reports: &[ZoneReport],
    keys: &KeyRing,
    opts: &NetOptions,
    limit: Duration,
) -> Vec<ZoneSync> {
    let resolver = discovery::resolver_client(opts.resolver, opts.clock.clone()).ok();
    let mut out = Vec::new();
    for (zp, r) in plan.zones.iter().zip(reports) {
        let ZoneOutcome::Applied {
            serial: Some(serial),
            ..
        } = r.outcome
        else {
            continue;
        };
        let servers = match zone_client(zp, keys, opts) {
            Ok(primary) => wait_for_serial(
                &primary,
                &zp.target.zone,
                serial,
                resolver.as_ref(),
                opts,
                limit,
            )
            .await
            .map_err(|e| Problem::from(&e)),
            Err(p) => Err(p),
        };
        out.push(ZoneSync {
            zone: zp.target.zone.clone(),
            serial,
            servers,
        });
    }
    out
}

/// NS names are resolved through the primary (in-zone names) or the resolver; they are asked
/// on `opts.discovered_port`.
async fn wait_for_serial(
    primary: &DnsClient,
    zone: &Fqdn,
    serial: u32,
    resolver: Option<&DnsClient>,
    opts: &NetOptions,
    limit: Duration,
) -> std::result::Result<Vec<NsSync>, DnsError> {
    let mut servers = Vec::new();
    for ns in query::read_ns(primary, zone, false).await? {
        let mut addrs = discovery::resolve_addresses(primary, &ns)
            .await
            .unwrap_or_default();
        if addrs.is_empty()
            && let Some(r) = resolver
        {
            addrs = discovery::resolve_addresses(r, &ns)
                .await
                .unwrap_or_default();
        }
        let addr = addrs
            .first()
            .map(|ip| std::net::SocketAddr::new(*ip, opts.discovered_port));
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
            let client = DnsClient::unsigned(
                addr,
                format!("{} ({addr})", s.ns.as_str()),
                Duration::from_secs(1),
                1,
            );
            if let Ok(got) = query::read_serial(&client, zone).await {
                s.serial = Some(got);
                s.in_sync = got.wrapping_sub(serial) < (1 << 31);
            }
        }
        if servers.iter().all(|s| s.in_sync) || tokio::time::Instant::now() >= deadline {
            return Ok(servers);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
