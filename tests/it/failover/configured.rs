//! `address = [A, B]` with A dead: refused (a free port) or silent (the relay swallows
//! everything). The plan reads from B and says why A was skipped; B takes the update.

use crate::harness::relay::{Fault, FaultKind, Relay};

use super::*;

/// plan and apply with `first` in front of a live BIND `b`: plan reads from B (text and JSON
/// say so), apply writes to B, dig on B shows the records, and a second plan converges.
fn falls_over_to_the_second(first: SocketAddr, b: &BindServer, reason: &str, detail: &str) {
    let (_dir, cfg) = setup(&b.key("kms-update").file, &[first, b.addr()]);
    let (a_label, b_label) = (format!("lab ({first})"), format!("lab ({})", b.addr()));

    let (code, text) = run(&cfg, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains(&format!("server {a_label} (configured; then {b_label})")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failover: read from {b_label}; skipped {a_label}: {reason} ("
        )),
        "{text}"
    );
    assert!(text.contains(detail), "{text}");
    assert!(
        text.contains("+ 3600 IN SRV 0 0 1688 kms1.example.com."),
        "{text}"
    );

    let (code, md) = run(&cfg, &["plan", "--format", "markdown"]);
    assert_eq!(code, Some(0), "{md}");
    assert!(
        md.contains(&format!(
            "server `{a_label}` (configured) · then `{b_label}` · UDP"
        )),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "Failover: read from `{b_label}`; skipped `{a_label}` ({reason}: "
        )),
        "{md}"
    );

    let v = json(&cfg, &["plan", "--json"]);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/plan.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
    let z = &v["zones"][0];
    assert_eq!(z["server_address"], first.to_string());
    assert_eq!(z["server_fallbacks"][0]["address"], b.addr().to_string());
    assert_eq!(z["server_fallbacks"][0]["server"], b_label);
    assert_eq!(z["failover"]["address"], b.addr().to_string());
    assert_eq!(z["failover"]["skipped"][0]["address"], first.to_string());
    assert_eq!(z["failover"]["skipped"][0]["reason"], reason);

    let (code, text) = run(&cfg, &["apply", "--yes"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "applied    example.com. via {b_label}: 1 change(s)"
        )),
        "{text}"
    );
    // Apply starts where the plan read (the prerequisites are B's state) and says why.
    assert!(
        text.contains(&format!(
            "failover   example.com. went to {b_label}: skipped {a_label}: {reason} (when the state was read for the plan: "
        )),
        "{text}"
    );
    assert_eq!(b.srv_records(OWNER), wanted());
    let (code, text) = run(&cfg, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "converged, read from B again: {text}");
}

#[test]
fn a_refused_first_address_passes_the_zone_to_the_second() {
    let b = bind(None, true);
    falls_over_to_the_second(dead(), &b, "unreachable", "cannot reach");
}

#[test]
fn a_silent_first_address_times_out_and_the_second_takes_the_zone() {
    let b = bind(None, true);
    // Swallows every request, UDP and TCP: the first address never answers.
    let silent = Relay::start(b.addr(), vec![Fault::new(FaultKind::DropRequest)]);
    falls_over_to_the_second(silent.addr(), &b, "timeout", "no reply from 127.0.0.1");
    assert_eq!(silent.stats().replies_from_upstream, 0);
    assert!(silent.stats().queries() >= 1, "the first address was tried");
}

#[test]
fn every_address_dead_names_them_all() {
    let b = bind(None, true);
    let (one, two) = (dead(), dead());
    let (_dir, cfg) = setup(&b.key("kms-update").file, &[one, two]);
    let (code, text) = run(&cfg, &["plan"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "no address of the server answered, tried in order: lab ({one}) (unreachable: "
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("; lab ({two}) (cannot reach {two}")),
        "{text}"
    );
}

#[test]
fn validate_and_render_show_the_whole_list() {
    let b = bind(None, true);
    let first = dead();
    let (_dir, cfg) = setup(&b.key("kms-update").file, &[first, b.addr()]);
    let (code, text) = run(&cfg, &["validate"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "lab {first}, {} (UDP, timeout 300ms, 1 try",
            b.addr()
        )),
        "{text}"
    );
    // nsupdate takes one server: the first, with the others named in a comment.
    let (code, script) = run(&cfg, &["render", "nsupdate"]);
    assert_eq!(code, Some(0), "{script}");
    assert!(
        script.contains(&format!(
            "; server lab has several addresses ({first}, {}); nsupdate takes one",
            b.addr()
        )),
        "{script}"
    );
    assert!(
        script.contains(&format!("server {} {}\n", first.ip(), first.port())),
        "{script}"
    );
}

#[test]
fn over_tcp_a_refused_connection_passes_the_zone_on() {
    let b = bind(None, true);
    let first = dead();
    let dir = tempfile::tempdir().unwrap();
    let text = config(&b.key("kms-update").file, &[first, b.addr()])
        .replace("retries = 0\n", "retries = 0\ntransport = \"tcp\"\n");
    let cfg = write_config(dir.path(), &text);
    let (code, text) = run(&cfg, &["apply", "--yes"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "skipped lab ({first}): unreachable (cannot reach {first} over TCP"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("applied    example.com. via lab ({})", b.addr())),
        "{text}"
    );
    assert_eq!(b.srv_records(OWNER), wanted());
}

/// Zones that share a silent first address: once it did not answer for one zone, the zones
/// that start after are not held up by it again (at most `--parallel` zones, the ones in flight
/// together, ask it).
#[test]
fn a_silent_address_is_asked_once_per_zone_in_flight_not_for_every_zone() {
    let zones: Vec<String> = (0..12).map(|i| format!("z{i}.example")).collect();
    let mut builder = ServerBuilder::new().key("kms-update", "hmac-sha256");
    for z in &zones {
        builder =
            builder.zone(ZoneBuilder::new(z).policy(Policy::grant("kms-update", [z.as_str()])));
    }
    let b = BindServer::start(&builder);
    let silent = Relay::start(b.addr(), vec![Fault::new(FaultKind::DropRequest)]);
    let mut text = config(&b.key("kms-update").file, &[silent.addr(), b.addr()]);
    text = text[..text.find("[[domains]]").unwrap()].to_string();
    for z in &zones {
        text.push_str(&format!(
            "[[domains]]\nname = \"{z}\"\nzone = \"{z}\"\nserver = \"lab\"\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &text);
    let (code, out) = run(&cfg, &["plan", "--detailed-exitcode", "--parallel", "4"]);
    assert_eq!(code, Some(2), "{out}");
    let b_label = format!("lab ({})", b.addr());
    assert_eq!(
        out.matches(&format!("failover: read from {b_label}"))
            .count(),
        zones.len(),
        "{out}"
    );
    let asked = silent.stats().queries();
    assert!((1..=4).contains(&asked), "asked {asked} times\n{out}");
    assert_eq!(
        out.matches("not asked: it did not answer earlier in this run (no reply from")
            .count() as u64,
        zones.len() as u64 - asked,
        "{out}"
    );
}
