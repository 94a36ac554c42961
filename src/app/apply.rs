//! Applying a plan: one signed UPDATE per zone with the prerequisites from the state read,
//! then every changed RRset read back from the server and compared with what was intended.
//! Zones are independent: one failing does not stop the others.

use std::net::SocketAddr;

use serde::Serialize;
use tokio::task::JoinSet;

use super::NetOptions;
use super::failover::{self, ServerChain};
use super::keys::KeyRing;
use crate::dns::update::UpdateReply;
use crate::dns::{DnsClient, DnsError, query, update};
use crate::model::{Fqdn, Judgement, Problem, RrsetChange, SkippedServer, SrvRecord};
use crate::plan::{Plan, ZonePlan};

/// What happened to one zone.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ZoneOutcome {
    /// The UPDATE went in and the read-back matches. `serial` is the zone's SOA serial read
    /// afterwards (another writer's change may be in it too); `notes` say what happened to a
    /// reply that could not be trusted.
    Applied {
        /// Record changes (adds, changes, deletes) the UPDATE carried.
        changes: usize,
        /// The zone's SOA serial read after the update, when it could be read.
        serial: Option<u32>,
        /// What happened to a reply that could not be trusted (warnings), if anything.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
    },
    /// Nothing to change: no UPDATE was sent.
    Unchanged,
    /// Not applied (or not verified): why and what to do.
    Failed(Problem),
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

