//! SRV records, TSIG algorithms and transports: small values every layer shares.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Fqdn;

/// One SRV record of a `_vlmcs._tcp` RRset (RFC 2782), with its TTL.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SrvRecord {
    /// The KMS host (an absolute host name).
    pub target: Fqdn,
    /// The TCP port clients connect to.
    pub port: u16,
    /// Priority: clients try the lowest first.
    pub priority: u16,
    /// Weight: relative share among records of the same priority.
    pub weight: u16,
    /// Time to live, in seconds.
    pub ttl: u32,
}

impl SrvRecord {
    /// A KMS record on port 1688 with weight 0, for tests: `target` must be a valid host name.
    #[cfg(test)]
    pub(crate) fn test(target: &str, priority: u16, ttl: u32) -> Self {
        SrvRecord {
            target: Fqdn::parse_host(target).expect("a valid host name in a test"),
            port: super::KMS_DEFAULT_PORT,
            priority,
            weight: 0,
            ttl,
        }
    }

    /// RDATA in presentation form: `priority weight port target.`
    pub fn rdata(&self) -> String {
        format!(
            "{} {} {} {}",
            self.priority, self.weight, self.port, self.target
        )
    }
}

impl fmt::Display for SrvRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} IN SRV {}", self.ttl, self.rdata())
    }
}

/// TSIG MAC algorithms kmsdns can sign with (RFC 8945 §6; those ring implements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum TsigAlgorithm {
    /// Still listed by RFC 8945 but only for interoperability with old servers.
    HmacSha1,
    /// HMAC-SHA256, the default.
    HmacSha256,
    /// HMAC-SHA384.
    HmacSha384,
    /// HMAC-SHA512.
    HmacSha512,
}

impl TsigAlgorithm {
    /// Every algorithm, the preferred ones first.
    pub const ALL: [TsigAlgorithm; 4] = [
        TsigAlgorithm::HmacSha256,
        TsigAlgorithm::HmacSha384,
        TsigAlgorithm::HmacSha512,
        TsigAlgorithm::HmacSha1,
    ];

    /// The algorithm's name as in BIND key files and on the wire (without the trailing dot).
    pub fn name(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha1 => "hmac-sha1",
            TsigAlgorithm::HmacSha256 => "hmac-sha256",
            TsigAlgorithm::HmacSha384 => "hmac-sha384",
            TsigAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// Parses a BIND / nsupdate algorithm name, case-insensitively, trailing dot optional.
    pub fn from_name(s: &str) -> Option<Self> {
        let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
        Self::ALL.into_iter().find(|a| a.name() == s)
    }

    /// Output size of the hash in bytes: also the length of a generated secret.
    pub fn output_len(self) -> usize {
        match self {
            TsigAlgorithm::HmacSha1 => 20,
            TsigAlgorithm::HmacSha256 => 32,
            TsigAlgorithm::HmacSha384 => 48,
            TsigAlgorithm::HmacSha512 => 64,
        }
    }

    /// True for hmac-sha1, accepted only for old keys.
    pub fn is_legacy(self) -> bool {
        self == TsigAlgorithm::HmacSha1
    }

    /// "hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha1 (legacy)" for error messages.
    pub fn valid_list() -> String {
        Self::ALL
            .iter()
            .map(|a| {
                if a.is_legacy() {
                    format!("{} (legacy)", a.name())
                } else {
                    a.name().to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How messages reach a server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP first, TCP when the reply is truncated or the message is too large for UDP.
    #[default]
    Udp,
    /// TCP only.
    Tcp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        })
    }
}

/// The changes to one `_vlmcs._tcp.<domain>` RRset, with the state they were planned from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RrsetChange {
    /// The owner name, `_vlmcs._tcp.<domain>`.
    pub owner: Fqdn,
    /// The records read from the primary when the change was planned (the prerequisite).
    pub seen: Vec<SrvRecord>,
    /// Records to delete.
    pub delete: Vec<SrvRecord>,
    /// Records to add.
    pub add: Vec<SrvRecord>,
}

impl RrsetChange {
    /// True when there is nothing to delete or add.
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.add.is_empty()
    }

