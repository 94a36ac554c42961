//! Signing: the MAC input of RFC 8945 §4.3 (prior MAC for replies §4.3.1, message §4.3.2,
//! TSIG variables §4.3.3) and the TSIG record appended as the last additional record (§4.2).

use ring::hmac;

use super::error::TsigError;
use super::key::{TsigKey, name_to_wire};
use super::{CLASS_ANY, TYPE_TSIG};
use crate::model::TsigAlgorithm;

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

pub(super) fn hmac_algorithm(a: TsigAlgorithm) -> hmac::Algorithm {
    match a {
        TsigAlgorithm::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        TsigAlgorithm::HmacSha256 => hmac::HMAC_SHA256,
        TsigAlgorithm::HmacSha384 => hmac::HMAC_SHA384,
        TsigAlgorithm::HmacSha512 => hmac::HMAC_SHA512,
    }
}

/// The TSIG fields that enter the MAC besides the message (RFC 8945 §4.3.3).
pub(crate) struct Variables<'a> {
    pub(crate) time_signed: u64,
    pub(crate) fudge: u16,
    pub(crate) error: u16,
    pub(crate) other: &'a [u8],
}

fn put_u48(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes()[2..]);
}

/// How the prior MAC (a request's, when a reply is signed) enters the digest.
#[derive(Clone, Copy, Debug)]
pub enum Prior<'a> {
    /// A request: no prior MAC.
    None,
    /// RFC 8945 §4.3.1: the MAC's 2-octet length, then the MAC.
    Rfc(&'a [u8]),
    /// Samba's GSS-TSIG replies after TKEY: the MAC without its length (dns_crypto.c).
    WithoutLength(&'a [u8]),
}

/// The MAC input ("digest") of RFC 8945 §4.3: [prior MAC] + message + TSIG variables, for a
/// key called `name_wire` (uncompressed wire form) with algorithm `algorithm`. HMAC keys run
/// it through the HMAC; GSS-TSIG (RFC 3645 §4) hands it to `gss_get_mic`.
pub(crate) fn digest(
    name_wire: &[u8],
    algorithm: &str,
    prior: Prior<'_>,
    message: &[u8],
    vars: &Variables<'_>,
) -> Vec<u8> {
    let mut v = Vec::with_capacity(message.len() + 128);
    match prior {
        Prior::None => {}
        Prior::Rfc(mac) => {
            v.extend_from_slice(&(mac.len() as u16).to_be_bytes());
            v.extend_from_slice(mac);
        }
        Prior::WithoutLength(mac) => v.extend_from_slice(mac),
    }
    v.extend_from_slice(message);
    v.extend_from_slice(name_wire);
    v.extend_from_slice(&CLASS_ANY.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend(name_to_wire(algorithm).expect("algorithm names are valid"));
    put_u48(&mut v, vars.time_signed);
    v.extend_from_slice(&vars.fudge.to_be_bytes());
    v.extend_from_slice(&vars.error.to_be_bytes());
    v.extend_from_slice(&(vars.other.len() as u16).to_be_bytes());
    v.extend_from_slice(vars.other);
    v
}

/// MAC over [prior MAC] + message + TSIG variables.
pub(super) fn compute_mac(
    key: &TsigKey,
    prior_mac: Option<&[u8]>,
    message: &[u8],
    vars: &Variables<'_>,
) -> Result<hmac::Tag, TsigError> {
    let hkey = hmac::Key::new(hmac_algorithm(key.algorithm), key.secret.expose());
    let prior = prior_mac.map_or(Prior::None, Prior::Rfc);
    let input = digest(
        &key.name_wire()?,
        key.algorithm.name(),
        prior,
        message,
        vars,
    );
    Ok(hmac::sign(&hkey, &input))
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
pub(super) fn sign_with(
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
    let vars = Variables {
        time_signed,
        fudge,
        error,
        other,
    };
    let mac = compute_mac(key, prior_mac, message, &vars)?;
    append_tsig(
        message,
        &key.name_wire()?,
        key.algorithm.name(),
        mac.as_ref(),
        &vars,
    )
}

/// Appends the TSIG record (RFC 8945 §4.2) with `mac` to `message`: the key name uncompressed
/// (Samba answers BADSIG to a compressed one), ARCOUNT incremented.
pub(crate) fn append_tsig(
    message: &[u8],
    name_wire: &[u8],
    algorithm: &str,
    mac: &[u8],
    vars: &Variables<'_>,
) -> Result<SignedMessage, TsigError> {
    if message.len() < 12 {
        return Err(TsigError::Malformed(format!(
            "{} octets, shorter than the 12-octet header",
            message.len()
        )));
    }
    let arcount = u16::from_be_bytes([message[10], message[11]])
        .checked_add(1)
        .ok_or_else(|| TsigError::Malformed("ARCOUNT is already 65535".to_string()))?;
    let (time_signed, fudge, error, other) = (vars.time_signed, vars.fudge, vars.error, vars.other);
    let id = u16::from_be_bytes([message[0], message[1]]);

    let mut rdata = name_to_wire(algorithm).expect("algorithm names are valid");
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
    bytes.extend_from_slice(name_wire);
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
