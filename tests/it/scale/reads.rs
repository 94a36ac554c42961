//! A zone with many managed domains is read by one signed AXFR (plan, and apply's read-back);
//! where the server refuses transfers, one query per owner does the same job. Either way
//! apply converges and dig sees every record.

use super::*;

const DOMAINS: usize = 200;

/// apply then plan with `-vv` (debug logs on stderr): the logs of both, and dig's count.
fn apply_and_replan(bind: &Server) -> (String, String) {
    let (_dir, cfg) = config(bind, DOMAINS);
    let apply = run(&cfg, &["-vv", "apply", "--yes"]).code(0);
    let applied = String::from_utf8_lossy(&apply.get_output().stdout).to_string();
    assert!(
        applied.contains(&format!("applied    {ZONE}.")),
        "{applied}"
    );
    let plan = run(&cfg, &["-vv", "plan", "--detailed-exitcode"]).code(0);
    let text = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(text.contains("No changes."), "{text}");
    for i in [0, DOMAINS / 2, DOMAINS - 1] {
        let owner = format!("_vlmcs._tcp.{}.", domain(i));
        assert_eq!(bind.srv_records(&owner).len(), 2, "{owner}");
    }
    (
        String::from_utf8_lossy(&apply.get_output().stderr).to_string(),
        String::from_utf8_lossy(&plan.get_output().stderr).to_string(),
    )
}

#[test]
fn a_big_zone_is_read_by_a_signed_zone_transfer() {
    let bind = lab("update-policy { grant kms-update zonesub SRV; };");
    let (apply, plan) = apply_and_replan(&bind);
    // The plan inside apply, the read-back, and the plan after.
    assert_eq!(apply.matches("read by AXFR").count(), 2, "{apply}");
    assert_eq!(plan.matches("read by AXFR").count(), 1, "{plan}");
    assert!(!plan.contains("querying each owner"), "{plan}");
}

#[test]
fn where_transfers_are_refused_each_owner_is_queried() {
    let bind = lab_with("update-policy { grant kms-update zonesub SRV; };", |z| {
        z.allow_transfer("none;")
    });
    let (apply, plan) = apply_and_replan(&bind);
    assert!(!apply.contains("read by AXFR"), "{apply}");
    assert!(
        plan.contains("no zone transfer; querying each owner"),
        "{plan}"
    );
    assert!(plan.contains("REFUSED"), "{plan}");
}
