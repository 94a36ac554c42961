//! kmsdns against a real PowerDNS Authoritative (gsqlite3, Lua update policy): the generic
//! end-to-end tests of plan_apply/ and dns_engine/, and what PowerDNS does differently.
//!
//! PowerDNS decides each record of an UPDATE on its own and answers NOERROR while skipping the
//! records its policy refuses, and it answers a wrong TSIG secret with an *unsigned* error.
//! kmsdns can only notice the first by reading back, which it does; the second it reports as
//! an unsigned reply. Each test pins what kmsdns does now, with the exit code and message.

use std::sync::Arc;
use std::time::Duration;

use kmsdns::dns::DnsError;
use kmsdns::dns::client::DnsClient;
use kmsdns::dns::keyfile::parse_key_file;
use kmsdns::dns::transport::Endpoint;
use kmsdns::dns::tsig::{TsigError, TsigKey};
use kmsdns::dns::update::{UpdateReply, build_update, send_update};
use kmsdns::model::{Fqdn, SrvRecord, Transport};
use kmsdns::plan::diff_rrset;

use crate::harness::cli::write_config;
use crate::harness::{Key, PdnsServer, Policy, ServerBuilder, ZoneBuilder};
use crate::plan_apply::{one_host_config, rr, run};

const WRONG_SECRET: &str = "c2VjcmV0IHRoYXQgaXMgbm90IHRoZSBzZXJ2ZXJzIG9uZSE=";

fn stdout(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

#[test]
fn pdns_plan_apply_replan_then_nothing_is_sent() {
    let pdns = PdnsServer::start(&crate::plan_apply::lab_builder());
    crate::plan_apply::plan_apply_replan(&pdns);
}

/// The builder of dns_engine/ (key kms-key granted a.example.com and b.example.com).
fn engine_lab() -> ServerBuilder {
    ServerBuilder::new()
        .key("kms-key", "hmac-sha256")
        .key("other-key", "hmac-sha256")
        .zone(
            ZoneBuilder::new("example.com")
                .record("kms1 A 127.0.0.1")
                .record("kms2 A 127.0.0.1")
                .policy(Policy::grant("kms-key", ["a.example.com", "b.example.com"])),
        )
}

#[test]
fn pdns_add_replace_ttl_delete() {
    let pdns = PdnsServer::start(&engine_lab());
    crate::dns_engine::add_replace_ttl_delete(&pdns);
}

#[test]
fn pdns_prerequisite_failure_writes_nothing() {
    let pdns = PdnsServer::start(&engine_lab());
    crate::dns_engine::prerequisite_guards(&pdns);
}

/// One zone whose policy grants corp.example.com but not other.example.com, one zone with no
/// policy at all, one fully granted zone. PowerDNS answers NOERROR to all three UPDATEs and
/// writes only what its policy allows; kmsdns reads every changed RRset back and reports the
/// two zones whose read-back differs as failed (exit 1), the third as applied.
///
/// The report names, per zone, the RRsets the server skipped (what is missing) and the ones it
/// wrote as sent, and where to look (the server's update policy).
#[test]
fn pdns_records_outside_the_policy_fail_the_zone_on_read_back() {
    let b = ServerBuilder::new()
        .key("kms-update", "hmac-sha256")
        .zone(
            ZoneBuilder::new("example.com")
                .record("kms1 A 127.0.0.1")
                .policy(Policy::grant("kms-update", ["corp.example.com"])),
        )
        .zone(ZoneBuilder::new("example.net").policy(Policy::None))
        .zone(ZoneBuilder::new("example.org").policy(Policy::grant("kms-update", ["example.org"])));
    let pdns = PdnsServer::start(&b);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &one_host_config(
            &pdns.key("kms-update").file,
            pdns.addr(),
            &[
                "corp.example.com",
                "other.example.com",
                "example.net",
                "example.org",
            ],
        ),
    );
    let out = run(&cfg, &["apply", "--yes"]).code(1);
    let text = stdout(&out);
    let server = format!("lab ({})", pdns.addr());
    assert!(
        text.contains(&format!(
            "failed     example.com. via {server}: {server} answered NOERROR but did not apply \
             the update as sent: _vlmcs._tcp.other.example.com. missing: 3600 IN SRV 0 0 1688 \
             kms1.example.com.; written as sent: _vlmcs._tcp.corp.example.com."
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failed     example.net. via {server}: {server} answered NOERROR but did not apply \
             the update as sent: _vlmcs._tcp.example.net. missing: 3600 IN SRV 0 0 1688 \
             kms1.example.com.; nothing of it was written"
        )),
        "{text}"
    );
    assert!(
        text.contains("PowerDNS: the lua-dnsupdate-policy-script"),
        "{text}"
    );
    assert!(text.contains("applied    example.org."), "{text}");
    assert!(pdns.log().contains("Not permitted by policy"));

    // What PowerDNS did: the granted RRset of example.com is written (serial 1 → 2), the
    // refused one is not; example.net is untouched; example.org is applied.
    assert_eq!(
        pdns.srv_records("_vlmcs._tcp.corp.example.com"),
        vec![rr(3600, 0, "kms1.example.com.")]
    );
    assert_eq!(pdns.soa_serial("example.com"), 2);
    assert!(pdns.srv_records("_vlmcs._tcp.other.example.com").is_empty());
    assert!(pdns.srv_records("_vlmcs._tcp.example.net").is_empty());
    assert_eq!(pdns.soa_serial("example.net"), 1);
    assert_eq!(
        pdns.srv_records("_vlmcs._tcp.example.org"),
        vec![rr(3600, 0, "kms1.example.com.")]
    );

    // A second plan shows exactly what is still missing; a second apply fails the same way.
    let out = run(&cfg, &["plan", "--detailed-exitcode"]).code(2);
    let text = stdout(&out);
    assert!(
        text.contains("_vlmcs._tcp.corp.example.com. (up to date)")
            && text.contains("_vlmcs._tcp.example.org. (up to date)")
            && text.contains("Plan: 2 to add, 0 to change, 0 to delete."),
        "{text}"
    );
    run(&cfg, &["apply", "--yes"]).code(1);
}

