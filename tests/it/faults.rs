//! The truth under faults: what kmsdns reports when a server is dead, slow or the path
//! misbehaves. Each outcome is checked against what the server really holds (dig).

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::harness::cli::{kmsdns, write_config};

/// A UDP socket on 127.0.0.1 that never answers and counts what it receives.
fn silent_server() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while sock.recv_from(&mut buf).is_ok() {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    (addr, seen)
}

#[test]
fn a_dead_server_costs_exactly_the_configured_tries() {
    let (addr, seen) = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[servers.dead]\naddress = \"{addr}\"\ntimeout = \"200ms\"\nretries = 1\n\
             [[hosts]]\nname = \"kms1.example.com\"\n\
             [[domains]]\nname = \"corp.example.com\"\nzone = \"example.com\"\nserver = \"dead\"\n"
        ),
    );
    let out = kmsdns().arg("-c").arg(&cfg).arg("plan").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "no reply from {addr} over UDP after 2 tries of 200ms each"
        )),
        "{text}"
    );
    // retries = 1: the read went out twice, and nothing else was sent.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}
