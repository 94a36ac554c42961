//! Pure values shared by every layer: names, SRV records, the desired and the observed
//! state. Nothing here does I/O.
#![warn(missing_docs)]

mod desired;
mod gss;
mod name;
mod observed;
mod srv;

pub use desired::{
    Defaults, DesiredState, Domain, Host, KeySource, KeySpec, ServerAddress, ServerSpec,
};
pub use gss::{GssAlgorithm, GssKeySpec};
pub use name::{
    DEFAULT_MAX_INFLIGHT, DEFAULT_RETRIES, Fqdn, KMS_DEFAULT_PORT, KMS_SERVICE, MAX_MAX_INFLIGHT,
    MAX_RETRIES, MAX_TIMEOUT, MAX_TTL, NameError, parse_key_name,
};
pub use observed::{
    DomainProblem, Failover, ObservedRrset, ObservedState, ObservedZone, Problem, ServerCandidate,
    ServerTarget, SkipReason, SkippedServer, ZoneTarget,
};
pub use srv::{Judgement, RrsetChange, SrvRecord, Transport, TsigAlgorithm};

/// Lowercase hex SHA-256 of `bytes` (config digests, plan state digests).
pub fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}
