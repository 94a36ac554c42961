//! TSIG keys and message signing (RFC 8945), done at the byte level with `ring::hmac`.
//!
//! - §4.2 the TSIG record appended as the last additional record, §4.3.3 the MAC input
//!   (message + TSIG variables; a reply's MAC also covers the request MAC, §4.3.1);
//! - §5.2 / §5.3 verification: key and algorithm, MAC (constant time), time window, and the
//!   TSIG error field of a server's reply (BADSIG, BADKEY, BADTIME, BADTRUNC);
//! - §5.2.2.1 MAC truncation limits.
//!
//! Secrets live in [`Secret`], whose `Debug`/`Display` never print the bytes. Time is passed
//! in by the caller ([`unix_now`] gives the current one) so that tests can pin it.
//!
//! One concern per file: `key` (secret, key, key names), `error`, `sign` (MAC input and the
//! TSIG record), `parse` (finding and reading a received TSIG record), `verify`.

mod chain;
mod error;
mod key;
mod parse;
mod sign;
mod verify;

pub use super::keyfile::parse_key_file;
pub use chain::verify_continuation;
pub use error::{KeyError, TsigError};
pub use key::{Secret, TsigKey};
pub(crate) use parse::{FoundTsig, find_tsig, read_name, read_u16, unsigned_message};
pub use sign::{Prior, SignedMessage, sign, sign_reply};
pub(crate) use sign::{Variables, append_tsig, digest};
pub use verify::{ReplyTsig, verify_reply, verify_request};

/// The fudge (allowed clock skew, seconds) kmsdns signs with; RFC 8945 §10 recommends 300.
pub const DEFAULT_FUDGE: u16 = 300;

/// RR type TSIG (RFC 8945 §4.2).
pub(crate) const TYPE_TSIG: u16 = 250;
/// Class ANY, used by TSIG records.
const CLASS_ANY: u16 = 255;

/// TSIG error codes (RFC 8945 §4.3, IANA "DNS RCODEs").
pub const BADSIG: u16 = 16;
pub const BADKEY: u16 = 17;
pub const BADTIME: u16 = 18;
pub const BADTRUNC: u16 = 22;

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
