//! The message walker (RFC 1035 §4.1; TSIG RDATA: RFC 8945 §4.2): opcode, ID, record
//! layout, the TSIG record and MAC, and modified copies of a message.

use std::ops::Range;

use super::*;

// ---- Message walker (RFC 1035 §4.1; TSIG RDATA: RFC 8945 §4.2) ----

/// The opcode: header byte 2, bits 3–6.
pub fn opcode(msg: &[u8]) -> Option<u8> {
    msg.get(2).map(|b| (b >> 3) & 0x0f)
}

pub fn id(msg: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.first()?, *msg.get(1)?]))
}

fn count(msg: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]))
}

/// The offset after the (possibly compressed) name at `pos`.
fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(pos + 1),
            0x00 => pos += 1 + usize::from(len),
            0xc0 => {
                msg.get(pos + 1)?;
                return Some(pos + 2);
            }
            _ => return None, // 0x40 / 0x80: extended label types, not in use
        }
    }
}

/// A resource record's place in a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSpan {
    /// Where its owner name starts.
    pub start: usize,
    pub rtype: u16,
    pub rdata: Range<usize>,
}

/// The end of the question section and every record of a message; `None` if it does not parse
/// or has bytes after its last record.
pub fn layout(msg: &[u8]) -> Option<(usize, Vec<RecordSpan>)> {
    let mut pos = 12;
    for _ in 0..count(msg, 4)? {
        pos = skip_name(msg, pos)? + 4;
    }
    let question_end = pos;
    let total = [6, 8, 10]
        .iter()
        .map(|&at| count(msg, at).map(usize::from))
        .sum::<Option<usize>>()?;
    let mut records = Vec::with_capacity(total);
    for _ in 0..total {
        let start = pos;
        let fixed = skip_name(msg, pos)?;
        let rtype = count(msg, fixed)?;
        let rdlen = usize::from(count(msg, fixed + 8)?);
        let rdata = fixed + 10..fixed + 10 + rdlen;
        if rdata.end > msg.len() {
            return None;
        }
        pos = rdata.end;
        records.push(RecordSpan {
            start,
            rtype,
            rdata,
        });
    }
    (question_end <= msg.len() && pos == msg.len()).then_some((question_end, records))
}

/// The TSIG record: the last additional record, if it is of type TSIG.
pub fn tsig_record(msg: &[u8]) -> Option<RecordSpan> {
    if count(msg, 10)? == 0 {
        return None;
    }
    let (_, records) = layout(msg)?;
    records.into_iter().last().filter(|r| r.rtype == TYPE_TSIG)
}

/// The bytes of the TSIG MAC: after algorithm name, time signed (6), fudge (2) and MAC size (2).
pub fn tsig_mac(msg: &[u8]) -> Option<Range<usize>> {
    let rr = tsig_record(msg)?;
    let size_at = skip_name(msg, rr.rdata.start)? + 8;
    let mac = size_at + 2..size_at + 2 + usize::from(count(msg, size_at)?);
    (mac.end <= rr.rdata.end).then_some(mac)
}

/// `msg` without its TSIG record (ARCOUNT one less); `None` if it has none.
pub fn strip_tsig(msg: &[u8]) -> Option<Vec<u8>> {
    let rr = tsig_record(msg)?;
    let mut out = msg[..rr.start].to_vec();
    let ar = count(msg, 10)? - 1;
    out[10..12].copy_from_slice(&ar.to_be_bytes());
    Some(out)
}

/// A truncated copy of `msg`: TC set, header + question section only, AN/NS/AR counts zero.
pub fn truncated(msg: &[u8]) -> Option<Vec<u8>> {
    let (question_end, _) = layout(msg)?;
    let mut out = msg[..question_end].to_vec();
    out[2] |= 0x02;
    out[6..12].fill(0);
    Some(out)
}