/// Sends one zone's UPDATE, settles its outcome and verifies it.
///
/// A reply that checks out decides. Without one (lost, truncated, unverifiable), the RRsets
/// the update touched are read again over TCP, signed: the desired state means applied (with
/// a note on what happened to the reply); the state read before means not applied, and the
/// update is sent once more over TCP (its prerequisites make that safe); anything else means
/// another writer changed the records, and both states are reported.
///
/// `chain` holds the server's addresses; it moves to the next only when the current one
/// cannot be reached or times out (see `failover` and docs/design.md).
async fn apply_zone(zp: &ZonePlan, chain: &mut Result<ServerChain, Problem>) -> ZoneOutcome {
    if let Some(p) = &zp.error {
        return ZoneOutcome::Failed(p.clone());
    }
    let changes: Vec<RrsetChange> = zp
        .rrsets
        .iter()
        .map(|r| r.to_rrset_change())
        .filter(|c| !c.is_empty())
        .collect();
    let zone = &zp.target.zone;
    let Some(msg) = update::build_update(zone, &changes) else {
        return ZoneOutcome::Unchanged;
    };
    let chain = match chain {
        Ok(c) => c,
        Err(p) => return ZoneOutcome::Failed(p.clone()),
    };
    // The serial before: tells a server that skipped records from another writer later. It
    // is also the cheap check that the address answers before an UPDATE goes there.
    let mut serial_before = failover::first_answer(chain, |c: DnsClient| async move {
        query::read_serial(&c, zone).await
    })
    .await
    .ok();
    let mut notes = Vec::new();
    let mut reply = update::send_update(chain.current(), zone, msg.clone()).await;
    let mut resent = false;
    loop {
        let uncertain = match reply {
            // Nothing can have reached it: the next address may take the update.
            Err(e) if chain.skip(&e, Some("the update was not sent to it")) => {
                serial_before = query::read_serial(chain.current(), zone).await.ok();
                reply = update::send_update(chain.current(), zone, msg.clone()).await;
                continue;
            }
            Err(e) => {
                return ZoneOutcome::Failed(Problem {
                    message: format!("{e}; the update was not sent"),
                    hint: e.hint(),
                });
            }
            Ok(UpdateReply::Applied(receipt)) => {
                if !receipt.ignored.is_empty() {
                    notes.push(format!(
                        "the server's verified reply says applied{}; this may mean tampering on the path",
                        update::ignored_note(&receipt.ignored)
                    ));
                }
                break;
            }
            Ok(UpdateReply::NotApplied(e)) => {
                return ZoneOutcome::Failed(failover::after_skipping(chain, Problem::from(&e)));
            }
            Ok(UpdateReply::Uncertain(u)) => u,
        };
        tracing::warn!(zone = %zone, "{}; reading the records back to settle the outcome", uncertain.what);
        let sent_to = chain.current().addr();
        let settled = settle_on_chain(chain, zone, &changes, &uncertain.what, &mut notes).await;
        // Settled at the next address: say where; it may get its own one copy over TCP.
        let moved = chain.current().addr() != sent_to;
        let (at, again) = if moved {
            (format!(" at {}", chain.current().label), "to it")
        } else {
            (String::new(), "again")
        };
        match settled {
            Settled::Desired => {
                notes.push(format!(
                    "{}; the records read back over TCP{at} show the update went in",
                    uncertain.what
                ));
                break;
            }
            Settled::Before if !resent || moved => {
                notes.push(format!(
                    "{}; the records read back over TCP{at} were unchanged, so the update was sent {again} over TCP",
                    uncertain.what
                ));
                resent = true;
                reply = update::send_update(&over_tcp(chain.current()), zone, msg.clone()).await;
            }
            Settled::Before => {
                return ZoneOutcome::Failed(Problem {
                    message: format!(
                        "{}; the records read back over TCP are as they were before: the update was not applied",
                        uncertain.what
                    ),
                    hint: uncertain.error.hint(),
                });
            }
            Settled::Other(rrsets) => {
                return ZoneOutcome::Failed(Problem {
                    message: format!(
                        "{}; the records read back over TCP are neither the state planned from nor the desired one: another writer changed them. {}",
                        uncertain.what,
                        rrsets.join("; ")
                    ),
                    hint: "run `kmsdns plan` to see the current state, find the other writer, then apply".into(),
                });
            }
            Settled::Unreadable(e) => {
                return ZoneOutcome::Failed(Problem {
                    message: format!(
                        "{}; reading the records back failed too ({e}): whether the update went in is unknown",
                        uncertain.what
                    ),
                    hint: format!("{} Then run `kmsdns plan` to see what is there.", e.hint()),
                });
            }
        }
    }
    // Read back every changed RRset from the same server.
    let client = chain.current();
    let tcp = over_tcp(client);
    let (mut written, mut skipped) = (Vec::new(), Vec::new());
    for c in &changes {
        let got = match query::read_srv(&tcp, Some(zone), &c.owner).await {
            Ok(got) => got,
            Err(e) => {
                return ZoneOutcome::Failed(Problem {
                    message: format!(
                        "the update was accepted, but reading {} back failed: {e}",
                        c.owner
                    ),
                    hint: e.hint(),
                });
            }
        };
        let j = c.judge(&got);
        if !j.applied {
            skipped.push(format!("{} {}", c.owner, difference(&j, c)));
            continue;
        }
        written.push(c.owner.to_string());
        if !j.missing.is_empty() || !j.unexpected.is_empty() {
            notes.push(format!(
                "{}: another writer changed other records of this RRset meanwhile ({}); `kmsdns plan` shows what is there",
                c.owner,
                difference(&j, c)
            ));
        }
    }
    let serial = query::read_serial(&tcp, zone).await.ok();
    if !skipped.is_empty()
        && let (Some(a), Some(b)) = (serial_before, serial)
        && b.wrapping_sub(a) > 1
        && b.wrapping_sub(a) < (1 << 31)
    {
        return ZoneOutcome::Failed(Problem {
            message: format!(
                "{} applied the update, but another writer changed the zone after it (serial {a} → {b}, more than this update): {}",
                client.label,
                skipped.join("; ")
            ),
            hint: "run `kmsdns plan` to see the current state, find the other writer, then apply"
                .into(),
        });
    }
    if !skipped.is_empty() {
        let written = if written.is_empty() {
            "nothing of it was written".to_string()
        } else {
            format!("written as sent: {}", written.join(", "))
        };
        return ZoneOutcome::Failed(Problem {
            message: format!(
                "{} answered NOERROR but did not apply the update as sent: {}; {written}",
                client.label,
                skipped.join("; ")
            ),
            hint: format!(
                "the server skipped records silently, which its update policy for key {} does: PowerDNS: the lua-dnsupdate-policy-script; BIND: update-policy; Knot: the acl's update-type / update-owner (`kmsdns render named-conf|knot|pdns` prints a policy that allows exactly these records). Then run `kmsdns plan`",
                client
                    .key_name()
                    .unwrap_or_else(|| "(none: unsigned)".into())
            ),
        });
    }
    ZoneOutcome::Applied {
        changes: zp.change_count(),
        serial,
        notes,
    }
}

