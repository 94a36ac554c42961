//! The TCP probe of rung 4: can a client open a connection to the KMS host's port? Not DNS:
//! a plain TCP connect with a time limit.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Connects to every address on `port`; returns the ones that failed, with why.
pub async fn connect_all(addrs: &[IpAddr], port: u16, limit: Duration) -> Vec<String> {
    let mut failed = Vec::new();
    for ip in addrs {
        let sa = SocketAddr::new(*ip, port);
        match tokio::time::timeout(limit, tokio::net::TcpStream::connect(sa)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => failed.push(format!("{sa}: {e}")),
            Err(_) => failed.push(format!("{sa}: no answer within {limit:?}")),
        }
    }
    failed
}
