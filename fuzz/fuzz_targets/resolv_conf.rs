//! `kmsdns::dns::resolv::ResolvConf::parse`: never fails and never panics; every nameserver
//! is on port 53. Also `parse_resolver` (the `--resolver` value) on the same text.
#![no_main]

use kmsdns::dns::resolv::{ResolvConf, parse_resolver};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let conf = ResolvConf::parse(text);
    for ns in &conf.nameservers {
        assert_eq!(ns.port(), 53);
    }
    for line in text.lines().take(8) {
        let _ = parse_resolver(line.trim());
    }
});
