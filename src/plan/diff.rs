//! The diff of one `_vlmcs._tcp` RRset: current (read from the primary) against desired (from
//! the config). Pure; the order of changes is fixed (by target) so plans are reproducible.

use serde::{Deserialize, Serialize};

use crate::model::{Fqdn, RrsetChange, SrvRecord};

/// One line of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Change {
    /// A record to add.
    Add {
        /// The record.
        record: SrvRecord,
    },
    /// A record to delete.
    Delete {
        /// The record.
        record: SrvRecord,
    },
    /// Same target, other TTL, priority, weight or port.
    Change {
        /// The record as read.
        from: SrvRecord,
        /// The record as the config asks for it.
        to: SrvRecord,
    },
}

/// One of our records whose TTL differs from the config only because the RRset's one TTL
/// (RFC 2181 §5.2) was set by a foreign member kept with `prune = false`: reported, not
/// changed. Changing it would hand the foreign member our TTL, its next registration would
/// hand us its TTL again, and `plan` would never settle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlKept {
    /// Our record as read, with the TTL the RRset carries.
    pub record: SrvRecord,
    /// The TTL the config asks for.
    pub desired_ttl: u32,
    /// The kept foreign member whose TTL the RRset carries.
    pub foreign: Fqdn,
}

/// The diff of one RRset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RrsetDiff {
    /// The owner name, `_vlmcs._tcp.<domain>`.
    pub owner: Fqdn,
    /// The records read from the server (the UPDATE's prerequisite).
    pub current: Vec<SrvRecord>,
    /// The records the config asks for.
    pub desired: Vec<SrvRecord>,
    /// The changes, ordered by target.
    pub changes: Vec<Change>,
    /// Targets present but not in the config, kept because `prune = false`.
    pub unmanaged: Vec<SrvRecord>,
    /// TTL differences left alone because a kept foreign member set the RRset's TTL (see
    /// [`TtlKept`]). Absent in plans saved before it existed, hence the default.
    #[serde(default)]
    pub ttl_kept: Vec<TtlKept>,
}

impl RrsetDiff {
    /// The wire-level change: prerequisites = current, deletes, adds.
    pub fn to_rrset_change(&self) -> RrsetChange {
        let mut delete = Vec::new();
        let mut add = Vec::new();
        for c in &self.changes {
            match c {
                Change::Add { record } => add.push(record.clone()),
                Change::Delete { record } => delete.push(record.clone()),
                Change::Change { from, to } => {
                    delete.push(from.clone());
                    add.push(to.clone());
                }
            }
        }
        RrsetChange {
            owner: self.owner.clone(),
            seen: self.current.clone(),
            delete,
            add,
        }
    }
}

/// Diffs `current` against `desired` for `owner`. Records are matched by target: a desired
/// target present with other values is a `Change`; a current target the config does not list is
/// deleted with `prune`, else reported as unmanaged. When a target appears more than once
/// (several ports), an exact match is kept and the others are deleted.
///
/// One RRset has one TTL (RFC 2181 §5.2; BIND gives the whole RRset the TTL of the record added
/// last). So a `Change` that differs only in TTL is not made but reported in `ttl_kept` when an
/// unmanaged (kept) member carries the TTL our record was read with, and nothing else in the
/// RRset is added or changed: the foreign writer set that TTL, and sending ours would only
/// flip it back and forth. When something else is added or changed anyway, that add sets the
/// RRset's TTL to ours, so the TTL changes stay planned as `Change`s.
///
/// ```
/// use kmsdns::model::{Fqdn, SrvRecord};
/// use kmsdns::plan::{Change, diff_rrset};
///
/// let srv = |target: &str, priority: u16, ttl: u32| SrvRecord {
///     target: Fqdn::parse_host(target).unwrap(),
///     port: 1688,
///     priority,
///     weight: 0,
///     ttl,
/// };
/// let owner = Fqdn::parse_domain("corp.example.com").unwrap().kms_owner();
/// let current = [srv("kms1.example.com", 0, 60), srv("rogue.example.com", 0, 3600)];
/// let desired = [srv("kms1.example.com", 0, 3600), srv("kms2.example.com", 10, 3600)];
///
/// // prune = true: the TTL is fixed, the missing target added, the foreign one deleted.
/// let diff = diff_rrset(&owner, &current, &desired, true);
/// assert_eq!(
///     diff.changes,
///     vec![
///         Change::Change { from: current[0].clone(), to: desired[0].clone() },
///         Change::Add { record: desired[1].clone() },
///         Change::Delete { record: current[1].clone() },
///     ]
/// );
/// assert!(diff.unmanaged.is_empty());
///
/// // prune = false: the foreign target stays and is listed as unmanaged.
/// let kept = diff_rrset(&owner, &current, &desired, false);
/// assert_eq!(kept.unmanaged, vec![current[1].clone()]);
/// assert!(!kept.changes.iter().any(|c| matches!(c, Change::Delete { .. })));
/// ```
pub fn diff_rrset(
    owner: &Fqdn,
    current: &[SrvRecord],
    desired: &[SrvRecord],
    prune: bool,
) -> RrsetDiff {
    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    let mut used = vec![false; current.len()];
    for want in desired {
        let same_target: Vec<usize> = (0..current.len())
            .filter(|&i| current[i].target == want.target && !used[i])
            .collect();
        if let Some(&i) = same_target.iter().find(|&&i| current[i] == *want) {
            used[i] = true;
        } else if let Some(&i) = same_target.first() {
            used[i] = true;
            changes.push(Change::Change {
                from: current[i].clone(),
                to: want.clone(),
            });
        } else {
            changes.push(Change::Add {
                record: want.clone(),
            });
        }
    }
    for (i, rec) in current.iter().enumerate() {
        if used[i] {
            continue;
        }
        let listed = desired.iter().any(|d| d.target == rec.target);
        if prune || listed {
            changes.push(Change::Delete {
                record: rec.clone(),
            });
        } else {
            unmanaged.push(rec.clone());
        }
    }
    let ttl_kept = keep_foreign_ttl(&mut changes, &unmanaged);
    changes.sort_by(|a, b| key(a).cmp(key(b)));
    RrsetDiff {
        owner: owner.clone(),
        current: current.to_vec(),
        desired: desired.to_vec(),
        changes,
        unmanaged,
        ttl_kept,
    }
}

