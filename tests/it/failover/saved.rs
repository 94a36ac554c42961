//! A saved plan carries the whole address list, so `apply PLAN.json` fails over the same way:
//! planned while A answered, applied after A went down, B takes it. Its digest covers the list.

use super::*;

#[test]
fn a_saved_plan_keeps_the_list_and_fails_over_when_applied() {
    let (a, b) = pair(true);
    let a_addr = a.addr();
    let (dir, cfg) = setup(&b.key("kms-update").file, &[a_addr, b.addr()]);
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    let (code, text) = run(&cfg, &["plan", "--out", plan_arg]);
    assert_eq!(code, Some(0), "{text}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let z = &saved["zones"][0];
    assert_eq!(z["server_address"], a_addr.to_string());
    assert_eq!(z["server_fallbacks"][0]["address"], b.addr().to_string());
    assert!(z.get("failover").is_none(), "A answered: {z}");

    // An edited list is caught by the digest before any packet.
    let edited = std::fs::read_to_string(&plan)
        .unwrap()
        .replace(&b.addr().to_string(), "192.0.2.9:53");
    let edited_path = dir.path().join("edited.json");
    std::fs::write(&edited_path, edited).unwrap();
    let (code, text) = run(&cfg, &["apply", "--yes", edited_path.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("was modified after it was written"), "{text}");

    drop(a); // A goes down after the plan was reviewed.
    let (code, text) = run(&cfg, &["apply", "--yes", plan_arg]);
    assert_eq!(code, Some(0), "{text}");
    let (a_label, b_label) = (format!("lab ({a_addr})"), format!("lab ({})", b.addr()));
    assert!(
        text.contains(&format!(
            "applied    example.com. via {b_label}: 1 change(s)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failover   example.com. went to {b_label}: skipped {a_label}: unreachable ("
        )),
        "{text}"
    );
    assert!(
        text.contains("the update was not sent to it") || text.contains("cannot reach"),
        "{text}"
    );
    assert_eq!(b.srv_records(OWNER), wanted());
}
