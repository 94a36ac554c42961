//! Signing with an established GSS-TSIG context and checking replies (RFC 3645 §4, RFC 8945
//! §5.3), with what real servers do:
//!
//! - the MIC is checked over the RFC 8945 digest first (request MAC with its 2-octet length);
//!   if that fails, over Samba's form without the length (Samba signs every reply after TKEY
//!   that way), logged at debug;
//! - a reply that carries the request's own MAC is an echoed request (Samba's and Windows'
//!   error replies): the caller may use its RCODE and nothing else;
//! - a reply signed over the algorithm name the server shows rather than the one negotiated
//!   (Samba with `gss.microsoft.com`) is tried under both names.

use std::sync::Mutex;

use super::error::GssError;
use super::krb::Initiator;
use super::tkey::name_wire;
use crate::dns::tsig::{
    DEFAULT_FUDGE, FoundTsig, Prior, SignedMessage, Variables, append_tsig, digest, find_tsig,
    unsigned_message,
};
use crate::model::GssAlgorithm;

/// How a reply checked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The MIC verifies over the RFC 8945 digest.
    Verified,
    /// The MIC verifies over Samba's digest (no request-MAC length).
    VerifiedSamba,
    /// The reply carries our request's MAC: an echoed request. Only its RCODE may be used.
    Echoed,
}

/// What an established security context does for GSS-TSIG: `gss_get_mic` and
/// `gss_verify_mic` (the unit tests put an HMAC in its place).
pub trait Mic: Send {
    fn get_mic(&mut self, digest: &[u8]) -> Result<Vec<u8>, GssError>;
    fn verify_mic(&mut self, digest: &[u8], mic: &[u8]) -> bool;
}

impl Mic for Initiator {
    fn get_mic(&mut self, digest: &[u8]) -> Result<Vec<u8>, GssError> {
        Initiator::get_mic(self, digest)
    }
    fn verify_mic(&mut self, digest: &[u8], mic: &[u8]) -> bool {
        Initiator::verify_mic(self, digest, mic)
    }
}

/// A complete context with one server, and the TKEY key name it is known by.
pub struct Established {
    key_id: String,
    /// The negotiated key name (the TSIG owner name), lowercase, no trailing dot.
    pub key_name: String,
    name_wire: Vec<u8>,
    pub algorithm: GssAlgorithm,
    /// The client principal of the credential.
    pub principal: String,
    /// The service principal the ticket is for.
    pub service: String,
    ctx: Mutex<Box<dyn Mic>>,
}

impl Established {
    pub(super) fn new(
        key_id: String,
        key_name: String,
        algorithm: GssAlgorithm,
        ctx: Initiator,
    ) -> Result<Established, GssError> {
        let (principal, service) = (ctx.principal.clone(), ctx.service.clone());
        Self::with_mic(
            key_id,
            key_name,
            algorithm,
            principal,
            service,
            Box::new(ctx),
        )
    }

    /// An established context around any [`Mic`].
    pub(super) fn with_mic(
        key_id: String,
        key_name: String,
        algorithm: GssAlgorithm,
        principal: String,
        service: String,
        ctx: Box<dyn Mic>,
    ) -> Result<Established, GssError> {
        let name_wire = name_wire(&key_name).map_err(GssError::Malformed)?;
        Ok(Established {
            key_id,
            key_name,
            name_wire,
            algorithm,
            principal,
            service,
            ctx: Mutex::new(ctx),
        })
    }

    fn mic(&self, digest: &[u8]) -> Result<Vec<u8>, GssError> {
        self.ctx.lock().expect("GSS context lock").get_mic(digest)
    }

    fn mic_ok(&self, digest: &[u8], mic: &[u8]) -> bool {
        self.ctx
            .lock()
            .expect("GSS context lock")
            .verify_mic(digest, mic)
    }

