//! Network options shared by plan, apply and verify: declared once.

use std::net::SocketAddr;

use clap::Args;

use crate::app::{NetOptions, parse_resolver};

#[derive(Debug, Clone, Args)]
pub struct NetArgs {
    /// Resolver for zone and primary discovery, IP[:PORT] (default: first nameserver in /etc/resolv.conf)
    #[arg(long, value_name = "ADDR", value_parser = parse_resolver)]
    pub resolver: Option<SocketAddr>,
    /// Port of servers discovered from the SOA MNAME or NS set (like nsupdate -p)
    #[arg(long, value_name = "PORT", default_value_t = 53, value_parser = clap::value_parser!(u16).range(1..))]
    pub server_port: u16,
    /// Zones (plan, apply) or domains (verify) in flight at once over all servers; each
    /// server's max_inflight bounds the messages sent to it on top
    #[arg(long, value_name = "N", default_value_t = crate::app::DEFAULT_PARALLEL, value_parser = parse_parallel)]
    pub parallel: usize,
}

fn parse_parallel(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a number from 1 to 1024")),
    }
}

impl NetArgs {
    pub fn options(&self) -> NetOptions {
        NetOptions {
            resolver: self.resolver,
            discovered_port: self.server_port,
            parallel: self.parallel,
            ..NetOptions::default()
        }
    }
}
