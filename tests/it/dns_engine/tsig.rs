//! The DNS engine's TSIG: every error names the key and the fix; a `tsig-keygen` key signs
//! an update named accepts.

use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use kmsdns::dns::DnsError;
use kmsdns::dns::keyfile::parse_key_file;
use kmsdns::dns::tsig::{TsigError, TsigKey};
use kmsdns::dns::update::{build_update, send_update};
use kmsdns::model::Transport;
use kmsdns::plan::diff_rrset as diff;

use crate::harness::{BindServer, Policy, ServerBuilder, ZoneBuilder};

use super::*;

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
