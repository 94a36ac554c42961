//! The only place that speaks the DNS wire protocol: hickory-proto and DNS sockets live here
//! alone. It takes its own small types ([`DnsClient`], [`transport::Endpoint`],
//! [`tsig::TsigKey`]) and the pure values of `model`, never the config's.
//!
//! - `tsig`: keys, `Secret`, signing and verification (RFC 8945); `keyfile`: BIND key files,
//!   nsupdate's `-y` form in the environment
//! - `transport`: UDP/TCP exchange with retries (RFC 1035 §4.2, RFC 7766)
//! - `client`: one checked, signed request/reply exchange
//! - `axfr`: zone transfers, for `import --zone`
//! - `query`: state reads from an authoritative server
//! - `discovery`: lookups through a resolver: zone and primary (RFC 2136 §4), addresses, SRV
//! - `update`: RFC 2136 UPDATE messages with prerequisites
//! - `resolv`: the system resolver and search list
//! - `gss`: GSS-TSIG (RFC 3645): TKEY negotiation, Kerberos MICs in TSIG records

pub mod axfr;
pub mod client;
pub mod discovery;
pub mod error;
pub mod gss;
pub mod keyfile;
pub mod query;
pub mod resolv;
pub mod transport;
pub mod tsig;
pub mod update;

pub use client::DnsClient;
pub use error::DnsError;
