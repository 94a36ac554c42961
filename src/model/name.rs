//! DNS names: client domains, zones, SRV targets and TSIG key names.
//!
//! Nothing here does I/O. Names are kept in their ASCII (A-label) form, lowercased,
//! without the trailing dot; `Display` prints them absolute (with the dot).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The service label clients look up (RFC 2782 `_Service._Proto`).
pub const KMS_SERVICE: &str = "_vlmcs._tcp";
/// The KMS port unless a host was set to another one.
pub const KMS_DEFAULT_PORT: u16 = 1688;
/// Tries after the first one when the config does not say (`retries`).
pub const DEFAULT_RETRIES: u32 = 2;
/// Most tries after the first one the config may ask for.
pub const MAX_RETRIES: u32 = 10;
/// Messages in flight at once to one server when the config does not say (`max_inflight`).
pub const DEFAULT_MAX_INFLIGHT: u32 = 8;
/// Most messages in flight to one server the config may allow.
pub const MAX_MAX_INFLIGHT: u32 = 256;
/// Longest per-try timeout the config may ask for.
pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Largest TTL RFC 2181 §8 allows.
pub const MAX_TTL: u32 = 2_147_483_647;

/// A fully qualified DNS name in ASCII, lowercase, stored without the trailing dot. Shared, not
/// copied, by `clone` (every record of 100,000 domains names one of a few hosts).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fqdn(Arc<str>);

/// Why a string is not an acceptable DNS name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The input is empty.
    #[error("the name is empty")]
    Empty,
    /// An IP address where a name is needed.
    #[error("`{0}` is an IP address, but a host name is needed here")]
    IpAddress(String),
    /// A label longer than 63 octets.
    #[error("label `{label}` is {len} octets long; RFC 1035 allows at most 63")]
    LabelTooLong {
        /// The label.
        label: String,
        /// Its length in octets.
        len: usize,
    },
    /// Two dots in a row, or a leading dot.
    #[error("the name has an empty label (two dots in a row, or a leading dot)")]
    EmptyLabel,
    /// Longer than 255 octets in wire form (the length).
    #[error("the name is {0} octets long on the wire; RFC 1035 allows at most 255")]
    NameTooLong(usize),
    /// A label with a character other than a letter, digit or hyphen.
    #[error(
        "label `{0}` has a character other than letters, digits and hyphen (RFC 1035 host names)"
    )]
    BadCharacter(String),
    /// A label that starts or ends with a hyphen.
    #[error("label `{0}` starts or ends with a hyphen")]
    Hyphen(String),
    /// One label only where a fully qualified name is needed.
    #[error("`{0}` is a single label; a fully qualified name is needed here")]
    SingleLabel(String),
    /// An internationalised name IDNA cannot convert.
    #[error("the internationalised name `{0}` cannot be converted to an A-label (IDNA)")]
    Idna(String),
}

impl Fqdn {
    /// Parses a domain name (a client DNS domain or zone): letters, digits and hyphens per
    /// label, IDN input converted to its A-label, trailing dot optional.
    ///
    /// ```
    /// use kmsdns::model::{Fqdn, NameError};
    ///
    /// let d = Fqdn::parse_domain("Corp.Example.COM.").unwrap();
    /// assert_eq!(d.as_str(), "corp.example.com"); // lowercase, no trailing dot
    /// assert_eq!(d.to_string(), "corp.example.com."); // displayed absolute
    /// assert_eq!(d.kms_owner().to_string(), "_vlmcs._tcp.corp.example.com.");
    ///
    /// // Internationalised names are kept as their A-label.
    /// let idn = Fqdn::parse_domain("bücher.example").unwrap();
    /// assert_eq!(idn.as_str(), "xn--bcher-kva.example");
    ///
    /// assert_eq!(Fqdn::parse_domain("a..example"), Err(NameError::EmptyLabel));
    /// assert!(matches!(Fqdn::parse_domain("-corp.example"), Err(NameError::Hyphen(_))));
    /// assert!(matches!(Fqdn::parse_domain("192.0.2.1"), Err(NameError::IpAddress(_))));
    /// // A single label is a valid domain (a lab's `corp`), but not an SRV target.
    /// assert!(Fqdn::parse_domain("corp").is_ok());
    /// assert!(matches!(Fqdn::parse_host("corp"), Err(NameError::SingleLabel(_))));
    /// ```
    pub fn parse_domain(input: &str) -> Result<Self, NameError> {
        Self::parse(input, false)
    }

