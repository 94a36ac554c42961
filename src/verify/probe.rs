//! The TCP probe of rung 4: can a client open a connection to the KMS host's port? Not DNS:
//! a plain TCP connect with a time limit, timed.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::ConnectAttempt;

/// Connects to every address on `port`; returns each attempt with its duration and, when it
/// failed, why.
pub async fn connect_all(addrs: &[IpAddr], port: u16, limit: Duration) -> Vec<ConnectAttempt> {
    let mut attempts = Vec::new();
    for ip in addrs {
        let address = SocketAddr::new(*ip, port);
        let start = Instant::now();
        let result = tokio::time::timeout(limit, tokio::net::TcpStream::connect(address)).await;
        let seconds = start.elapsed().as_secs_f64();
        let error = match result {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("no answer within {limit:?}")),
        };
        attempts.push(ConnectAttempt {
            address,
            seconds,
            error,
        });
    }
    attempts
}
