//! The DNS engine's transports: forced and large TCP, UDP resends, unsigned or forged replies
//! and silent servers.

use std::sync::Arc;
use std::time::Duration;

use kmsdns::dns::DnsError;
use kmsdns::dns::client::DnsClient;
use kmsdns::dns::query::read_srv;
use kmsdns::dns::transport::{Endpoint, Proto};
use kmsdns::dns::tsig::{TsigError, TsigKey};
use kmsdns::dns::update::build_update;
use kmsdns::model::SrvRecord;
use kmsdns::model::Transport;
use kmsdns::plan::diff_rrset as diff;

use crate::harness::{BindServer, Policy, ServerBuilder, ZoneBuilder};

use super::*;

#[test]
fn forced_tcp_and_large_updates_use_tcp() {
    let b = ServerBuilder::new().key("kms-key", "hmac-sha256").zone(
        ZoneBuilder::new("example.com")
            .policy(Policy::grant("kms-key", ["a.example.com", "b.example.com"])),
    );
    let bind = BindServer::start(&b);
    let key = load(bind.key("kms-key"));
    let tcp = client(&bind, Some(key.clone()), Transport::Tcp);
    let r = converge(
        &tcp,
        "example.com",
        &[("a.example.com", vec![rec("kms1.example.com", 0, 300)])],
    )
    .unwrap()
    .unwrap();
    assert_eq!(r.proto, Proto::Tcp);
    assert_eq!(bind.srv_records("_vlmcs._tcp.a.example.com").len(), 1);

    // 40 targets: larger than 512 octets, so UDP transport still sends it over TCP; the read
    // back of the large RRset also comes over TCP (the UDP reply is truncated) or EDNS.
    let many: Vec<SrvRecord> = (0..40)
        .map(|i| rec(&format!("kms-host-number-{i:02}.example.com"), i, 300))
        .collect();
    let udp = client(&bind, Some(key), Transport::Udp);
    let r = converge(&udp, "example.com", &[("b.example.com", many.clone())])
        .unwrap()
        .unwrap();
    assert_eq!(
        r.proto,
        Proto::Tcp,
        "a message over 512 octets goes over TCP"
    );
    let got = bind.srv_records("_vlmcs._tcp.b.example.com");
    assert_eq!(got.len(), 40);
    let read = runtime()
        .block_on(read_srv(
            &udp,
            Some(&name("example.com")),
            &name("b.example.com").kms_owner(),
        ))
        .unwrap();
    let mut sorted = many;
    sorted.sort();
    assert_eq!(read, sorted);
}

/// A lost UDP reply: the UPDATE is resent as the very same bytes (same ID, same TSIG time),
/// and nothing more is sent once a reply has arrived.
#[test]
fn udp_update_resend_is_the_same_message_and_stops_at_the_reply() {
    use kmsdns::dns::transport::{Kind, exchange};
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let (n1, _) = server.recv_from(&mut buf).unwrap(); // "lost": no answer
        let first = buf[..n1].to_vec();
        let (n2, from) = server.recv_from(&mut buf).unwrap();
        let second = buf[..n2].to_vec();
        let mut reply = second.clone();
        reply[2] |= 0x80; // QR: a response
        server.send_to(&reply, from).unwrap();
        server
            .set_read_timeout(Some(Duration::from_millis(800)))
            .unwrap();
        let extra = server.recv_from(&mut buf).is_ok();
        (first, second, extra)
    });
    // A signed UPDATE as the engine would send it.
    let key = TsigKey::generate("kms-key", kmsdns::model::TsigAlgorithm::HmacSha256).unwrap();
    let zone = name("example.com");
    let change = diff(
        &zone.kms_owner(),
        &[],
        &[rec("kms1.example.com", 0, 300)],
        true,
    )
    .to_rrset_change();
    let mut msg = build_update(&zone, &[change]).unwrap();
    msg.metadata.id = 4242;
    let signed = kmsdns::dns::tsig::sign(
        &msg.to_vec().unwrap(),
        &key,
        kmsdns::dns::tsig::unix_now(),
        300,
    )
    .unwrap();
    let ep = Endpoint {
        tries: 3,
        ..Endpoint::new(addr, Transport::Udp, Duration::from_millis(300))
    };
    let reply = runtime()
        .block_on(exchange(&ep, &signed.bytes, Kind::Update, |_| {
            Ok::<(), String>(())
        }))
        .unwrap();
    assert_eq!(reply.proto, Proto::Udp);
    assert_eq!(reply.sent, 2, "the reply says a copy was resent");
    let (first, second, extra) = peer.join().unwrap();
    assert_eq!(first, signed.bytes, "the first try is the signed message");
    assert_eq!(
        second, first,
        "the resend is byte-identical: same ID and TSIG time"
    );
    assert!(!extra, "nothing is sent after the reply");
}

