//! One zone with 3,000 managed domains (two KMS hosts each): apply splits the 6,000 records
//! into several UPDATEs, every RRset whole in one; a signed AXFR by dig finds all 6,000, and
//! `plan` afterwards has nothing to change.

use std::collections::BTreeSet;

use super::*;

const DOMAINS: usize = 3000;

#[test]
fn a_zone_with_3000_domains_applies_in_few_messages_and_then_plans_no_changes() {
    let bind = lab("update-policy { grant kms-update zonesub SRV; };");
    let (_dir, cfg) = config(&bind, DOMAINS);
    let out = run(&cfg, &["apply", "--yes"]).code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let summary = text
        .lines()
        .find(|l| l.contains("applied") && l.contains(ZONE))
        .unwrap_or_else(|| {
            panic!(
                "no applied line for {ZONE}:\n{}",
                &text[text.len().saturating_sub(2000)..]
            )
        });
    // 6,000 adds in a handful of messages (about 640 RRsets of two records fit in one).
    assert!(summary.contains("6000 change(s) in "), "{summary}");
    let messages: usize = summary
        .split(" in ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    assert!((2..=10).contains(&messages), "{summary}");
    // BIND's serial went up once per message: each was its own update.
    assert_eq!(bind.soa_serial(ZONE), 1 + messages as u32, "{summary}");

    // Every record is there, by a signed zone transfer.
    let srv = axfr_srv(&bind);
    assert_eq!(srv.len(), 2 * DOMAINS, "SRV records in the AXFR of {ZONE}");
    let owners: BTreeSet<&str> = srv.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(owners.len(), DOMAINS);
    for i in [0, 1, 640, 641, 1500, DOMAINS - 1] {
        let owner = format!("_vlmcs._tcp.{}.", domain(i));
        let targets: BTreeSet<&str> = srv
            .iter()
            .filter(|(o, _)| *o == owner)
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(
            targets,
            BTreeSet::from(["kms1.big.test.", "kms2.big.test."]),
            "{owner}"
        );
    }

    // Converged: plan reads 3,000 RRsets and finds nothing to change.
    let out = run(&cfg, &["plan", "--detailed-exitcode"]).code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("No changes. KMS SRV records match the configuration."),
        "{}",
        &text[text.len().saturating_sub(500)..]
    );
}
