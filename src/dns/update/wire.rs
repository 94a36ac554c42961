//! The wire form of the UPDATEs a zone's changes are split into (RFC 2136 §2, RFC 1035 §4.1),
//! with every owner name compressed (RFC 1035 §4.1.4).
//!
//! hand-written because hickory-proto's encoder compresses only the first 120 names of a
//! message and keeps 64 names to point at (guards against costly encodes): in an UPDATE of a
//! few hundred RRsets almost every owner name then goes in whole, 168 octets per new two-host
//! RRset instead of 102 here (docs/design.md). The layout is fixed and small: a header, the zone
//! (`zone IN SOA`), then per RRset its prerequisite records and, in the update section, its
//! deletes and adds. An owner name is its labels below the zone and a pointer to the zone name
//! in the zone section; every later record of the same RRset points at the first one (while it
//! lies in the first 16 KiB, which pointers can reach). SRV targets go uncompressed (RFC 2782,
//! RFC 3597 §4). hickory-proto decodes what this writes in the tests, and BIND takes it.

use crate::model::{Fqdn, RrsetChange, SrvRecord};

const SRV: u16 = 33;
const SOA: u16 = 6;
const CLASS_IN: u16 = 1;
const CLASS_NONE: u16 = 254;
/// Where the zone name starts: right after the 12-octet header.
const ZONE_OFFSET: u16 = 12;
/// Pointers carry 14 bits of offset.
const MAX_POINTER: usize = 0x3FFF;

/// An UPDATE being filled RRset by RRset.
pub(super) struct Packer<'a> {
    zone: &'a Fqdn,
    zone_wire: Vec<u8>,
    prerequisites: Vec<u8>,
    updates: Vec<u8>,
    prcount: u16,
    upcount: u16,
    rrsets: usize,
}

/// A point [`Packer::rollback`] returns to.
pub(super) struct Mark {
    prerequisites: usize,
    updates: usize,
    prcount: u16,
    upcount: u16,
    rrsets: usize,
}

impl<'a> Packer<'a> {
    pub(super) fn new(zone: &'a Fqdn) -> Self {
        let mut zone_wire = Vec::new();
        put_labels(&mut zone_wire, zone.as_str());
        zone_wire.push(0);
        Packer {
            zone,
            zone_wire,
            prerequisites: Vec::new(),
            updates: Vec::new(),
            prcount: 0,
            upcount: 0,
            rrsets: 0,
        }
    }

    /// RRsets in the message so far.
    pub(super) fn rrsets(&self) -> usize {
        self.rrsets
    }

    /// The size of the message so far.
    pub(super) fn len(&self) -> usize {
        12 + self.zone_wire.len() + 4 + self.prerequisites.len() + self.updates.len()
    }

    pub(super) fn mark(&self) -> Mark {
        Mark {
            prerequisites: self.prerequisites.len(),
            updates: self.updates.len(),
            prcount: self.prcount,
            upcount: self.upcount,
            rrsets: self.rrsets,
        }
    }

    pub(super) fn rollback(&mut self, m: Mark) {
        self.prerequisites.truncate(m.prerequisites);
        self.updates.truncate(m.updates);
        self.prcount = m.prcount;
        self.upcount = m.upcount;
        self.rrsets = m.rrsets;
    }

