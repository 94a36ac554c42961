//! The diff of one `_vlmcs._tcp` RRset: current (read from the primary) against desired (from
//! the config). Pure; the order of changes is fixed (by target) so plans are reproducible.

use serde::{Deserialize, Serialize};

use crate::model::{Fqdn, RrsetChange, SrvRecord};

/// One line of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Change {
    Add {
        record: SrvRecord,
    },
    Delete {
        record: SrvRecord,
    },
    /// Same target, other TTL, priority, weight or port.
    Change {
        from: SrvRecord,
        to: SrvRecord,
    },
}

/// The diff of one RRset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RrsetDiff {
    pub owner: Fqdn,
    pub current: Vec<SrvRecord>,
    pub desired: Vec<SrvRecord>,
    pub changes: Vec<Change>,
    /// Targets present but not in the config, kept because `prune = false`.
    pub unmanaged: Vec<SrvRecord>,
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
    changes.sort_by(|a, b| key(a).cmp(key(b)));
    RrsetDiff {
        owner: owner.clone(),
        current: current.to_vec(),
        desired: desired.to_vec(),
        changes,
        unmanaged,
    }
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
        SrvRecord {
            target: Fqdn::parse_host(t).unwrap(),
            port: 1688,
            priority: prio,
            weight: 0,
            ttl,
        }
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
}
