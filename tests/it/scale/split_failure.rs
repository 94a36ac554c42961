//! A zone split into several UPDATEs whose second message is refused (BIND's update-policy
//! denies one name in it): the first message's RRsets went in, the refused one's and the
//! unsent rest did not, and the report lists them per RRset; dig agrees.

use super::*;

const DOMAINS: usize = 2000;
/// The name BIND refuses: in the second message (about 640 RRsets of this zone fit in one).
const REFUSED: usize = 1000;

/// The owners listed under the report heading that starts with `heading`.
fn listed(text: &str, heading: &str) -> Vec<String> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(heading));
    let count: usize = lines
        .next()
        .and_then(|l| l.rsplit(": ").next())
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `{heading}` heading in:\n{text}"));
    let owners: Vec<String> = lines.take(count).map(|l| l.trim().to_string()).collect();
    assert_eq!(owners.len(), count, "{heading}");
    assert!(
        owners.iter().all(|o| o.starts_with("_vlmcs._tcp.")),
        "{owners:?}"
    );
    owners
}

#[test]
fn a_refused_later_message_is_reported_per_rrset() {
    let policy = format!(
        "update-policy {{\n\tdeny kms-update name _vlmcs._tcp.{}. SRV;\n\tgrant kms-update zonesub SRV;\n}};",
        domain(REFUSED)
    );
    let bind = lab(&policy);
    let (_dir, cfg) = config(&bind, DOMAINS);
    let out = run(&cfg, &["apply", "--yes"]).code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let head: String = text
        .lines()
        .skip_while(|l| !l.contains("Apply summary"))
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(head.contains(&format!("partly applied {ZONE}.")), "{head}");
    assert!(head.contains("message 2 of "), "{head}");
    assert!(head.contains("refused key kms-update"), "{head}");
    assert!(head.contains("later message(s) were not sent"), "{head}");

    let went_in = listed(&text, "went in");
    let not_in = listed(&text, "did not go in");
    let unknown = listed(&text, "unknown whether");
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(went_in.len() + not_in.len(), DOMAINS);
    assert!(
        !went_in.is_empty() && went_in.len() < REFUSED,
        "{}",
        went_in.len()
    );
    let owner = |i: usize| format!("_vlmcs._tcp.{}.", domain(i));
    assert_eq!(went_in[0], owner(0));
    assert!(not_in.contains(&owner(REFUSED)));
    assert!(not_in.contains(&owner(DOMAINS - 1)));

    // dig: exactly the RRsets reported as gone in are there, each with both hosts.
    let srv = axfr_srv(&bind);
    assert_eq!(srv.len(), 2 * went_in.len());
    for o in [&went_in[0], went_in.last().unwrap()] {
        assert_eq!(bind.srv_records(o).len(), 2, "{o}");
    }
    for o in [&not_in[0], &owner(REFUSED), not_in.last().unwrap()] {
        assert!(bind.srv_records(o).is_empty(), "{o}");
    }
    // One message went in: the serial moved once.
    assert_eq!(bind.soa_serial(ZONE), 2);
}

#[test]
fn a_refused_first_message_stops_the_zone_and_nothing_goes_in() {
    let policy = format!(
        "update-policy {{\n\tdeny kms-update name _vlmcs._tcp.{}. SRV;\n\tgrant kms-update zonesub SRV;\n}};",
        domain(0)
    );
    let bind = lab(&policy);
    let (_dir, cfg) = config(&bind, DOMAINS);
    let out = run(&cfg, &["apply", "--yes"]).code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let head: String = text
        .lines()
        .skip_while(|l| !l.contains("Apply summary"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(head.contains(&format!("failed     {ZONE}.")), "{head}");
    assert!(head.contains("message 1 of "), "{head}");
    assert!(head.contains("later message(s) were not sent"), "{head}");
    assert!(listed(&text, "went in").is_empty());
    assert_eq!(listed(&text, "did not go in").len(), DOMAINS);
    assert!(axfr_srv(&bind).is_empty());
    assert_eq!(bind.soa_serial(ZONE), 1);
}
