//! The relay's sockets: UDP flows and TCP connections pumped both ways, with bounded waits.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::thread;

use super::*;

// ---- UDP ----

pub(super) fn udp_listen(shared: &Arc<Shared>, listen: &UdpSocket) {
    let mut flows: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut buf = vec![0u8; 65_535];
    while !shared.stopped() {
        let (n, client) = match listen.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if is_timeout(&e) => continue,
            Err(e) => {
                eprintln!("relay: UDP recv: {e}");
                shared.sleep(POLL);
                continue;
            }
        };
        let msg = buf[..n].to_vec();
        let upstream = match flows.get(&client) {
            Some(sock) => Arc::clone(sock),
            None => match udp_flow(shared, listen, client) {
                Ok(sock) => {
                    flows.insert(client, Arc::clone(&sock));
                    sock
                }
                Err(e) => {
                    eprintln!("relay: UDP flow for {client}: {e}");
                    continue;
                }
            },
        };
        let Some(delay) = shared.on_request(Transport::Udp, &msg) else {
            continue;
        };
        let forward = {
            let shared = Arc::clone(shared);
            move || {
                if shared.sleep(delay) {
                    shared.log(Leg::ToUpstream, Transport::Udp, &msg);
                    let _ = upstream.send(&msg);
                }
            }
        };
        if delay.is_zero() {
            forward();
        } else {
            shared.spawn(forward);
        }
    }
}

/// A new upstream socket for the datagram flow from `client`, and its reply thread.
fn udp_flow(
    shared: &Arc<Shared>,
    listen: &UdpSocket,
    client: SocketAddr,
) -> io::Result<Arc<UdpSocket>> {
    let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    sock.connect(shared.upstream)?;
    sock.set_read_timeout(Some(POLL))?;
    let sock = Arc::new(sock);
    let listen = Arc::new(listen.try_clone()?);
    let (s, upstream) = (Arc::clone(shared), Arc::clone(&sock));
    shared.spawn(move || {
        let mut buf = vec![0u8; 65_535];
        while !s.stopped() {
            let n = match upstream.recv(&mut buf) {
                Ok(n) => n,
                // A timeout, or ICMP port unreachable from a server that is gone.
                Err(_) => continue,
            };
            let delivery = s.on_reply(Transport::Udp, &buf[..n]);
            let waits = !delivery.delay.is_zero() || delivery.forged.is_some();
            let (s2, listen) = (Arc::clone(&s), Arc::clone(&listen));
            let deliver = move || {
                delivery.run(&s2, Transport::Udp, |bytes| {
                    listen.send_to(bytes, client).is_ok()
                });
            };
            // A held-back reply must not hold back the ones after it.
            if waits {
                s.spawn(deliver);
            } else {
                deliver();
            }
        }
    });
    Ok(sock)
}

// ---- TCP ----

pub(super) fn tcp_accept(shared: &Arc<Shared>, listener: &TcpListener) {
    while !shared.stopped() {
        match listener.accept() {
            Ok((client, _)) => {
                lock(&shared.stats).tcp_connections += 1;
                let s = Arc::clone(shared);
                shared.spawn(move || {
                    if let Err(e) = tcp_connection(&s, client) {
                        eprintln!("relay: TCP connection: {e}");
                    }
                });
            }
            Err(e) if is_timeout(&e) => thread::sleep(POLL),
            Err(e) => {
                eprintln!("relay: TCP accept: {e}");
                thread::sleep(POLL);
            }
        }
    }
}

/// Connects upstream and pumps messages both ways until either side closes: requests in a
/// thread of their own, replies in this one.
fn tcp_connection(shared: &Arc<Shared>, client: TcpStream) -> io::Result<()> {
    client.set_nonblocking(false)?;
    let upstream = TcpStream::connect_timeout(&shared.upstream, IO_TIMEOUT)?;
    for s in [&client, &upstream] {
        s.set_read_timeout(Some(POLL))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.set_nodelay(true)?;
    }
    // Either pump ending shuts both connections down, which ends the other pump too.
    let pair = Arc::new((client.try_clone()?, upstream.try_clone()?));
    let close = move |pair: &(TcpStream, TcpStream)| {
        let _ = pair.0.shutdown(Shutdown::Both);
        let _ = pair.1.shutdown(Shutdown::Both);
    };
    let (mut from_client, mut to_upstream) = (client.try_clone()?, upstream.try_clone()?);
    let s = Arc::clone(shared);
    let pair_requests = Arc::clone(&pair);
    shared.spawn(move || {
        while let Some(msg) = read_message(&s, &mut from_client) {
            let Some(delay) = s.on_request(Transport::Tcp, &msg) else {
                continue;
            };
            if !s.sleep(delay) {
                break;
            }
            s.log(Leg::ToUpstream, Transport::Tcp, &msg);
            if write_message(&mut to_upstream, &msg).is_err() {
                break;
            }
        }
        close(&pair_requests);
    });
    let (mut from_upstream, mut to_client) = (upstream, client);
    while let Some(reply) = read_message(shared, &mut from_upstream) {
        let delivery = shared.on_reply(Transport::Tcp, &reply);
        if delivery.close_mid {
            let half = &delivery.bytes[..delivery.bytes.len() / 2];
            let mut partial = (delivery.bytes.len() as u16).to_be_bytes().to_vec();
            partial.extend_from_slice(half);
            if shared.sleep(delivery.delay) {
                shared.sent_to_client(Transport::Tcp, half);
                let _ = to_client
                    .write_all(&partial)
                    .and_then(|()| to_client.flush());
            }
            break;
        }
        let ok = delivery.run(shared, Transport::Tcp, |bytes| {
            write_message(&mut to_client, bytes).is_ok()
        });
        if !ok {
            break;
        }
    }
    close(&pair);
    Ok(())
}

/// One length-prefixed message; `None` at EOF, on an error, or when the relay stops.
fn read_message(shared: &Shared, stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    read_full(shared, stream, &mut len)?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    read_full(shared, stream, &mut msg)?;
    Some(msg)
}

fn read_full(shared: &Shared, stream: &mut TcpStream, buf: &mut [u8]) -> Option<()> {
    let mut filled = 0;
    while filled < buf.len() {
        if shared.stopped() {
            return None;
        }
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return None,
            Ok(n) => filled += n,
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(())
}

fn write_message(stream: &mut TcpStream, msg: &[u8]) -> io::Result<()> {
    let len = u16::try_from(msg.len()).map_err(|_| io::Error::other("message over 65535"))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(msg);
    stream.write_all(&framed)?;
    stream.flush()
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
