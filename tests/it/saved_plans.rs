//! Saved plans (`plan --out`, `apply PLAN.json`): what was reviewed is what is applied. An
//! edited plan file or a changed config is refused before any packet (exit 3); a zone whose
//! live state changed since is not sent (exit 1). Checked against a real named with dig.

use kmsdns::plan::{Change, Plan};
use predicates::prelude::*;

use crate::plan_apply::{BRANCH, CORP, run, setup};

fn read_plan(path: &std::path::Path) -> Plan {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write_plan(path: &std::path::Path, plan: &Plan) {
    std::fs::write(path, serde_json::to_string_pretty(plan).unwrap()).unwrap();
}

#[test]
fn an_edited_plan_file_is_refused_and_nothing_is_sent() {
    let (bind, dir, cfg) = setup("");
    let file = dir.path().join("p.json");
    run(&cfg, &["plan", "--out", file.to_str().unwrap()]).success();
    let original = std::fs::read_to_string(&file).unwrap();
    let serials = (
        bind.soa_serial("example.com"),
        bind.soa_serial("example.net"),
    );
    let edited = dir.path().join("edited.json");
    let refuse = |text: &str, want: &str| {
        std::fs::write(&edited, text).unwrap();
        run(&cfg, &["apply", "--yes", edited.to_str().unwrap()])
            .code(3)
            .stderr(predicate::str::contains(want));
        assert_eq!(
            (
                bind.soa_serial("example.com"),
                bind.soa_serial("example.net")
            ),
            serials,
            "nothing was sent"
        );
    };
    // A target added by hand to the records and the changes, digest left alone.
    let mut plan = read_plan(&file);
    let extra = kmsdns::model::SrvRecord {
        target: kmsdns::model::Fqdn::parse_host("evil.example.org").unwrap(),
        port: 1688,
        priority: 0,
        weight: 0,
        ttl: 3600,
    };
    plan.zones[0].rrsets[0].desired.push(extra.clone());
    plan.zones[0].rrsets[0].changes.push(Change::Add {
        record: extra.clone(),
    });
    refuse(
        &serde_json::to_string_pretty(&plan).unwrap(),
        "was modified after it was written",
    );
    // The key name, the server address: one edit each.
    refuse(
        &original.replace("\"key\": \"kms-update\"", "\"key\": \"other-key\""),
        "was modified after it was written",
    );
    let port = bind.port().to_string();
    refuse(
        &original.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:1"),
        "was modified after it was written",
    );
    // An editor who also recomputes the digest: the plan made now from the same config and
    // the same records asks for other changes, so the edit still shows.
    plan.plan_sha256 = plan.digest();
    write_plan(&edited, &plan);
    run(&cfg, &["apply", "--yes", edited.to_str().unwrap()])
        .code(3)
        .stderr(predicate::str::contains(
            "the records to write in zone example.com. is not what this configuration asks for",
        ));
    assert!(bind.srv_records(CORP).is_empty());
    // The untouched file still applies, exactly.
    run(&cfg, &["apply", "--yes", file.to_str().unwrap()]).success();
    assert_eq!(bind.srv_records(CORP).len(), 2);
    assert_eq!(bind.srv_records(BRANCH).len(), 1);
}

#[test]
fn a_saved_plan_is_plain_data_that_round_trips() {
    let (_bind, dir, cfg) = setup("");
    let file = dir.path().join("p.json");
    let out = run(&cfg, &["plan", "--json", "--out", file.to_str().unwrap()]).success();
    let printed: Plan = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let saved = read_plan(&file);
    assert_eq!(printed, saved, "--json and --out hold the same plan");
    assert_eq!(saved.digest(), saved.plan_sha256);
    let again: Plan = serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap();
    assert_eq!(again, saved);
    let z = &saved.zones[0];
    assert_eq!(z.target.server.key.as_deref(), Some("kms-update"));
    assert!(!z.target.server.discovered);
}

/// A saved plan that cannot be read or is not a plan is found before any packet: exit 3, in
/// the user's words (no serde "missing field … at line 1 column 12").
#[test]
fn an_unreadable_or_foreign_plan_file_exits_3_before_any_packet() {
    let dir = tempfile::tempdir().unwrap();
    // No server anywhere: the config points at a closed port, nothing may be sent.
    let cfg = crate::harness::cli::write_config(
        dir.path(),
        "[servers.s]\naddress = \"127.0.0.1:9\"\n[[hosts]]\nname = \"kms1.example.com\"\n[[domains]]\nname = \"example.com\"\nzone = \"example.com\"\nserver = \"s\"\n",
    );
    let missing = dir.path().join("missing.json");
    let plan_dir = dir.path().join("a-dir.json");
    std::fs::create_dir(&plan_dir).unwrap();
    let foreign = dir.path().join("foreign.json");
    std::fs::write(&foreign, "{\"schema\": 1}").unwrap();
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "not json").unwrap();
    for (file, want) in [
        (&missing, "there is no such file"),
        (&plan_dir, "it is a directory"),
        (&foreign, "is not a kmsdns plan file: it has no `"),
        (&garbage, "is not a kmsdns plan file: it is not JSON"),
    ] {
        for args in [
            vec!["apply", "--yes", file.to_str().unwrap()],
            vec!["render", "nsupdate", "--plan", file.to_str().unwrap()],
        ] {
            let out = run(&cfg, &args).code(3);
            let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
            assert!(stderr.contains(want), "{args:?}: {stderr}");
            assert!(
                stderr.contains("kmsdns plan --out FILE"),
                "{args:?}: {stderr}"
            );
            assert!(!stderr.contains("line 1 column"), "{args:?}: {stderr}");
        }
    }
}
