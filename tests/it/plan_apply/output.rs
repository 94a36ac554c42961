//! What plan/apply print: the documented JSON schema, and secrets never shown.

use predicates::prelude::*;

use crate::harness::cli::kmsdns;

use super::*;

#[test]
fn plan_json_follows_the_documented_schema() {
    let (bind, _dir, cfg) = setup("");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/plan.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    for round in 0..2 {
        let out = run(&cfg, &["plan", "--json"]).success();
        let json: serde_json::Value =
            serde_json::from_slice(&out.get_output().stdout).expect("plan --json prints JSON");
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "round {round}: {errors:#?}\n{json:#}");
        assert_eq!(json["schema"], 1);
        let zones = json["zones"].as_array().unwrap();
        assert_eq!(zones.len(), 2);
        assert_eq!(zones[0]["key"], "kms-update");
        let changes = zones[0]["rrsets"][0]["changes"].as_array().unwrap().len();
        assert_eq!(changes, if round == 0 { 2 } else { 0 });
        if round == 0 {
            run(&cfg, &["apply", "--yes"]).success();
        }
    }
    // The validator does reject a document that breaks the schema.
    let bad = serde_json::json!({"schema": 2});
    assert!(!validator.is_valid(&bad));
    drop(bind);
}

#[test]
fn secrets_never_reach_the_output_and_loose_key_files_are_flagged() {
    let (bind, _dir, cfg) = setup("");
    let secret = bind.key("kms-update").secret_b64.clone();
    for args in [
        &["-vvv", "plan", "--json"][..],
        &["-vvv", "apply", "--yes"],
        &["-vvv", "validate"],
    ] {
        let out = kmsdns()
            .arg("-c")
            .arg(&cfg)
            .args(args)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{args:?}: {all}");
        assert!(!all.contains(&secret), "{args:?} printed the secret");
        assert!(
            all.contains("kms-update"),
            "{args:?}: the key is named, just not its secret"
        );
    }
    // A key file readable by others gets a warning naming the fix.
    use std::os::unix::fs::PermissionsExt;
    let file = &bind.key("kms-update").file;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    run(&cfg, &["plan"])
        .success()
        .stderr(predicate::str::contains(format!(
            "chmod 600 {}",
            file.display()
        )));
}
