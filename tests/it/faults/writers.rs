//! Faults: another writer changes the records while an UPDATE's outcome is uncertain.

use std::time::Duration;

use crate::harness::cli::write_config;
use crate::harness::relay::{Fault, FaultKind, Relay, Scope, Transport};
use crate::harness::{BindServer, Server};

use super::*;

// ---- UPDATE: another writer while the outcome is uncertain ----

/// `kmsdns apply --yes` with `cfg` through `relay`; as soon as its first UPDATE reaches the
/// relay, another writer runs `script` with nsupdate straight against BIND (kmsdns reads back
/// only after its UDP tries, 600 ms later).
fn apply_while_another_writes(bind: &BindServer, relay: &Relay, cfg: &str, script: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), cfg);
    let child = crate::harness::cli::kmsdns_std()
        .arg("-c")
        .arg(&cfg)
        .args(["apply", "--yes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while relay.stats().updates() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let other = bind.nsupdate(bind.key("kms-update"), script);
    assert!(other.status.success(), "the other writer failed: {other:?}");
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!("kmsdns apply while another writes: {run}");
    run
}

/// The SRV records BIND holds at CORP as (priority, target).
fn targets(server: &Server) -> Vec<(u16, String)> {
    server
        .srv_records(CORP)
        .into_iter()
        .map(|r| (r.priority, r.target))
        .collect()
}

/// kmsdns adds kms1 and kms2; both UDP copies are lost, and meanwhile another writer adds
/// kms2 alone. The settling read finds neither the state planned from nor the desired one:
/// kmsdns resends nothing and reports both states (exit 1). BIND holds the other writer's
/// record only, serial +1 (its write).
#[test]
fn another_writer_during_an_uncertain_update_is_reported_with_both_states() {
    let bind = BindServer::start(&lab(&["kms2 A 127.0.0.1"]));
    let relay = Relay::start(
        bind.addr(),
        vec![Fault::new(FaultKind::DropRequest).on(Scope::UpdateRequests)],
    );
    let cfg = config(&bind, relay.addr(), Transport::Udp).replace(
        "[[domains]]",
        "[[hosts]]\nname = \"kms2.example.com\"\n[[domains]]",
    );
    let run = apply_while_another_writes(
        &bind,
        &relay,
        &cfg,
        &format!("update add {CORP}. 3600 SRV 0 0 1688 kms2.example.com.\nsend\n"),
    );
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        run.summary().lines().next(),
        Some(
            format!(
                "  failed     example.com. via {}: {}; the records read back over TCP are neither the state planned from nor the desired one: another writer changed them. {CORP}.: planned from [nothing], wanted [3600 IN SRV 0 0 1688 kms1.example.com., 3600 IN SRV 0 0 1688 kms2.example.com.], now [3600 IN SRV 0 0 1688 kms2.example.com.]",
                label(&relay),
                no_reply(&relay, Transport::Udp)
            )
            .as_str()
        ),
        "{run}"
    );
    assert_eq!(updates_sent(&relay), (2, 0), "nothing resent over TCP");
    assert_eq!(targets(&bind), [(0, "kms2.example.com.".to_string())]);
    assert_eq!(bind.soa_serial(ZONE), 2, "one write: the other writer's");
}

/// Both UDP copies are lost and another writer adds a record of its own (none of kmsdns's):
/// the update's own records are as before, so kmsdns resends over TCP — and the prerequisite
/// ("no SRV RRset yet") makes BIND refuse it. Not applied, another writer named, exit 1; the
/// other writer's record is untouched.
#[test]
fn a_resend_after_another_writer_is_refused_by_the_prerequisites() {
    let (bind, relay) = bind_behind(vec![
        Fault::new(FaultKind::DropRequest)
            .on(Scope::UpdateRequests)
            .first_n(2),
    ]);
    let run = apply_while_another_writes(
        &bind,
        &relay,
        &config(&bind, relay.addr(), Transport::Udp),
        &format!("update add {CORP}. 300 SRV 5 0 1688 other.example.com.\nsend\n"),
    );
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        run.summary().lines().next(),
        Some(
            format!(
                "  failed     example.com. via {}: records in zone example.com were changed by another writer since they were read: the prerequisites failed (YXRRSET) and the server wrote nothing",
                label(&relay)
            )
            .as_str()
        ),
        "{run}"
    );
    assert_eq!(updates_sent(&relay), (2, 1));
    assert_eq!(updates_at_server(&relay), (0, 1));
    assert_eq!(update_rcodes(&relay), [7]);
    assert_eq!(targets(&bind), [(5, "other.example.com.".to_string())]);
    assert_eq!(bind.soa_serial(ZONE), 2, "one write: the other writer's");
}
