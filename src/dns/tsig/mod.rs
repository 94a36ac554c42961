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

use std::fmt;
use std::path::PathBuf;

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

pub use super::keyfile::parse_key_file;
use crate::model::TsigAlgorithm;

/// The fudge (allowed clock skew, seconds) kmsdns signs with; RFC 8945 §10 recommends 300.
pub const DEFAULT_FUDGE: u16 = 300;

/// RR type TSIG (RFC 8945 §4.2).
const TYPE_TSIG: u16 = 250;
/// Class ANY, used by TSIG records.
const CLASS_ANY: u16 = 255;

/// TSIG error codes (RFC 8945 §4.3, IANA "DNS RCODEs").
pub const BADSIG: u16 = 16;
pub const BADKEY: u16 = 17;
pub const BADTIME: u16 = 18;
pub const BADTRUNC: u16 = 22;

/// A TSIG shared secret. `Debug` and `Display` show only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    /// The raw bytes, for the HMAC and for writing a key file; never log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted>, {} bytes)", self.0.len())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted secret, {} bytes>", self.0.len())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes before the allocation is freed.
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}

/// A TSIG key: name (lowercase, no trailing dot), algorithm and secret.
/// `Debug`/`Display` print `name (algorithm)` only.
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    pub name: String,
    pub algorithm: TsigAlgorithm,
    pub secret: Secret,
}

impl TsigKey {
    /// Builds a key, normalising the name (lowercase, no trailing dot) and checking that it
    /// is a valid DNS name.
    pub fn new(name: &str, algorithm: TsigAlgorithm, secret: Secret) -> Result<Self, KeyError> {
        let name = normalise_key_name(name).map_err(|why| KeyError::BadName {
            name: name.to_string(),
            why,
        })?;
        Ok(TsigKey {
            name,
            algorithm,
            secret,
        })
    }

    /// A new random key; the secret is as long as the algorithm's output (RFC 8945 §6).
    pub fn generate(name: &str, algorithm: TsigAlgorithm) -> Result<Self, KeyError> {
        let mut bytes = vec![0u8; algorithm.output_len()];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| KeyError::Random)?;
        Self::new(name, algorithm, Secret::new(bytes))
    }

    /// The key in exactly the format `tsig-keygen` writes.
    pub fn to_bind_key_file(&self) -> String {
        super::keyfile::to_bind_key_file(self)
    }

    /// The key name in uncompressed, lowercase wire form.
    fn name_wire(&self) -> Result<Vec<u8>, TsigError> {
        name_to_wire(&self.name).map_err(|why| {
            TsigError::Malformed(format!(
                "key name `{}` cannot be written on the wire: {why}",
                self.name
            ))
        })
    }
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.algorithm.is_legacy() {
            write!(f, "{} ({}, legacy)", self.name, self.algorithm)
        } else {
            write!(f, "{} ({})", self.name, self.algorithm)
        }
    }
}

/// Lowercases a key name and drops the trailing dot; checks label and name lengths.
pub(crate) fn normalise_key_name(name: &str) -> Result<String, String> {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    name_to_wire(&n)?;
    Ok(n)
}

/// A dotted name (no trailing dot) in uncompressed wire form.
fn name_to_wire(name: &str) -> Result<Vec<u8>, String> {
    if name.is_empty() {
        return Err("the name is empty".to_string());
    }
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.split('.') {
        if label.is_empty() {
            return Err("it has an empty label (two dots in a row, or a leading dot)".to_string());
        }
        if label.len() > 63 {
            return Err(format!("label `{label}` is longer than 63 octets"));
        }
        out.push(label.len() as u8);
        out.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
    }
    out.push(0);
    if out.len() > 255 {
        return Err("it is longer than 255 octets on the wire".to_string());
    }
    Ok(out)
}

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
}

/// A message with its TSIG record appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedMessage {
    /// The complete wire message, ARCOUNT incremented.
    pub bytes: Vec<u8>,
    /// The MAC, needed to verify the reply (RFC 8945 §4.3.1).
    pub mac: Vec<u8>,
    pub id: u16,
    pub time_signed: u64,
}

/// The TSIG record of a verified message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTsig {
    pub mac: Vec<u8>,
    pub time_signed: u64,
    pub fudge: u16,
    pub original_id: u16,
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

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hmac_algorithm(a: TsigAlgorithm) -> hmac::Algorithm {
    match a {
        TsigAlgorithm::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        TsigAlgorithm::HmacSha256 => hmac::HMAC_SHA256,
        TsigAlgorithm::HmacSha384 => hmac::HMAC_SHA384,
        TsigAlgorithm::HmacSha512 => hmac::HMAC_SHA512,
    }
}