    /// Adds one RRset's prerequisite (§2.4.2 with the records seen, or §2.4.3 when none were)
    /// and its deletes (§2.5.4) and adds (§2.5.1). Record counts saturate at 65535, which no
    /// message of 65535 octets can reach.
    pub(super) fn push(&mut self, c: &RrsetChange) {
        let start = 12 + self.zone_wire.len() + 4 + self.prerequisites.len();
        let (owner_name, zone) = (c.owner.as_str(), self.zone.as_str().trim_end_matches('.'));
        let relative = if zone.is_empty() || owner_name == zone {
            Some(if zone.is_empty() { owner_name } else { "" })
        } else {
            owner_name
                .strip_suffix(zone)
                .and_then(|rest| rest.strip_suffix('.'))
        };
        // The owner in full the first time: its labels below the zone, then the zone pointer.
        let full = |buf: &mut Vec<u8>| match relative {
            Some(labels) => {
                put_labels(buf, labels);
                buf.extend_from_slice(&(0xC000 | ZONE_OFFSET).to_be_bytes());
            }
            // Not below the zone: the server answers NOTZONE, as it would for hickory's form.
            None => {
                put_labels(buf, c.owner.as_str());
                buf.push(0);
            }
        };
        let again = |buf: &mut Vec<u8>| {
            if start <= MAX_POINTER {
                buf.extend_from_slice(&(0xC000 | start as u16).to_be_bytes());
            } else {
                full(buf);
            }
        };
        let mut first = true;
        let mut owner = |buf: &mut Vec<u8>| {
            if std::mem::take(&mut first) {
                full(buf)
            } else {
                again(buf)
            }
        };
        if c.seen.is_empty() {
            owner(&mut self.prerequisites);
            put_fixed(&mut self.prerequisites, CLASS_NONE, 0);
            self.prerequisites.extend_from_slice(&0u16.to_be_bytes());
            self.prcount = self.prcount.saturating_add(1);
        } else {
            for r in &c.seen {
                owner(&mut self.prerequisites);
                put_fixed(&mut self.prerequisites, CLASS_IN, 0);
                put_srv(&mut self.prerequisites, r);
                self.prcount = self.prcount.saturating_add(1);
            }
        }
        for r in &c.delete {
            owner(&mut self.updates);
            put_fixed(&mut self.updates, CLASS_NONE, 0);
            put_srv(&mut self.updates, r);
            self.upcount = self.upcount.saturating_add(1);
        }
        for r in &c.add {
            owner(&mut self.updates);
            put_fixed(&mut self.updates, CLASS_IN, r.ttl);
            put_srv(&mut self.updates, r);
            self.upcount = self.upcount.saturating_add(1);
        }
        self.rrsets += 1;
    }

    /// The message (ID 0: the client sets it when sending).
    pub(super) fn finish(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(self.len());
        m.extend_from_slice(&0u16.to_be_bytes()); // ID
        m.extend_from_slice(&(5u16 << 11).to_be_bytes()); // QR 0, opcode UPDATE
        for count in [1, self.prcount, self.upcount, 0] {
            m.extend_from_slice(&count.to_be_bytes());
        }
        m.extend_from_slice(&self.zone_wire);
        m.extend_from_slice(&SOA.to_be_bytes());
        m.extend_from_slice(&CLASS_IN.to_be_bytes());
        m.extend_from_slice(&self.prerequisites);
        m.extend_from_slice(&self.updates);
        m
    }
}

/// The labels of a dotted name (no terminating zero); `""` writes nothing.
fn put_labels(buf: &mut Vec<u8>, dotted: &str) {
    for label in dotted.split('.').filter(|l| !l.is_empty()) {
        // Names were checked when read (labels of at most 63 octets).
        buf.push(label.len().min(63) as u8);
        buf.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
}

/// TYPE SRV, CLASS and TTL.
fn put_fixed(buf: &mut Vec<u8>, class: u16, ttl: u32) {
    buf.extend_from_slice(&SRV.to_be_bytes());
    buf.extend_from_slice(&class.to_be_bytes());
    buf.extend_from_slice(&ttl.to_be_bytes());
}

/// RDLENGTH and the SRV RDATA (RFC 2782), the target uncompressed.
fn put_srv(buf: &mut Vec<u8>, r: &SrvRecord) {
    let mut target = Vec::new();
    put_labels(&mut target, r.target.as_str());
    target.push(0);
    buf.extend_from_slice(&((6 + target.len()) as u16).to_be_bytes());
    buf.extend_from_slice(&r.priority.to_be_bytes());
    buf.extend_from_slice(&r.weight.to_be_bytes());
    buf.extend_from_slice(&r.port.to_be_bytes());
    buf.extend_from_slice(&target);
}