/// What the RRset read back lacks and has too many of, compared with what was intended.
fn difference(j: &Judgement, c: &RrsetChange) -> String {
    let list = |v: &[SrvRecord]| {
        v.iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !j.missing.is_empty() {
        parts.push(format!("missing: {}", list(&j.missing)));
    }
    if !j.unexpected.is_empty() {
        parts.push(format!("unexpected: {}", list(&j.unexpected)));
    }
    if parts.is_empty() {
        parts.push(format!("not with the TTL sent: {}", list(&c.add)));
    }
    parts.join("; ")
}

/// The same server and key over TCP: for settling reads and the one resend.
fn over_tcp(client: &DnsClient) -> DnsClient {
    let mut c = client.clone();
    c.endpoint.transport = crate::model::Transport::Tcp;
    c
}

/// What a fresh read says about an update whose reply could not be trusted.
enum Settled {
    /// Every touched RRset holds what the update intended.
    Desired,
    /// Every touched RRset is as it was read before the update.
    Before,
    /// Something else: one line per RRset that is neither.
    Other(Vec<String>),
    Unreadable(DnsError),
}

/// [`settle`] at the address that was sent the update; when it cannot be reached or times out,
/// at the next address of the server (every address must be a primary of the zone: see
/// docs/design.md). The chain is left at the address that answered the read.
async fn settle_on_chain(
    chain: &mut ServerChain,
    zone: &Fqdn,
    changes: &[RrsetChange],
    what: &str,
    notes: &mut Vec<String>,
) -> Settled {
    loop {
        let sent_to = chain.current().label.clone();
        match settle(&over_tcp(chain.current()), zone, changes).await {
            Settled::Unreadable(e)
                if chain.skip(
                    &e,
                    Some("while reading back the update sent to it, which it may have applied"),
                ) =>
            {
                notes.push(format!(
                    "{sent_to} stopped answering after the update was sent to it ({what}); the outcome was settled by reading {}, another primary of the zone. If {sent_to} applied the update too, it made the same change",
                    chain.current().label
                ));
            }
            other => return other,
        }
    }
}

async fn settle(tcp: &DnsClient, zone: &Fqdn, changes: &[RrsetChange]) -> Settled {
    let (mut desired, mut before) = (true, true);
    let mut other = Vec::new();
    for c in changes {
        let got = match query::read_srv(tcp, Some(zone), &c.owner).await {
            Ok(g) => g,
            Err(e) => return Settled::Unreadable(e),
        };
        let j = c.judge(&got);
        desired &= j.applied;
        before &= j.before;
        if !j.applied && !j.before {
            let list = |v: &[SrvRecord]| {
                if v.is_empty() {
                    "nothing".to_string()
                } else {
                    v.iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            other.push(format!(
                "{}: planned from [{}], wanted [{}], now [{}]",
                c.owner,
                list(&c.seen),
                list(&c.expected_after()),
                list(&got)
            ));
        }
    }
    if desired {
        Settled::Desired
    } else if before {
        Settled::Before
    } else if other.is_empty() {
        // Some RRsets already desired, others untouched: an atomic update cannot do that.
        Settled::Other(vec![
            "some RRsets hold the new records and others the old ones".to_string(),
        ])
    } else {
        Settled::Other(other)
    }
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

/// Applies every zone of the plan, `opts.concurrency` at a time per server; reports come back in plan
/// order. `on_done` is called as each zone finishes (e.g. to advance a progress bar).
pub async fn apply_plan(
    plan: &Plan,
    keys: &KeyRing,
    opts: &NetOptions,
    mut on_done: impl FnMut(&ZoneReport),
) -> Vec<ZoneReport> {
    let limits = super::Limits::new(opts.concurrency);
    let unanswered = failover::Unanswered::default();
    let mut set = JoinSet::new();
    for (i, zp) in plan.zones.iter().enumerate() {
        let limits = limits.clone();
        let mut chain = zone_clients(zp, keys, opts).map(|c| {
            ServerChain::new(c)
                .sharing(&unanswered)
                .skipped_when_planned(zp.failover.as_ref())
        });
        let zp = zp.clone();
        set.spawn(async move {
            let _slot = limits.slot(zp.target.server.address).await;
            let outcome = apply_zone(&zp, &mut chain).await;
            let (server, server_address, skipped) = match &chain {
                Ok(c) => (
                    c.current().label.clone(),
                    c.current().addr(),
                    c.skipped.clone(),
                ),
                Err(_) => (zp.target.server.label, zp.target.server.address, Vec::new()),
            };
            let report = ZoneReport {
                zone: zp.target.zone,
                server,
                server_address,
                skipped,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn r(target: &str, ttl: u32) -> SrvRecord {
        SrvRecord::test(target, 0, ttl)
    }

    #[test]
    fn a_read_back_difference_names_the_records() {
        let c = RrsetChange {
            owner: Fqdn::parse_domain("corp.example.com").unwrap().kms_owner(),
            seen: vec![],
            delete: vec![],
            add: vec![r("kms1.example.com", 3600), r("kms2.example.com", 3600)],
        };
        let got = vec![r("kms1.example.com", 3600), r("old.example.com", 3600)];
        let j = c.judge(&got);
        assert!(!j.applied);
        assert_eq!(
            difference(&j, &c),
            "missing: 3600 IN SRV 0 0 1688 kms2.example.com.; unexpected: 3600 IN SRV 0 0 1688 old.example.com."
        );
    }
}
