//! Property tests (proptest) of the pure core: the RRset diff applied to what was read gives
//! what the config asks for, every UPDATE round-trips through hickory-proto carrying exactly the
//! plan, and `render bind` / `render nsupdate` parse back to the config's records (the bind
//! output also through `named-checkzone -D` for a few cases).

use std::collections::{BTreeMap, BTreeSet};

use hickory_proto::op::{Message, OpCode};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};
use kmsdns::dns::update::build_update;
use kmsdns::model::{Fqdn, RrsetChange, SrvRecord};
use kmsdns::plan::diff_rrset;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;

/// SRV targets: few, so that current and desired overlap.
pub(crate) const HOSTS: [&str; 5] = [
    "kms1.example.com",
    "kms2.example.com",
    "kms3.corp.example.com",
    "self.example.com",
    "kms.example.net",
];
const TTLS: [u32; 4] = [0, 60, 600, 3600];

/// `name` with random letters upper-cased and maybe a trailing dot: the same name to
/// `Fqdn::parse_host`.
pub(crate) fn spelling(name: &'static str) -> impl Strategy<Value = String> {
    (vec(any::<bool>(), name.len()), any::<bool>()).prop_map(move |(caps, dot)| {
        let mut s: String = name
            .chars()
            .zip(caps)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        if dot {
            s.push('.');
        }
        s
    })
}

fn host() -> impl Strategy<Value = Fqdn> {
    prop::sample::select(&HOSTS[..])
        .prop_flat_map(spelling)
        .prop_map(|s| Fqdn::parse_host(&s).expect("a valid host name"))
}

fn ttl() -> impl Strategy<Value = u32> {
    prop::sample::select(&TTLS[..])
}

/// A record with a placeholder TTL (set per RRset by the callers).
fn record() -> impl Strategy<Value = SrvRecord> {
    (
        host(),
        prop::sample::select(vec![1688u16, 1700]),
        prop::sample::select(vec![0u16, 10]),
        prop::sample::select(vec![0u16, 50]),
    )
        .prop_map(|(target, port, priority, weight)| SrvRecord {
            target,
            port,
            priority,
            weight,
            ttl: 0,
        })
}

/// What a server may hold: distinct RDATA; one TTL (BIND) or one per record (`uniform` false).
fn current() -> impl Strategy<Value = (Vec<SrvRecord>, bool)> {
    (vec((record(), ttl()), 0..7), any::<bool>(), ttl()).prop_map(|(recs, uniform, one)| {
        let mut out: Vec<SrvRecord> = Vec::new();
        for (mut r, t) in recs {
            r.ttl = if uniform { one } else { t };
            if !out.iter().any(|o| o.rdata() == r.rdata()) {
                out.push(r);
            }
        }
        (out, uniform)
    })
}

/// What a valid config asks for: one record per target, one TTL.
fn desired() -> impl Strategy<Value = Vec<SrvRecord>> {
    (vec(record(), 0..5), ttl()).prop_map(|(recs, t)| {
        let mut out: Vec<SrvRecord> = Vec::new();
        for mut r in recs {
            r.ttl = t;
            if !out.iter().any(|o| o.target == r.target) {
                out.push(r);
            }
        }
        out.sort();
        out
    })
}

fn owner(domain: &str) -> Fqdn {
    Fqdn::parse_domain(domain).unwrap().kms_owner()
}

/// RFC 2136 §3.4.2 per record: a delete removes the RR with that RDATA whatever its TTL, an
/// add inserts it (replacing one with the same RDATA).
fn apply_per_record(current: &[SrvRecord], c: &RrsetChange) -> BTreeSet<SrvRecord> {
    let mut rrset: BTreeMap<String, SrvRecord> =
        current.iter().map(|r| (r.rdata(), r.clone())).collect();
    for d in &c.delete {
        rrset.remove(&d.rdata());
    }
    for a in &c.add {
        rrset.insert(a.rdata(), a.clone());
    }
    rrset.into_values().collect()
}

/// BIND: one TTL per RRset, the TTL of the record added last. `None` when empty.
fn apply_bind(current: &[SrvRecord], c: &RrsetChange) -> (BTreeSet<String>, Option<u32>) {
    let mut ttl = current.first().map(|r| r.ttl);
    let mut rdata: BTreeSet<String> = current.iter().map(SrvRecord::rdata).collect();
    for d in &c.delete {
        rdata.remove(&d.rdata());
    }
    for a in &c.add {
        rdata.insert(a.rdata());
        ttl = Some(a.ttl);
    }
    let ttl = if rdata.is_empty() { None } else { ttl };
    (rdata, ttl)
}

