//! The only place that speaks the DNS wire protocol.

pub mod keyfile;
pub mod tsig;
