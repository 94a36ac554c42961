//! A GSS-TSIG zone with more domains than the AXFR threshold: reads never fall back to an
//! unsigned zone transfer (kmsdns signs AXFR with HMAC keys only), each owner is queried
//! signed instead — counted on the relay in front of BIND, which would serve a transfer.

use super::{keytab_lines, output, run};
use crate::harness::cli::write_config;
use crate::harness::kerberos::GssLab;
use crate::harness::relay::{Leg, Relay};

const ZONE: &str = "corp.example.com";
const DOMAINS: usize = 70;

/// The QTYPE of a message's first question.
fn qtype(msg: &[u8]) -> Option<u16> {
    let mut i = 12;
    while *msg.get(i)? != 0 {
        i += 1 + *msg.get(i)? as usize;
    }
    Some(u16::from_be_bytes([*msg.get(i + 1)?, *msg.get(i + 2)?]))
}

#[test]
fn gss_zone_with_many_domains_is_read_per_owner_never_by_unsigned_axfr() {
    let domains: Vec<String> = (0..DOMAINS).map(|i| format!("d{i}.{ZONE}")).collect();
    let lab = GssLab::start_with_domains(ZONE, &domains);
    let relay = Relay::start(lab.bind.addr(), vec![]);
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!(
        "[defaults]\nkey = \"ad\"\n\n[keys.ad]\ntype = \"gss-tsig\"\n{}\n\
         [servers.dc]\naddress = \"{}\"\ntimeout = \"2s\"\nretries = 1\n\n\
         [[hosts]]\nname = \"kms1.{ZONE}\"\n",
        keytab_lines(&lab.admin_keytab, "admin"),
        relay.addr()
    );
    for d in &domains {
        text.push_str(&format!(
            "\n[[domains]]\nname = \"{d}\"\nzone = \"{ZONE}\"\nserver = \"dc\"\n"
        ));
    }
    let cfg = write_config(dir.path(), &text);
    let ccache = format!("FILE:{}/no-such-ccache", lab.kdc.dir().display());

    let plan = run(&lab, &cfg, &ccache, &["plan", "--detailed-exitcode"]);
    let out = output(&plan);
    plan.code(2);
    assert!(out.contains(&format!("Plan: {DOMAINS} to add")), "{out}");
    let apply = run(&lab, &cfg, &ccache, &["apply", "--yes"]);
    let out = output(&apply);
    apply.success();
    assert!(out.contains("read back and verified"), "{out}");
    for d in &domains {
        assert_eq!(
            lab.bind.srv_records(&format!("_vlmcs._tcp.{d}")).len(),
            1,
            "{d}"
        );
    }
    let again = run(&lab, &cfg, &ccache, &["plan", "--detailed-exitcode"]);
    let out = output(&again);
    again.code(0);
    assert!(out.contains("No changes."), "{out}");

    // The server would transfer the zone to anyone (BIND's default), yet none was asked for:
    // the owners were queried, each query signed (three runs that read: plan, apply's plan
    // and read-back, plan).
    let from_client: Vec<Vec<u8>> = relay
        .wire()
        .into_iter()
        .filter(|w| w.leg == Leg::FromClient)
        .map(|w| w.bytes)
        .collect();
    let axfr = from_client.iter().filter(|m| qtype(m) == Some(252)).count();
    assert_eq!(axfr, 0, "AXFR requests were sent");
    let srv_queries: Vec<&Vec<u8>> = from_client
        .iter()
        .filter(|m| qtype(m) == Some(33) && (m[2] >> 3) & 0xf == 0)
        .collect();
    assert!(srv_queries.len() >= 4 * DOMAINS, "{}", srv_queries.len());
    assert!(
        srv_queries
            .iter()
            .all(|m| crate::harness::relay::tsig_record(m).is_some()),
        "an SRV query went out unsigned"
    );
    let transfer = lab.bind.dig(&[ZONE, "AXFR"]);
    assert!(
        transfer.contains("_vlmcs._tcp.d0"),
        "BIND serves AXFR: {transfer}"
    );
}
