//! Sending one UPDATE of a zone and settling its outcome, per RRset it carries.
//!
//! A reply that checks out decides for the whole message (RFC 2136 §3: all of it or none).
//! Without one (lost, truncated, unverifiable), the RRsets it carries are read again over TCP,
//! signed, concurrently, and each is judged by [`RrsetChange::judge`]: the desired state for
//! all means applied (with a note on what happened to the reply); the state read before for all
//! means not applied, and the message is sent once more over TCP (its prerequisites make that
//! safe); anything else means another writer changed some records: each RRset is then reported
//! as it reads (holds what was wanted, as before, or unknown).

use super::over_tcp;
use crate::app::failover::{self, ServerChain};
use crate::dns::update::{self, UpdateBatch, UpdateReply};
use crate::dns::{DnsClient, DnsError, query};
use crate::model::{Fqdn, Judgement, Problem, RrsetChange, SrvRecord};

/// What one RRset of a message is known to be after sending it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Holds what the change wanted (the server said so, or a read shows it).
    Applied,
    /// Did not change: the server said so, a read shows the state before, or it was never sent.
    NotApplied,
    /// Whether the change went in is unknown (unreadable, or another writer changed it).
    Unknown,
}

/// The outcome of one message.
pub(super) enum Sent {
    /// It went in; `notes` say what happened to a reply that could not be trusted.
    Applied { notes: Vec<String> },
    /// It did not, or not for sure: why, and each RRset's verdict (in the message's order).
    Failed {
        problem: Problem,
        verdicts: Vec<Verdict>,
    },
}

/// Sends `batch`, which carries `changes`, settling an uncertain outcome by reading them back.
/// An address that cannot be reached or times out before anything reached it passes the
/// message to the next address of `chain` (whose serial then replaces `serial_before`).
pub(super) async fn send(
    chain: &mut ServerChain,
    serial_before: &mut Option<u32>,
    zone: &Fqdn,
    batch: &UpdateBatch,
    changes: &[RrsetChange],
) -> Sent {
    let all = |verdict| vec![verdict; changes.len()];
    let mut notes = Vec::new();
    let mut reply = update::send_batch(chain.current(), zone, batch).await;
    let mut resent = false;
    loop {
        let uncertain = match reply {
            // Nothing can have reached it: the next address may take the update.
            Err(e) if chain.skip(&e, Some("the update was not sent to it")) => {
                *serial_before = query::read_serial(chain.current(), zone).await.ok();
                reply = update::send_batch(chain.current(), zone, batch).await;
                continue;
            }
            Err(e) => {
                return Sent::Failed {
                    problem: Problem {
                        message: format!("{e}; the update was not sent"),
                        hint: e.hint(),
                    },
                    verdicts: all(Verdict::NotApplied),
                };
            }
            Ok(UpdateReply::Applied(receipt)) => {
                if !receipt.ignored.is_empty() {
                    notes.push(format!(
                        "the server's verified reply says applied{}; this may mean tampering on the path",
                        update::ignored_note(&receipt.ignored)
                    ));
                }
                return Sent::Applied { notes };
            }
            Ok(UpdateReply::NotApplied(e)) => {
                return Sent::Failed {
                    problem: failover::after_skipping(chain, Problem::from(&e)),
                    verdicts: all(Verdict::NotApplied),
                };
            }
            Ok(UpdateReply::Uncertain(u)) => u,
        };
        tracing::warn!(zone = %zone, "{}; reading the records back to settle the outcome", uncertain.what);
        let sent_to = chain.current().addr();
        let (settled, verdicts) =
            settle_on_chain(chain, zone, changes, &uncertain.what, &mut notes).await;
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
                return Sent::Applied { notes };
            }
            Settled::Before if !resent || moved => {
                notes.push(format!(
                    "{}; the records read back over TCP{at} were unchanged, so the update was sent {again} over TCP",
                    uncertain.what
                ));
                resent = true;
                reply = update::send_batch(&over_tcp(chain.current()), zone, batch).await;
            }
            Settled::Before => {
                return Sent::Failed {
                    problem: Problem {
                        message: format!(
                            "{}; the records read back over TCP are as they were before: the update was not applied",
                            uncertain.what
                        ),
                        hint: uncertain.error.hint(),
                    },
                    verdicts,
                };
            }
            Settled::Other(rrsets) => {
                return Sent::Failed {
                    problem: Problem {
                        message: format!(
                            "{}; the records read back over TCP are neither the state planned from nor the desired one: another writer changed them. {}",
                            uncertain.what,
                            rrsets.join("; ")
                        ),
                        hint: "run `kmsdns plan` to see the current state, find the other writer, then apply".into(),
                    },
                    verdicts,
                };
            }
            Settled::Unreadable(e) => {
                return Sent::Failed {
                    problem: Problem {
                        message: format!(
                            "{}; reading the records back failed too ({e}): whether the update went in is unknown",
                            uncertain.what
                        ),
                        hint: format!("{} Then run `kmsdns plan` to see what is there.", e.hint()),
                    },
                    verdicts,
                };
            }
        }
    }
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
) -> (Settled, Vec<Verdict>) {
    loop {
        let sent_to = chain.current().label.clone();
        match settle(&over_tcp(chain.current()), zone, changes).await {
            (Settled::Unreadable(e), _)
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

/// Reads every RRset of `changes` (concurrently) and judges each.
async fn settle(tcp: &DnsClient, zone: &Fqdn, changes: &[RrsetChange]) -> (Settled, Vec<Verdict>) {
    let owners = changes.iter().map(|c| c.owner.clone()).collect();
    let reads = match super::super::reads::read_rrsets(tcp, zone, owners).await {
        Ok(r) => r,
        Err(e) => {
            return (
                Settled::Unreadable(e),
                vec![Verdict::Unknown; changes.len()],
            );
        }
    };
    let (mut desired, mut before) = (true, true);
    let mut other = Vec::new();
    let mut verdicts = Vec::with_capacity(changes.len());
    for (c, got) in changes.iter().zip(reads) {
        let j = c.judge(&got);
        desired &= j.applied;
        before &= j.before;
        verdicts.push(if j.applied {
            Verdict::Applied
        } else if j.before {
            Verdict::NotApplied
        } else {
            Verdict::Unknown
        });
        if !j.applied && !j.before {
            other.push(format!(
                "{}: planned from [{}], wanted [{}], now [{}]",
                c.owner,
                list(&c.seen),
                list(&c.expected_after()),
                list(&got)
            ));
        }
    }
    let settled = if desired {
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
    };
    (settled, verdicts)
}

fn list(v: &[SrvRecord]) -> String {
    if v.is_empty() {
        "nothing".to_string()
    } else {
        v.iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What the RRset read back lacks and has too many of, compared with what was intended.
pub(super) fn difference(j: &Judgement, c: &RrsetChange) -> String {
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
