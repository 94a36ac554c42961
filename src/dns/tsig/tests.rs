//! Unit tests of `dns::tsig`.
use super::sign::sign_with;
use super::*;
use crate::model::TsigAlgorithm;
use data_encoding::BASE64;

const NOW: u64 = 1_700_000_000;

fn key(alg: TsigAlgorithm) -> TsigKey {
    TsigKey::generate("kms-update", alg).unwrap()
}

/// A query for `_vlmcs._tcp.example.com. SRV` with the given ID, built by hand.
fn query(id: u16) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in ["_vlmcs", "_tcp", "example", "com"] {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&[0, 33, 0, 1]);
    m
}

/// The reply to [`query`]: QR set, one SRV answer whose owner is a compression pointer.
fn reply(id: u16) -> Vec<u8> {
    let mut m = query(id);
    m[2] = 0x85;
    m[3] = 0x80;
    m[7] = 1;
    m.extend_from_slice(&[0xC0, 12, 0, 33, 0, 1, 0, 0, 0x0E, 0x10]);
    let mut rdata = vec![0, 0, 0, 0, 0x06, 0x98];
    rdata.extend_from_slice(&[4, b'k', b'm', b's', b'1', 0xC0, 12 + 7 + 5]);
    m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    m.extend(rdata);
    m
}

#[test]
fn sign_then_verify_every_algorithm() {
    for alg in TsigAlgorithm::ALL {
        let k = key(alg);
        let req = sign(&query(0x1234), &k, NOW, DEFAULT_FUDGE).unwrap();
        assert_eq!(req.mac.len(), alg.output_len());
        assert_eq!(&req.bytes[10..12], &[0, 1], "ARCOUNT counts the TSIG");
        let seen = verify_request(&req.bytes, &k, NOW + 10).unwrap();
        assert_eq!(seen.mac, req.mac);
        assert_eq!(seen.original_id, 0x1234);

        let rep = sign_reply(&reply(0x1234), &k, &req.mac, NOW + 1, DEFAULT_FUDGE).unwrap();
        let ok = verify_reply(&rep.bytes, &k, &req.mac, NOW).unwrap();
        assert_eq!(ok.time_signed, NOW + 1);
        assert_eq!(ok.fudge, DEFAULT_FUDGE);
        // The reply's MAC covers the request MAC: another request MAC fails.
        let other = sign(&query(0x1234), &k, NOW + 1, DEFAULT_FUDGE).unwrap();
        assert!(matches!(
            verify_reply(&rep.bytes, &k, &other.mac, NOW),
            Err(TsigError::BadMac { .. })
        ));
    }
}

#[test]
fn every_tampered_byte_is_detected() {
    let k = key(TsigAlgorithm::HmacSha256);
    let req = sign(&query(7), &k, NOW, DEFAULT_FUDGE).unwrap();
    let rep = sign_reply(&reply(7), &k, &req.mac, NOW, DEFAULT_FUDGE).unwrap();
    let body_len = reply(7).len();
    for i in (2..body_len).filter(|i| *i != 10 && *i != 11) {
        let mut bad = rep.bytes.clone();
        bad[i] ^= 0x01;
        match verify_reply(&bad, &k, &req.mac, NOW) {
            Err(TsigError::BadMac { .. }) | Err(TsigError::Malformed(_)) => {}
            other => panic!("byte {i} flipped: {other:?}"),
        }
    }
    // A flipped bit in the MAC itself, and a different secret.
    let mut bad = rep.bytes.clone();
    let last_mac_byte = bad.len() - 7;
    bad[last_mac_byte] ^= 0x80;
    assert!(matches!(
        verify_reply(&bad, &k, &req.mac, NOW),
        Err(TsigError::BadMac { .. })
    ));
    let mut other = key(TsigAlgorithm::HmacSha256);
    other.name = k.name.clone();
    let err = verify_reply(&rep.bytes, &other, &req.mac, NOW).unwrap_err();
    assert!(matches!(err, TsigError::BadMac { .. }));
    assert!(err.to_string().contains("kms-update"), "{err}");
}

#[test]
fn reply_id_may_differ_from_original_id() {
    let k = key(TsigAlgorithm::HmacSha256);
    let rep = sign_reply(&reply(7), &k, &[1; 32], NOW, DEFAULT_FUDGE).unwrap();
    let mut changed = rep.bytes.clone();
    changed[0..2].copy_from_slice(&99u16.to_be_bytes());
    assert_eq!(
        verify_reply(&changed, &k, &[1; 32], NOW)
            .unwrap()
            .original_id,
        7
    );
}

#[test]
fn unsigned_and_mismatched_replies_are_errors() {
    let k = key(TsigAlgorithm::HmacSha256);
    assert!(matches!(
        verify_reply(&reply(1), &k, &[0; 32], NOW),
        Err(TsigError::Unsigned { .. })
    ));
    let other_name = TsigKey::new("other", k.algorithm, k.secret.clone()).unwrap();
    let rep = sign_reply(&reply(1), &other_name, &[0; 32], NOW, 300).unwrap();
    assert!(matches!(
        verify_reply(&rep.bytes, &k, &[0; 32], NOW),
        Err(TsigError::KeyNameMismatch { .. })
    ));
    let other_alg = TsigKey::new(&k.name, TsigAlgorithm::HmacSha512, k.secret.clone()).unwrap();
    let rep = sign_reply(&reply(1), &other_alg, &[0; 32], NOW, 300).unwrap();
    assert!(matches!(
        verify_reply(&rep.bytes, &k, &[0; 32], NOW),
        Err(TsigError::AlgorithmMismatch { .. })
    ));
    // A TSIG that is not the last record.
    let mut rep = sign_reply(&reply(1), &k, &[0; 32], NOW, 300).unwrap().bytes;
    rep[11] += 1;
    rep.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1]);
    assert!(matches!(
        verify_reply(&rep, &k, &[0; 32], NOW),
        Err(TsigError::Malformed(_))
    ));
}

