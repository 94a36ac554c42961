//! Network options shared by plan, apply and verify.

use std::net::SocketAddr;

use clap::Args;

use crate::dns::resolv::parse_resolver;
use crate::state::NetOptions;

#[derive(Debug, Clone, Args)]
pub struct NetArgs {
    /// Resolver for zone and primary discovery, IP[:PORT] (default: first nameserver in /etc/resolv.conf)
    #[arg(long, value_name = "ADDR", value_parser = parse_resolver)]
    pub resolver: Option<SocketAddr>,
    /// Port of servers discovered from the SOA MNAME (like nsupdate -p)
    #[arg(long, value_name = "PORT", default_value_t = 53, value_parser = clap::value_parser!(u16).range(1..))]
    pub server_port: u16,
}

impl NetArgs {
    pub fn options(&self) -> NetOptions {
        NetOptions {
            resolver: self.resolver,
            discovered_port: self.server_port,
            ..NetOptions::default()
        }
    }
}

/// A runtime for one command; the work is I/O-bound, so one thread is enough.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
