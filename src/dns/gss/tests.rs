//! Unit tests of GSS-TSIG reply checking, with an HMAC standing in for the Kerberos MIC: the
//! RFC 8945 digest, Samba's digest, echoed requests, forgeries, server verdicts, clock skew,
//! the algorithm name a server shows.

use ring::hmac;

use super::error::GssError;
use super::verify::{Established, Mic, Verdict};
use crate::dns::tsig::{self, Prior, Variables, append_tsig, digest};
use crate::model::GssAlgorithm;

const NOW: u64 = 1_700_000_000;
const KEY_NAME: &str = "0a1b2c.sig-ns1.example.com";

/// An HMAC-SHA256 "context": both sides share it, like a GSS session key.
struct FakeMic(hmac::Key);

impl Mic for FakeMic {
    fn get_mic(&mut self, digest: &[u8]) -> Result<Vec<u8>, GssError> {
        Ok(hmac::sign(&self.0, digest).as_ref().to_vec())
    }
    fn verify_mic(&mut self, digest: &[u8], mic: &[u8]) -> bool {
        hmac::verify(&self.0, digest, mic).is_ok()
    }
}

fn fake() -> FakeMic {
    FakeMic(hmac::Key::new(hmac::HMAC_SHA256, b"shared gss session key"))
}

fn established(alg: GssAlgorithm) -> Established {
    Established::with_mic(
        "ad".into(),
        KEY_NAME.into(),
        alg,
        "admin@EXAMPLE.TEST".into(),
        "DNS@ns1.example.com".into(),
        Box::new(fake()),
    )
    .unwrap()
}

