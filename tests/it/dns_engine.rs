//! The DNS engine (issue 3) against real servers: state reads, RFC 2136 updates with
//! prerequisites, TSIG error mapping, transports. Every change is checked with `dig`.

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use kmsdns::dns::DnsError;
use kmsdns::dns::client::DnsClient;
use kmsdns::dns::keyfile::parse_key_file;
use kmsdns::dns::query::read_srv;
use kmsdns::dns::transport::{Endpoint, Proto};
use kmsdns::dns::tsig::{TsigError, TsigKey};
use kmsdns::dns::update::{UpdateReceipt, UpdateReply, build_update, send_update};
use kmsdns::model::Transport;
use kmsdns::model::{Fqdn, SrvRecord};
use kmsdns::plan::diff_rrset as diff;

use crate::harness::{
    BindServer, Key, KnotServer, Policy, Server, ServerBuilder, SrvRr, ZoneBuilder,
};

fn load(key: &Key) -> Arc<TsigKey> {
    let text = std::fs::read_to_string(&key.file).unwrap();
    let keys = parse_key_file(&key.file, &text).expect("harness key files parse");
    Arc::new(keys.into_iter().next().unwrap())
}

fn client(server: &Server, key: Option<Arc<TsigKey>>, transport: Transport) -> DnsClient {
    DnsClient::new(
        Endpoint::new(server.addr(), transport, Duration::from_secs(2)),
        format!("lab ({})", server.addr()),
        key,
    )
}

fn name(s: &str) -> Fqdn {
    Fqdn::parse_domain(s).unwrap()
}

fn rec(target: &str, priority: u16, ttl: u32) -> SrvRecord {
    SrvRecord {
        target: Fqdn::parse_host(target).unwrap(),
        port: 1688,
        priority,
        weight: 0,
        ttl,
    }
}