/// A stand-in server on 127.0.0.1 that answers each query with `reply(request)`.
fn fake_server(reply: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + 'static) -> std::net::SocketAddr {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            if let Some(r) = reply(&buf[..n]) {
                let _ = sock.send_to(&r, from);
            }
        }
    });
    addr
}

/// An authoritative NOERROR answer with no records, unsigned.
fn unsigned_answer(request: &[u8]) -> Option<Vec<u8>> {
    use hickory_proto::op::{Message, MessageType};
    let req = Message::from_vec(request).ok()?;
    let mut resp = Message::new(req.metadata.id, MessageType::Response, req.metadata.op_code);
    resp.metadata.authoritative = true;
    resp.add_queries(req.queries.clone());
    resp.to_vec().ok()
}

#[test]
fn an_unsigned_or_forged_reply_to_a_signed_query_is_an_error() {
    let key =
        Arc::new(TsigKey::generate("kms-key", kmsdns::model::TsigAlgorithm::HmacSha256).unwrap());
    let zone = name("example.com");
    let owner = zone.kms_owner();
    let rt = runtime();

    let unsigned = fake_server(unsigned_answer);
    // A rejected reply is ignored while the try lasts: keep the tries short.
    let quick = |addr| Endpoint {
        tries: 1,
        ..Endpoint::new(addr, Transport::Udp, Duration::from_millis(300))
    };
    let c = DnsClient::new(quick(unsigned), "fake", Some(key.clone()));
    let err = rt.block_on(read_srv(&c, Some(&zone), &owner)).unwrap_err();
    assert!(
        matches!(
            err,
            DnsError::Tsig {
                source: TsigError::Unsigned { .. },
                ..
            }
        ),
        "{err:?}"
    );
    // The same reply to an unsigned query is fine: the check is about signed requests.
    let plain = DnsClient::new(
        Endpoint::new(unsigned, Transport::Udp, Duration::from_secs(1)),
        "fake",
        None,
    );
    assert!(
        rt.block_on(read_srv(&plain, Some(&zone), &owner))
            .unwrap()
            .is_empty()
    );

    // A reply signed with another secret (a forger who knows the key name).
    let forger = TsigKey::generate("kms-key", kmsdns::model::TsigAlgorithm::HmacSha256).unwrap();
    let forged = fake_server(move |req| {
        let body = unsigned_answer(req)?;
        let mac = kmsdns::dns::tsig::verify_request(req, &forger, kmsdns::dns::tsig::unix_now())
            .map(|t| t.mac)
            .unwrap_or_default();
        kmsdns::dns::tsig::sign_reply(&body, &forger, &mac, kmsdns::dns::tsig::unix_now(), 300)
            .ok()
            .map(|s| s.bytes)
    });
    let c = DnsClient::new(quick(forged), "fake", Some(key));
    let err = rt.block_on(read_srv(&c, Some(&zone), &owner)).unwrap_err();
    assert!(
        matches!(
            err,
            DnsError::Tsig {
                source: TsigError::BadMac { .. },
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_silent_server_times_out_naming_server_and_tries() {
    let silent = fake_server(|_| None);
    let mut ep = Endpoint::new(silent, Transport::Udp, Duration::from_millis(100));
    ep.tries = 2;
    let c = DnsClient::new(ep, format!("primary ({silent})"), None);
    let zone = name("example.com");
    let err = runtime()
        .block_on(read_srv(&c, Some(&zone), &zone.kms_owner()))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&silent.to_string()) && msg.contains("2 tries"),
        "{msg}"
    );
    assert!(err.hint().contains("firewall"), "{}", err.hint());
}
