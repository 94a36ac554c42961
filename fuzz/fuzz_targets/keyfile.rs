//! `kmsdns::dns::tsig::parse_key_file` (BIND `key` statements) and the verbatim copier
//! `extract_key_statement`: never a panic; an error never shows the secret; a parsed key
//! written back in the BIND format parses to the same key.
#![no_main]

use std::path::Path;

use kmsdns::dns::keyfile::extract_key_statement;
use kmsdns::dns::tsig::parse_key_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/fuzz/kms-update.key");
    match parse_key_file(path, text) {
        Ok(keys) => {
            for key in &keys {
                let written = key.to_bind_key_file();
                let again = parse_key_file(path, &written)
                    .unwrap_or_else(|e| panic!("re-parsing {written:?} failed: {e}"));
                assert_eq!(again.len(), 1, "one key written, one read: {written:?}");
                assert!(again[0] == *key, "round trip changed the key {}", key.name);
                let _ = extract_key_statement(text, &key.name);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = extract_key_statement(text, "kms-update");
});
