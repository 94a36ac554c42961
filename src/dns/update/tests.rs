//! Building UPDATEs: prerequisites, order, and splitting into messages that fit.

use super::*;

fn rec(t: &str, ttl: u32) -> SrvRecord {
    SrvRecord::test(t, 0, ttl)
}

#[test]
fn prerequisites_and_order() {
    let zone = Fqdn::parse_domain("example.com").unwrap();
    let a = Fqdn::parse_domain("a.example.com").unwrap().kms_owner();
    let b = Fqdn::parse_domain("b.example.com").unwrap().kms_owner();
    let changes = vec![
        RrsetChange {
            owner: a.clone(),
            seen: vec![],
            delete: vec![],
            add: vec![rec("kms1.example.com", 300)],
        },
        RrsetChange {
            owner: b.clone(),
            seen: vec![rec("old.example.com", 60)],
            delete: vec![rec("old.example.com", 60)],
            add: vec![rec("kms1.example.com", 300)],
        },
    ];
    let msg = build_update(&zone, &changes).unwrap();
    assert_eq!(msg.queries.len(), 1);
    assert_eq!(msg.answers.len(), 2);
    assert_eq!(msg.answers[0].dns_class, DNSClass::NONE);
    assert_eq!(msg.answers[1].dns_class, DNSClass::IN);
    assert_eq!(msg.answers[1].ttl, 0);
    assert_eq!(msg.authorities.len(), 3);
    assert_eq!(
        msg.authorities[0].dns_class,
        DNSClass::NONE,
        "deletes come first"
    );
    assert_eq!(msg.authorities[1].dns_class, DNSClass::IN);
    // It encodes.
    let bytes = msg.to_vec().unwrap();
    let back = Message::from_vec(&bytes).unwrap();
    assert_eq!(back.authorities.len(), 3);
}

#[test]
fn nothing_to_send() {
    let zone = Fqdn::parse_domain("example.com").unwrap();
    let owner = zone.kms_owner();
    let c = RrsetChange {
        owner,
        seen: vec![rec("kms1.example.com", 1)],
        delete: vec![],
        add: vec![],
    };
    assert!(build_update(&zone, &[c]).is_none());
}

/// `n` domains `dNNNN.<zone>`, each getting two KMS hosts added to an empty RRset.
fn many(zone: &Fqdn, n: usize) -> Vec<RrsetChange> {
    (0..n)
        .map(|i| RrsetChange {
            owner: Fqdn::parse_domain(&format!("d{i:04}.{}", zone.as_str()))
                .unwrap()
                .kms_owner(),
            seen: vec![],
            delete: vec![],
            add: vec![rec("kms1.example.com", 3600), rec("kms2.example.com", 3600)],
        })
        .collect()
}

#[test]
fn thousands_of_rrsets_split_into_few_messages_each_rrset_whole() {
    let zone = Fqdn::parse_domain("example.com").unwrap();
    let changes = many(&zone, 3000);
    let batches = build_updates(&zone, &changes).unwrap();
    // Every RRset once, in order, in consecutive runs.
    let mut next = 0;
    for b in &batches {
        assert_eq!(b.rrsets.start, next);
        next = b.rrsets.end;
        assert!(b.octets <= MAX_UPDATE_OCTETS, "{} octets", b.octets);
        let bytes = &b.wire;
        assert_eq!(bytes.len(), b.octets);
        // Each RRset's prerequisite and both adds are in this message.
        let back = Message::from_vec(bytes).unwrap();
        assert_eq!(back.answers.len(), b.rrsets.len());
        assert_eq!(back.authorities.len(), 2 * b.rrsets.len());
        for (i, c) in changes[b.rrsets.clone()].iter().enumerate() {
            assert_eq!(fqdn(&back.answers[i].name), c.owner);
            assert_eq!(fqdn(&back.authorities[2 * i].name), c.owner);
            assert_eq!(fqdn(&back.authorities[2 * i + 1].name), c.owner);
        }
    }
    assert_eq!(next, 3000);
    // As few as fit: adding the next RRset to any message but the last would overflow it.
    for b in &batches[..batches.len() - 1] {
        let one_more = &changes[b.rrsets.start..b.rrsets.end + 1];
        assert_eq!(build_updates(&zone, one_more).unwrap().len(), 2);
    }
    // Owner names compressed: 30 octets of prerequisite and 2 × 36 of adds per RRset, 2 × 18
    // more for the RRsets whose prerequisite lies beyond the 16 KiB pointers reach (hickory-
    // proto's own encoder makes 168: it compresses the first 120 names only).
    let per_rrset = batches[0].octets as f64 / batches[0].rrsets.len() as f64;
    assert!(
        (100.0..110.0).contains(&per_rrset),
        "{per_rrset} octets per RRset"
    );
    let sizes: Vec<usize> = batches.iter().map(|b| b.rrsets.len()).collect();
    assert_eq!(batches.len(), 5, "{sizes:?}");
    // hickory-proto's encoder for 300 of them (beyond 65535 octets it drops records silently).
    let hickory = build_update(&zone, &changes[..300])
        .unwrap()
        .to_vec()
        .unwrap()
        .len();
    assert!(hickory > 300 * 160, "{hickory}");
    eprintln!(
        "{per_rrset:.1} octets per RRset, RRsets per message {sizes:?}; hickory-proto's encoder: {:.1} octets per RRset",
        hickory as f64 / 300.0
    );
}

