//! Races with other writers, against a real named: every RRset ends equal to exactly one
//! writer's state, a loser says why, and a self-publishing KMS host never loses its record.

use std::process::Output;

use std::time::Duration;

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::relay::{Fault, FaultKind, Relay, Scope};
use crate::harness::{BindServer, Policy, ServerBuilder, ZoneBuilder};

const CORP: &str = "_vlmcs._tcp.corp.example.com";
const ROUNDS: usize = 20;

fn lab() -> BindServer {
    BindServer::start(
        &ServerBuilder::new().key("kms-update", "hmac-sha256").zone(
            ZoneBuilder::new("example.com")
                .record("kms1 A 127.0.0.1")
                .record("kms2 A 127.0.0.1")
                .record("self A 127.0.0.1")
                .policy(Policy::grant("kms-update", ["corp.example.com"])),
        ),
    )
}

/// A config with the given hosts (name, priority) for corp.example.com.
fn config(bind: &BindServer, hosts: &[(&str, u16)], prune: bool) -> String {
    config_via(bind, bind.addr(), hosts, prune)
}

/// [`config`] with the updates going through `server` (e.g. a relay in front of `bind`).
fn config_via(
    bind: &BindServer,
    server: std::net::SocketAddr,
    hosts: &[(&str, u16)],
    prune: bool,
) -> String {
    let mut text = format!(
        "[defaults]\nkey = \"kms-update\"\nprune = {prune}\n[keys.kms-update]\nfile = \"{}\"\n[servers.lab]\naddress = \"{server}\"\n",
        bind.key("kms-update").file.display(),
    );
    for (h, p) in hosts {
        text.push_str(&format!("[[hosts]]\nname = \"{h}\"\npriority = {p}\n"));
    }
    text.push_str(
        "[[domains]]\nname = \"corp.example.com\"\nzone = \"example.com\"\nserver = \"lab\"\n",
    );
    text
}

