//! Stage one of configuration loading: serde structs that mirror the TOML file.
//!
//! Every field keeps its source span so that stage two (`validate.rs`) can point at the
//! exact line and column. Integers are read as `i64` so range errors get our own message
//! instead of serde's. Unknown keys are reported (all at once, with "did you mean") by the
//! schema scan in `schema.rs` and removed before these structs are filled.

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Default, Deserialize)]
pub struct RawDefaults {
    pub ttl: Option<S<i64>>,
    pub port: Option<S<i64>>,
    pub priority: Option<S<i64>>,
    pub weight: Option<S<i64>>,
    pub prune: Option<S<bool>>,
    pub key: Option<S<String>>,
    pub retries: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
pub struct RawKey {
    /// TSIG key name on the wire when it differs from the table name.
    pub name: Option<S<String>>,
    pub file: Option<S<String>>,
    pub secret_env: Option<S<String>>,
    pub algorithm: Option<S<String>>,
    /// `"hmac"` (default) or `"gss-tsig"`; the GSS-TSIG fields follow.
    #[serde(rename = "type")]
    pub kind: Option<S<String>>,
    pub principal: Option<S<String>>,
    pub keytab: Option<S<String>>,
    pub service: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
pub struct RawServer {
    pub address: S<RawAddresses>,
    pub key: Option<S<String>>,
    pub transport: Option<S<String>>,
    pub timeout: Option<S<String>>,
    pub retries: Option<S<i64>>,
    pub max_inflight: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
pub struct RawHost {
    pub name: S<String>,
    pub port: Option<S<i64>>,
    pub priority: Option<S<i64>>,
    pub weight: Option<S<i64>>,
    pub ttl: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
pub struct RawDomain {
    pub name: S<String>,
    pub hosts: Option<S<Vec<S<RawHostRef>>>>,
    pub zone: Option<S<String>>,
    pub server: Option<S<String>>,
    pub prune: Option<S<bool>>,
}

/// A `domains[].hosts` entry: a host name, or a table that overrides its SRV values for
/// this domain only.
#[derive(Debug)]
pub enum RawHostRef {
    Name(String),
    Table(RawHostOverride),
}

#[derive(Debug, Deserialize)]
pub struct RawHostOverride {
    pub name: S<String>,
    pub port: Option<S<i64>>,
    pub priority: Option<S<i64>>,
    pub weight: Option<S<i64>>,
    pub ttl: Option<S<i64>>,
}

/// `servers.*.address`: one address, or a list tried in order.
#[derive(Debug)]
pub enum RawAddresses {
    One(String),
    List(Vec<S<String>>),
}

impl<'de> Deserialize<'de> for RawAddresses {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AddrVisitor;
        impl<'de> Visitor<'de> for AddrVisitor {
            type Value = RawAddresses;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "an address string like \"192.0.2.53:53\" or a list of them, tried in order",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawAddresses, E> {
                Ok(RawAddresses::One(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawAddresses, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<S<String>>()? {
                    out.push(item);
                }
                Ok(RawAddresses::List(out))
            }
        }
        d.deserialize_any(AddrVisitor)
    }
}

impl RawHostRef {
    pub fn name(&self) -> &str {
        match self {
            RawHostRef::Name(n) => n,
            RawHostRef::Table(t) => t.name.get_ref(),
        }
    }
}

impl<'de> Deserialize<'de> for RawHostRef {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RefVisitor;
        impl<'de> Visitor<'de> for RefVisitor {
            type Value = RawHostRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a host name string or a table like { name = \"kms1.example.com\", priority = 10 }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawHostRef, E> {
                Ok(RawHostRef::Name(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawHostRef, A::Error> {
                RawHostOverride::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawHostRef::Table)
            }
        }
        d.deserialize_any(RefVisitor)
    }
}