/// The TSIG fields that enter the MAC besides the message (RFC 8945 §4.3.3).
struct Variables<'a> {
    time_signed: u64,
    fudge: u16,
    error: u16,
    other: &'a [u8],
}

fn put_u48(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes()[2..]);
}

/// MAC over [prior MAC] + message + TSIG variables.
fn compute_mac(
    key: &TsigKey,
    prior_mac: Option<&[u8]>,
    message: &[u8],
    vars: &Variables<'_>,
) -> Result<hmac::Tag, TsigError> {
    let hkey = hmac::Key::new(hmac_algorithm(key.algorithm), key.secret.expose());
    let mut ctx = hmac::Context::with_key(&hkey);
    if let Some(prior) = prior_mac {
        ctx.update(&(prior.len() as u16).to_be_bytes());
        ctx.update(prior);
    }
    ctx.update(message);
    let mut v = key.name_wire()?;
    v.extend_from_slice(&CLASS_ANY.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend(name_to_wire(key.algorithm.name()).expect("algorithm names are valid"));
    put_u48(&mut v, vars.time_signed);
    v.extend_from_slice(&vars.fudge.to_be_bytes());
    v.extend_from_slice(&vars.error.to_be_bytes());
    v.extend_from_slice(&(vars.other.len() as u16).to_be_bytes());
    v.extend_from_slice(vars.other);
    ctx.update(&v);
    Ok(ctx.sign())
}

/// Signs a request: `message` is a complete wire message without TSIG.
pub fn sign(
    message: &[u8],
    key: &TsigKey,
    time_signed: u64,
    fudge: u16,
) -> Result<SignedMessage, TsigError> {
    sign_with(message, key, None, time_signed, fudge, 0, &[])
}

/// Signs a reply to a request whose MAC was `request_mac` (RFC 8945 §4.3.1).
pub fn sign_reply(
    message: &[u8],
    key: &TsigKey,
    request_mac: &[u8],
    time_signed: u64,
    fudge: u16,
) -> Result<SignedMessage, TsigError> {
    sign_with(message, key, Some(request_mac), time_signed, fudge, 0, &[])
}

/// Appends a TSIG record with the given error and other data (`error` ≠ 0 builds the replies
/// a server sends when it rejects a request; the tests use that).
pub(crate) fn sign_with(
    message: &[u8],
    key: &TsigKey,
    prior_mac: Option<&[u8]>,
    time_signed: u64,
    fudge: u16,
    error: u16,
    other: &[u8],
) -> Result<SignedMessage, TsigError> {
    if message.len() < 12 {
        return Err(TsigError::Malformed(format!(
            "{} octets, shorter than the 12-octet header",
            message.len()
        )));
    }
    if time_signed >= 1 << 48 {
        return Err(TsigError::Malformed(
            "time signed does not fit in 48 bits".to_string(),
        ));
    }
    let arcount = u16::from_be_bytes([message[10], message[11]]);
    let arcount = arcount
        .checked_add(1)
        .ok_or_else(|| TsigError::Malformed("ARCOUNT is already 65535".to_string()))?;
    let vars = Variables {
        time_signed,
        fudge,
        error,
        other,
    };
    let mac = compute_mac(key, prior_mac, message, &vars)?;
    let mac = mac.as_ref();
    let id = u16::from_be_bytes([message[0], message[1]]);

    let mut rdata = name_to_wire(key.algorithm.name()).expect("algorithm names are valid");
    put_u48(&mut rdata, time_signed);
    rdata.extend_from_slice(&fudge.to_be_bytes());
    rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    rdata.extend_from_slice(mac);
    rdata.extend_from_slice(&id.to_be_bytes());
    rdata.extend_from_slice(&error.to_be_bytes());
    rdata.extend_from_slice(&(other.len() as u16).to_be_bytes());
    rdata.extend_from_slice(other);

    let mut bytes = message.to_vec();
    bytes[10..12].copy_from_slice(&arcount.to_be_bytes());
    bytes.extend(key.name_wire()?);
    bytes.extend_from_slice(&TYPE_TSIG.to_be_bytes());
    bytes.extend_from_slice(&CLASS_ANY.to_be_bytes());
    bytes.extend_from_slice(&0u32.to_be_bytes());
    bytes.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    bytes.extend(rdata);
    if bytes.len() > u16::MAX as usize {
        return Err(TsigError::Malformed(
            "the signed message exceeds 65535 octets".to_string(),
        ));
    }
    Ok(SignedMessage {
        bytes,
        mac: mac.to_vec(),
        id,
        time_signed,
    })
}

/// A parsed TSIG record and where it starts in the message.
struct FoundTsig {
    start: usize,
    name: String,
    algorithm: String,
    time_signed: u64,
    fudge: u16,
    mac: Vec<u8>,
    original_id: u16,
    error: u16,
    other: Vec<u8>,
}

fn malformed(what: &str) -> TsigError {
    TsigError::Malformed(what.to_string())
}

fn read_u16(msg: &[u8], pos: usize) -> Result<u16, TsigError> {
    msg.get(pos..pos + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| malformed("the message ends inside a record"))
}

/// Reads a (possibly compressed) name at `pos`: the dotted lowercase name and the position
/// after it in the message.
fn read_name(msg: &[u8], mut pos: usize) -> Result<(String, usize), TsigError> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg
            .get(pos)
            .ok_or_else(|| malformed("the message ends inside a name"))?;
        match len {
            0 => {
                let end = end.unwrap_or(pos + 1);
                return Ok((labels.join("."), end));
            }
            l if l & 0xC0 == 0xC0 => {
                let target = (read_u16(msg, pos)? & 0x3FFF) as usize;
                end.get_or_insert(pos + 2);
                jumps += 1;
                if jumps > 64 || target >= msg.len() {
                    return Err(malformed("a name has a compression loop or a bad pointer"));
                }
                pos = target;
            }
            l if l & 0xC0 != 0 => return Err(malformed("a name has an unknown label type")),
            l => {
                let l = l as usize;
                let label = msg
                    .get(pos + 1..pos + 1 + l)
                    .ok_or_else(|| malformed("the message ends inside a name"))?;
                labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                pos += 1 + l;
            }
        }
    }
}

