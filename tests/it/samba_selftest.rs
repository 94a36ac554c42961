//! The Samba AD DC harness itself, and the facts about Samba's DNS server that kmsdns's
//! GSS-TSIG client has to live with, checked with the reference client (`nsupdate -g`, MIT
//! GSSAPI) so they are known independently of our own code. Confirmed on Debian 12, Samba
//! 4.17.12:
//! - the AD zone is "secure only": an unsigned UPDATE gets REFUSED and changes nothing;
//! - a GSS-TSIG update goes in, yet `nsupdate -g` prints "; TSIG error with server: tsig verify
//!   failure" and exits 2: Samba signs every reply after the TKEY exchange over a digest without
//!   the 2-byte length of the request MAC (source4/dns_server/dns_crypto.c), so an RFC 8945
//!   check of the reply fails;
//! - the SOA serial never moves on updates (it stays 1); AXFR is not served (the SOA alone
//!   comes back: dig reports "Transfer failed");
//! - a dnsNode belongs to the account that created it: another ordinary user can neither add
//!   to nor delete from it — the update is answered SERVFAIL (not REFUSED) and nothing changes;
//! - that SERVFAIL reply is the request echoed: its update section, and a TSIG carrying the
//!   client's own request MAC (so no client can verify it);
//! - granting that user `RPWP` (read + write property) on the node's AD object alone is enough
//!   for it to add and delete there: the least-privilege grant README and `render powershell`
//!   describe.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use crate::harness::samba::{SambaDc, ZONE};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn add(owner: &str, target: &str) -> String {
    format!("update add {owner}. 300 SRV 0 0 1688 {target}.{ZONE}.\nsend\n")
}

fn targets(dc: &SambaDc, owner: &str) -> Vec<String> {
    dc.srv_records(owner)
        .into_iter()
        .map(|rr| rr.target)
        .collect()
}

/// Samba's digest quirk, as nsupdate reports it: exit status 2 and a TSIG verify failure.
fn assert_reply_mac_quirk(out: &Output) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(
        stderr(out).contains("tsig verify failure"),
        "expected Samba's reply-MAC quirk, got: {}",
        stderr(out)
    );
}

#[test]
fn samba_dc_serves_the_ad_zone_and_refuses_unsigned_updates() {
    let dc = SambaDc::shared();
    eprintln!(
        "Samba DC: provisioned (+ users, keytabs) in {:?}, answering DNS and Kerberos {:?} \
         after start",
        dc.provision_time, dc.start_time
    );
    let soa = dc.dig(&["+short", ZONE, "SOA"]);
    assert!(
        soa.starts_with(&format!("{}. hostmaster.{ZONE}. ", dc.mname())),
        "{soa:?}"
    );
    assert_eq!(dc.mname(), "dc1.ad.kmsdns.test");

    // Everything the DC writes stays in the lab directory.
    let smb_conf = std::fs::read_to_string(dc.smb_conf()).unwrap();
    for dir in ["/var/", "/run/", "/etc/"] {
        assert!(
            !smb_conf.contains(dir),
            "smb.conf points into {dir}:\n{smb_conf}"
        );
    }
    for user in ["kmsdns", "other", "Administrator"] {
        let mode = std::fs::metadata(dc.keytab(user))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "keytab of {user}");
    }

    let owner = format!("_vlmcs._tcp.{}", dc.fresh_domain("unsigned"));
    let out = dc.nsupdate(None, &add(&owner, "kms1"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("update failed: REFUSED"),
        "{}",
        stderr(&out)
    );
    assert!(targets(dc, &owner).is_empty());
    assert_eq!(dc.dig_status(&[&owner, "SRV"]), "NXDOMAIN");

    // No zone transfer: Samba answers AXFR with the SOA alone, never the closing SOA, so the
    // transfer fails — a client that wants the zone's records must ask per name.
    let axfr = dc.dig(&[ZONE, "AXFR"]);
    assert!(axfr.contains("; Transfer failed."), "{axfr}");
    let records = axfr
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .count();
    assert!(records <= 1, "AXFR was served: {axfr}");
}

#[test]
fn gss_tsig_update_goes_in_although_nsupdate_reports_a_tsig_verify_failure() {
    let dc = SambaDc::shared();
    let ticket = dc.kinit("kmsdns");
    let owner = format!("_vlmcs._tcp.{}", dc.fresh_domain("gss"));
    let serial_before = dc.dig(&["+short", ZONE, "SOA"]);

    let out = dc.nsupdate(Some(&ticket), &add(&owner, "kms1"));
    assert_reply_mac_quirk(&out);
    let rrs = dc.srv_records(&owner);
    assert_eq!(rrs.len(), 1, "{rrs:?}");
    let rr = &rrs[0];
    assert_eq!(
        (rr.ttl, rr.priority, rr.weight, rr.port, rr.target.as_str()),
        (300, 0, 0, 1688, "kms1.ad.kmsdns.test.")
    );
    // The SOA (serial included) does not change on an update.
    assert_eq!(dc.dig(&["+short", ZONE, "SOA"]), serial_before);

    // Without a ticket nsupdate -g gets nowhere, and nothing changes.
    let out = dc.nsupdate_without_credentials(&add(&owner, "kms2"));
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(targets(dc, &owner), ["kms1.ad.kmsdns.test."]);
}

