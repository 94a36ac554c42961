//! `kmsdns::plan::saved::load` against the desired state of config.example.toml: any text is
//! a plan or an error, never a panic. A text that deserializes as a `Plan` is also re-sealed
//! (digests and config hash recomputed, as `plan --out` writes them) and must then load back
//! equal, so the fuzzer gets past the digest check into the rest of the loader.
#![no_main]

use kmsdns::plan::{Plan, saved, state_sha256};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let desired = kmsdns_fuzz::desired();
    if let Err(e) = saved::load("plan.json", text, desired) {
        let _ = e.to_string();
    }
    let Ok(mut plan) = serde_json::from_str::<Plan>(text) else {
        return;
    };
    plan.schema = kmsdns::plan::SCHEMA_VERSION;
    plan.config_sha256 = desired.sha256.clone();
    plan.state_sha256 = state_sha256(&plan.zones);
    plan.plan_sha256 = plan.digest();
    let _ = plan.totals();
    let _ = plan.removes_all_records();
    let sealed = serde_json::to_string_pretty(&plan).expect("a plan serializes");
    match saved::load("plan.json", &sealed, desired) {
        Ok(loaded) => assert!(loaded == plan, "a sealed plan loads back unchanged"),
        Err(e) => panic!("a sealed plan was refused: {e}\n{sealed}"),
    }
});
