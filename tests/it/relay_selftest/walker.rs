//! The relay's message walker on hand-built messages.

use crate::harness::relay::{self, OPCODE_UPDATE};

// ---- the message walker ----

/// A reply with a compressed answer and a TSIG record (MAC of 4 bytes) at the end.
fn signed_reply() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0xa8, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
    m.extend_from_slice(b"\x04corp\x07example\x03com\x00\x00\x06\x00\x01");
    // Answer: owner = pointer to the question name, A 127.0.0.1.
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 0, 1]);
    // TSIG: owner "k", type 250, class ANY, TTL 0.
    m.extend_from_slice(b"\x01k\x00\x00\xfa\x00\xff\x00\x00\x00\x00");
    let mut rdata = b"\x0bhmac-sha256\x00".to_vec();
    rdata.extend_from_slice(&[0, 0, 0x65, 0, 0, 0, 1, 44, 0, 4, 0xaa, 0xbb, 0xcc, 0xdd]);
    rdata.extend_from_slice(&[0x12, 0x34, 0, 0, 0, 0]); // original ID, error, other len
    m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    m.extend_from_slice(&rdata);
    m
}

#[test]
fn walker_finds_tsig_and_mac_behind_compressed_names() {
    let m = signed_reply();
    assert_eq!(relay::opcode(&m), Some(OPCODE_UPDATE));
    assert_eq!(relay::id(&m), Some(0x1234));
    let (question_end, records) = relay::layout(&m).unwrap();
    assert_eq!(question_end, 12 + 18 + 4); // header, corp.example.com., type, class
    let types: Vec<u16> = records.iter().map(|r| r.rtype).collect();
    assert_eq!(types, [1, relay::TYPE_TSIG]);
    let mac = relay::tsig_mac(&m).unwrap();
    assert_eq!(&m[mac], &[0xaa, 0xbb, 0xcc, 0xdd]);

    let stripped = relay::strip_tsig(&m).unwrap();
    let mut want = m[..records[1].start].to_vec();
    want[11] = 0;
    assert_eq!(stripped, want);
    assert_eq!(relay::tsig_record(&stripped), None);
    assert_eq!(relay::strip_tsig(&stripped), None);

    let tc = relay::truncated(&m).unwrap();
    assert_eq!(tc.len(), question_end);
    assert_eq!(&tc[..12], &[0x12, 0x34, 0xaa, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn walker_rejects_malformed_messages() {
    let m = signed_reply();
    assert_eq!(relay::layout(&m[..m.len() - 1]), None, "cut short");
    let mut longer = m.clone();
    longer.push(0);
    assert_eq!(relay::layout(&longer), None, "trailing byte");
    let mut bad_label = m.clone();
    bad_label[12] = 0x40;
    assert_eq!(relay::layout(&bad_label), None, "extended label type");
    assert_eq!(relay::layout(&m[..5]), None, "short header");
    assert_eq!(relay::tsig_mac(&m[..40]), None);
}
