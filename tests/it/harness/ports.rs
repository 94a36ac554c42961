//! Free ports on the loopback addresses (127.0.0.1, ::1) for test servers.
//!
//! A port is handed out only if both a TCP listener and a UDP socket can bind it (BIND uses
//! SO_REUSEPORT, so two servers on one port would split queries instead of failing), and never
//! twice in this process, because tests run in parallel threads.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// Ports are drawn from below Linux's ephemeral range (32768–60999), so client sockets of dig,
/// nsupdate and the tests themselves do not take them between the probe and the server's bind.
const RANGE: std::ops::Range<u32> = 20_000..32_000;

/// A port on 127.0.0.1 that is free for both TCP and UDP right now.
pub fn free_port() -> u16 {
    free_port_on(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// A port on `ip` (a loopback address) that is free for both TCP and UDP right now. Panics
/// when `ip` cannot be bound at all (e.g. IPv6 disabled, so no `::1`), saying so.
pub fn free_port_on(ip: IpAddr) -> u16 {
    if let Err(e) = UdpSocket::bind((ip, 0)) {
        panic!(
            "cannot bind {ip} on this machine ({e}): the loopback address is unavailable{}",
            if ip.is_ipv6() {
                " (IPv6 disabled? check /proc/sys/net/ipv6/conf/lo/disable_ipv6)"
            } else {
                ""
            }
        );
    }
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let mut state = seed();
    for _ in 0..2_000 {
        state = xorshift(state);
        let port = (RANGE.start + (state % u64::from(RANGE.end - RANGE.start)) as u32) as u16;
        if !handed_out.contains(&port) && free_for_tcp_and_udp(ip, port) {
            handed_out.insert(port);
            return port;
        }
    }
    panic!("no port free for both TCP and UDP on {ip} in {RANGE:?} after 2000 tries");
}

fn free_for_tcp_and_udp(ip: IpAddr, port: u16) -> bool {
    let tcp = TcpListener::bind((ip, port));
    let udp = UdpSocket::bind((ip, port));
    tcp.is_ok() && udp.is_ok()
}

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    (nanos ^ (u64::from(std::process::id()) << 32)) | 1
}

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}
