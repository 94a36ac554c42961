//! TKEY (RFC 2930) for GSS-API key negotiation (RFC 3645 §3.1), by hand: hickory-proto has no
//! TKEY record type. A query carries the question `<key name> TKEY ANY` and the TKEY record
//! in the ADDITIONAL section (Samba answers FORMERR when it is in the answer section); the
//! reply's TKEY record may be in any section.
//!
//! TKEY RDATA: algorithm name, inception (u32), expiration (u32), mode (u16: 3 = GSS-API),
//! error (u16), key size + key data (the GSS token), other size + other data.

use crate::dns::tsig::{TsigError, read_name, read_u16};

/// RR type TKEY.
pub const TYPE_TKEY: u16 = 249;
const CLASS_ANY: u16 = 255;
/// TKEY mode 3: GSS-API negotiation.
pub const MODE_GSSAPI: u16 = 3;

/// A name (dotted, no trailing dot) in uncompressed lowercase wire form.
pub fn name_wire(name: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        if label.len() > 63 {
            return Err(format!("label `{label}` is longer than 63 octets"));
        }
        out.push(label.len() as u8);
        out.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
    }
    out.push(0);
    if out.len() > 255 {
        return Err("the name is longer than 255 octets".into());
    }
    Ok(out)
}

/// Builds a TKEY query with message ID `id` for `key_name`, carrying GSS `token`.
pub fn build_query(
    id: u16,
    key_name: &str,
    algorithm: &str,
    token: &[u8],
    now: u64,
) -> Result<Vec<u8>, String> {
    let owner = name_wire(key_name)?;
    let mut m = id.to_be_bytes().to_vec();
    // QUERY, RD=0; QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 1.
    m.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    m.extend_from_slice(&owner);
    m.extend_from_slice(&TYPE_TKEY.to_be_bytes());
    m.extend_from_slice(&CLASS_ANY.to_be_bytes());
    let mut rdata = name_wire(algorithm)?;
    let inception = now as u32;
    let expiration = now.saturating_add(86_400) as u32;
    rdata.extend_from_slice(&inception.to_be_bytes());
    rdata.extend_from_slice(&expiration.to_be_bytes());
    rdata.extend_from_slice(&MODE_GSSAPI.to_be_bytes());
    rdata.extend_from_slice(&0u16.to_be_bytes());
    let len = u16::try_from(token.len()).map_err(|_| "the GSS token exceeds 65535 octets")?;
    rdata.extend_from_slice(&len.to_be_bytes());
    rdata.extend_from_slice(token);
    rdata.extend_from_slice(&0u16.to_be_bytes());
    m.extend_from_slice(&owner);
    m.extend_from_slice(&TYPE_TKEY.to_be_bytes());
    m.extend_from_slice(&CLASS_ANY.to_be_bytes());
    m.extend_from_slice(&0u32.to_be_bytes());
    let rdlen = u16::try_from(rdata.len()).map_err(|_| "the TKEY record is too long")?;
    m.extend_from_slice(&rdlen.to_be_bytes());
    m.extend(rdata);
    Ok(m)
}

/// A TKEY record read from a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TkeyRecord {
    pub owner: String,
    pub algorithm: String,
    pub inception: u32,
    pub expiration: u32,
    pub mode: u16,
    pub error: u16,
    pub key: Vec<u8>,
    pub other: Vec<u8>,
}

/// The parts of a TKEY reply kmsdns needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TkeyReply {
    pub id: u16,
    pub is_response: bool,
    pub rcode: u8,
    /// The TKEY record for our key name, if the reply has one.
    pub tkey: Option<TkeyRecord>,
}

fn bad(e: TsigError) -> String {
    e.to_string()
}