fn rdatas<'a>(recs: impl IntoIterator<Item = &'a SrvRecord>) -> BTreeSet<String> {
    recs.into_iter().map(SrvRecord::rdata).collect()
}

/// The judgement of a change against the state it was planned from and the state it leads to.
fn check_judge(c: &RrsetChange, after: &BTreeSet<SrvRecord>) -> Result<(), TestCaseError> {
    let expected = c.expected_after();
    prop_assert_eq!(&expected, &after.iter().cloned().collect::<Vec<_>>());
    let j = c.judge(&expected);
    prop_assert!(j.applied, "judge(expected_after) not applied: {:?}", j);
    prop_assert!(j.missing.is_empty() && j.unexpected.is_empty(), "{:?}", j);
    if !c.is_empty() {
        let j = c.judge(&c.seen);
        prop_assert!(j.before, "judge(seen) not before: {:?}", j);
        prop_assert!(!j.applied, "judge(seen) says applied: {:?}", j);
        prop_assert!(!c.judge(&expected).before, "after judged as before");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// prune = true: applying the change to what was read gives exactly the desired RRset.
    #[test]
    fn diff_applied_gives_desired((current, uniform) in current(), desired in desired()) {
        let owner = owner("corp.example.com");
        let diff = diff_rrset(&owner, &current, &desired, true);
        prop_assert!(diff.unmanaged.is_empty() && diff.ttl_kept.is_empty());
        let c = diff.to_rrset_change();
        prop_assert_eq!(&c.seen, &current);
        let after = apply_per_record(&current, &c);
        let want: BTreeSet<SrvRecord> = desired.iter().cloned().collect();
        prop_assert_eq!(&after, &want);
        let same = current.iter().cloned().collect::<BTreeSet<_>>() == want;
        prop_assert_eq!(c.is_empty(), same, "an empty change iff nothing differs");
        check_judge(&c, &after)?;
        if uniform {
            let (rdata, ttl) = apply_bind(&current, &c);
            prop_assert_eq!(rdata, rdatas(&desired));
            prop_assert_eq!(ttl, desired.first().map(|r| r.ttl));
        }
    }

    /// prune = false: the desired records plus the foreign ones, and our TTL unless a kept
    /// foreign member set the RRset's TTL (then reported in `ttl_kept`).
    #[test]
    fn diff_without_prune_keeps_unmanaged((current, uniform) in current(), desired in desired()) {
        let owner = owner("corp.example.com");
        let diff = diff_rrset(&owner, &current, &desired, false);
        let foreign: Vec<SrvRecord> = current
            .iter()
            .filter(|r| !desired.iter().any(|d| d.target == r.target))
            .cloned()
            .collect();
        prop_assert_eq!(&diff.unmanaged, &foreign);
        let c = diff.to_rrset_change();
        let after = apply_per_record(&current, &c);
        let mut want: BTreeSet<SrvRecord> = desired.iter().cloned().collect();
        for k in &diff.ttl_kept {
            let ours = SrvRecord { ttl: k.desired_ttl, ..k.record.clone() };
            prop_assert!(want.remove(&ours), "kept TTL of a record not desired: {:?}", k);
            prop_assert!(current.contains(&k.record));
            prop_assert!(foreign.iter().any(|f| f.target == k.foreign && f.ttl == k.record.ttl));
            want.insert(k.record.clone());
        }
        want.extend(foreign.iter().cloned());
        prop_assert_eq!(&after, &want);
        prop_assert_eq!(rdatas(&after), &rdatas(&desired) | &rdatas(&foreign));
        check_judge(&c, &after)?;
        if uniform {
            let (rdata, ttl) = apply_bind(&current, &c);
            prop_assert_eq!(rdata, &rdatas(&desired) | &rdatas(&foreign));
            if diff.ttl_kept.is_empty() && !desired.is_empty() {
                prop_assert_eq!(ttl, Some(desired[0].ttl));
            }
        }
    }
}

/// One record of a parsed message: owner, class, TTL, and the SRV RDATA (`None`: empty RDATA,
/// the "RRset does not exist" prerequisite).
type Wire = (Fqdn, DNSClass, u32, Option<(u16, u16, u16, Fqdn)>);

fn wire(r: &Record) -> Wire {
    assert_eq!(r.record_type(), RecordType::SRV, "{r:?}");
    let owner = Fqdn::from_ascii_unchecked(&r.name.to_ascii());
    let data = match &r.data {
        RData::SRV(s) => Some((
            s.priority,
            s.weight,
            s.port,
            Fqdn::parse_host(&s.target.to_ascii()).unwrap(),
        )),
        RData::Update0(t) => {
            assert_eq!(*t, RecordType::SRV);
            None
        }
        other => panic!("unexpected RDATA {other:?}"),
    };
    (owner, r.dns_class, r.ttl, data)
}

fn expect(owner: &Fqdn, r: &SrvRecord, class: DNSClass, ttl: u32) -> Wire {
    let data = (r.priority, r.weight, r.port, r.target.clone());
    (owner.clone(), class, ttl, Some(data))
}

fn multiset(v: impl IntoIterator<Item = Wire>) -> BTreeMap<Wire, usize> {
    let mut m = BTreeMap::new();
    for w in v {
        *m.entry(w).or_insert(0) += 1;
    }
    m
}

const DOMAINS: [&str; 4] = [
    "corp.example.com",
    "example.com",
    "lab.example.com",
    "sales.corp.example.com",
];

/// The RrsetChanges of one zone, as `plan` makes them: one per owner, from random diffs.
fn zone_changes() -> impl Strategy<Value = Vec<RrsetChange>> {
    subsequence(&DOMAINS[..], 0..=DOMAINS.len())
        .prop_flat_map(|ds| {
            let n = ds.len();
            (Just(ds), vec((current(), desired(), any::<bool>()), n..=n))
        })
        .prop_map(|(ds, inputs)| {
            ds.iter()
                .zip(inputs)
                .map(|(d, ((cur, _), want, prune))| {
                    diff_rrset(&owner(d), &cur, &want, prune).to_rrset_change()
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The UPDATE encodes, parses back, and carries exactly the plan's prerequisites and
    /// changes (RFC 2136 §2.4.2/§2.4.3 prerequisites, §2.5.4 deletes before §2.5.1 adds).
    #[test]
    fn update_round_trips_with_exactly_the_plan(changes in zone_changes()) {
        let zone = Fqdn::parse_domain("example.com").unwrap();
        let Some(msg) = build_update(&zone, &changes) else {
            prop_assert!(changes.iter().all(RrsetChange::is_empty));
            return Ok(());
        };
        let live: Vec<&RrsetChange> = changes.iter().filter(|c| !c.is_empty()).collect();
        prop_assert!(!live.is_empty());
        let bytes = msg.to_vec().expect("encodes");
        let back = Message::from_vec(&bytes).expect("parses back");
        prop_assert_eq!(back.metadata.op_code, OpCode::Update);
        prop_assert_eq!(back.queries.len(), 1);
        prop_assert_eq!(back.queries[0].query_type(), RecordType::SOA);
        prop_assert_eq!(back.queries[0].query_class(), DNSClass::IN);
        prop_assert_eq!(Fqdn::from_ascii_unchecked(&back.queries[0].name().to_ascii()), zone);

        let mut prereq = Vec::new();
        for c in &live {
            if c.seen.is_empty() {
                prereq.push((c.owner.clone(), DNSClass::NONE, 0, None));
            }
            prereq.extend(c.seen.iter().map(|r| expect(&c.owner, r, DNSClass::IN, 0)));
        }
        let answers: Vec<Wire> = back.answers.iter().map(wire).collect();
        prop_assert_eq!(multiset(answers), multiset(prereq));

        let deletes = live
            .iter()
            .flat_map(|c| c.delete.iter().map(|r| expect(&c.owner, r, DNSClass::NONE, 0)));
        let adds = live
            .iter()
            .flat_map(|c| c.add.iter().map(|r| expect(&c.owner, r, DNSClass::IN, r.ttl)));
        let update: Vec<Wire> = back.authorities.iter().map(wire).collect();
        let n_del = update.iter().take_while(|w| w.1 == DNSClass::NONE).count();
        prop_assert!(update[n_del..].iter().all(|w| w.1 == DNSClass::IN), "deletes then adds");
        prop_assert_eq!(multiset(update[..n_del].to_vec()), multiset(deletes));
        prop_assert_eq!(multiset(update[n_del..].to_vec()), multiset(adds));
        prop_assert!(back.additionals.is_empty());
    }
}

mod render;