/// Walks the message to its last record; returns the TSIG record if that is one. A TSIG
/// anywhere else is malformed (RFC 8945 §5.1).
fn find_tsig(msg: &[u8]) -> Result<Option<FoundTsig>, TsigError> {
    if msg.len() < 12 {
        return Err(malformed("shorter than the 12-octet header"));
    }
    let count = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]) as usize;
    let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
    let mut pos = 12;
    for _ in 0..qd {
        pos = read_name(msg, pos)?.1 + 4;
    }
    let total = an + ns + ar;
    let mut found = None;
    for i in 0..total {
        let start = pos;
        let (name, after) = read_name(msg, pos)?;
        let rtype = read_u16(msg, after)?;
        let rdlen = read_u16(msg, after + 8)? as usize;
        let rdata = after + 10;
        pos = rdata + rdlen;
        if pos > msg.len() {
            return Err(malformed("the message ends inside a record"));
        }
        if rtype == TYPE_TSIG {
            if i + 1 != total || ar == 0 {
                return Err(malformed("a TSIG record is not the last additional record"));
            }
            found = Some(parse_tsig_rdata(msg, start, name, rdata, pos)?);
        }
    }
    if pos != msg.len() {
        return Err(malformed("trailing octets after the last record"));
    }
    Ok(found)
}

fn parse_tsig_rdata(
    msg: &[u8],
    start: usize,
    name: String,
    rdata: usize,
    end: usize,
) -> Result<FoundTsig, TsigError> {
    let rd = &msg[..end];
    let (algorithm, mut p) = read_name(rd, rdata)?;
    let time = rd
        .get(p..p + 6)
        .ok_or_else(|| malformed("the TSIG record is cut short"))?;
    let time_signed = time.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    p += 6;
    let fudge = read_u16(rd, p)?;
    let mac_len = read_u16(rd, p + 2)? as usize;
    p += 4;
    let mac = rd
        .get(p..p + mac_len)
        .ok_or_else(|| malformed("the TSIG MAC is cut short"))?
        .to_vec();
    p += mac_len;
    let original_id = read_u16(rd, p)?;
    let error = read_u16(rd, p + 2)?;
    let other_len = read_u16(rd, p + 4)? as usize;
    p += 6;
    let other = rd
        .get(p..p + other_len)
        .ok_or_else(|| malformed("the TSIG other data is cut short"))?
        .to_vec();
    if p + other_len != end {
        return Err(malformed("the TSIG RDATA length does not match its fields"));
    }
    Ok(FoundTsig {
        start,
        name,
        algorithm,
        time_signed,
        fudge,
        mac,
        original_id,
        error,
        other,
    })
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
    let mut unsigned = msg[..tsig.start].to_vec();
    let arcount = u16::from_be_bytes([unsigned[10], unsigned[11]]) - 1;
    unsigned[10..12].copy_from_slice(&arcount.to_be_bytes());
    unsigned[0..2].copy_from_slice(&tsig.original_id.to_be_bytes());
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
fn macs_equal(computed: &[u8], received: &[u8]) -> bool {
    let mut k = [0u8; 32];
    if SystemRandom::new().fill(&mut k).is_err() {
        return false;
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, &k);
    let tag = hmac::sign(&key, received);
    hmac::verify(&key, &computed[..received.len()], tag.as_ref()).is_ok()
}

#[cfg(test)]
mod tests;