/// Reads a TKEY reply: header, the TKEY record whose owner is `key_name` (any section).
pub fn parse_reply(msg: &[u8], key_name: &str) -> Result<TkeyReply, String> {
    if msg.len() < 12 {
        return Err("shorter than the 12-octet header".into());
    }
    let count = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]) as usize;
    let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
    let mut pos = 12;
    for _ in 0..qd {
        pos = read_name(msg, pos).map_err(bad)?.1 + 4;
    }
    let want = key_name.trim_end_matches('.').to_ascii_lowercase();
    let mut tkey = None;
    for _ in 0..an + ns + ar {
        let (owner, after) = read_name(msg, pos).map_err(bad)?;
        let rtype = read_u16(msg, after).map_err(bad)?;
        let rdlen = read_u16(msg, after + 8).map_err(bad)? as usize;
        let rdata = after + 10;
        pos = rdata + rdlen;
        if pos > msg.len() {
            return Err("the message ends inside a record".into());
        }
        if rtype == TYPE_TKEY && owner == want && tkey.is_none() {
            tkey = Some(parse_rdata(&msg[..pos], owner, rdata)?);
        }
    }
    Ok(TkeyReply {
        id: u16::from_be_bytes([msg[0], msg[1]]),
        is_response: msg[2] & 0x80 != 0,
        rcode: msg[3] & 0x0f,
        tkey,
    })
}

