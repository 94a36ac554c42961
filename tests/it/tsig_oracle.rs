//! Our byte-level TSIG (`kmsdns::dns::tsig`) checked against an independent implementation,
//! hickory-proto's `TSigner` (`hickory_proto::rr::tsig`, RFC 8945), in every direction:
//! we sign and hickory verifies, hickory signs and we verify, for requests and for replies
//! whose MAC chains the request MAC (RFC 8945 §4.3.1), for hmac-sha256/384/512 (the ones
//! hickory implements). A flipped MAC byte must fail in both.
//!
//! The last test pins what hickory's `TSigner` does *not* do and kmsdns needs (why we keep our
//! own TSIG, docs/design.md): if it fails after a hickory upgrade, revisit that reasoning.

use hickory_proto::dnssec::DnsSecError;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::tsig::{
    TSIG, TsigAlgorithm as HickoryAlgorithm, TsigError as HickoryTsigError, make_tsig_record,
    message_tbs,
};
use hickory_proto::rr::rdata::{SOA, SRV};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, TSigResponseContext, TSigner};
use kmsdns::dns::tsig::{self, BADSIG, BADTIME, DEFAULT_FUDGE, TsigError, TsigKey};
use kmsdns::model::TsigAlgorithm;

const NOW: u64 = 1_700_000_000;
const FUDGE: u16 = DEFAULT_FUDGE;

/// The algorithms both implementations support (hickory has no hmac-sha1).
const BOTH: [TsigAlgorithm; 3] = [
    TsigAlgorithm::HmacSha256,
    TsigAlgorithm::HmacSha384,
    TsigAlgorithm::HmacSha512,
];

fn hickory_algorithm(a: TsigAlgorithm) -> HickoryAlgorithm {
    match a {
        TsigAlgorithm::HmacSha1 => HickoryAlgorithm::HmacSha1,
        TsigAlgorithm::HmacSha256 => HickoryAlgorithm::HmacSha256,
        TsigAlgorithm::HmacSha384 => HickoryAlgorithm::HmacSha384,
        TsigAlgorithm::HmacSha512 => HickoryAlgorithm::HmacSha512,
    }
}

/// One random key, as ours and as hickory's signer (same name, algorithm and secret).
fn key_pair(alg: TsigAlgorithm) -> (TsigKey, TSigner) {
    let ours = TsigKey::generate("kms-update.example", alg).unwrap();
    let theirs = TSigner::new(
        ours.secret.expose().to_vec(),
        hickory_algorithm(alg),
        Name::from_ascii(&ours.name).unwrap(),
        FUDGE,
    )
    .unwrap();
    (ours, theirs)
}

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn srv(owner: &str, target: &str, class: DNSClass) -> Record {
    let mut r = Record::from_rdata(
        name(owner),
        if class == DNSClass::IN { 3600 } else { 0 },
        RData::SRV(SRV::new(0, 0, 1688, name(target))),
    );
    r.dns_class = class;
    r
}

/// An RFC 2136 UPDATE as kmsdns sends it: zone, a prerequisite, a delete and an add.
fn update_request(id: u16) -> Message {
    let mut m = Message::new(id, MessageType::Query, OpCode::Update);
    let mut zone = Query::query(name("example.com."), RecordType::SOA);
    zone.set_query_class(DNSClass::IN);
    m.add_query(zone);
    let owner = "_vlmcs._tcp.example.com.";
    let mut seen = srv(owner, "kms1.example.com.", DNSClass::IN);
    seen.ttl = 0;
    m.add_answer(seen);
    m.add_authority(srv(owner, "kms1.example.com.", DNSClass::NONE));
    m.add_authority(srv(owner, "kms2.example.com.", DNSClass::IN));
    m
}

/// An SOA query with EDNS, so that the TSIG follows another additional record (OPT).
fn soa_query(id: u16) -> Message {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(name("example.com."), RecordType::SOA));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    m.set_edns(edns);
    m
}

fn requests(id: u16) -> [Message; 2] {
    [update_request(id), soa_query(id)]
}

