//! Verification of the later messages of a multi-message reply (a zone transfer), RFC 8945
//! §5.3.1: each signed message's MAC covers the prior MAC, every unsigned message since, the
//! message itself (without its TSIG, original ID) and only the TSIG timers (time signed and
//! fudge). At most 99 messages in a row may be unsigned; the last one must be signed.

use ring::hmac;

use super::error::TsigError;
use super::key::TsigKey;
use super::parse::{find_tsig, malformed, unsigned_message};
use super::sign::hmac_algorithm;
use super::verify::{ReplyTsig, macs_equal, within_fudge};

/// Verifies a later message `msg` of a reply stream whose previous signed message had MAC
/// `prior_mac`; `unsigned_before` are the unsigned messages received since, in order.
pub fn verify_continuation(
    msg: &[u8],
    key: &TsigKey,
    prior_mac: &[u8],
    unsigned_before: &[Vec<u8>],
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
    let full = key.algorithm.output_len();
    if tsig.mac.len() > full || tsig.mac.len() < (full / 2).max(10) {
        return Err(malformed(
            "the TSIG MAC of a transfer message has a bad length",
        ));
    }
    let unsigned = unsigned_message(msg, &tsig);
    let hkey = hmac::Key::new(hmac_algorithm(key.algorithm), key.secret.expose());
    let mut ctx = hmac::Context::with_key(&hkey);
    ctx.update(&(prior_mac.len() as u16).to_be_bytes());
    ctx.update(prior_mac);
    for m in unsigned_before {
        ctx.update(m);
    }
    ctx.update(&unsigned);
    ctx.update(&tsig.time_signed.to_be_bytes()[2..]);
    ctx.update(&tsig.fudge.to_be_bytes());
    let computed = ctx.sign();
    if !macs_equal(computed.as_ref(), &tsig.mac) {
        return Err(TsigError::BadMac {
            key: key.name.clone(),
        });
    }
    within_fudge(key, tsig, now)
}
