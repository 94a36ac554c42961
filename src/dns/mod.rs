//! The only place that speaks the DNS wire protocol.
//!
//! - `tsig`: keys, `Secret`, signing and verification (RFC 8945); `keyfile`: BIND key files, env keys
//! - `transport`: UDP/TCP exchange with retries (RFC 1035 §4.2, RFC 7766)
//! - `client`: one checked, signed request/reply exchange
//! - `query`: state reads and zone/primary discovery
//! - `update`: RFC 2136 UPDATE messages with prerequisites
//! - `resolv`: the system resolver and search list

pub mod client;
pub mod error;
pub mod keyfile;
pub mod query;
pub mod resolv;
pub mod transport;
pub mod tsig;
pub mod update;

pub use client::DnsClient;
pub use error::DnsError;