    /// Parses a host name used as an SRV target: like [`Fqdn::parse_domain`], and also at
    /// least two labels and never an IP address (RFC 2782: the target is a name).
    pub fn parse_host(input: &str) -> Result<Self, NameError> {
        Self::parse(input, true)
    }

    fn parse(input: &str, host: bool) -> Result<Self, NameError> {
        let trimmed = input.trim();
        let bare = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']'));
        if trimmed.parse::<IpAddr>().is_ok() || bare.is_some_and(|s| s.parse::<IpAddr>().is_ok()) {
            return Err(NameError::IpAddress(trimmed.to_string()));
        }
        let without_dot = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if without_dot.is_empty() {
            return Err(NameError::Empty);
        }
        let ascii = if without_dot.is_ascii() {
            without_dot.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(without_dot)
                .map_err(|_| NameError::Idna(without_dot.to_string()))?
        };
        let mut wire_len = 1;
        for label in ascii.split('.') {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            if label.len() > 63 {
                return Err(NameError::LabelTooLong {
                    label: label.to_string(),
                    len: label.len(),
                });
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(NameError::BadCharacter(label.to_string()));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(NameError::Hyphen(label.to_string()));
            }
            wire_len += label.len() + 1;
        }
        // Room for the `_vlmcs._tcp.` prefix is checked where the owner name is built.
        if wire_len > 255 {
            return Err(NameError::NameTooLong(wire_len));
        }
        // An A-label typed by hand must decode.
        if ascii.split('.').any(|l| l.starts_with("xn--"))
            && idna::domain_to_unicode(&ascii).1.is_err()
        {
            return Err(NameError::Idna(without_dot.to_string()));
        }
        if host && !ascii.contains('.') {
            return Err(NameError::SingleLabel(ascii));
        }
        Ok(Fqdn(ascii.into()))
    }

    /// Builds a name from already-validated parts (used for `_vlmcs._tcp.<domain>`).
    pub fn from_ascii_unchecked(s: &str) -> Self {
        Fqdn(s.trim_end_matches('.').to_ascii_lowercase().into())
    }

    /// The name without the trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Length on the wire (RFC 1035 §3.1).
    pub fn wire_len(&self) -> usize {
        self.0.split('.').map(|l| l.len() + 1).sum::<usize>() + 1
    }

    /// `_vlmcs._tcp.<self>`: the owner name of the KMS SRV RRset of this domain.
    pub fn kms_owner(&self) -> Fqdn {
        Fqdn(format!("{KMS_SERVICE}.{}", self.0).into())
    }

    /// True when `self` equals `ancestor` or lies below it.
    pub fn is_at_or_below(&self, ancestor: &Fqdn) -> bool {
        self.0 == ancestor.0 || self.0.ends_with(&format!(".{}", ancestor.0))
    }

    /// `self` relative to `origin` (as in a zone file with `$ORIGIN origin.`): `@` at the
    /// apex. Returns `None` when `self` is not at or below `origin`.
    pub fn relative_to(&self, origin: &Fqdn) -> Option<String> {
        if self.0 == origin.0 {
            Some("@".to_string())
        } else {
            self.0
                .strip_suffix(&format!(".{}", origin.0))
                .map(str::to_string)
        }
    }

    /// The name with one label removed (`None` at a single label).
    pub fn parent(&self) -> Option<Fqdn> {
        self.0.split_once('.').map(|(_, rest)| Fqdn(rest.into()))
    }

    /// The Unicode form for display next to an A-label (`None` when it is plain ASCII).
    pub fn unicode(&self) -> Option<String> {
        if !self.0.split('.').any(|l| l.starts_with("xn--")) {
            return None;
        }
        let (u, res) = idna::domain_to_unicode(&self.0);
        res.ok().map(|_| u)
    }
}

