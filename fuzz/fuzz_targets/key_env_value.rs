//! The key-from-environment parser (plain base64 or nsupdate's `[alg:]name:secret`), reached
//! through the public `kmsdns::dns::keyfile::load_from_env` (the value parser itself is
//! `pub(crate)`). Byte 0 picks the config's algorithm (or none); the rest is the value.
//! libFuzzer runs inputs on one thread, so setting the variable is sound here.
#![no_main]

use kmsdns::dns::keyfile::{KeyRef, load_from_env};
use libfuzzer_sys::fuzz_target;

const VAR: &str = "KMSDNS_FUZZ_KEY";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(rest) else {
        return;
    };
    // An environment value cannot hold NUL (set_var would panic on it, not the parser).
    if value.contains('\0') {
        return;
    }
    let algorithm = (selector & 0x80 != 0).then(|| kmsdns_fuzz::algorithm(selector));
    let spec = KeyRef {
        id: "kms-update",
        name: "kms-update.example.com.",
        algorithm,
    };
    // SAFETY: libFuzzer calls the target from one thread; nothing else reads the environment.
    unsafe { std::env::set_var(VAR, value) };
    match load_from_env(&spec, VAR) {
        Ok(key) => {
            assert_eq!(key.name, "kms-update.example.com");
            if let Some(a) = algorithm {
                assert_eq!(key.algorithm, a);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