/// A query for `_vlmcs._tcp.example.com. SRV` with ID 7, and its reply (QR set, `rcode`).
fn query() -> Vec<u8> {
    let mut m = vec![0, 7, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["_vlmcs", "_tcp", "example", "com"] {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&[0, 33, 0, 1]);
    m
}

fn reply(rcode: u8) -> Vec<u8> {
    let mut m = query();
    m[2] = 0x85;
    m[3] = 0x80 | rcode;
    m
}

/// The server's signed reply: MIC over the digest with `prior`, algorithm name `alg` in the
/// digest and `shown` in the record, `error`, time `time`.
fn server_reply(prior: Prior<'_>, alg: &str, shown: &str, error: u16, time: u64) -> Vec<u8> {
    let vars = Variables {
        time_signed: time,
        fudge: 300,
        error,
        other: &[],
    };
    let name = super::tkey::name_wire(KEY_NAME).unwrap();
    let d = digest(&name, alg, prior, &reply(0), &vars);
    let mic = fake().get_mic(&d).unwrap();
    append_tsig(&reply(0), &name, shown, &mic, &vars)
        .unwrap()
        .bytes
}

#[test]
fn rfc_and_samba_digests_verify_and_are_told_apart() {
    let est = established(GssAlgorithm::GssTsig);
    let req = est.sign(&query(), NOW).unwrap();
    // Our request: the fake acceptor verifies its MIC over the request digest.
    let found = tsig::find_tsig(&req.bytes).unwrap().unwrap();
    assert_eq!(found.algorithm, "gss-tsig");
    assert_eq!(found.name, KEY_NAME, "key name written in full");
    let rfc = server_reply(Prior::Rfc(&req.mac), "gss-tsig", "gss-tsig", 0, NOW);
    assert_eq!(
        est.verify_reply(&rfc, &req.mac, NOW).unwrap(),
        Verdict::Verified
    );
    let samba = server_reply(
        Prior::WithoutLength(&req.mac),
        "gss-tsig",
        "gss-tsig",
        0,
        NOW,
    );
    assert_eq!(
        est.verify_reply(&samba, &req.mac, NOW).unwrap(),
        Verdict::VerifiedSamba
    );
    // Neither form over another request's MAC.
    let other = est.sign(&query(), NOW + 1).unwrap();
    assert!(matches!(
        est.verify_reply(&rfc, &other.mac, NOW),
        Err(GssError::BadMic { .. })
    ));
}

#[test]
fn digest_variants_differ_only_in_the_prior_mac() {
    let vars = Variables {
        time_signed: NOW,
        fudge: 300,
        error: 0,
        other: &[],
    };
    let name = super::tkey::name_wire(KEY_NAME).unwrap();
    let none = digest(&name, "gss-tsig", Prior::None, &query(), &vars);
    let rfc = digest(&name, "gss-tsig", Prior::Rfc(&[9, 9, 9]), &query(), &vars);
    let samba = digest(
        &name,
        "gss-tsig",
        Prior::WithoutLength(&[9, 9, 9]),
        &query(),
        &vars,
    );
    assert_eq!(rfc, [&[0, 3, 9, 9, 9][..], &none].concat());
    assert_eq!(samba, [&[9, 9, 9][..], &none].concat());
}

#[test]
fn echoed_request_is_recognised() {
    let est = established(GssAlgorithm::GssTsig);
    let req = est.sign(&query(), NOW).unwrap();
    // The request itself, turned into a reply: its TSIG (and MAC) unchanged.
    let mut echo = req.bytes.clone();
    echo[2] = 0x85;
    echo[3] = 0x85; // REFUSED
    assert_eq!(
        est.verify_reply(&echo, &req.mac, NOW).unwrap(),
        Verdict::Echoed
    );
}

#[test]
fn forged_unsigned_and_foreign_replies_fail() {
    let est = established(GssAlgorithm::GssTsig);
    let req = est.sign(&query(), NOW).unwrap();
    let mut flipped = server_reply(Prior::Rfc(&req.mac), "gss-tsig", "gss-tsig", 0, NOW);
    let at = flipped.len() - 6 - 16;
    flipped[at] ^= 0xff;
    assert!(matches!(
        est.verify_reply(&flipped, &req.mac, NOW),
        Err(GssError::BadMic { .. })
    ));
    assert!(matches!(
        est.verify_reply(&reply(0), &req.mac, NOW),
        Err(GssError::Unsigned { .. })
    ));
    let other = Established::with_mic(
        "ad".into(),
        "other.sig-ns1.example.com".into(),
        GssAlgorithm::GssTsig,
        String::new(),
        String::new(),
        Box::new(fake()),
    )
    .unwrap();
    let rfc = server_reply(Prior::Rfc(&req.mac), "gss-tsig", "gss-tsig", 0, NOW);
    assert!(matches!(
        other.verify_reply(&rfc, &req.mac, NOW),
        Err(GssError::KeyNameMismatch { .. })
    ));
}

#[test]
fn server_verdicts_and_clock_skew() {
    let est = established(GssAlgorithm::GssTsig);
    let req = est.sign(&query(), NOW).unwrap();
    // BADKEY with an empty MAC, as a server that lost the context sends it.
    let vars = Variables {
        time_signed: NOW,
        fudge: 300,
        error: tsig::BADKEY,
        other: &[],
    };
    let name = super::tkey::name_wire(KEY_NAME).unwrap();
    let badkey = append_tsig(&reply(9), &name, "gss-tsig", &[], &vars)
        .unwrap()
        .bytes;
    let err = est.verify_reply(&badkey, &req.mac, NOW).unwrap_err();
    assert!(
        matches!(err, GssError::ServerTsig { code: 17, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("BADKEY"), "{err}");
    // BADTIME with the server's clock in other data: the skew is told.
    let server_time = (NOW + 1000).to_be_bytes()[2..].to_vec();
    let vars = Variables {
        time_signed: NOW,
        fudge: 300,
        error: tsig::BADTIME,
        other: &server_time,
    };
    let badtime = append_tsig(&reply(9), &name, "gss-tsig", &[], &vars)
        .unwrap()
        .bytes;
    let err = est.verify_reply(&badtime, &req.mac, NOW).unwrap_err();
    assert!(err.to_string().contains("BADTIME"), "{err}");
    assert!(err.to_string().contains("1000 s off ours"), "{err}");
    let late = server_reply(Prior::Rfc(&req.mac), "gss-tsig", "gss-tsig", 0, NOW + 400);
    assert!(matches!(
        est.verify_reply(&late, &req.mac, NOW),
        Err(GssError::TimeOutsideFudge { skew: 400, .. })
    ));
}

#[test]
fn microsoft_name_negotiated_but_gss_tsig_shown() {
    let est = established(GssAlgorithm::GssMicrosoft);
    let req = est.sign(&query(), NOW).unwrap();
    assert_eq!(
        tsig::find_tsig(&req.bytes).unwrap().unwrap().algorithm,
        "gss.microsoft.com"
    );
    // Samba: shows gss-tsig, signs over the negotiated name.
    let r = server_reply(
        Prior::WithoutLength(&req.mac),
        "gss.microsoft.com",
        "gss-tsig",
        0,
        NOW,
    );
    assert_eq!(
        est.verify_reply(&r, &req.mac, NOW).unwrap(),
        Verdict::VerifiedSamba
    );
    // And a server that signs over the name it shows.
    let r = server_reply(Prior::Rfc(&req.mac), "gss-tsig", "gss-tsig", 0, NOW);
    assert_eq!(
        est.verify_reply(&r, &req.mac, NOW).unwrap(),
        Verdict::Verified
    );
}

#[test]
fn key_names_and_service_hosts() {
    let a = super::key_name("NS1.Corp.Example.COM");
    let b = super::key_name("ns1.corp.example.com");
    assert_ne!(a, b, "a fresh random label each time");
    assert!(a.ends_with(".sig-ns1.corp.example.com"), "{a}");
    assert_eq!(a.split('.').next().unwrap().len(), 12);
    assert!(super::tkey::name_wire(&a).is_ok());
    assert_eq!(super::key_name("dc1").split_once('.').unwrap().1, "sig-dc1");
    assert_eq!(
        super::service_host("DNS/dc1.ad.example.com@AD.EXAMPLE.COM"),
        "dc1.ad.example.com"
    );
    assert_eq!(
        super::service_host("DNS/dc1.ad.example.com"),
        "dc1.ad.example.com"
    );
    assert_eq!(
        super::service_host("DNS@dc1.ad.example.com"),
        "dc1.ad.example.com"
    );
}

#[test]
fn ad_grant_hint_names_the_node_object_and_the_three_ways_to_grant() {
    let hint = super::ad_grant_hint(
        "svc-kmsdns@CORP.EXAMPLE.COM",
        "corp.example.com.",
        &["_vlmcs._tcp.branch.corp.example.com.".to_string()],
    );
    let dn = "DC=_vlmcs._tcp.branch,DC=corp.example.com,CN=MicrosoftDNS,DC=DomainDnsZones,DC=corp,DC=example,DC=com";
    assert!(
        hint.contains(&format!("dsacls \"{dn}\" /G \"<DOMAIN>\\svc-kmsdns:RPWP\"")),
        "{hint}"
    );
    assert!(
        hint.contains(&format!("samba-tool dsacl set --objectdn=\"{dn}\"")),
        "{hint}"
    );
    assert!(
        hint.contains("-KmsdnsAccount '<DOMAIN>\\svc-kmsdns'"),
        "{hint}"
    );
    assert!(
        hint.contains("svc-kmsdns@CORP.EXAMPLE.COM needs write access"),
        "{hint}"
    );
    // The apex node of the zone itself.
    let apex = super::ad_grant_hint(
        "k@R",
        "corp.example.com",
        &["_vlmcs._tcp.corp.example.com.".into()],
    );
    assert!(
        apex.contains("\"DC=_vlmcs._tcp,DC=corp.example.com,CN="),
        "{apex}"
    );
}
