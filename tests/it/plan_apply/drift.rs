//! Plan/apply with records kmsdns did not write: drift restored, `prune = false` keeping
//! foreign members, and the TTL a kept self-publisher sets.

use crate::harness::BindServer;
use crate::harness::cli::write_config;

use super::*;

#[test]
fn drift_is_shown_and_restored_and_prune_false_keeps_the_rogue() {
    let (bind, dir, cfg) = setup("");
    run(&cfg, &["apply", "--yes"]).success();
    let key = bind.key("kms-update");
    let out = bind.nsupdate(
        key,
        &format!(
            "update add {CORP}. 3600 SRV 0 0 1688 rogue.example.com.\nupdate delete {APEX}. SRV 0 0 1688 kms1.example.com.\nupdate add {APEX}. 60 SRV 0 0 1688 kms1.example.com.\nsend\n"
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = run(&cfg, &["plan", "--detailed-exitcode"]).code(2);
    let text = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(
        text.contains("- 3600 IN SRV 0 0 1688 rogue.example.com."),
        "{text}"
    );
    assert!(
        text.contains("~ 3600 IN SRV 0 0 1688 kms1.example.com.  (ttl 60 → 3600)"),
        "{text}"
    );
    assert!(
        text.contains("Plan: 0 to add, 1 to change, 1 to delete."),
        "{text}"
    );
    run(&cfg, &["apply", "--yes"]).success();
    assert_eq!(
        bind.srv_records(CORP),
        vec![
            rr(3600, 0, "kms1.example.com."),
            rr(3600, 10, "kms2.example.com.")
        ]
    );
    assert_eq!(
        bind.srv_records(APEX),
        vec![rr(3600, 0, "kms1.example.com.")]
    );

    // prune = false: the rogue target stays and is listed as unmanaged.
    let cfg2 = write_config(dir.path(), &config(&bind, "prune = false\n"));
    assert!(
        bind.nsupdate(
            key,
            &format!("update add {CORP}. 3600 SRV 0 0 1688 rogue.example.com.\nsend\n")
        )
        .status
        .success()
    );
    let plan = run(&cfg2, &["plan", "--detailed-exitcode"]).code(0);
    let text = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(
        text.contains("= 3600 IN SRV 0 0 1688 rogue.example.com.  (unmanaged"),
        "{text}"
    );
    assert!(text.contains("DisableDnsPublishing=1"), "{text}");
    run(&cfg2, &["apply", "--yes"]).success();
    assert!(
        bind.srv_records(CORP)
            .iter()
            .any(|r| r.target == "rogue.example.com.")
    );
}

/// Adds `target` to the corp RRset with `ttl` through nsupdate, as a Windows KMS host that
/// publishes itself would.
fn self_publish(bind: &BindServer, ttl: u32, target: &str) {
    let out = bind.nsupdate(
        bind.key("kms-update"),
        &format!("update add {CORP}. {ttl} SRV 0 0 1688 {target}\nsend\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

/// The issue "The truth, always" (B): with prune = false, a self-publisher adding its target
/// with TTL 600 gives the whole RRset TTL 600 (RFC 2181 §5.2; BIND keeps the TTL of the record
/// added last). `plan` reports that TTL instead of changing it, so it settles at exit code 0,
/// and `apply` sends nothing and leaves the foreign record alone.
#[test]
fn ttl_set_by_a_kept_self_publisher_is_reported_and_plan_converges() {
    let (bind, _dir, cfg) = setup("prune = false\n");
    run(&cfg, &["apply", "--yes"]).success();
    self_publish(&bind, 600, "self.example.com.");
    // BIND gave our records the foreign TTL.
    assert_eq!(
        bind.srv_records(CORP),
        vec![
            rr(600, 0, "kms1.example.com."),
            rr(600, 0, "self.example.com."),
            rr(600, 10, "kms2.example.com."),
        ]
    );
    for round in 0..2 {
        let text = stdout(&run(&cfg, &["plan", "--detailed-exitcode"]).code(0));
        for line in [
            "_vlmcs._tcp.corp.example.com. (up to date)",
            "= 600 IN SRV 0 0 1688 kms1.example.com.  (config ttl 3600; TTL 600 set by the foreign member self.example.com.; kept because one RRset has one TTL)",
            "= 600 IN SRV 10 0 1688 kms2.example.com.  (config ttl 3600; TTL 600 set by the foreign member self.example.com.; kept because one RRset has one TTL)",
            "= 600 IN SRV 0 0 1688 self.example.com.  (unmanaged: kept because prune = false)",
            "No changes. KMS SRV records match the configuration, but for the TTLs kept above.",
        ] {
            assert!(text.contains(line), "round {round}: {line}\n{text}");
        }
        assert!(!text.contains("ttl 600 → 3600"), "{text}");
        let serials = (
            bind.soa_serial("example.com"),
            bind.soa_serial("example.net"),
        );
        let text = stdout(&run(&cfg, &["apply", "--yes"]).success());
        assert!(!text.contains("Apply summary"), "nothing to apply: {text}");
        assert_eq!(
            (
                bind.soa_serial("example.com"),
                bind.soa_serial("example.net")
            ),
            serials,
            "round {round}: apply must send no UPDATE"
        );
        assert!(
            bind.srv_records(CORP)
                .contains(&rr(600, 0, "self.example.com.")),
            "the foreign record stays, with its TTL"
        );
    }
    // The JSON plan carries the same facts and follows the documented schema.
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/plan.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&run(&cfg, &["plan", "--json"]).success().get_output().stdout)
            .unwrap();
    assert!(validator.is_valid(&json), "{json:#}");
    let corp = &json["zones"][0]["rrsets"][0];
    assert_eq!(corp["owner"], "_vlmcs._tcp.corp.example.com.");
    assert_eq!(corp["changes"].as_array().unwrap().len(), 0);
    assert_eq!(corp["ttl_kept"].as_array().unwrap().len(), 2);
    assert_eq!(corp["ttl_kept"][0]["foreign"], "self.example.com.");
    assert_eq!(corp["ttl_kept"][0]["desired_ttl"], 3600);
    assert_eq!(corp["ttl_kept"][0]["record"]["ttl"], 600);
}

/// The other way round: the self-publisher was there first (TTL 600) and kmsdns adds its
/// records with TTL 3600. BIND gives the whole RRset, the foreign record included, TTL 3600;
/// the plan says so beforehand, and the next plan has nothing to do. When the foreign host
/// registers again (TTL 600), the case above follows: reported, not fought.
#[test]
fn adding_our_records_gives_a_kept_foreign_member_our_ttl() {
    let (bind, _dir, cfg) = setup("prune = false\n");
    self_publish(&bind, 600, "self.example.com.");
    let text = stdout(&run(&cfg, &["plan", "--detailed-exitcode"]).code(2));
    for line in [
        "+ 3600 IN SRV 0 0 1688 kms1.example.com.",
        "= 600 IN SRV 0 0 1688 self.example.com.  (unmanaged: kept because prune = false)",
        "note: one RRset has one TTL: this change gives self.example.com. TTL 3600 too (BIND keeps the TTL of the record added last)",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    run(&cfg, &["apply", "--yes"]).success();
    assert_eq!(
        bind.srv_records(CORP),
        vec![
            rr(3600, 0, "kms1.example.com."),
            rr(3600, 0, "self.example.com."),
            rr(3600, 10, "kms2.example.com."),
        ]
    );
    let text = stdout(&run(&cfg, &["plan", "--detailed-exitcode"]).code(0));
    assert!(
        text.contains("No changes. KMS SRV records match the configuration.")
            && !text.contains("note: one RRset has one TTL"),
        "{text}"
    );
    // The foreign host registers again.
    self_publish(&bind, 600, "self.example.com.");
    let text = stdout(&run(&cfg, &["plan", "--detailed-exitcode"]).code(0));
    assert!(
        text.contains("TTL 600 set by the foreign member self.example.com.; kept because one RRset has one TTL"),
        "{text}"
    );
}