/// The answer to `request`, unsigned: same ID and question; an SOA (names compressed) for a
/// query, nothing for an UPDATE.
fn response_to(request: &Message) -> Vec<u8> {
    let mut m = Message::response(request.metadata.id, request.metadata.op_code);
    m.metadata.authoritative = true;
    m.metadata.response_code = ResponseCode::NoError;
    m.add_queries(request.queries.clone());
    if request.metadata.op_code == OpCode::Query {
        let soa = SOA::new(
            name("ns1.example.com."),
            name("hostmaster.example.com."),
            2024010101,
            3600,
            600,
            86400,
            300,
        );
        m.add_answer(Record::from_rdata(
            name("example.com."),
            3600,
            RData::SOA(soa),
        ));
    }
    m.to_vec().unwrap()
}

/// `bytes` with the first octet of `mac` flipped; the MAC must occur exactly once.
fn flip_mac_byte(bytes: &[u8], mac: &[u8]) -> Vec<u8> {
    let at: Vec<usize> = bytes
        .windows(mac.len())
        .enumerate()
        .filter(|(_, w)| *w == mac)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the MAC occurs once in the message");
    let mut out = bytes.to_vec();
    out[at[0]] ^= 0x01;
    out
}

#[test]
fn requests_we_sign_verify_in_hickory_and_match_its_own_signature() {
    for alg in BOTH {
        let (ours, theirs) = key_pair(alg);
        for (i, mut msg) in requests(0x4b4d).into_iter().enumerate() {
            let signed = tsig::sign(&msg.to_vec().unwrap(), &ours, NOW, FUDGE).unwrap();
            let (mac, time, window) = theirs
                .verify_message_byte(&signed.bytes, None, true)
                .unwrap_or_else(|e| panic!("{alg}, request {i}: hickory rejects ours: {e}"));
            assert_eq!(mac, signed.mac, "{alg}");
            assert_eq!(mac.len(), alg.output_len(), "{alg}");
            assert_eq!(time, NOW);
            assert_eq!(window, NOW - 300..NOW + 300);

            // Hickory signing the same message at the same time writes the same octets.
            msg.finalize(&theirs, NOW).unwrap();
            assert_eq!(msg.to_vec().unwrap(), signed.bytes, "{alg}, request {i}");
        }
    }
}

#[test]
fn requests_hickory_signs_verify_in_ours() {
    for alg in BOTH {
        let (ours, theirs) = key_pair(alg);
        for mut msg in requests(0x1234) {
            msg.finalize(&theirs, NOW).unwrap();
            let their_mac = msg.signature().unwrap().data.mac.clone();
            let seen = tsig::verify_request(&msg.to_vec().unwrap(), &ours, NOW + 10)
                .unwrap_or_else(|e| panic!("{alg}: we reject hickory's request: {e}"));
            assert_eq!(seen.mac, their_mac);
            assert_eq!(seen.original_id, 0x1234);
            assert_eq!((seen.time_signed, seen.fudge), (NOW, FUDGE));
        }
    }
}

#[test]
fn replies_hickory_signs_to_our_requests_verify_in_ours() {
    for alg in BOTH {
        let (ours, theirs) = key_pair(alg);
        for msg in requests(77) {
            let request = tsig::sign(&msg.to_vec().unwrap(), &ours, NOW, FUDGE).unwrap();
            let (request_mac, _, _) = theirs
                .verify_message_byte(&request.bytes, None, true)
                .unwrap();
            let body = response_to(&msg);
            let record = TSigResponseContext::new(77, NOW + 1, theirs.clone(), request_mac, None)
                .sign(&body)
                .unwrap();
            let mut reply = Message::from_vec(&body).unwrap();
            reply.set_signature(record);
            let reply = reply.to_vec().unwrap();

            let ok = tsig::verify_reply(&reply, &ours, &request.mac, NOW)
                .unwrap_or_else(|e| panic!("{alg}: we reject hickory's reply: {e}"));
            assert_eq!((ok.time_signed, ok.original_id), (NOW + 1, 77));
            // The reply MAC covers the request MAC: with another request's MAC it fails.
            let other = tsig::sign(&msg.to_vec().unwrap(), &ours, NOW + 1, FUDGE).unwrap();
            assert!(matches!(
                tsig::verify_reply(&reply, &ours, &other.mac, NOW),
                Err(TsigError::BadMac { .. })
            ));
        }
    }
}

