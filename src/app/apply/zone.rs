//! Applying one zone: its changes split into as few UPDATEs as fit (`dns::update::
//! build_updates`), sent one after the other, each settled per RRset; then every RRset that went
//! in read back and judged.
//!
//! The first message that does not go in (or not for sure) stops the zone: the later ones are
//! not sent. A refusal, a stale prerequisite or a dead server would most likely hit them too,
//! and a dead server costs a zone one exchange (and one settling read), not one per message.

use super::message::{self, Sent, Verdict, difference};
use super::{RrsetOutcomes, ZoneOutcome, over_tcp};
use crate::app::failover::{self, ServerChain};
use crate::dns::{DnsClient, query, update};
use crate::model::{Problem, RrsetChange};
use crate::plan::ZonePlan;

/// Sends one zone's UPDATEs, settles their outcome and verifies them.
///
/// `chain` holds the server's addresses; it moves to the next only when the current one
/// cannot be reached or times out (see `failover` and docs/design.md).
pub(super) async fn apply_zone(
    zp: &ZonePlan,
    chain: &mut Result<ServerChain, Problem>,
) -> ZoneOutcome {
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
    let batches = match update::build_updates(zone, &changes) {
        Ok(b) if b.is_empty() => return ZoneOutcome::Unchanged,
        Ok(b) => b,
        Err(e) => {
            return ZoneOutcome::Failed(Problem {
                message: format!("{e}; nothing was sent"),
                hint: e.hint(),
            });
        }
    };
    let chain = match chain {
        Ok(c) => c,
        Err(p) => return ZoneOutcome::Failed(p.clone()),
    };
    let messages = batches.len();
    tracing::debug!(zone = %zone, rrsets = changes.len(), messages, octets = ?batches.iter().map(|b| b.octets).collect::<Vec<_>>(), "updates built");
    // The serial before: tells a server that skipped records from another writer later. It
    // is also the cheap check that the address answers before an UPDATE goes there.
    let mut serial_before = failover::first_answer(chain, |c: DnsClient| async move {
        query::read_serial(&c, zone).await
    })
    .await
    .ok();
    let mut verdicts = vec![Verdict::NotApplied; changes.len()];
    let mut notes = Vec::new();
    let mut failure: Option<Problem> = None;
    let mut messages_in = 0u32;
    for (i, batch) in batches.iter().enumerate() {
        let carried = &changes[batch.rrsets.clone()];
        let which = |text: &str| {
            if messages == 1 {
                text.to_string()
            } else {
                format!(
                    "message {} of {messages} ({} RRsets, {} to {}): {text}",
                    i + 1,
                    carried.len(),
                    carried[0].owner,
                    carried[carried.len() - 1].owner
                )
            }
        };
        match message::send(chain, &mut serial_before, zone, batch, carried).await {
            Sent::Applied { notes: n } => {
                verdicts[batch.rrsets.clone()].fill(Verdict::Applied);
                messages_in += 1;
                notes.extend(n.iter().map(|n| which(n)));
            }
            Sent::Failed {
                problem,
                verdicts: v,
            } => {
                verdicts[batch.rrsets.clone()].copy_from_slice(&v);
                let mut problem = Problem {
                    message: which(&problem.message),
                    hint: problem.hint,
                };
                if i + 1 < messages {
                    problem.message.push_str(&format!(
                        "; the {} later message(s) were not sent",
                        messages - i - 1
                    ));
                }
                failure = Some(problem);
                break;
            }
        }
    }
    // Read back every RRset that went in, from the server that took the last message.
    let client = chain.current().clone();
    let tcp = over_tcp(&client);
    let went_in: Vec<usize> = (0..changes.len())
        .filter(|&i| verdicts[i] == Verdict::Applied)
        .collect();
    let owners = went_in.iter().map(|&i| changes[i].owner.clone()).collect();
    let reads = match super::super::reads::read_rrsets(&tcp, zone, owners).await {
        Ok(r) => r,
        Err(e) => {
            for &i in &went_in {
                verdicts[i] = Verdict::Unknown;
            }
            failure.get_or_insert(Problem {
                message: format!("the update was accepted, but reading it back failed: {e}"),
                hint: e.hint(),
            });
            Vec::new()
        }
    };
    let mut skipped = Vec::new();
    for (&i, got) in went_in.iter().zip(reads) {
        let c = &changes[i];
        let j = c.judge(&got);
        if !j.applied {
            verdicts[i] = Verdict::NotApplied;
            skipped.push(format!("{} {}", c.owner, difference(&j, c)));
            continue;
        }
        if !j.missing.is_empty() || !j.unexpected.is_empty() {
            notes.push(format!(
                "{}: another writer changed other records of this RRset meanwhile ({}); `kmsdns plan` shows what is there",
                c.owner,
                difference(&j, c)
            ));
        }
    }
    let serial = query::read_serial(&tcp, zone).await.ok();
    if !skipped.is_empty() {
        let skipped_problem = skipped_problem(
            &client,
            &verdicts,
            &changes,
            &skipped,
            messages_in,
            serial_before,
            serial,
        );
        failure.get_or_insert(skipped_problem);
    }
    let Some(problem) = failure else {
        return ZoneOutcome::Applied {
            changes: zp.change_count(),
            messages,
            serial,
            serial_before,
            notes,
        };
    };
    if messages == 1 {
        return ZoneOutcome::Failed(problem);
    }
    let mut rrsets = RrsetOutcomes::default();
    for (c, v) in changes.iter().zip(&verdicts) {
        match v {
            Verdict::Applied => rrsets.applied.push(c.owner.clone()),
            Verdict::NotApplied => rrsets.not_applied.push(c.owner.clone()),
            Verdict::Unknown => rrsets.unknown.push(c.owner.clone()),
        }
    }
    ZoneOutcome::Partial {
        message: problem.message,
        hint: problem.hint,
        messages,
        rrsets,
        serial,
        serial_before,
        notes,
    }
}

/// A server answered NOERROR but some RRsets do not read back as sent: another writer changed
/// the zone after the update (the serial moved by more than our messages), or the server skipped
/// records silently (its policy does: PowerDNS).
fn skipped_problem(
    client: &DnsClient,
    verdicts: &[Verdict],
    changes: &[RrsetChange],
    skipped: &[String],
    messages_in: u32,
    serial_before: Option<u32>,
    serial: Option<u32>,
) -> Problem {
    if let (Some(a), Some(b)) = (serial_before, serial)
        && b.wrapping_sub(a) > messages_in
        && b.wrapping_sub(a) < (1 << 31)
    {
        // One serial step per message that went in: more steps mean another writer.
        return Problem {
            message: format!(
                "{} applied the update, but another writer changed the zone after it (serial {a} → {b}, more than this update): {}",
                client.label,
                skipped.join("; ")
            ),
            hint: "run `kmsdns plan` to see the current state, find the other writer, then apply"
                .into(),
        };
    }
    let written: Vec<String> = changes
        .iter()
        .zip(verdicts)
        .filter(|(_, v)| **v == Verdict::Applied)
        .map(|(c, _)| c.owner.to_string())
        .collect();
    let written = if written.is_empty() {
        "nothing of it was written".to_string()
    } else {
        format!("written as sent: {}", written.join(", "))
    };
    Problem {
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
    }
}