    /// Signs a request (`message` without TSIG) at time `now`.
    pub fn sign(&self, message: &[u8], now: u64) -> Result<SignedMessage, GssError> {
        let vars = Variables {
            time_signed: now,
            fudge: DEFAULT_FUDGE,
            error: 0,
            other: &[],
        };
        let d = digest(
            &self.name_wire,
            self.algorithm.name(),
            Prior::None,
            message,
            &vars,
        );
        let mic = self.mic(&d)?;
        append_tsig(message, &self.name_wire, self.algorithm.name(), &mic, &vars)
            .map_err(|e| GssError::Malformed(e.to_string()))
    }

    /// The server's signature on the last TKEY reply (no prior MAC in its digest). Mutual
    /// authentication already proved the server; a TSIG that is present must verify.
    pub(super) fn check_tkey_reply(&self, reply: &[u8], server: &str) -> Result<(), GssError> {
        let Some(t) = find_tsig(reply).map_err(|e| GssError::Malformed(e.to_string()))? else {
            tracing::debug!(
                server,
                "the last TKEY reply is not signed; mutual authentication proved the server"
            );
            return Ok(());
        };
        match self.check_mic(reply, &t, Prior::None) {
            true => {
                tracing::debug!(server, "the server's MIC on the TKEY reply verifies");
                Ok(())
            }
            false => Err(GssError::TkeyProtocol {
                server: server.to_string(),
                reason: "the server's signature (MIC) on the TKEY reply does not verify".into(),
            }),
        }
    }

    fn check_mic(&self, msg: &[u8], t: &FoundTsig, prior: Prior<'_>) -> bool {
        let unsigned = unsigned_message(msg, t);
        let vars = Variables {
            time_signed: t.time_signed,
            fudge: t.fudge,
            error: t.error,
            other: &t.other,
        };
        let mut names = vec![self.algorithm.name()];
        if t.algorithm != self.algorithm.name() && GssAlgorithm::from_name(&t.algorithm).is_some() {
            names.push(t.algorithm.as_str());
        }
        names.iter().any(|alg| {
            let d = digest(&self.name_wire, alg, prior, &unsigned, &vars);
            self.mic_ok(&d, &t.mac)
        })
    }

    /// Checks the TSIG of a reply to a request whose MAC was `request_mac`.
    pub fn verify_reply(
        &self,
        reply: &[u8],
        request_mac: &[u8],
        now: u64,
    ) -> Result<Verdict, GssError> {
        let key = self.key_id.clone();
        let t = find_tsig(reply)
            .map_err(|e| GssError::Malformed(e.to_string()))?
            .ok_or(GssError::Unsigned { key: key.clone() })?;
        if t.name != self.key_name {
            return Err(GssError::KeyNameMismatch {
                expected: self.key_name.clone(),
                found: t.name,
            });
        }
        if !request_mac.is_empty() && t.mac == request_mac {
            return Ok(Verdict::Echoed);
        }
        if t.error != 0 && t.mac.is_empty() {
            return Err(GssError::ServerTsig {
                key,
                code: t.error,
                skew: badtime_skew(&t),
            });
        }
        let verdict = if self.check_mic(reply, &t, Prior::Rfc(request_mac)) {
            Verdict::Verified
        } else if self.check_mic(reply, &t, Prior::WithoutLength(request_mac)) {
            tracing::debug!(key_name = %self.key_name, "the reply's MIC verifies over Samba's digest (without the request MAC's length), not RFC 8945's");
            Verdict::VerifiedSamba
        } else {
            return Err(GssError::BadMic { key });
        };
        if t.error != 0 {
            return Err(GssError::ServerTsig {
                key,
                code: t.error,
                skew: badtime_skew(&t),
            });
        }
        let skew = t.time_signed as i64 - now as i64;
        if skew.unsigned_abs() > u64::from(t.fudge) {
            return Err(GssError::TimeOutsideFudge {
                key,
                skew,
                fudge: t.fudge,
            });
        }
        Ok(verdict)
    }
}

/// For BADTIME: the server's time (other data, 48 bits) minus the time signed.
fn badtime_skew(t: &FoundTsig) -> Option<i64> {
    if t.error != crate::dns::tsig::BADTIME || t.other.len() != 6 {
        return None;
    }
    let server = t
        .other
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    Some(server as i64 - t.time_signed as i64)
}
