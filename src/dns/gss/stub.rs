//! Stand-in for `krb.rs` in builds without the `gss` feature (or off Linux): every GSS-TSIG
//! key is refused when the keys are loaded, before any packet, with [`GssError::NotBuilt`].

use super::GssKey;
use super::error::GssError;

/// The build has no GSS-TSIG.
pub fn available(key: &str) -> Result<(), GssError> {
    Err(GssError::NotBuilt {
        key: key.to_string(),
    })
}

/// Never made: [`available`] fails first.
pub struct Initiator {
    pub service: String,
    pub principal: String,
}

impl Initiator {
    pub fn new(key: &GssKey, _service: &str, _server: &str) -> Result<Initiator, GssError> {
        available(&key.id).map(|_| unreachable!("available() fails in this build"))
    }

    pub fn step(
        &mut self,
        key: &GssKey,
        _token: Option<&[u8]>,
        _server: &str,
    ) -> Result<Option<Vec<u8>>, GssError> {
        available(&key.id).map(|_| None)
    }

    pub fn is_complete(&self) -> bool {
        false
    }

    pub fn get_mic(&mut self, _digest: &[u8]) -> Result<Vec<u8>, GssError> {
        Err(GssError::NotBuilt { key: String::new() })
    }

    pub fn verify_mic(&mut self, _digest: &[u8], _mic: &[u8]) -> bool {
        false
    }
}