/// Without a key kmsdns sends unsigned UPDATEs: PowerDNS answers NOERROR, its policy refuses
/// every record, and kmsdns reports the zone failed on read-back (exit 1).
#[test]
fn pdns_unsigned_update_fails_on_read_back() {
    let pdns = PdnsServer::start(&crate::plan_apply::lab_builder());
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            "[servers.lab]\naddress = \"{}\"\n[[hosts]]\nname = \"kms1.example.com\"\n\
             [[domains]]\nname = \"example.com\"\nserver = \"lab\"\n",
            pdns.addr()
        ),
    );
    let out = run(&cfg, &["apply", "--yes"]).code(1);
    let text = stdout(&out);
    assert!(text.contains("unsigned"), "{text}");
    assert!(
        text.contains("failed     example.com.")
            && text.contains("answered NOERROR but did not apply the update as sent: _vlmcs._tcp.example.com. missing: 3600 IN SRV 0 0 1688 kms1.example.com.; nothing of it was written"),
        "{text}"
    );
    assert!(pdns.srv_records("_vlmcs._tcp.example.com").is_empty());
    assert_eq!(pdns.soa_serial("example.com"), 1);
}

/// A wrong secret (or a key PowerDNS does not know) is an error and nothing is written: plan
/// and apply exit 1 at the first (signed) read. PowerDNS answers the query with an *unsigned*
/// NOTAUTH (BIND: NOTAUTH signed with TSIG error BADSIG); kmsdns names the RCODE and the
/// secret as the likely cause, without waiting for a reply that will not come.
#[test]
fn pdns_wrong_secret_is_an_error_reported_as_an_unsigned_reply() {
    let pdns = PdnsServer::start(&crate::plan_apply::lab_builder());
    let wrong = pdns.key("kms-update").with_secret(WRONG_SECRET);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &one_host_config(&wrong.file, pdns.addr(), &["example.com"]),
    );
    let unsigned = format!(
        "error: domain example.com.: TSIG with lab ({}): the reply is not signed: the server \
         answered NOTAUTH without signing its reply to a request signed with key kms-update, \
         which is what a server does when it cannot verify the request: the secret of key \
         kms-update here differs from the server's, or the server does not know key kms-update",
        pdns.addr()
    );
    for args in [&["plan"][..], &["apply", "--yes"]] {
        let started = std::time::Instant::now();
        let out = run(&cfg, args).code(1);
        let text = stdout(&out);
        assert!(text.contains(&unsigned), "{args:?}: {text}");
        assert!(text.contains("pdnsutil list-tsig-keys"), "{text}");
        // Not a timing assertion: a refusal ends the exchange, so no try runs out (3 × 3 s).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(8),
            "{args:?}"
        );
    }
    assert!(pdns.srv_records("_vlmcs._tcp.example.com").is_empty());
    assert_eq!(pdns.soa_serial("example.com"), 1);
    assert!(
        pdns.log()
            .contains("Signature with TSIG key 'kms-update' failed to validate"),
        "{}",
        pdns.log()
    );
}

