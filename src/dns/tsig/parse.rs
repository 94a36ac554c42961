//! Reading the TSIG record of a received message: names (with compression), the walk to the
//! last record (a TSIG anywhere else is malformed), and the RDATA fields of RFC 8945 §4.2.

use super::TYPE_TSIG;
use super::error::TsigError;

/// A parsed TSIG record and where it starts in the message.
pub(crate) struct FoundTsig {
    pub(crate) start: usize,
    pub(crate) name: String,
    pub(crate) algorithm: String,
    pub(crate) time_signed: u64,
    pub(crate) fudge: u16,
    pub(crate) mac: Vec<u8>,
    pub(crate) original_id: u16,
    pub(crate) error: u16,
    pub(crate) other: Vec<u8>,
}

pub(super) fn malformed(what: &str) -> TsigError {
    TsigError::Malformed(what.to_string())
}

pub(crate) fn read_u16(msg: &[u8], pos: usize) -> Result<u16, TsigError> {
    msg.get(pos..pos + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| malformed("the message ends inside a record"))
}

/// Reads a (possibly compressed) name at `pos`: the dotted lowercase name and the position
/// after it in the message.
pub(crate) fn read_name(msg: &[u8], mut pos: usize) -> Result<(String, usize), TsigError> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg
            .get(pos)
            .ok_or_else(|| malformed("the message ends inside a name"))?;
        match len {
            0 => {
                let end = end.unwrap_or(pos + 1);
                return Ok((labels.join("."), end));
            }
            l if l & 0xC0 == 0xC0 => {
                let target = (read_u16(msg, pos)? & 0x3FFF) as usize;
                end.get_or_insert(pos + 2);
                jumps += 1;
                // A pointer into the 12-octet header is never a name (RFC 1035 §4.1.4).
                if jumps > 64 || target >= msg.len() || target < 12 {
                    return Err(malformed("a name has a compression loop or a bad pointer"));
                }
                pos = target;
            }
            l if l & 0xC0 != 0 => return Err(malformed("a name has an unknown label type")),
            l => {
                let l = l as usize;
                let label = msg
                    .get(pos + 1..pos + 1 + l)
                    .ok_or_else(|| malformed("the message ends inside a name"))?;
                labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                pos += 1 + l;
            }
        }
    }
}

/// Walks the message to its last record; returns the TSIG record if that is one. A TSIG
/// anywhere else is malformed (RFC 8945 §5.1).
pub(crate) fn find_tsig(msg: &[u8]) -> Result<Option<FoundTsig>, TsigError> {
    if msg.len() < 12 {
        return Err(malformed("shorter than the 12-octet header"));
    }
    let count = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]) as usize;
    let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
    let mut pos = 12;
    for _ in 0..qd {
        pos = read_name(msg, pos)?.1 + 4;
    }
    let total = an + ns + ar;
    let mut found = None;
    for i in 0..total {
        let start = pos;
        let (name, after) = read_name(msg, pos)?;
        let rtype = read_u16(msg, after)?;
        let rdlen = read_u16(msg, after + 8)? as usize;
        let rdata = after + 10;
        pos = rdata + rdlen;
        if pos > msg.len() {
            return Err(malformed("the message ends inside a record"));
        }
        if rtype == TYPE_TSIG {
            if i + 1 != total || ar == 0 {
                return Err(malformed("a TSIG record is not the last additional record"));
            }
            found = Some(parse_tsig_rdata(msg, start, name, rdata, pos)?);
        }
    }
    if pos != msg.len() {
        return Err(malformed("trailing octets after the last record"));
    }
    Ok(found)
}

fn parse_tsig_rdata(
    msg: &[u8],
    start: usize,
    name: String,
    rdata: usize,
    end: usize,
) -> Result<FoundTsig, TsigError> {
    let rd = &msg[..end];
    let (algorithm, mut p) = read_name(rd, rdata)?;
    let time = rd
        .get(p..p + 6)
        .ok_or_else(|| malformed("the TSIG record is cut short"))?;
    let time_signed = time.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    p += 6;
    let fudge = read_u16(rd, p)?;
    let mac_len = read_u16(rd, p + 2)? as usize;
    p += 4;
    let mac = rd
        .get(p..p + mac_len)
        .ok_or_else(|| malformed("the TSIG MAC is cut short"))?
        .to_vec();
    p += mac_len;
    let original_id = read_u16(rd, p)?;
    let error = read_u16(rd, p + 2)?;
    let other_len = read_u16(rd, p + 4)? as usize;
    p += 6;
    let other = rd
        .get(p..p + other_len)
        .ok_or_else(|| malformed("the TSIG other data is cut short"))?
        .to_vec();
    if p + other_len != end {
        return Err(malformed("the TSIG RDATA length does not match its fields"));
    }
    Ok(FoundTsig {
        start,
        name,
        algorithm,
        time_signed,
        fudge,
        mac,
        original_id,
        error,
        other,
    })
}

/// The message as it was before signing: without its TSIG record, ARCOUNT one less, the
/// original ID back (RFC 8945 §4.3.2).
pub(crate) fn unsigned_message(msg: &[u8], tsig: &FoundTsig) -> Vec<u8> {
    let mut unsigned = msg[..tsig.start].to_vec();
    let arcount = u16::from_be_bytes([unsigned[10], unsigned[11]]).saturating_sub(1);
    unsigned[10..12].copy_from_slice(&arcount.to_be_bytes());
    unsigned[0..2].copy_from_slice(&tsig.original_id.to_be_bytes());
    unsigned
}
