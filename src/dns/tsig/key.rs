//! TSIG keys: the shared [`Secret`], the [`TsigKey`] (name, algorithm, secret) and key-name
//! normalisation (RFC 8945 §4.2 NAME, in canonical wire form for the MAC, §4.3.3).

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use super::error::{KeyError, TsigError};
use crate::model::TsigAlgorithm;

/// A TSIG shared secret. `Debug` and `Display` show only its length. The bytes are wiped
/// when the secret is dropped ([`Zeroizing`]: volatile writes the optimiser keeps, over the
/// whole allocation); state derived from them elsewhere (`ring`'s HMAC key) is not.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Takes ownership of the secret's bytes (decoded, not base64).
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(Zeroizing::new(bytes))
    }

    /// The raw bytes, for the HMAC and for writing a key file; never log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret's length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty secret.
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

/// Its only field wipes itself on drop.
impl ZeroizeOnDrop for Secret {}

/// A TSIG key: name (lowercase, no trailing dot), algorithm and secret.
/// `Debug`/`Display` print `name (algorithm)` only.
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    /// The key name as on the wire and in named.conf.
    pub name: String,
    /// The HMAC algorithm.
    pub algorithm: TsigAlgorithm,
    /// The shared secret.
    pub secret: Secret,
}

impl TsigKey {
    /// Builds a key, normalising the name (lowercase, no trailing dot) and checking that it
    /// is a valid DNS name.
    pub fn new(name: &str, algorithm: TsigAlgorithm, secret: Secret) -> Result<Self, KeyError> {
        let name = crate::model::parse_key_name(name).map_err(|why| KeyError::BadName {
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
        crate::dns::keyfile::to_bind_key_file(self)
    }

    /// The key name in uncompressed, lowercase wire form.
    pub(super) fn name_wire(&self) -> Result<Vec<u8>, TsigError> {
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

/// A dotted name (no trailing dot) in uncompressed wire form.
pub(super) fn name_to_wire(name: &str) -> Result<Vec<u8>, String> {
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