fn parse_rdata(rd: &[u8], owner: String, start: usize) -> Result<TkeyRecord, String> {
    let (algorithm, mut p) = read_name(rd, start).map_err(bad)?;
    let u32_at = |p: usize| {
        rd.get(p..p + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| "the TKEY record is cut short".to_string())
    };
    let inception = u32_at(p)?;
    let expiration = u32_at(p + 4)?;
    p += 8;
    let mode = read_u16(rd, p).map_err(bad)?;
    let error = read_u16(rd, p + 2).map_err(bad)?;
    let key_len = read_u16(rd, p + 4).map_err(bad)? as usize;
    p += 6;
    let key = rd
        .get(p..p + key_len)
        .ok_or("the TKEY key data is cut short")?
        .to_vec();
    p += key_len;
    let other_len = read_u16(rd, p).map_err(bad)? as usize;
    p += 2;
    let other = rd
        .get(p..p + other_len)
        .ok_or("the TKEY other data is cut short")?
        .to_vec();
    if p + other_len != rd.len() {
        return Err("the TKEY RDATA length does not match its fields".into());
    }
    Ok(TkeyRecord {
        owner,
        algorithm,
        inception,
        expiration,
        mode,
        error,
        key,
        other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reply a server builds: our query turned into a response, the TKEY record moved to
    /// the answer section with the server's token and error.
    fn reply_to(query: &[u8], token: &[u8], error: u16) -> Vec<u8> {
        reply_to_name(query, "k1.sig-ns1.example.com", token, error)
    }

    fn reply_to_name(query: &[u8], name: &str, token: &[u8], error: u16) -> Vec<u8> {
        let mut q = query.to_vec();
        q[2] |= 0x80;
        // Question stays; the TKEY RR goes to the answer section: ANCOUNT 1, ARCOUNT 0.
        q[6..8].copy_from_slice(&1u16.to_be_bytes());
        q[10..12].copy_from_slice(&0u16.to_be_bytes());
        let owner_at = 12;
        let rr_start = owner_at + name_wire(name).unwrap().len() + 4;
        let mut out = q[..rr_start].to_vec();
        // Owner as a compression pointer to the question name.
        out.extend_from_slice(&[0xC0, 12]);
        out.extend_from_slice(&TYPE_TKEY.to_be_bytes());
        out.extend_from_slice(&CLASS_ANY.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        let mut rdata = name_wire("gss-tsig").unwrap();
        rdata.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
        rdata.extend_from_slice(&MODE_GSSAPI.to_be_bytes());
        rdata.extend_from_slice(&error.to_be_bytes());
        rdata.extend_from_slice(&(token.len() as u16).to_be_bytes());
        rdata.extend_from_slice(token);
        rdata.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend(rdata);
        out
    }

    #[test]
    fn query_layout_matches_rfc_2930() {
        let q = build_query(0xBEEF, "k1.sig-NS1.example.com.", "gss-tsig", b"tok", 1000).unwrap();
        assert_eq!(&q[..12], &[0xBE, 0xEF, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
        let owner = name_wire("k1.sig-ns1.example.com").unwrap();
        assert_eq!(
            &q[12..12 + owner.len()],
            owner.as_slice(),
            "lowercase, uncompressed"
        );
        let mut p = 12 + owner.len();
        assert_eq!(&q[p..p + 4], &[0, 249, 0, 255], "question: TKEY ANY");
        p += 4;
        assert_eq!(
            &q[p..p + owner.len()],
            owner.as_slice(),
            "TKEY owner uncompressed"
        );
        p += owner.len();
        assert_eq!(&q[p..p + 8], &[0, 249, 0, 255, 0, 0, 0, 0]);
        p += 8;
        let rdlen = u16::from_be_bytes([q[p], q[p + 1]]) as usize;
        assert_eq!(q.len(), p + 2 + rdlen);
        let rd = &q[p + 2..];
        let alg = name_wire("gss-tsig").unwrap();
        assert_eq!(&rd[..alg.len()], alg.as_slice());
        let f = &rd[alg.len()..];
        assert_eq!(u32::from_be_bytes([f[0], f[1], f[2], f[3]]), 1000);
        assert_eq!(u32::from_be_bytes([f[4], f[5], f[6], f[7]]), 1000 + 86_400);
        assert_eq!(&f[8..12], &[0, 3, 0, 0], "mode 3, error 0");
        assert_eq!(&f[12..14], &[0, 3]);
        assert_eq!(&f[14..17], b"tok");
        assert_eq!(&f[17..], &[0, 0], "no other data");
    }

    #[test]
    fn reply_round_trip_with_compressed_owner() {
        let q = build_query(7, "k1.sig-ns1.example.com", "gss-tsig", b"abc", 5).unwrap();
        let r = reply_to(&q, b"server-token", 0);
        let parsed = parse_reply(&r, "K1.sig-ns1.example.com.").unwrap();
        assert!(parsed.is_response);
        assert_eq!(parsed.id, 7);
        assert_eq!(parsed.rcode, 0);
        let t = parsed.tkey.unwrap();
        assert_eq!(t.owner, "k1.sig-ns1.example.com");
        assert_eq!(t.algorithm, "gss-tsig");
        assert_eq!((t.mode, t.error), (3, 0));
        assert_eq!(t.key, b"server-token");
        // An error and another key name.
        let r = reply_to(&q, b"", 20);
        assert_eq!(
            parse_reply(&r, "k1.sig-ns1.example.com")
                .unwrap()
                .tkey
                .unwrap()
                .error,
            20
        );
        assert!(parse_reply(&r, "other.example.com").unwrap().tkey.is_none());
    }

    proptest::proptest! {
        /// Any token and key name survive the trip through a query and the server's reply;
        /// any cut of the reply is an error, never a panic.
        #[test]
        fn tokens_round_trip(
            token in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
            label in "[a-z0-9]{1,20}",
            cut in 0usize..4000,
        ) {
            let name = format!("{label}.sig-ns1.example.com");
            let q = build_query(1, &name, "gss-tsig", &token, 7).unwrap();
            let r = reply_to_name(&q, &name, &token, 0);
            let t = parse_reply(&r, &name).unwrap().tkey.unwrap();
            proptest::prop_assert_eq!(t.key, token);
            if cut < r.len() {
                let _ = parse_reply(&r[..cut], &name);
            }
        }
    }

    #[test]
    fn broken_replies_are_errors() {
        let q = build_query(7, "k1.sig-ns1.example.com", "gss-tsig", b"abc", 5).unwrap();
        let r = reply_to(&q, b"server-token", 0);
        for cut in [5, 30, r.len() - 1] {
            assert!(
                parse_reply(&r[..cut], "k1.sig-ns1.example.com").is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = r.clone();
        let rdlen_at = r.len() - (name_wire("gss-tsig").unwrap().len() + 8 + 6 + 12 + 2) - 2;
        let rdlen = u16::from_be_bytes([r[rdlen_at], r[rdlen_at + 1]]);
        longer[rdlen_at..rdlen_at + 2].copy_from_slice(&(rdlen - 1).to_be_bytes());
        assert!(parse_reply(&longer, "k1.sig-ns1.example.com").is_err());
        assert!(name_wire(&"a".repeat(64)).is_err());
    }
}