fn load(key: &Key) -> Arc<TsigKey> {
    let text = std::fs::read_to_string(&key.file).unwrap();
    Arc::new(parse_key_file(&key.file, &text).unwrap().remove(0))
}

/// The UPDATE itself with a wrong secret: PowerDNS answers REFUSED, unsigned. That reply cannot
/// be trusted, so the outcome is uncertain (apply then reads the records to settle it), and the
/// error names REFUSED and the secret.
#[test]
fn pdns_update_with_wrong_secret_is_refused_unsigned() {
    let pdns = PdnsServer::start(&engine_lab());
    let zone = Fqdn::parse_domain("example.com").unwrap();
    let owner = Fqdn::parse_domain("a.example.com").unwrap().kms_owner();
    let want = SrvRecord {
        target: Fqdn::parse_host("kms1.example.com").unwrap(),
        port: 1688,
        priority: 0,
        weight: 0,
        ttl: 300,
    };
    let change = diff_rrset(&owner, &[], &[want], true).to_rrset_change();
    let send = |key: Arc<TsigKey>| {
        let c = DnsClient::new(
            Endpoint::new(pdns.addr(), Transport::Udp, Duration::from_secs(2)),
            format!("lab ({})", pdns.addr()),
            Some(key),
        );
        let msg = build_update(&zone, std::slice::from_ref(&change)).unwrap();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(send_update(&c, &zone, msg))
    };
    let wrong = pdns.key("kms-key").with_secret(WRONG_SECRET);
    let reply = send(load(&wrong)).unwrap();
    let UpdateReply::Uncertain(u) = reply else {
        panic!("an unsigned refusal is not a verdict to trust: {reply:?}");
    };
    assert!(
        matches!(
            &u.error,
            DnsError::Tsig {
                source: TsigError::UnsignedError { key, rcode },
                ..
            } if key == "kms-key" && rcode == "REFUSED"
        ),
        "{:?}",
        u.error
    );
    assert!(!u.tampering);
    assert!(pdns.srv_records("_vlmcs._tcp.a.example.com").is_empty());
    assert!(pdns.log().contains("failed to validate"), "{}", pdns.log());

    // A key PowerDNS knows but the policy does not grant: NOERROR, signed, nothing written —
    // the reply alone says applied; only the read-back in apply catches it.
    let reply = send(load(pdns.key("other-key"))).expect("PowerDNS answers NOERROR");
    assert!(
        matches!(&reply, UpdateReply::Applied(r) if r.signed),
        "{reply:?}"
    );
    assert!(pdns.srv_records("_vlmcs._tcp.a.example.com").is_empty());
    assert_eq!(pdns.soa_serial("example.com"), 1);

    // The granted key writes.
    assert!(matches!(
        send(load(pdns.key("kms-key"))).unwrap(),
        UpdateReply::Applied(_)
    ));
    assert_eq!(pdns.srv_records("_vlmcs._tcp.a.example.com").len(), 1);
    assert_eq!(pdns.soa_serial("example.com"), 2);
}