/// A server error reply as named builds it: empty MAC for BADSIG/BADKEY.
fn error_reply(k: &TsigKey, error: u16, other: &[u8], with_mac: bool) -> Vec<u8> {
    let mut signed = sign_with(&reply(5), k, Some(&[3; 32]), NOW, 300, error, other)
        .unwrap()
        .bytes;
    if !with_mac {
        // Rebuild the RDATA with MAC size 0.
        let mac_len = k.algorithm.output_len();
        let tail = 6 + other.len();
        let mac_start = signed.len() - tail - mac_len;
        signed.drain(mac_start..mac_start + mac_len);
        signed[mac_start - 2..mac_start].copy_from_slice(&[0, 0]);
        let rdlen_pos = signed.len() - tail - 2 - 2 - 6 - k.algorithm.name().len() - 2 - 2;
        let rdlen = u16::from_be_bytes([signed[rdlen_pos], signed[rdlen_pos + 1]]);
        signed[rdlen_pos..rdlen_pos + 2].copy_from_slice(&(rdlen - mac_len as u16).to_be_bytes());
    }
    signed
}

#[test]
fn server_errors_are_reported_as_such() {
    let k = key(TsigAlgorithm::HmacSha256);
    for code in [BADSIG, BADKEY] {
        let rep = error_reply(&k, code, &[], false);
        let err = verify_reply(&rep, &k, &[3; 32], NOW).unwrap_err();
        assert!(
            matches!(err, TsigError::ServerError { code: c, .. } if c == code),
            "{err:?}"
        );
    }
    let msg = verify_reply(&error_reply(&k, BADSIG, &[], false), &k, &[3; 32], NOW)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("secret differs from the server's copy of key kms-update"),
        "{msg}"
    );
    let msg = verify_reply(&error_reply(&k, BADKEY, &[], false), &k, &[3; 32], NOW)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("rejected key kms-update (algorithm hmac-sha256) (BADKEY)"),
        "{msg}"
    );

    let server_time = NOW + 1000;
    let other = server_time.to_be_bytes()[2..].to_vec();
    let err = verify_reply(&error_reply(&k, BADTIME, &other, true), &k, &[3; 32], NOW).unwrap_err();
    assert!(
        matches!(
            err,
            TsigError::ServerError {
                code: BADTIME,
                skew: Some(1000),
                fudge: 300,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("clock skew of 1000 s exceeds the fudge of 300 s")
    );
}

#[test]
fn time_outside_fudge_and_short_macs() {
    let k = key(TsigAlgorithm::HmacSha256);
    let rep = sign_reply(&reply(1), &k, &[0; 32], NOW, 300).unwrap();
    let err = verify_reply(&rep.bytes, &k, &[0; 32], NOW + 301).unwrap_err();
    assert!(
        matches!(
            err,
            TsigError::TimeOutsideFudge {
                skew: -301,
                fudge: 300,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(verify_reply(&rep.bytes, &k, &[0; 32], NOW + 300).is_ok());

    // Truncate the MAC to 15 octets (< 16, half of SHA-256's 32).
    let mut short = rep.bytes.clone();
    let mac_end = short.len() - 6;
    let mac_start = mac_end - 32;
    short.drain(mac_start + 15..mac_end);
    short[mac_start - 2..mac_start].copy_from_slice(&15u16.to_be_bytes());
    let rdlen_pos = mac_start - 2 - 2 - 6 - 13 - 2;
    let rdlen = u16::from_be_bytes([short[rdlen_pos], short[rdlen_pos + 1]]);
    short[rdlen_pos..rdlen_pos + 2].copy_from_slice(&(rdlen - 17).to_be_bytes());
    assert!(matches!(
        verify_reply(&short, &k, &[0; 32], NOW),
        Err(TsigError::MacTooShort {
            len: 15,
            min: 16,
            ..
        })
    ));
}

#[test]
fn secrets_never_print() {
    for alg in TsigAlgorithm::ALL {
        let k = key(alg);
        let b64 = BASE64.encode(k.secret.expose());
        for shown in [
            format!("{k}"),
            format!("{k:?}"),
            format!("{:?}", k.secret),
            format!("{}", k.secret),
            format!("{:#?}", k),
        ] {
            assert!(!shown.contains(&b64), "{shown}");
            assert!(!shown.contains(&b64[..8]), "{shown}");
        }
        assert!(format!("{k}").starts_with("kms-update ("));
        assert_eq!(format!("{k}").contains("legacy"), alg.is_legacy());
        assert!(format!("{:?}", k.secret).contains("redacted"));
    }
}

#[test]
fn generated_keys_have_the_output_length_and_differ() {
    for alg in TsigAlgorithm::ALL {
        let a = TsigKey::generate("Gen.Example.", alg).unwrap();
        let b = TsigKey::generate("gen.example", alg).unwrap();
        assert_eq!(a.name, "gen.example");
        assert_eq!(a.secret.len(), alg.output_len());
        assert_ne!(a.secret, b.secret);
    }
    assert!(TsigKey::generate("a..b", TsigAlgorithm::HmacSha256).is_err());
}