fn rr(ttl: u32, priority: u16, target: &str) -> SrvRr {
    SrvRr {
        ttl,
        priority,
        weight: 0,
        port: 1688,
        target: format!("{target}."),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Reads each domain's RRset, diffs it against `desired` (prune) and sends one UPDATE for the
/// zone — the same path `apply` takes.
fn converge(
    c: &DnsClient,
    zone: &str,
    wanted: &[(&str, Vec<SrvRecord>)],
) -> Result<Option<UpdateReceipt>, DnsError> {
    runtime().block_on(async {
        let zone = name(zone);
        let mut changes = Vec::new();
        for (domain, desired) in wanted {
            let owner = name(domain).kms_owner();
            let current = read_srv(c, Some(&zone), &owner).await?;
            let mut desired = desired.clone();
            desired.sort();
            changes.push(diff(&owner, &current, &desired, true).to_rrset_change());
        }
        match build_update(&zone, &changes) {
            None => Ok(None),
            Some(msg) => decided(send_update(c, &zone, msg).await).map(Some),
        }
    })
}

/// An UPDATE's outcome as success or the error that decided it (the uncertain outcomes keep
/// the error that made them uncertain, e.g. a server's TSIG verdict).
fn decided(r: Result<UpdateReply, DnsError>) -> Result<UpdateReceipt, DnsError> {
    match r? {
        UpdateReply::Applied(receipt) => Ok(receipt),
        UpdateReply::NotApplied(e) => Err(e),
        UpdateReply::Uncertain(u) => Err(u.error),
    }
}

/// An UPDATE that the server refused in a verified reply: its error.
fn refused(r: Result<UpdateReply, DnsError>) -> DnsError {
    match r {
        Ok(UpdateReply::NotApplied(e)) => e,
        other => panic!("want a verified refusal, got {other:?}"),
    }
}

fn lab() -> ServerBuilder {
    ServerBuilder::new()
        .key("kms-key", "hmac-sha256")
        .key("other-key", "hmac-sha256")
        .zone(
            ZoneBuilder::new("example.com")
                .record("kms1 A 127.0.0.1")
                .record("kms2 A 127.0.0.1")
                .policy(Policy::grant("kms-key", ["a.example.com", "b.example.com"])),
        )
}

/// add to an empty RRset, several domains in one message, replace one target, TTL change,
/// delete — on any server.
pub(crate) fn add_replace_ttl_delete(server: &Server) {
    let c = client(server, Some(load(server.key("kms-key"))), Transport::Udp);
    let a = "_vlmcs._tcp.a.example.com";
    let b = "_vlmcs._tcp.b.example.com";
    let serial = server.soa_serial("example.com");

    // Two domains, one message: the serial moves by one.
    let r = converge(
        &c,
        "example.com",
        &[
            (
                "a.example.com",
                vec![
                    rec("kms1.example.com", 0, 300),
                    rec("kms2.example.com", 10, 300),
                ],
            ),
            ("b.example.com", vec![rec("kms1.example.com", 0, 300)]),
        ],
    )
    .unwrap();
    assert!(
        r.unwrap().signed,
        "the reply to a signed update is verified"
    );
    assert_eq!(
        server.srv_records(a),
        vec![
            rr(300, 0, "kms1.example.com"),
            rr(300, 10, "kms2.example.com")
        ]
    );
    assert_eq!(server.srv_records(b), vec![rr(300, 0, "kms1.example.com")]);
    assert_eq!(server.soa_serial("example.com"), serial + 1);

    // Replace one target.
    converge(
        &c,
        "example.com",
        &[(
            "a.example.com",
            vec![
                rec("kms1.example.com", 0, 300),
                rec("kms3.example.com", 10, 300),
            ],
        )],
    )
    .unwrap();
    assert_eq!(
        server.srv_records(a),
        vec![
            rr(300, 0, "kms1.example.com"),
            rr(300, 10, "kms3.example.com")
        ]
    );

    // TTL change (delete + add of the same RR).
    converge(
        &c,
        "example.com",
        &[(
            "a.example.com",
            vec![
                rec("kms1.example.com", 0, 3600),
                rec("kms3.example.com", 10, 3600),
            ],
        )],
    )
    .unwrap();
    assert_eq!(
        server.srv_records(a),
        vec![
            rr(3600, 0, "kms1.example.com"),
            rr(3600, 10, "kms3.example.com")
        ]
    );

    // Converged: nothing to send.
    assert!(
        converge(
            &c,
            "example.com",
            &[(
                "a.example.com",
                vec![
                    rec("kms1.example.com", 0, 3600),
                    rec("kms3.example.com", 10, 3600)
                ]
            )]
        )
        .unwrap()
        .is_none()
    );

    // Delete everything at both owners.
    let before = server.soa_serial("example.com");
    converge(
        &c,
        "example.com",
        &[("a.example.com", vec![]), ("b.example.com", vec![])],
    )
    .unwrap();
    assert!(server.srv_records(a).is_empty());
    assert!(server.srv_records(b).is_empty());
    assert_eq!(server.soa_serial("example.com"), before + 1);
}

#[test]
fn bind_add_replace_ttl_delete() {
    let bind = BindServer::start(&lab());
    add_replace_ttl_delete(&bind);
}

#[test]
fn knot_add_replace_ttl_delete() {
    let knot = KnotServer::start(&lab());
    add_replace_ttl_delete(&knot);
}

pub(crate) fn prerequisite_guards(server: &Server) {
    let key = server.key("kms-key");
    let c = client(server, Some(load(key)), Transport::Udp);
    let zone = name("example.com");
    let owner = name("a.example.com").kms_owner();
    let rt = runtime();
    // Read (empty), then someone else writes, then our update built from the read is sent.
    let current = rt.block_on(read_srv(&c, Some(&zone), &owner)).unwrap();
    assert!(current.is_empty());
    let out = server.nsupdate(
        key,
        "update add _vlmcs._tcp.a.example.com. 60 SRV 0 0 1688 other.example.com.\nsend\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let serial = server.soa_serial("example.com");
    let change = diff(&owner, &current, &[rec("kms1.example.com", 0, 300)], true).to_rrset_change();
    let err = refused(rt.block_on(send_update(
        &c,
        &zone,
        build_update(&zone, &[change]).unwrap(),
    )));
    assert!(err.is_stale_state(), "{err}");
    assert!(
        err.to_string()
            .contains("changed by another writer since they were read"),
        "{err}"
    );
    assert!(err.hint().contains("kmsdns plan"), "{}", err.hint());
    // Nothing written.
    assert_eq!(
        server.srv_records("_vlmcs._tcp.a.example.com"),
        vec![rr(60, 0, "other.example.com")]
    );
    assert_eq!(server.soa_serial("example.com"), serial);

    // "RRset exists (value dependent)": a read of one record, then a change of that record.
    let current = rt.block_on(read_srv(&c, Some(&zone), &owner)).unwrap();
    assert_eq!(current.len(), 1);
    let out = server.nsupdate(
        key,
        "update add _vlmcs._tcp.a.example.com. 60 SRV 5 0 1688 other2.example.com.\nsend\n",
    );
    assert!(out.status.success());
    let change = diff(&owner, &current, &[rec("kms1.example.com", 0, 300)], true).to_rrset_change();
    let err = refused(rt.block_on(send_update(
        &c,
        &zone,
        build_update(&zone, &[change]).unwrap(),
    )));
    assert!(err.is_stale_state(), "{err}");
    assert_eq!(
        server.srv_records("_vlmcs._tcp.a.example.com").len(),
        2,
        "nothing written"
    );
}

#[test]
fn bind_prerequisite_failure_writes_nothing() {
    let bind = BindServer::start(&lab());
    prerequisite_guards(&bind);
}

#[test]
fn knot_prerequisite_failure_writes_nothing() {
    let knot = KnotServer::start(&lab());
    prerequisite_guards(&knot);
}

fn tsig_code(err: &DnsError) -> Option<(u16, Option<i64>)> {
    match err {
        DnsError::Tsig {
            source: TsigError::ServerError { code, skew, .. },
            ..
        } => Some((*code, *skew)),
        _ => None,
    }
}

#[test]
fn tsig_errors_name_the_key_and_the_fix() {
    let bind = BindServer::start(&lab());
    let want = [("a.example.com", vec![rec("kms1.example.com", 0, 300)])];
    let good = load(bind.key("kms-key"));

    // Wrong secret → BADSIG naming the key.
    let wrong = bind
        .key("kms-key")
        .with_secret("c2VjcmV0IHRoYXQgaXMgbm90IHRoZSBzZXJ2ZXJzIG9uZSE=");
    let err = converge(
        &client(&bind, Some(load(&wrong)), Transport::Udp),
        "example.com",
        &want,
    )
    .unwrap_err();
    assert_eq!(tsig_code(&err).map(|c| c.0), Some(16), "{err:?}");
    assert!(
        err.to_string().contains("BADSIG") && err.to_string().contains("kms-key"),
        "{err}"
    );

    // Unknown key name → BADKEY.
    let unknown = Arc::new(
        TsigKey::new(
            "no-such-key",
            good.algorithm,
            kmsdns::dns::tsig::Secret::new(vec![7; 32]),
        )
        .unwrap(),
    );
    let err = converge(
        &client(&bind, Some(unknown), Transport::Udp),
        "example.com",
        &want,
    )
    .unwrap_err();
    assert_eq!(tsig_code(&err).map(|c| c.0), Some(17), "{err:?}");
    assert!(err.to_string().contains("no-such-key"), "{err}");

    // A key the policy does not grant → REFUSED with the update-policy hint.
    let err = converge(
        &client(&bind, Some(load(bind.key("other-key"))), Transport::Udp),
        "example.com",
        &want,
    )
    .unwrap_err();
    assert!(matches!(err, DnsError::Rcode { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("refused key other-key for zone example.com"),
        "{err}"
    );
    assert!(err.hint().contains("update-policy"), "{}", err.hint());

    // Clock one hour off → BADTIME with the skew.
    let mut skewed = client(&bind, Some(good.clone()), Transport::Udp);
    skewed.clock = Arc::new(|| kmsdns::dns::tsig::unix_now() - 3600);
    let err = converge(&skewed, "example.com", &want).unwrap_err();
    let (code, skew) = tsig_code(&err).unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(code, 18);
    let skew = skew.expect("BADTIME carries the server time");
    assert!((3590..=3610).contains(&skew), "skew {skew}");
    assert!(err.to_string().contains("300"), "the fudge is shown: {err}");
    assert!(
        bind.srv_records("_vlmcs._tcp.a.example.com").is_empty(),
        "none of these wrote anything"
    );

    // A zone the server does not serve. converge() reads the RRset first, and BIND (no
    // recursion, no such zone) refuses that query: the read fails before any UPDATE is built.
    let c = client(&bind, Some(good), Transport::Udp);
    let server = format!("lab ({})", bind.addr());
    let err = converge(
        &c,
        "example.org",
        &[("a.example.org", vec![rec("kms1.example.com", 0, 300)])],
    )
    .unwrap_err();
    assert!(err.to_string().contains("example.org"), "{err}");
    let DnsError::Rcode { rcode, .. } = &err else {
        panic!("want an RCODE error, got {err:?}");
    };
    assert_eq!(*rcode, ResponseCode::Refused, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&server)
            && msg.contains("_vlmcs._tcp.a.example.org")
            && msg.contains("(REFUSED)"),
        "{msg}"
    );
    assert!(
        err.hint()
            .contains(&format!("check that {server} serves zone example.org")),
        "{}",
        err.hint()
    );

    // The UPDATE itself, as `apply` of a saved plan sends it without reading first: BIND
    // answers NOTAUTH ("not authoritative for update zone" in its log), not NOTZONE or REFUSED.
    let serial = bind.soa_serial("example.com");
    let zone = name("example.org");
    let owner = name("a.example.org").kms_owner();
    let change = diff(&owner, &[], &[rec("kms1.example.com", 0, 300)], true).to_rrset_change();
    let err = refused(runtime().block_on(send_update(
        &c,
        &zone,
        build_update(&zone, &[change]).unwrap(),
    )));
    let DnsError::Rcode { rcode, .. } = &err else {
        panic!("want an RCODE error, got {err:?}");
    };
    assert_eq!(*rcode, ResponseCode::NotAuth, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&server) && msg.contains("zone example.org") && msg.contains("(NOTAUTH)"),
        "{msg}"
    );
    assert!(
        err.hint()
            .contains("send updates to the zone's primary (SOA MNAME)")
            && err.hint().contains("update example.org"),
        "{}",
        err.hint()
    );
    assert!(
        bind.log()
            .contains("example.org: not authoritative for update zone (NOTAUTH)"),
        "{}",
        bind.log()
    );
    // Nothing written: the server still has no example.org, and example.com did not move.
    let answer = bind.dig(&["_vlmcs._tcp.a.example.org", "SRV"]);
    assert!(
        answer.contains("status: REFUSED") && answer.contains("ANSWER: 0"),
        "{answer}"
    );
    assert!(bind.srv_records("_vlmcs._tcp.a.example.org").is_empty());
    assert_eq!(bind.soa_serial("example.com"), serial);
}

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

#[test]
fn keygen_key_loads_in_named_and_signs_an_update() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kg.key");
    crate::harness::cli::kmsdns()
        .args(["keygen", "kg", "-a", "hmac-sha512", "-o"])
        .arg(&file)
        .assert()
        .success();
    let b = ServerBuilder::new()
        .include(&file)
        .zone(ZoneBuilder::new("example.com").policy(Policy::Raw(
            "update-policy { grant kg name _vlmcs._tcp.example.com. SRV; };".into(),
        )));
    let bind = BindServer::start(&b);
    let key = Arc::new(
        parse_key_file(&file, &std::fs::read_to_string(&file).unwrap())
            .unwrap()
            .remove(0),
    );
    assert_eq!(key.algorithm.name(), "hmac-sha512");
    converge(
        &client(&bind, Some(key), Transport::Udp),
        "example.com",
        &[("example.com", vec![rec("kms1.example.com", 0, 600)])],
    )
    .unwrap();
    assert_eq!(
        bind.srv_records("_vlmcs._tcp.example.com"),
        vec![rr(600, 0, "kms1.example.com")]
    );
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