#[test]
fn another_account_cannot_change_a_node_it_did_not_create() {
    let dc = SambaDc::shared();
    let owner = format!("_vlmcs._tcp.{}", dc.fresh_domain("owned"));
    let kmsdns = dc.kinit("kmsdns");
    assert_reply_mac_quirk(&dc.nsupdate(Some(&kmsdns), &add(&owner, "kms1")));
    assert_eq!(dc.node_owner_sid(&owner), dc.user_sid("kmsdns"));

    let other = dc.kinit("other");
    for script in [
        add(&owner, "kms2"),
        format!("update delete {owner}. SRV\nsend\n"),
    ] {
        let out = dc.nsupdate(Some(&other), &script);
        // An ACL denial is SERVFAIL, not REFUSED, and nsupdate reports a TSIG verify failure
        // for that reply too (issue 14: an error reply echoes the request's own TSIG).
        assert_reply_mac_quirk(&out);
        assert!(
            stderr(&out).contains("update failed: SERVFAIL"),
            "{script}: {}",
            stderr(&out)
        );
        assert_eq!(targets(dc, &owner), ["kms1.ad.kmsdns.test."], "{script}");
    }

    // The SERVFAIL reply is the request echoed: the update section comes back, and its TSIG
    // carries the client's own MAC (nsupdate -D prints both).
    let out = dc.nsupdate_with_args(Some(&other), &["-D"], &add(&owner, "kms3"));
    let sent = String::from_utf8_lossy(&out.stdout);
    let got = stderr(&out);
    let request_mac = tsig_macs(&sent).last().cloned().expect("a signed update");
    let reply = got
        .split("Reply from update query:")
        .nth(1)
        .unwrap_or_else(|| panic!("no update reply: {got}"));
    assert!(reply.contains("status: SERVFAIL"), "{reply}");
    assert!(reply.contains(&format!("kms3.{ZONE}.")), "{reply}");
    assert_eq!(tsig_macs(reply), [request_mac], "{reply}");
}

/// The MACs of the TSIG records nsupdate -D printed in `text`, in order.
fn tsig_macs(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(3) == Some(&"TSIG")).then(|| f.get(8).map(|m| (*m).to_owned()))?
        })
        .collect()
}

#[test]
fn write_property_on_the_node_alone_lets_another_account_update_it() {
    let dc = SambaDc::shared();
    let owner = format!("_vlmcs._tcp.{}", dc.fresh_domain("granted"));
    // The administrator pre-creates the node, then grants `kmsdns` on that node only.
    let admin = dc.kinit("Administrator");
    assert_reply_mac_quirk(&dc.nsupdate(Some(&admin), &add(&owner, "kms1")));
    let kmsdns = dc.kinit("kmsdns");
    let before = dc.nsupdate(Some(&kmsdns), &add(&owner, "kms2"));
    assert!(stderr(&before).contains("SERVFAIL"), "{}", stderr(&before));

    dc.grant_node_write(&owner, "kmsdns");
    assert_reply_mac_quirk(&dc.nsupdate(Some(&kmsdns), &add(&owner, "kms2")));
    assert_eq!(
        targets(dc, &owner),
        ["kms1.ad.kmsdns.test.", "kms2.ad.kmsdns.test."]
    );
    let delete = format!("update delete {owner}. SRV 0 0 1688 kms1.{ZONE}.\nsend\n");
    assert_reply_mac_quirk(&dc.nsupdate(Some(&kmsdns), &delete));
    assert_eq!(targets(dc, &owner), ["kms2.ad.kmsdns.test."]);

    // The grant is on that node only: a sibling node the admin created stays closed.
    let sibling = format!("_vlmcs._tcp.{}", dc.fresh_domain("sibling"));
    assert_reply_mac_quirk(&dc.nsupdate(Some(&admin), &add(&sibling, "kms1")));
    let out = dc.nsupdate(Some(&kmsdns), &add(&sibling, "kms2"));
    assert!(stderr(&out).contains("SERVFAIL"), "{}", stderr(&out));
    assert_eq!(targets(dc, &sibling), ["kms1.ad.kmsdns.test."]);
}

/// Our binary runs inside the DC's namespace ([`SambaDc::kmsdns`]): `plan` reads the AD zone
/// (unsigned reads are allowed), and an unsigned `apply` is refused by the secure-only zone
/// with an error that names the zone and the server, and changes nothing. (GSS-TSIG end to end
/// with a gss-tsig key: `tests/it/samba/`.)
#[test]
fn kmsdns_runs_in_the_namespace_and_an_unsigned_apply_is_refused() {
    let dc = SambaDc::shared();
    let domain = dc.fresh_domain("kmsdns");
    let owner = format!("_vlmcs._tcp.{domain}");
    let dir = tempfile::tempdir().unwrap();
    let config = crate::harness::cli::write_config(
        dir.path(),
        &format!(
            "[servers.dc]\naddress = \"{}\"\n\n[[hosts]]\nname = \"kms1.{ZONE}\"\n\n\
             [[domains]]\nname = \"{domain}\"\nzone = \"{ZONE}\"\nserver = \"dc\"\n",
            dc.ip()
        ),
    );

    let plan = dc
        .kmsdns()
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(2), "{text}{}", stderr(&plan));
    assert!(text.contains(&format!("kms1.{ZONE}")), "{text}");

    let apply = dc
        .kmsdns()
        .args(["apply", "--yes", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    // The apply report (stdout) names the zone, the server and the rcode.
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&apply.stdout),
        stderr(&apply)
    );
    assert_eq!(apply.status.code(), Some(1), "{report}");
    let failed = report
        .lines()
        .find(|l| l.trim_start().starts_with("failed"))
        .unwrap_or_else(|| panic!("no failed line: {report}"));
    assert!(failed.contains("REFUSED"), "{report}");
    assert!(
        failed.contains(ZONE) && failed.contains("10.53.0.1:53"),
        "{report}"
    );
    assert!(targets(dc, &owner).is_empty());
}