fn apply(cfg: &std::path::Path) -> std::process::Child {
    crate::harness::cli::kmsdns_std()
        .arg("-c")
        .arg(cfg)
        .args(["apply", "--yes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn targets(bind: &BindServer) -> Vec<(u16, String)> {
    let mut v: Vec<(u16, String)> = bind
        .srv_records(CORP)
        .into_iter()
        .map(|r| (r.priority, r.target))
        .collect();
    v.sort();
    v
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn two_applies_racing_leave_exactly_one_state_and_the_loser_says_why() {
    let bind = lab();
    // UPDATEs wait 150 ms on the way: both runs read the same state before either writes,
    // so every round is a real race.
    let relay = Relay::start(
        bind.addr(),
        vec![Fault::new(FaultKind::Delay(Duration::from_millis(150))).on(Scope::UpdateRequests)],
    );
    let dir = tempfile::tempdir().unwrap();
    let a_dir = dir.path().join("a");
    let b_dir = dir.path().join("b");
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    // Both keep kms2 and disagree on kms1's priority: each apply replaces one record.
    let a = write_config(
        &a_dir,
        &config_via(
            &bind,
            relay.addr(),
            &[("kms1.example.com", 0), ("kms2.example.com", 5)],
            true,
        ),
    );
    let b = write_config(
        &b_dir,
        &config_via(
            &bind,
            relay.addr(),
            &[("kms1.example.com", 7), ("kms2.example.com", 5)],
            true,
        ),
    );
    let state_a = vec![
        (0, "kms1.example.com.".to_string()),
        (5, "kms2.example.com.".to_string()),
    ];
    let state_b = vec![
        (5, "kms2.example.com.".to_string()),
        (7, "kms1.example.com.".to_string()),
    ];
    let mut lost = 0;
    for round in 0..ROUNDS {
        // A third state before every round, so that both runs have something to change.
        let reset = bind.nsupdate(
            bind.key("kms-update"),
            &format!(
                "update delete {CORP}. SRV\nupdate add {CORP}. 3600 SRV 3 0 1688 kms1.example.com.\nupdate add {CORP}. 3600 SRV 5 0 1688 kms2.example.com.\nsend\n"
            ),
        );
        assert!(reset.status.success(), "{}", text(&reset));
        let (first, second) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let (p1, p2) = (apply(first), apply(second));
        let (o1, o2) = (
            p1.wait_with_output().unwrap(),
            p2.wait_with_output().unwrap(),
        );
        let now = targets(&bind);
        assert!(
            now == state_a || now == state_b,
            "round {round}: the RRset is a mix: {now:?}\n{}\n{}",
            text(&o1),
            text(&o2)
        );
        for o in [&o1, &o2] {
            match o.status.code() {
                Some(0) => {}
                Some(1) => {
                    lost += 1;
                    let t = text(o);
                    // Either its prerequisites failed (the other wrote first), or it wrote
                    // first and the other replaced its records before the read-back.
                    assert!(
                        (t.contains("changed by another writer since they were read")
                            && t.contains("the server wrote nothing"))
                            || t.contains(
                                "applied the update, but another writer changed the zone after it"
                            ),
                        "round {round}: a loser must say another writer changed it:\n{t}"
                    );
                }
                other => panic!("round {round}: exit {other:?}\n{}", text(o)),
            }
        }
    }
    eprintln!("{ROUNDS} rounds, {lost} lost races");
    assert!(
        lost >= ROUNDS / 2,
        "the runs should have raced in most rounds: {lost} of {ROUNDS}"
    );
}

#[test]
fn a_self_publisher_racing_a_prune_false_apply_never_loses_its_record() {
    let bind = lab();
    let dir = tempfile::tempdir().unwrap();
    let a_dir = dir.path().join("a");
    let b_dir = dir.path().join("b");
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    // Two prune = false configs that keep changing kms1's priority: every apply writes.
    let a = write_config(&a_dir, &config(&bind, &[("kms1.example.com", 0)], false));
    let b = write_config(&b_dir, &config(&bind, &[("kms1.example.com", 7)], false));
    let key = bind.key("kms-update").clone();
    assert!(
        bind.nsupdate(
            &key,
            &format!("update add {CORP}. 3600 SRV 0 0 1688 self.example.com.\nsend\n")
        )
        .status
        .success()
    );
    let stop = std::sync::atomic::AtomicBool::new(false);
    let published = std::thread::scope(|scope| {
        let publisher = scope.spawn(|| {
            // The KMS host re-registers itself, flipping its weight: delete and add in one
            // message, as Windows does, so the record is always there in one form.
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let (old, new) = (n % 2, (n + 1) % 2);
                let script = format!(
                    "update delete {CORP}. SRV 0 {old} 1688 self.example.com.\nupdate add {CORP}. 3600 SRV 0 {new} 1688 self.example.com.\nsend\n"
                );
                if bind.nsupdate(&key, &script).status.success() {
                    n += 1;
                }
            }
            n
        });
        // Stops the publisher however this loop ends (a failed assertion included).
        struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let guard = Stop(&stop);
        for round in 0..ROUNDS {
            let cfg = if round % 2 == 0 { &a } else { &b };
            let out = kmsdns()
                .arg("-c")
                .arg(cfg)
                .args(["apply", "--yes"])
                .output()
                .unwrap();
            let t = text(&out);
            assert!(
                matches!(out.status.code(), Some(0) | Some(1)),
                "round {round}: {t}"
            );
            if out.status.code() == Some(1) {
                assert!(t.contains("another writer"), "round {round}: {t}");
            }
            let now = targets(&bind);
            assert!(
                now.iter().any(|(_, t)| t == "self.example.com."),
                "round {round}: the self-published record is gone: {now:?}\n{t}"
            );
        }
        drop(guard);
        publisher.join().unwrap()
    });
    assert!(published > 0, "the publisher never got an update in");
    // Quiet now: the last config converges and the self-published record stays.
    let out = kmsdns()
        .arg("-c")
        .arg(&b)
        .args(["apply", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let now = targets(&bind);
    assert!(
        now.contains(&(7, "kms1.example.com.".to_string())),
        "{now:?}"
    );
    assert!(now.iter().any(|(_, t)| t == "self.example.com."), "{now:?}");
}
