//! Verification of a request (RFC 8945 §5.2) or a reply (§5.4): key name and algorithm, MAC
//! length (§5.2.2.1), the MAC compared in constant time, the server's TSIG error (§5.3.2), and
//! the time window (§5.2.3).

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use super::BADTIME;
use super::error::TsigError;
use super::key::TsigKey;
use super::parse::{FoundTsig, find_tsig, malformed, unsigned_message};
use super::sign::{Variables, compute_mac};
use crate::model::TsigAlgorithm;

/// The TSIG record of a verified message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTsig {
    pub mac: Vec<u8>,
    pub time_signed: u64,
    pub fudge: u16,
    pub original_id: u16,
}

/// Verifies the TSIG of a reply to a request whose MAC was `request_mac`; `now` is our
/// clock in seconds since the epoch.
pub fn verify_reply(
    reply: &[u8],
    key: &TsigKey,
    request_mac: &[u8],
    now: u64,
) -> Result<ReplyTsig, TsigError> {
    verify(reply, key, Some(request_mac), now)
}

/// Verifies the TSIG of a request (no prior MAC), e.g. one sent by dig or nsupdate.
pub fn verify_request(message: &[u8], key: &TsigKey, now: u64) -> Result<ReplyTsig, TsigError> {
    verify(message, key, None, now)
}

fn verify(
    msg: &[u8],
    key: &TsigKey,
    prior_mac: Option<&[u8]>,
    now: u64,
) -> Result<ReplyTsig, TsigError> {
    let tsig = find_tsig(msg)?.ok_or_else(|| TsigError::Unsigned {
        key: key.name.clone(),
    })?;
    if tsig.name != key.name {
        return Err(TsigError::KeyNameMismatch {
            expected: key.name.clone(),
            found: tsig.name,
        });
    }
    if TsigAlgorithm::from_name(&tsig.algorithm) != Some(key.algorithm) {
        return Err(TsigError::AlgorithmMismatch {
            key: key.name.clone(),
            expected: key.algorithm,
            found: tsig.algorithm,
        });
    }
    let server_error = |skew| TsigError::ServerError {
        key: key.name.clone(),
        algorithm: key.algorithm,
        code: tsig.error,
        skew,
        fudge: tsig.fudge,
    };
    // BADSIG and BADKEY replies carry an empty MAC (RFC 8945 §5.3.2): report the server's
    // verdict, not a MAC failure.
    if tsig.error != 0 && tsig.mac.is_empty() {
        return Err(server_error(badtime_skew(&tsig)));
    }
    let full = key.algorithm.output_len();
    let min = (full / 2).max(10);
    if tsig.mac.len() > full {
        return Err(malformed(
            "the TSIG MAC is longer than the algorithm's output",
        ));
    }
    if tsig.mac.len() < min {
        return Err(TsigError::MacTooShort {
            key: key.name.clone(),
            len: tsig.mac.len(),
            min,
        });
    }
    // The message as it was before signing: without the TSIG, ARCOUNT - 1, original ID.
    let unsigned = unsigned_message(msg, &tsig);
    let vars = Variables {
        time_signed: tsig.time_signed,
        fudge: tsig.fudge,
        error: tsig.error,
        other: &tsig.other,
    };
    let computed = compute_mac(key, prior_mac, &unsigned, &vars)?;
    if !macs_equal(computed.as_ref(), &tsig.mac) {
        return Err(TsigError::BadMac {
            key: key.name.clone(),
        });
    }
    if tsig.error != 0 {
        return Err(server_error(badtime_skew(&tsig)));
    }
    within_fudge(key, tsig, now)
}

/// The time check of RFC 8945 §5.2.3 on a verified TSIG, and its fields for the caller.
pub(super) fn within_fudge(
    key: &TsigKey,
    tsig: FoundTsig,
    now: u64,
) -> Result<ReplyTsig, TsigError> {
    let skew = tsig.time_signed as i64 - now as i64;
    if skew.unsigned_abs() > u64::from(tsig.fudge) {
        return Err(TsigError::TimeOutsideFudge {
            key: key.name.clone(),
            skew,
            fudge: tsig.fudge,
        });
    }
    Ok(ReplyTsig {
        mac: tsig.mac,
        time_signed: tsig.time_signed,
        fudge: tsig.fudge,
        original_id: tsig.original_id,
    })
}

/// For BADTIME: the server's time (other data, 48 bits) minus our time signed.
fn badtime_skew(tsig: &FoundTsig) -> Option<i64> {
    if tsig.error != BADTIME || tsig.other.len() != 6 {
        return None;
    }
    let server = tsig
        .other
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    Some(server as i64 - tsig.time_signed as i64)
}

/// Constant-time comparison of the (possibly truncated) received MAC with the prefix of the
/// computed one: HMAC both under a random one-time key and let `hmac::verify` compare.
pub(super) fn macs_equal(computed: &[u8], received: &[u8]) -> bool {
    let mut k = [0u8; 32];
    if SystemRandom::new().fill(&mut k).is_err() {
        return false;
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, &k);
    let tag = hmac::sign(&key, received);
    hmac::verify(&key, &computed[..received.len()], tag.as_ref()).is_ok()
}
