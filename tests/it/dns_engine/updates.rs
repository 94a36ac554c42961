//! The DNS engine's RFC 2136 updates on BIND and Knot: add, replace, TTL change, delete, and
//! prerequisites that write nothing when they fail.

use kmsdns::dns::query::read_srv;
use kmsdns::dns::update::{build_update, send_update};
use kmsdns::model::Transport;
use kmsdns::plan::diff_rrset as diff;

use crate::harness::{BindServer, KnotServer, Server};

use super::*;

/// add to an empty RRset, several domains in one message, replace one target, TTL change,
/// delete — on any server.
pub(crate) fn add_replace_ttl_delete(server: &Server) {
    let c = client(server, Some(load(server.key("kms-key"))), Transport::Udp);
    let a = "_vlmcs._tcp.a.example.com";
    let b = "_vlmcs._tcp.b.example.com";
    let serial = server.soa_serial("example.com");

    // Two domains, one message: the serial moves by one.
    let r = converge(
        &c,
        "example.com",
        &[
            (
                "a.example.com",
                vec![
                    rec("kms1.example.com", 0, 300),
                    rec("kms2.example.com", 10, 300),
                ],
            ),
            ("b.example.com", vec![rec("kms1.example.com", 0, 300)]),
        ],
    )
    .unwrap();
    assert!(
        r.unwrap().signed,
        "the reply to a signed update is verified"
    );
    assert_eq!(
        server.srv_records(a),
        vec![
            rr(300, 0, "kms1.example.com"),
            rr(300, 10, "kms2.example.com")
        ]
    );
    assert_eq!(server.srv_records(b), vec![rr(300, 0, "kms1.example.com")]);
    assert_eq!(server.soa_serial("example.com"), serial + 1);

    // Replace one target.
    converge(
        &c,
        "example.com",
        &[(
            "a.example.com",
            vec![
                rec("kms1.example.com", 0, 300),
                rec("kms3.example.com", 10, 300),
            ],
        )],
    )
    .unwrap();
    assert_eq!(
        server.srv_records(a),
        vec![
            rr(300, 0, "kms1.example.com"),
            rr(300, 10, "kms3.example.com")
        ]
    );

    // TTL change (delete + add of the same RR).
    converge(
        &c,
        "example.com",
        &[(
            "a.example.com",
            vec![
                rec("kms1.example.com", 0, 3600),
                rec("kms3.example.com", 10, 3600),
            ],
        )],
    )
    .unwrap();
    assert_eq!(
        server.srv_records(a),
        vec![
            rr(3600, 0, "kms1.example.com"),
            rr(3600, 10, "kms3.example.com")
        ]
    );

    // Converged: nothing to send.
    assert!(
        converge(
            &c,
            "example.com",
            &[(
                "a.example.com",
                vec![
                    rec("kms1.example.com", 0, 3600),
                    rec("kms3.example.com", 10, 3600)
                ]
            )]
        )
        .unwrap()
        .is_none()
    );

    // Delete everything at both owners.
    let before = server.soa_serial("example.com");
    converge(
        &c,
        "example.com",
        &[("a.example.com", vec![]), ("b.example.com", vec![])],
    )
    .unwrap();
    assert!(server.srv_records(a).is_empty());
    assert!(server.srv_records(b).is_empty());
    assert_eq!(server.soa_serial("example.com"), before + 1);
}

#[test]
fn bind_add_replace_ttl_delete() {
    let bind = BindServer::start(&lab());
    add_replace_ttl_delete(&bind);
}

#[test]
fn knot_add_replace_ttl_delete() {
    let knot = KnotServer::start(&lab());
    add_replace_ttl_delete(&knot);
}

pub(crate) fn prerequisite_guards(server: &Server) {
    let key = server.key("kms-key");
    let c = client(server, Some(load(key)), Transport::Udp);
    let zone = name("example.com");
    let owner = name("a.example.com").kms_owner();
    let rt = runtime();
    // Read (empty), then someone else writes, then our update built from the read is sent.
    let current = rt.block_on(read_srv(&c, Some(&zone), &owner)).unwrap();
    assert!(current.is_empty());
    let out = server.nsupdate(
        key,
        "update add _vlmcs._tcp.a.example.com. 60 SRV 0 0 1688 other.example.com.\nsend\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let serial = server.soa_serial("example.com");
    let change = diff(&owner, &current, &[rec("kms1.example.com", 0, 300)], true).to_rrset_change();
    let err = refused(rt.block_on(send_update(
        &c,
        &zone,
        build_update(&zone, &[change]).unwrap(),
    )));
    assert!(err.is_stale_state(), "{err}");
    assert!(
        err.to_string()
            .contains("changed by another writer since they were read"),
        "{err}"
    );
    assert!(err.hint().contains("kmsdns plan"), "{}", err.hint());
    // Nothing written.
    assert_eq!(
        server.srv_records("_vlmcs._tcp.a.example.com"),
        vec![rr(60, 0, "other.example.com")]
    );
    assert_eq!(server.soa_serial("example.com"), serial);

    // "RRset exists (value dependent)": a read of one record, then a change of that record.
    let current = rt.block_on(read_srv(&c, Some(&zone), &owner)).unwrap();
    assert_eq!(current.len(), 1);
    let out = server.nsupdate(
        key,
        "update add _vlmcs._tcp.a.example.com. 60 SRV 5 0 1688 other2.example.com.\nsend\n",
    );
    assert!(out.status.success());
    let change = diff(&owner, &current, &[rec("kms1.example.com", 0, 300)], true).to_rrset_change();
    let err = refused(rt.block_on(send_update(
        &c,
        &zone,
        build_update(&zone, &[change]).unwrap(),
    )));
    assert!(err.is_stale_state(), "{err}");
    assert_eq!(
        server.srv_records("_vlmcs._tcp.a.example.com").len(),
        2,
        "nothing written"
    );
}

#[test]
fn bind_prerequisite_failure_writes_nothing() {
    let bind = BindServer::start(&lab());
    prerequisite_guards(&bind);
}

#[test]
fn knot_prerequisite_failure_writes_nothing() {
    let knot = KnotServer::start(&lab());
    prerequisite_guards(&knot);
}