#[test]
fn replies_we_sign_to_hickory_requests_verify_in_hickory() {
    for alg in BOTH {
        let (ours, theirs) = key_pair(alg);
        for mut msg in requests(78) {
            let mut verifier = msg.finalize(&theirs, NOW).unwrap().unwrap();
            let request = msg.to_vec().unwrap();
            let request_mac = tsig::verify_request(&request, &ours, NOW).unwrap().mac;
            let reply =
                tsig::sign_reply(&response_to(&msg), &ours, &request_mac, NOW + 1, FUDGE).unwrap();

            let (mac, time, _) = theirs
                .verify_message_byte(&reply.bytes, Some(&request_mac), true)
                .unwrap_or_else(|e| panic!("{alg}: hickory rejects our reply: {e}"));
            assert_eq!((mac, time), (reply.mac.clone(), NOW + 1));
            // The same through the verifier hickory's client keeps for the request.
            let response = verifier.verify(&reply.bytes).unwrap();
            assert_eq!(response.metadata.id, 78);
            // And chained to another MAC hickory rejects it.
            let other_mac = vec![0x5a; request_mac.len()];
            assert!(matches!(
                theirs.verify_message_byte(&reply.bytes, Some(&other_mac), true),
                Err(DnsSecError::HmacInvalid)
            ));
        }
    }
}

/// A signed message, its MAC and, for a reply, the request MAC it chains.
struct Signed<'a> {
    what: &'static str,
    bytes: &'a [u8],
    mac: &'a [u8],
    prior: Option<&'a [u8]>,
}

impl<'a> Signed<'a> {
    fn request(what: &'static str, bytes: &'a [u8], mac: &'a [u8]) -> Self {
        Signed {
            what,
            bytes,
            mac,
            prior: None,
        }
    }

    fn reply(what: &'static str, bytes: &'a [u8], mac: &'a [u8], prior: &'a [u8]) -> Self {
        Signed {
            what,
            bytes,
            mac,
            prior: Some(prior),
        }
    }
}

#[test]
fn a_flipped_mac_byte_fails_in_both() {
    for alg in BOTH {
        let (ours, theirs) = key_pair(alg);
        for mut msg in requests(9) {
            let body = response_to(&msg);
            // Our request, then our reply to it.
            let request = tsig::sign(&msg.to_vec().unwrap(), &ours, NOW, FUDGE).unwrap();
            let reply = tsig::sign_reply(&body, &ours, &request.mac, NOW, FUDGE).unwrap();
            // Hickory's request, then hickory's reply to it.
            msg.finalize(&theirs, NOW).unwrap();
            let their_request = msg.to_vec().unwrap();
            let their_request_mac = msg.signature().unwrap().data.mac.clone();
            let record =
                TSigResponseContext::new(9, NOW, theirs.clone(), their_request_mac.clone(), None)
                    .sign(&body)
                    .unwrap();
            let their_reply_mac = record.data.mac.clone();
            let mut their_reply = Message::from_vec(&body).unwrap();
            their_reply.set_signature(record);
            let their_reply = their_reply.to_vec().unwrap();

            let cases = [
                Signed::request("our request", &request.bytes, &request.mac),
                Signed::reply("our reply", &reply.bytes, &reply.mac, &request.mac),
                Signed::request("hickory's request", &their_request, &their_request_mac),
                Signed::reply(
                    "hickory's reply",
                    &their_reply,
                    &their_reply_mac,
                    &their_request_mac,
                ),
            ];
            for c in cases {
                let check_ours = |bytes: &[u8]| match c.prior {
                    None => tsig::verify_request(bytes, &ours, NOW),
                    Some(p) => tsig::verify_reply(bytes, &ours, p, NOW),
                };
                // Intact, both accept; that makes the rejections below mean something.
                assert!(check_ours(c.bytes).is_ok(), "{alg}, {}", c.what);
                assert!(
                    theirs.verify_message_byte(c.bytes, c.prior, true).is_ok(),
                    "{alg}, {}",
                    c.what
                );
                let bad = flip_mac_byte(c.bytes, c.mac);
                assert!(
                    matches!(check_ours(&bad), Err(TsigError::BadMac { .. })),
                    "{alg}, {}: we accept a flipped MAC byte",
                    c.what
                );
                assert!(
                    matches!(
                        theirs.verify_message_byte(&bad, c.prior, true),
                        Err(DnsSecError::HmacInvalid)
                    ),
                    "{alg}, {}: hickory accepts a flipped MAC byte",
                    c.what
                );
            }
        }
    }
}

