//! Errors of key handling ([`KeyError`]) and of signing and verification ([`TsigError`]),
//! with the messages that say what a server's TSIG error code (RFC 8945 §5.3.2) means.

use std::path::PathBuf;

use super::{BADKEY, BADSIG, BADTIME, BADTRUNC};
use crate::model::TsigAlgorithm;

/// Why a key could not be loaded or made. Never contains the secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {}: {source}; check the `file` path of key `{key_id}`", path.display())]
    Read {
        path: PathBuf,
        key_id: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("key file {} has no key named \"{name}\" (found: {}); set `name` in [keys.{key_id}] to one of them, or use the right file", path.display(), found.join(", "))]
    NotInFile {
        path: PathBuf,
        key_id: String,
        name: String,
        found: Vec<String>,
    },
    #[error("key \"{name}\" in {} uses {in_file}, but [keys.{key_id}] says algorithm = \"{configured}\"; make them agree (or drop `algorithm` from the config)", path.display())]
    AlgorithmMismatch {
        path: PathBuf,
        key_id: String,
        name: String,
        in_file: TsigAlgorithm,
        configured: TsigAlgorithm,
    },
    #[error(
        "environment variable {var} for key `{key_id}` is not set or empty; export it with the base64 secret or nsupdate's `[alg:]name:secret` form"
    )]
    EnvMissing { var: String, key_id: String },
    #[error(
        "environment variable {var} for key `{key_id}` is not valid UTF-8; it must hold base64 text"
    )]
    EnvNotUnicode { var: String, key_id: String },
    #[error("environment variable {var} for key `{key_id}`: {message}")]
    EnvValue {
        var: String,
        key_id: String,
        message: String,
    },
    #[error("key name `{name}` is not a valid DNS name: {why}")]
    BadName { name: String, why: String },
    #[error("the system random number generator failed; cannot generate a key")]
    Random,
    #[error("key `{key_id}` is a GSS-TSIG key (Kerberos): it has no secret to load")]
    NotHmac { key_id: String },
}

/// Why a message could not be signed or a signed reply was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TsigError {
    #[error("malformed DNS message: {0}")]
    Malformed(String),
    #[error(
        "the reply is not signed although the request was signed with key {key}: the server may not know TSIG key {key}, or something between strips TSIG; the reply is not trusted"
    )]
    Unsigned { key: String },
    /// An error RCODE in an unsigned reply to a signed request: what a server says when it
    /// cannot verify the request (PowerDNS: NOTAUTH to queries, REFUSED to updates). It cannot
    /// be authenticated either, so it is a verdict, never a success.
    #[error(
        "{server_says}: the server answered {rcode} without signing its reply to a request signed with key {key}, which is what a server does when it cannot verify the request: the secret of key {key} here differs from the server's, or the server does not know key {key}",
        server_says = "the reply is not signed"
    )]
    UnsignedError { key: String, rcode: String },
    #[error(
        "the reply is signed with key \"{found}\", but the request used key \"{expected}\": check that the right server answered"
    )]
    KeyNameMismatch { expected: String, found: String },
    #[error(
        "the reply for key {key} is signed with algorithm {found}, but the request used {expected}: check the algorithm of key {key} in named.conf"
    )]
    AlgorithmMismatch {
        key: String,
        expected: TsigAlgorithm,
        found: String,
    },
    #[error("{}", server_error_message(.key, *.algorithm, *.code, *.skew, *.fudge))]
    ServerError {
        key: String,
        algorithm: TsigAlgorithm,
        /// The TSIG error field: BADSIG, BADKEY, BADTIME, BADTRUNC or another code.
        code: u16,
        /// BADTIME only: the server's clock minus our time signed, in seconds.
        skew: Option<i64>,
        fudge: u16,
    },
    #[error(
        "the reply's TSIG MAC does not match (key {key}): the reply was altered or forged, or the secret of key {key} here differs from the server's"
    )]
    BadMac { key: String },
    #[error(
        "the TSIG MAC for key {key} is {len} octets, shorter than the {min} RFC 8945 §5.2.2.1 allows (BADTRUNC): the sender truncates the MAC too much"
    )]
    MacTooShort { key: String, len: usize, min: usize },
    #[error("the reply signed with key {key} is {} s off our clock, more than its fudge of {fudge} s: check the time on this machine and the server (NTP)", skew.unsigned_abs())]
    TimeOutsideFudge { key: String, skew: i64, fudge: u16 },
}

fn server_error_message(
    key: &str,
    algorithm: TsigAlgorithm,
    code: u16,
    skew: Option<i64>,
    fudge: u16,
) -> String {
    match code {
        BADSIG => format!(
            "the server could not verify the signature with key {key} (BADSIG): the secret differs from the server's copy of key {key}"
        ),
        BADKEY => format!(
            "the server rejected key {key} (algorithm {algorithm}) (BADKEY): it does not know the key, or (Knot) its ACL does not let the key make this update; check the key name and algorithm in the server's config and its update policy"
        ),
        BADTIME => match skew {
            Some(s) => format!(
                "the server rejected the time of the request signed with key {key} (BADTIME): clock skew of {s} s exceeds the fudge of {fudge} s: check the time on this machine and the server (NTP)"
            ),
            None => format!(
                "the server rejected the time of the request signed with key {key} (BADTIME): the clock skew exceeds the fudge of {fudge} s: check the time on this machine and the server (NTP)"
            ),
        },
        BADTRUNC => format!(
            "the server rejected the truncated MAC of key {key} (BADTRUNC): send the full MAC"
        ),
        other => format!("the server answered with TSIG error {other} for key {key}"),
    }
}
