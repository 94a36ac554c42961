//! Criterion benchmarks for issue 13: `validate` (the configuration parsed and checked from a
//! string) and `plan::diff` at 10,000 and 100,000 domains, generated in memory (1,000 zones
//! of 10 or 100 domains, two KMS hosts each; the observed state a converged one, so the diff
//! is a no-op plan's), and building the UPDATE messages of one zone holding 10,000 and 100,000
//! new RRsets (split into messages that fit, names compressed). Run with `cargo bench --bench scale`; under `cargo test --all-targets`
//! each benchmark runs once.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kmsdns::model::{
    DesiredState, ObservedRrset, ObservedState, ObservedZone, ServerTarget, Transport, ZoneTarget,
};

/// The configuration of `zones` zones of `per_zone` domains each (what scripts/gen_estate.py
/// writes).
fn config(zones: usize, per_zone: usize) -> String {
    let mut out = String::from(
        "[defaults]\nkey = \"kms-update\"\n\n[keys.kms-update]\nfile = \"kms-update.key\"\n\n\
         [servers.lab]\naddress = \"127.0.0.1:5300\"\n\n\
         [[hosts]]\nname = \"kms1.corp.example.com\"\n\n\
         [[hosts]]\nname = \"kms2.corp.example.com\"\npriority = 10\n\n",
    );
    for z in 0..zones {
        for d in 0..per_zone {
            out.push_str(&format!(
                "[[domains]]\nname = \"d{d:02}.z{z:04}.example\"\nzone = \"z{z:04}.example\"\nserver = \"lab\"\n\n"
            ));
        }
    }
    out
}

/// What a converged estate reads back: every domain's records as the file asks, zone by zone.
fn converged(desired: &DesiredState) -> ObservedState {
    let server = ServerTarget {
        label: "lab (127.0.0.1:5300)".into(),
        address: "127.0.0.1:5300".parse().expect("address"),
        fallbacks: Vec::new(),
        discovered: false,
        transport: Transport::Udp,
        timeout_ms: 3000,
        retries: 2,
        max_inflight: kmsdns::model::DEFAULT_MAX_INFLIGHT,
        key: Some("kms-update".into()),
    };
    let mut zones: Vec<ObservedZone> = Vec::new();
    for d in &desired.domains {
        let zone = d
            .zone
            .clone()
            .expect("the generated domains name their zone");
        if zones.last().is_none_or(|z| z.target.zone != zone) {
            zones.push(ObservedZone {
                target: ZoneTarget {
                    zone,
                    zone_discovered: false,
                    server: server.clone(),
                },
                domains: Vec::new(),
                rrsets: Vec::new(),
                failover: None,
                error: None,
            });
        }
        let z = zones.last_mut().expect("just pushed");
        z.domains.push(d.name.clone());
        z.rrsets.push(ObservedRrset {
            domain: d.name.clone(),
            records: d.records.clone(),
        });
    }
    ObservedState {
        zones,
        failed_domains: Vec::new(),
    }
}

fn scale(c: &mut Criterion) {
    let path = Path::new("kmsdns.toml");
    let mut group = c.benchmark_group("scale");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (zones, per_zone) in [(1_000, 10), (1_000, 100)] {
        let n = zones * per_zone;
        let text = config(zones, per_zone);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("validate", n), &text, |b, text| {
            b.iter(|| kmsdns::config::from_str(path, black_box(text)).expect("valid"))
        });
        let desired = kmsdns::config::from_str(path, &text).expect("valid");
        let observed = converged(&desired);
        group.bench_with_input(
            BenchmarkId::new("diff", n),
            &(desired, observed),
            |b, (desired, observed)| {
                b.iter(|| {
                    let plan = kmsdns::plan::diff(black_box(desired), black_box(observed));
                    assert!(!plan.has_changes());
                    plan
                })
            },
        );
    }
    for n in [10_000usize, 100_000] {
        let zone = kmsdns::model::Fqdn::parse_domain("big.example").expect("zone");
        let host = |name: &str, priority| kmsdns::model::SrvRecord {
            target: kmsdns::model::Fqdn::parse_domain(name).expect("host"),
            port: 1688,
            priority,
            weight: 0,
            ttl: 3600,
        };
        let changes: Vec<kmsdns::model::RrsetChange> = (0..n)
            .map(|i| kmsdns::model::RrsetChange {
                owner: kmsdns::model::Fqdn::parse_domain(&format!("d{i:06}.big.example"))
                    .expect("domain")
                    .kms_owner(),
                seen: Vec::new(),
                delete: Vec::new(),
                add: vec![
                    host("kms1.corp.example.com", 0),
                    host("kms2.corp.example.com", 10),
                ],
            })
            .collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::new("build_updates", n),
            &changes,
            |b, changes| {
                b.iter(|| {
                    let batches = kmsdns::dns::update::build_updates(&zone, black_box(changes))
                        .expect("fits");
                    assert!(batches.len() > 1);
                    batches
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);