    /// The records the RRset must hold after the change: what was seen, minus deletes, plus
    /// adds, sorted.
    pub fn expected_after(&self) -> Vec<SrvRecord> {
        let mut out: Vec<SrvRecord> = self
            .seen
            .iter()
            .filter(|r| !self.delete.contains(r))
            .cloned()
            .collect();
        for a in &self.add {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
        out.sort();
        out
    }

    /// How an RRset read after this change was sent relates to it. Only the change's own
    /// records decide: an add is there (a replaced record — same RDATA, new TTL — with its new
    /// TTL), a delete is gone. Other writers may change the other members of a shared RRset
    /// meanwhile; that is reported, not held against the change.
    pub fn judge(&self, got: &[SrvRecord]) -> Judgement {
        let has = |r: &SrvRecord| got.iter().any(|g| g.rdata() == r.rdata());
        let replaced =
            |r: &SrvRecord, other: &[SrvRecord]| other.iter().any(|o| o.rdata() == r.rdata());
        let applied = self.add.iter().all(|a| {
            if replaced(a, &self.delete) {
                got.contains(a)
            } else {
                has(a)
            }
        }) && self
            .delete
            .iter()
            .filter(|d| !replaced(d, &self.add))
            .all(|d| !has(d));
        let before = self.delete.iter().all(|d| {
            if replaced(d, &self.add) {
                got.contains(d)
            } else {
                has(d)
            }
        }) && self
            .add
            .iter()
            .filter(|a| !replaced(a, &self.delete))
            .all(|a| !has(a));
        let expected = self.expected_after();
        let in_expected = |r: &SrvRecord| expected.iter().any(|e| e.rdata() == r.rdata());
        Judgement {
            applied,
            before,
            missing: expected.iter().filter(|e| !has(e)).cloned().collect(),
            unexpected: got.iter().filter(|g| !in_expected(g)).cloned().collect(),
        }
    }
}

/// See [`RrsetChange::judge`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// Every add is there and every delete gone.
    pub applied: bool,
    /// Every delete is still there and no add is.
    pub before: bool,
    /// Records expected after the change (by RDATA) that the RRset lacks.
    pub missing: Vec<SrvRecord>,
    /// Records the RRset holds that nobody expected (by RDATA).
    pub unexpected: Vec<SrvRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(target: &str, priority: u16, ttl: u32) -> SrvRecord {
        SrvRecord::test(target, priority, ttl)
    }

    #[test]
    fn judging_a_read_after_a_change() {
        // kms1's TTL 60 -> 3600 (a replacement), old deleted, kms2 added; self is foreign.
        let c = RrsetChange {
            owner: Fqdn::parse_domain("corp.example.com").unwrap().kms_owner(),
            seen: vec![
                r("kms1.example.com", 0, 60),
                r("old.example.com", 0, 60),
                r("self.example.com", 0, 60),
            ],
            delete: vec![r("kms1.example.com", 0, 60), r("old.example.com", 0, 60)],
            add: vec![
                r("kms1.example.com", 0, 3600),
                r("kms2.example.com", 0, 3600),
            ],
        };
        let before = c.judge(&c.seen);
        assert!(before.before && !before.applied);
        let after = vec![
            r("kms1.example.com", 0, 3600),
            r("kms2.example.com", 0, 3600),
            r("self.example.com", 0, 3600),
        ];
        let j = c.judge(&after);
        assert!(j.applied && !j.before && j.missing.is_empty() && j.unexpected.is_empty());
        // Another writer changed its own record meanwhile: still applied, and said.
        let mut moved = after.clone();
        moved[2].weight = 1;
        let j = c.judge(&moved);
        assert!(j.applied);
        assert_eq!((j.missing.len(), j.unexpected.len()), (1, 1));
        // A server that skipped kms2 (policy filtering): neither.
        let partial = vec![
            r("kms1.example.com", 0, 3600),
            r("self.example.com", 0, 3600),
        ];
        let j = c.judge(&partial);
        assert!(!j.applied && !j.before);
        assert_eq!(j.missing, vec![r("kms2.example.com", 0, 3600)]);
    }
}
