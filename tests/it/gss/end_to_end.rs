//! plan → apply → plan (no changes) → verify with a gss-tsig key, from a keytab and from a
//! credential cache; dig confirms the records, and each run makes one GSS-TSIG context with
//! the server, shared by both zones and every read and update.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};

use super::{BRANCH, CORP, keytab_lines, output, run, write_with_port};
use crate::harness::SrvRr;
use crate::harness::kerberos::GssLab;
use crate::harness::relay::{Leg, Relay, tsig_record};

fn rr(ttl: u32, priority: u16, port: u16, target: &str) -> SrvRr {
    SrvRr {
        ttl,
        priority,
        weight: 0,
        port,
        target: target.to_string(),
    }
}

/// plan (4 to add) → apply → plan (no changes) → verify (every rung passes).
fn plan_apply_replan_verify(lab: &GssLab, address: &str, key_lines: &str, ccache: &str) {
    let kms = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = kms.local_addr().unwrap().port();
    let (_dir, cfg) = write_with_port(lab, address, key_lines, port);
    let plan = run(lab, &cfg, ccache, &["plan", "--detailed-exitcode"]);
    let text = output(&plan);
    plan.code(2);
    assert!(text.contains("Plan: 4 to add"), "{text}");
    let apply = run(lab, &cfg, ccache, &["apply", "--yes"]);
    let text = output(&apply);
    apply.success();
    assert!(text.contains("read back and verified"), "{text}");
    let want = vec![
        rr(600, 0, port, "kms1.corp.example.com."),
        rr(600, 10, port, "kms2.corp.example.com."),
    ];
    assert_eq!(lab.bind.srv_records(CORP), want);
    assert_eq!(lab.bind.srv_records(BRANCH), want);
    let again = run(lab, &cfg, ccache, &["plan", "--detailed-exitcode"]);
    let text = output(&again);
    again.code(0);
    assert!(text.contains("No changes."), "{text}");
    let bind = lab.bind.addr().to_string();
    let verify = run(
        lab,
        &cfg,
        ccache,
        &[
            "verify",
            "--resolver",
            &bind,
            "--server-port",
            &lab.bind.port().to_string(),
        ],
    );
    let text = output(&verify);
    verify.code(0);
    assert!(!text.contains("✗"), "{text}");
}

/// The TKEY key names the client's requests carried in TSIG records, and how many such
/// signed requests there were.
fn key_names(relay: &Relay) -> (BTreeSet<Vec<u8>>, usize) {
    let mut names = BTreeSet::new();
    let mut signed = 0;
    for w in relay.wire() {
        if w.leg != Leg::FromClient {
            continue;
        }
        if let Some(rr) = tsig_record(&w.bytes) {
            let owner = &w.bytes[rr.start..];
            let mut end = 0;
            while owner[end] != 0 {
                end += 1 + owner[end] as usize;
            }
            names.insert(owner[..end].to_vec());
            signed += 1;
        }
    }
    (names, signed)
}

#[test]
fn keytab_plan_apply_replan_verify_one_context_per_run() {
    let lab = GssLab::start(&["corp.example.com", "branch.example.net"]);
    let relay = Relay::start(lab.bind.addr(), vec![]);
    // No ticket in the cache: kmsdns gets its own from the keytab.
    let empty = format!("FILE:{}/no-such-ccache", lab.kdc.dir().display());
    plan_apply_replan_verify(
        &lab,
        &relay.addr().to_string(),
        &keytab_lines(&lab.admin_keytab, "admin"),
        &empty,
    );
    assert!(
        !lab.kdc.dir().join("no-such-ccache").exists(),
        "the keytab's ticket stays in memory"
    );
    // Three runs that sign (plan, apply, plan): three contexts, each used for both zones.
    let (names, signed) = key_names(&relay);
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(signed >= 3 * 2 + 2, "only {signed} signed requests");
}

#[test]
fn credential_cache_plan_apply_replan_verify() {
    let lab = GssLab::start(&["corp.example.com", "branch.example.net"]);
    let ccache = lab.kinit("admin", None);
    plan_apply_replan_verify(&lab, &lab.bind.addr().to_string(), "", &ccache);
}

#[test]
fn discovered_primary_gets_its_service_principal_from_the_soa() {
    // No [servers]: the zone's primary comes from the SOA MNAME through the resolver (BIND
    // itself), and the ticket is for DNS@<that host>.
    let lab = GssLab::start(&["corp.example.com"]);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[defaults]\nkey = \"ad\"\n\n[keys.ad]\ntype = \"gss-tsig\"\n{}\n\
         [[hosts]]\nname = \"kms1.corp.example.com\"\n\n[[domains]]\nname = \"corp.example.com\"\n",
        keytab_lines(&lab.admin_keytab, "admin")
    );
    let cfg = crate::harness::cli::write_config(dir.path(), &text);
    let empty = format!("FILE:{}/no-such-ccache", lab.kdc.dir().display());
    let bind = lab.bind.addr().to_string();
    let port = lab.bind.port().to_string();
    let args = ["--resolver", &bind, "--server-port", &port];
    let apply = run(
        &lab,
        &cfg,
        &empty,
        &[&["apply", "--yes"][..], &args].concat(),
    );
    let out = output(&apply);
    apply.success();
    assert!(out.contains("ns1.corp.example.com"), "{out}");
    assert_eq!(
        lab.bind.srv_records(CORP),
        vec![rr(3600, 0, 1688, "kms1.corp.example.com.")]
    );
    let again = run(
        &lab,
        &cfg,
        &empty,
        &[&["plan", "--detailed-exitcode"][..], &args].concat(),
    );
    let out = output(&again);
    again.code(0);
    assert!(out.contains("No changes."), "{out}");
}

#[test]
fn saved_plan_applies_with_a_gss_key() {
    let lab = GssLab::start(&["corp.example.com"]);
    let ccache = lab.kinit("admin", None);
    let (dir, cfg) = super::write(&lab, &lab.bind.addr().to_string(), "");
    let saved = dir.path().join("plan.json");
    let saved_arg = saved.to_str().unwrap();
    run(&lab, &cfg, &ccache, &["plan", "--out", saved_arg]).success();
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert!(
        !plan.to_string().contains("sig-ns1"),
        "the plan names the key, never a negotiated key name"
    );
    let apply = run(&lab, &cfg, &ccache, &["apply", saved_arg, "--yes"]);
    let text = output(&apply);
    apply.success();
    assert!(text.contains("read back and verified"), "{text}");
    assert_eq!(lab.bind.srv_records(CORP).len(), 2);
}
