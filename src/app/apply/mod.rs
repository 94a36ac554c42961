//! Applying a plan: per zone, its changes as few signed UPDATEs as fit (each RRset whole in
//! one, with its prerequisite from the state read), sent in sequence, then every changed RRset
//! read back from the server and compared with what was intended. Zones are independent: one
//! failing does not stop the others; `--parallel` of them are in flight at once.

mod message;
mod zone;

use std::net::SocketAddr;

use serde::Serialize;

use super::NetOptions;
use super::failover::{self, ServerChain};
use super::keys::KeyRing;
use crate::dns::DnsClient;
use crate::model::{Fqdn, Problem, SkippedServer};
use crate::plan::{Plan, ZonePlan};

/// What happened to one zone.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ZoneOutcome {
    /// The UPDATE went in and the read-back matches. `serial` is the zone's SOA serial read
    /// afterwards (another writer's change may be in it too); `notes` say what happened to a
    /// reply that could not be trusted.
    Applied {
        /// Record changes (adds, changes, deletes) the UPDATEs carried.
        changes: usize,
        /// How many UPDATE messages carried them (more than one when they do not fit in one).
        messages: usize,
        /// The zone's SOA serial read after the update, when it could be read.
        serial: Option<u32>,
        /// The serial read before the update: equal to `serial` on a server that does not
        /// bump serials on updates (Active Directory), where only the records tell.
        #[serde(skip_serializing_if = "Option::is_none")]
        serial_before: Option<u32>,
        /// What happened to a reply that could not be trusted (warnings), if anything.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
    },
    /// Nothing to change: no UPDATE was sent.
    Unchanged,
    /// Not applied (or not verified): why and what to do.
    Failed(Problem),
    /// The changes were split into several UPDATEs and not all of them went in: why, and
    /// which RRsets went in, which did not and which are unknown.
    Partial {
        /// What went wrong (the first message that did not go in).
        message: String,
        /// What to do about it.
        hint: String,
        /// How many UPDATE messages the changes were split into.
        messages: usize,
        /// Each changed RRset by what became of it.
        rrsets: RrsetOutcomes,
        /// The zone's SOA serial read afterwards, when it could be read.
        serial: Option<u32>,
        /// The serial read before the first UPDATE.
        #[serde(skip_serializing_if = "Option::is_none")]
        serial_before: Option<u32>,
        /// What happened to replies that could not be trusted, if anything.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
    },
}

/// The changed RRsets of a zone split into several UPDATEs, by what became of each (owner
/// names, in plan order).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RrsetOutcomes {
    /// Went in and read back as sent.
    pub applied: Vec<Fqdn>,
    /// Did not go in: refused, found unchanged, or never sent after an earlier message failed.
    pub not_applied: Vec<Fqdn>,
    /// Whether they went in is unknown (unreadable, or changed by another writer meanwhile).
    pub unknown: Vec<Fqdn>,
}

impl ZoneOutcome {
    /// The serial of an applied zone whose SOA serial did not move although records did (a
    /// server that does not bump serials on updates: Active Directory, Samba).
    pub fn serial_unmoved(&self) -> Option<u32> {
        match self {
            ZoneOutcome::Applied {
                serial: Some(s),
                serial_before: Some(b),
                ..
            } if s == b => Some(*s),
            _ => None,
        }
    }

    /// True when the zone did not end as planned (failed, or only partly applied).
    pub fn failed(&self) -> bool {
        matches!(self, ZoneOutcome::Failed(_) | ZoneOutcome::Partial { .. })
    }
}

/// The outcome of one zone with its name and server.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneReport {
    /// The zone.
    pub zone: Fqdn,
    /// The label of the server address that took the zone (answered last): `id (address)`
    /// or `mname (address)`.
    pub server: String,
    /// That address.
    pub server_address: SocketAddr,
    /// Addresses passed over before it because they could not be reached or timed out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedServer>,
    /// What happened (serialised flat, with a `status` field).
    #[serde(flatten)]
    pub outcome: ZoneOutcome,
}

/// The same server and key over TCP: for settling reads and the one resend.
fn over_tcp(client: &DnsClient) -> DnsClient {
    let mut c = client.clone();
    c.endpoint.transport = crate::model::Transport::Tcp;
    c
}

/// The client for a zone of the plan: its server's first address, signed with the key the
/// plan names.
pub(crate) fn zone_client(
    zp: &ZonePlan,
    keys: &KeyRing,
    opts: &NetOptions,
) -> Result<DnsClient, Problem> {
    Ok(zone_clients(zp, keys, opts)?.remove(0))
}

/// One client per address of a zone's server, in the order `apply` tries them: the address
/// the plan's state was read from first.
pub(crate) fn zone_clients(
    zp: &ZonePlan,
    keys: &KeyRing,
    opts: &NetOptions,
) -> Result<Vec<DnsClient>, Problem> {
    let key = match &zp.target.server.key {
        None => None,
        Some(name) => Some(keys.signer_by_name(name).ok_or_else(|| Problem {
            message: format!(
                "the plan signs zone {} with TSIG key {name}, which no [keys.*] table of the configuration loads",
                zp.target.zone
            ),
            hint: "fix the key file or environment variable of that key, or run `kmsdns plan` again".into(),
        })?),
    };
    Ok(failover::apply_order(
        failover::clients_for(&zp.target.server, keys, key.as_ref(), opts),
        zp.failover.as_ref(),
    ))
}

/// Applies every zone of the plan, `opts.parallel` at a time (each server's `max_inflight`
/// bounds its messages on top); reports come back in plan order. `on_done` is called as each
/// zone finishes (e.g. to advance a progress bar).
pub async fn apply_plan(
    plan: &Plan,
    keys: &KeyRing,
    opts: &NetOptions,
    mut on_done: impl FnMut(&ZoneReport),
) -> Vec<ZoneReport> {
    let unanswered = failover::Unanswered::default();
    // A zone's plan and clients are made only when it starts: `--parallel` of them at a time
    // in memory, not one per zone of the plan (61 MiB at 10,000 zones when made up front).
    super::in_order(
        (0..plan.zones.len()).collect(),
        opts.parallel,
        |i| {
            let zp: ZonePlan = plan.zones[i].clone();
            let mut chain = zone_clients(&zp, keys, opts).map(|c| {
                ServerChain::new(c)
                    .sharing(&unanswered)
                    .skipped_when_planned(zp.failover.as_ref())
            });
            async move {
                let outcome = zone::apply_zone(&zp, &mut chain).await;
                let (server, server_address, skipped) = match &chain {
                    Ok(c) => (
                        c.current().label.clone(),
                        c.current().addr(),
                        c.skipped.clone(),
                    ),
                    Err(_) => (zp.target.server.label, zp.target.server.address, Vec::new()),
                };
                ZoneReport {
                    zone: zp.target.zone,
                    server,
                    server_address,
                    skipped,
                    outcome,
                }
            }
        },
        |r| on_done(r),
    )
    .await
}