/// What the split messages say is what hickory-proto's encoder says for the same changes:
/// the same zone, prerequisites in the same order, the same update records (grouped per
/// RRset rather than all deletes first), decoded by hickory-proto.
#[test]
fn the_compressed_form_decodes_to_what_hickory_encodes() {
    let zone = Fqdn::parse_domain("example.com").unwrap();
    let owner = |d: &str| Fqdn::parse_domain(d).unwrap().kms_owner();
    let changes = vec![
        RrsetChange {
            owner: owner("a.example.com"),
            seen: vec![],
            delete: vec![],
            add: vec![rec("kms1.example.com", 300), rec("kms2.example.com", 300)],
        },
        RrsetChange {
            owner: owner("example.com"),
            seen: vec![rec("old.example.com", 60), rec("kms1.example.com", 60)],
            delete: vec![rec("old.example.com", 60), rec("kms1.example.com", 60)],
            add: vec![rec("kms1.example.com", 3600)],
        },
        RrsetChange {
            owner: owner("b.c.example.com"),
            seen: vec![rec("kms9.example.org", 5)],
            delete: vec![rec("kms9.example.org", 5)],
            add: vec![],
        },
    ];
    let batches = build_updates(&zone, &changes).unwrap();
    assert_eq!(batches.len(), 1);
    let ours = Message::from_vec(&batches[0].wire).unwrap();
    let theirs_wire = build_update(&zone, &changes).unwrap().to_vec().unwrap();
    let theirs = Message::from_vec(&theirs_wire).unwrap();
    assert_eq!(ours.metadata.op_code, OpCode::Update);
    assert_eq!(ours.queries, theirs.queries);
    assert_eq!(ours.answers, theirs.answers);
    let sorted = |m: &Message| {
        let mut v: Vec<String> = m.authorities.iter().map(|r| format!("{r:?}")).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&ours), sorted(&theirs));
    assert!(ours.additionals.is_empty());
    assert!(batches[0].wire.len() <= theirs_wire.len());
}

fn fqdn(n: &hickory_proto::rr::Name) -> Fqdn {
    crate::dns::query::fqdn_of(n)
}

#[test]
fn an_rrset_too_large_for_one_message_is_a_clear_error() {
    let zone = Fqdn::parse_domain("example.com").unwrap();
    let mut changes = many(&zone, 3);
    changes[1].add = (0..40)
        .map(|i| rec(&format!("kms{i}.example.com"), 3600))
        .collect();
    let err = build_updates_within(&zone, &changes, 1000).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("_vlmcs._tcp.d0001.example.com"), "{text}");
    assert!(text.contains("does not fit in one UPDATE"), "{text}");
    assert!(!err.hint().contains("check the key"), "{}", err.hint());
    // Small limits split small plans too, and still every RRset whole.
    let batches = build_updates_within(&zone, &many(&zone, 10), 300).unwrap();
    assert!(batches.len() > 1);
    assert!(
        batches
            .iter()
            .all(|b| b.octets <= 300 && !b.rrsets.is_empty())
    );
    assert_eq!(batches.last().unwrap().rrsets.end, 10);
}