/// What kmsdns needs that hickory's `TSigner` lacks (docs/design.md, "our own TSIG").
#[test]
fn hickory_tsigner_limits_that_keep_our_own_tsig() {
    let (ours, theirs) = key_pair(TsigAlgorithm::HmacSha256);
    let msg = update_request(5);
    let request = tsig::sign(&msg.to_vec().unwrap(), &ours, NOW, FUDGE).unwrap();
    let body = response_to(&msg);
    let reply_with = |record: Box<Record<TSIG>>| {
        let mut m = Message::from_vec(&body).unwrap();
        m.set_signature(record);
        m.to_vec().unwrap()
    };

    // 1. A BADTIME reply, correctly signed: hickory's verification returns Ok and no error
    //    code; we report the server's verdict.
    let badtime = reply_with(
        TSigResponseContext::new(
            5,
            NOW,
            theirs.clone(),
            request.mac.clone(),
            Some(HickoryTsigError::BadTime),
        )
        .sign(&body)
        .unwrap(),
    );
    assert!(
        theirs
            .verify_message_byte(&badtime, Some(&request.mac), true)
            .is_ok()
    );
    assert!(matches!(
        tsig::verify_reply(&badtime, &ours, &request.mac, NOW),
        Err(TsigError::ServerError { code: BADTIME, .. })
    ));

    // 2. A BADSIG reply (unsigned, empty MAC, RFC 8945 §5.3.2): hickory fails with a message
    //    about truncated MACs; we say the server rejected our signature.
    let badsig = reply_with(
        TSigResponseContext::bad_signature(5, NOW, theirs.clone())
            .sign(&body)
            .unwrap(),
    );
    let err = theirs
        .verify_message_byte(&badsig, Some(&request.mac), true)
        .unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(matches!(
        tsig::verify_reply(&badsig, &ours, &request.mac, NOW),
        Err(TsigError::ServerError { code: BADSIG, .. })
    ));

    // 3. A MAC truncated to half (allowed by RFC 8945 §5.2.2.1): hickory refuses it, we
    //    accept it.
    let stub = TSIG::new(
        HickoryAlgorithm::HmacSha256,
        NOW,
        FUDGE,
        vec![],
        5,
        None,
        vec![],
    );
    let full = theirs
        .sign(&message_tbs(&msg, &stub, theirs.signer_name()).unwrap())
        .unwrap();
    let mut truncated = msg.clone();
    truncated.set_signature(Box::new(make_tsig_record(
        theirs.signer_name().clone(),
        stub.set_mac(full[..16].to_vec()),
    )));
    let truncated = truncated.to_vec().unwrap();
    assert!(theirs.verify_message_byte(&truncated, None, true).is_err());
    assert_eq!(
        tsig::verify_request(&truncated, &ours, NOW).unwrap().mac,
        full[..16]
    );

    // 4. No hmac-sha1 (still in use with old servers), no truncated algorithms, and no
    //    gss-tsig: the signer holds an HMAC key and nothing else.
    for alg in [
        HickoryAlgorithm::HmacSha1,
        HickoryAlgorithm::HmacSha256_128,
        HickoryAlgorithm::Gss,
    ] {
        assert!(
            TSigner::new(vec![1; 32], alg.clone(), name("k."), FUDGE).is_err(),
            "{alg}"
        );
    }
    let sha1 = TsigKey::generate("legacy", TsigAlgorithm::HmacSha1).unwrap();
    let signed = tsig::sign(&msg.to_vec().unwrap(), &sha1, NOW, FUDGE).unwrap();
    assert!(tsig::verify_request(&signed.bytes, &sha1, NOW).is_ok());
}