/// Takes the TTL-only changes out of `changes` when each was read with the TTL of a kept
/// foreign member and nothing else adds a record (an add sets the RRset's TTL anyway, so then
/// every TTL change stays planned). Deletes set no TTL and stay.
fn keep_foreign_ttl(changes: &mut Vec<Change>, unmanaged: &[SrvRecord]) -> Vec<TtlKept> {
    let mut kept = Vec::new();
    for c in changes.iter() {
        match c {
            Change::Delete { .. } => {}
            Change::Change { from, to }
                if from.ttl != to.ttl
                    && SrvRecord {
                        ttl: to.ttl,
                        ..from.clone()
                    } == *to =>
            {
                let Some(foreign) = unmanaged.iter().find(|u| u.ttl == from.ttl) else {
                    return Vec::new();
                };
                kept.push(TtlKept {
                    record: from.clone(),
                    desired_ttl: to.ttl,
                    foreign: foreign.target.clone(),
                });
            }
            Change::Change { .. } | Change::Add { .. } => return Vec::new(),
        }
    }
    changes.retain(|c| matches!(c, Change::Delete { .. }));
    kept
}

fn key(c: &Change) -> &SrvRecord {
    match c {
        Change::Add { record } | Change::Delete { record } => record,
        Change::Change { to, .. } => to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(t: &str, prio: u16, ttl: u32) -> SrvRecord {
        SrvRecord::test(t, prio, ttl)
    }

    #[test]
    fn add_change_delete_unmanaged() {
        let owner = Fqdn::parse_domain("corp.example.com").unwrap().kms_owner();
        let current = vec![
            r("a.example.com", 0, 60),
            r("rogue.example.com", 0, 60),
            r("b.example.com", 0, 3600),
        ];
        let desired = vec![
            r("a.example.com", 0, 3600),
            r("b.example.com", 0, 3600),
            r("c.example.com", 0, 3600),
        ];
        let d = diff_rrset(&owner, &current, &desired, true);
        assert_eq!(d.changes.len(), 3);
        assert!(matches!(&d.changes[0], Change::Change { from, .. } if from.ttl == 60));
        assert!(
            matches!(&d.changes[1], Change::Add { record } if record.target.as_str() == "c.example.com")
        );
        assert!(
            matches!(&d.changes[2], Change::Delete { record } if record.target.as_str() == "rogue.example.com")
        );
        let w = d.to_rrset_change();
        assert_eq!((w.delete.len(), w.add.len(), w.seen.len()), (2, 2, 3));

        let kept = diff_rrset(&owner, &current, &desired, false);
        assert_eq!(kept.unmanaged.len(), 1);
        assert_eq!(kept.changes.len(), 2);
    }

    #[test]
    fn equal_sets_have_no_changes() {
        let owner = Fqdn::parse_domain("corp.example.com").unwrap().kms_owner();
        let set = vec![r("a.example.com", 0, 60)];
        assert!(diff_rrset(&owner, &set, &set, true).changes.is_empty());
    }

    fn with_prio(mut rec: SrvRecord, priority: u16) -> SrvRecord {
        rec.priority = priority;
        rec
    }

    /// BIND after a self-publisher added its own target with TTL 600: the whole RRset, ours
    /// included, now has TTL 600.
    fn after_self_publisher() -> (Fqdn, Vec<SrvRecord>, Vec<SrvRecord>) {
        let owner = Fqdn::parse_domain("corp.example.com").unwrap().kms_owner();
        let current = vec![
            r("kms1.example.com", 0, 600),
            r("kms2.example.com", 10, 600),
            r("self.example.com", 0, 600),
        ];
        let desired = vec![
            r("kms1.example.com", 0, 3600),
            r("kms2.example.com", 10, 3600),
        ];
        (owner, current, desired)
    }

    #[test]
    fn ttl_set_by_a_kept_foreign_member_is_reported_not_changed() {
        let (owner, current, desired) = after_self_publisher();
        let d = diff_rrset(&owner, &current, &desired, false);
        assert!(d.changes.is_empty(), "{:?}", d.changes);
        assert!(d.to_rrset_change().is_empty(), "nothing to send");
        assert_eq!(d.unmanaged, vec![r("self.example.com", 0, 600)]);
        let self_host = Fqdn::parse_host("self.example.com").unwrap();
        assert_eq!(
            d.ttl_kept,
            vec![
                TtlKept {
                    record: r("kms1.example.com", 0, 600),
                    desired_ttl: 3600,
                    foreign: self_host.clone(),
                },
                TtlKept {
                    record: r("kms2.example.com", 10, 600),
                    desired_ttl: 3600,
                    foreign: self_host,
                },
            ]
        );
        // The JSON form carries it; a plan saved before the field existed still loads.
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["ttl_kept"][0]["foreign"], "self.example.com.");
        assert_eq!(json["ttl_kept"][0]["desired_ttl"], 3600);
        let mut old = json.clone();
        old.as_object_mut().unwrap().remove("ttl_kept");
        let back: RrsetDiff = serde_json::from_value(old).unwrap();
        assert!(back.ttl_kept.is_empty());
    }

    #[test]
    fn ttl_changes_stay_planned_when_the_rule_does_not_hold() {
        let (owner, current, desired) = after_self_publisher();
        // Changes that only set the TTL from 600 to 3600.
        let ttl_changes = |d: &RrsetDiff| {
            let only_ttl = |from: &SrvRecord, to: &SrvRecord| {
                (from.ttl, to.ttl) == (600, 3600) && from.rdata() == to.rdata()
            };
            d.changes
                .iter()
                .filter(|c| matches!(c, Change::Change { from, to } if only_ttl(from, to)))
                .count()
        };
        // prune = true: the foreign member goes, and our TTL is set.
        let d = diff_rrset(&owner, &current, &desired, true);
        assert!(d.ttl_kept.is_empty() && d.unmanaged.is_empty());
        assert_eq!(
            (d.changes.len(), ttl_changes(&d)),
            (3, 2),
            "{:?}",
            d.changes
        );

        // No foreign member carries the TTL we read (a server with per-record TTLs).
        let mut other = current.clone();
        other[2].ttl = 300;
        let d = diff_rrset(&owner, &other, &desired, false);
        assert!(d.ttl_kept.is_empty());
        assert_eq!(ttl_changes(&d), 2, "{:?}", d.changes);

        // Something else is added: that add gives the RRset our TTL, so say so.
        let mut more = desired.clone();
        more.push(r("kms3.example.com", 0, 3600));
        let d = diff_rrset(&owner, &current, &more, false);
        assert!(d.ttl_kept.is_empty());
        assert_eq!(
            (d.changes.len(), ttl_changes(&d)),
            (3, 2),
            "{:?}",
            d.changes
        );

        // A difference beyond the TTL is a change, and then so is every TTL difference.
        let mut moved = desired.clone();
        moved[1] = with_prio(moved[1].clone(), 20);
        let d = diff_rrset(&owner, &current, &moved, false);
        assert!(d.ttl_kept.is_empty());
        assert_eq!(
            (d.changes.len(), ttl_changes(&d)),
            (2, 1),
            "{:?}",
            d.changes
        );

        // Our records already have the config's TTL (we wrote last): nothing to keep or change.
        let ours: Vec<SrvRecord> = current
            .iter()
            .map(|c| SrvRecord {
                ttl: 3600,
                ..c.clone()
            })
            .collect();
        let d = diff_rrset(&owner, &ours, &desired, false);
        assert!(d.changes.is_empty() && d.ttl_kept.is_empty());
    }
}
