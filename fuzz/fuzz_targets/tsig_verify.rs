//! `kmsdns::dns::tsig::verify_reply` / `verify_request` with a fixed key. The input is split
//! into parameters and a message:
//!
//! ```text
//! byte 0      flags: bit 0 reply (else request), bit 1 sign the message first with the key
//!             (reaches the MAC, truncation and time checks), bit 2 corrupt one byte after
//!             signing, bits 4-5 the key's algorithm
//! bytes 1-2   clock offset from the signing time, i16 seconds (big-endian)
//! byte 3      fudge when signing; byte 4 index of the byte to corrupt
//! byte 5      length N of the request MAC (N % 65), then N bytes of request MAC
//! rest        the DNS message
//! ```
//!
//! Never a panic; a well-formed unsigned message, signed with the key and not corrupted,
//! must verify at the signing time.
#![no_main]

use kmsdns::dns::tsig::{TsigError, sign, sign_reply, verify_reply, verify_request};
use kmsdns_fuzz::{NOW, algorithm, key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let flags = data[0];
    let offset = i16::from_be_bytes([data[1], data[2]]) as i64;
    let fudge = data[3] as u16;
    let corrupt_at = data[4] as usize;
    let mac_len = (data[5] as usize % 65).min(data.len() - 6);
    let request_mac = &data[6..6 + mac_len];
    let message = &data[6 + mac_len..];
    let is_reply = flags & 1 != 0;
    let key = key(algorithm(flags >> 4));
    let now = NOW.saturating_add_signed(offset);

    let verify = |bytes: &[u8], now: u64| {
        if is_reply {
            verify_reply(bytes, &key, request_mac, now)
        } else {
            verify_request(bytes, &key, now)
        }
    };

    // The raw message, as a server's reply or a client's request.
    let raw = verify(message, now);
    if let Err(e) = &raw {
        let _ = e.to_string();
    }
    // Well-formed and unsigned: the TSIG walk read every record to the end.
    let well_formed_unsigned = matches!(raw, Err(TsigError::Unsigned { .. }));

    if flags & 2 == 0 {
        return;
    }
    let signed = if is_reply {
        sign_reply(message, &key, request_mac, NOW, fudge)
    } else {
        sign(message, &key, NOW, fudge)
    };
    let Ok(signed) = signed else {
        return;
    };
    let mut bytes = signed.bytes.clone();
    if flags & 4 != 0 && !bytes.is_empty() {
        let i = corrupt_at % bytes.len();
        bytes[i] ^= 0x01u8.wrapping_shl(corrupt_at as u32 / 251 % 8).max(1);
    }
    let result = verify(&bytes, now);
    if let Err(e) = &result {
        let _ = e.to_string();
    }
    // Uncorrupted, at the signing time: our own signature on a well-formed unsigned message
    // must check out. Malformed is allowed: the TSIG walk follows compression pointers into
    // the header, and signing rewrites ARCOUNT there (artifacts/tsig_verify/
    // harness-pointer-into-header: `c0 0b` read ARCOUNT's low byte 0 as the root before
    // signing and 1 after).
    if flags & 4 == 0 && well_formed_unsigned {
        match verify(&bytes, NOW) {
            Ok(_) | Err(TsigError::Malformed(_)) => {}
            Err(e) => panic!("own signature rejected: {e}"),
        }
    }
});
