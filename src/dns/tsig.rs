//! TEMP SHIM (replaced by the tsig branch)
use std::fmt;
pub const DEFAULT_FUDGE: u16 = 300;
pub struct TsigKey {
    pub name: String,
}
impl fmt::Display for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
#[derive(Debug, thiserror::Error)]
#[error("tsig")]
pub struct TsigError;
impl TsigError {
    pub fn hint(&self) -> String {
        String::new()
    }
}
#[derive(Debug, thiserror::Error)]
#[error("key")]
pub struct KeyError;
pub struct SignedMessage {
    pub bytes: Vec<u8>,
    pub mac: Vec<u8>,
}
pub fn sign(m: &[u8], _k: &TsigKey, _t: u64, _f: u16) -> Result<SignedMessage, TsigError> {
    Ok(SignedMessage {
        bytes: m.to_vec(),
        mac: vec![],
    })
}
pub fn verify_reply(_r: &[u8], _k: &TsigKey, _m: &[u8], _n: u64) -> Result<(), TsigError> {
    Ok(())
}
pub fn unix_now() -> u64 {
    0
}
pub fn load_key(_s: &crate::config::KeySpec) -> Result<TsigKey, KeyError> {
    Err(KeyError)
}