/// Checks and normalises a TSIG key name (the one validator for config, key files, the
/// environment and `keygen`): letters, digits, `-`, `_` and dots, labels of 1–63 octets, at
/// most 255 octets on the wire. Returns it lowercased, without the trailing dot.
///
/// ```
/// use kmsdns::model::parse_key_name;
///
/// assert_eq!(parse_key_name("KMS-Update.").unwrap(), "kms-update");
/// assert_eq!(parse_key_name("tsig_key.example").unwrap(), "tsig_key.example");
/// // The error says what is wrong, for the config diagnostics.
/// assert!(parse_key_name("").is_err());
/// assert!(parse_key_name("bad key").is_err());
/// ```
pub fn parse_key_name(input: &str) -> Result<String, String> {
    let name = input.trim();
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.is_empty() {
        return Err("the key name is empty".to_string());
    }
    if let Some(c) = bare
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "the key name `{name}` contains `{c}`; use letters, digits, `-`, `_` and dots"
        ));
    }
    let mut wire = 1;
    for label in bare.split('.') {
        if label.is_empty() {
            return Err(format!(
                "the key name `{name}` has an empty label (two dots in a row, or a leading dot)"
            ));
        }
        if label.len() > 63 {
            return Err(format!(
                "the key name `{name}` has a label longer than 63 octets"
            ));
        }
        wire += label.len() + 1;
    }
    if wire > 255 {
        return Err(format!(
            "the key name `{name}` is longer than 255 octets on the wire"
        ));
    }
    Ok(bare.to_ascii_lowercase())
}

impl fmt::Display for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.", self.0)
    }
}

impl Serialize for Fqdn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Reads names written by kmsdns itself (plan files): no validation beyond lowercasing, since
/// owner names like `_vlmcs._tcp.…` are not host names.
impl<'de> Deserialize<'de> for Fqdn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Fqdn::from_ascii_unchecked(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        let n = Fqdn::parse_host("KMS1.Corp.Example.COM.").unwrap();
        assert_eq!(n.as_str(), "kms1.corp.example.com");
        assert_eq!(n.to_string(), "kms1.corp.example.com.");
        assert_eq!(n.kms_owner().as_str(), "_vlmcs._tcp.kms1.corp.example.com");
    }

    #[test]
    fn idn_becomes_a_label() {
        let n = Fqdn::parse_domain("bücher.example").unwrap();
        assert_eq!(n.as_str(), "xn--bcher-kva.example");
        assert_eq!(n.unicode().as_deref(), Some("bücher.example"));
    }

    #[test]
    fn rejects_bad_names() {
        assert!(matches!(
            Fqdn::parse_host("192.0.2.1"),
            Err(NameError::IpAddress(_))
        ));
        assert!(matches!(
            Fqdn::parse_host("[2001:db8::1]"),
            Err(NameError::IpAddress(_))
        ));
        assert!(matches!(
            Fqdn::parse_host("kms1"),
            Err(NameError::SingleLabel(_))
        ));
        assert!(matches!(
            Fqdn::parse_host("kms_1.example.com"),
            Err(NameError::BadCharacter(_))
        ));
        assert!(matches!(
            Fqdn::parse_host("-kms.example.com"),
            Err(NameError::Hyphen(_))
        ));
        assert!(matches!(
            Fqdn::parse_host("a..example.com"),
            Err(NameError::EmptyLabel)
        ));
        let long = format!("{}.example.com", "a".repeat(64));
        assert!(matches!(
            Fqdn::parse_host(&long),
            Err(NameError::LabelTooLong { len: 64, .. })
        ));
        let very_long = vec!["a".repeat(63); 5].join(".");
        assert!(matches!(
            Fqdn::parse_domain(&very_long),
            Err(NameError::NameTooLong(_))
        ));
    }

    #[test]
    fn key_names() {
        assert_eq!(parse_key_name("KMS-Update.").unwrap(), "kms-update");
        for ok in ["kms-update", "kms_update.example.", "a.b.c", "K1"] {
            assert!(parse_key_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "a..b", "a b", "kms/update", "ä", &"a".repeat(64)] {
            assert!(parse_key_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_names() {
        let zone = Fqdn::parse_domain("example.com").unwrap();
        let owner = Fqdn::parse_domain("corp.example.com").unwrap().kms_owner();
        assert_eq!(
            owner.relative_to(&zone).as_deref(),
            Some("_vlmcs._tcp.corp")
        );
        assert_eq!(zone.relative_to(&zone).as_deref(), Some("@"));
        assert!(owner.is_at_or_below(&zone));
        assert!(
            !Fqdn::parse_domain("badexample.com")
                .unwrap()
                .is_at_or_below(&zone)
        );
    }
}
