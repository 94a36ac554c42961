//! Writes the seed corpora to `fuzz/seeds/<target>/` (run by `fuzz/run.sh` when a seed
//! directory is missing; the seeds are committed). Inputs come from the repository
//! (config.example.toml, tests/fixtures/multi.toml) or are built here with kmsdns itself
//! (key files in the tsig-keygen format, a saved plan, signed TSIG messages).

use std::fs;
use std::path::{Path, PathBuf};

use kmsdns::dns::tsig::{DEFAULT_FUDGE, sign, sign_reply};
use kmsdns::model::{
    DomainProblem, Fqdn, ObservedRrset, ObservedState, ObservedZone, Problem, ServerTarget,
    SrvRecord, Transport, TsigAlgorithm, ZoneTarget,
};
use kmsdns_fuzz::{CONFIG_TEXT, NOW, desired, key};

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

/// A query for `_vlmcs._tcp.example.com. SRV`.
fn query(id: u16) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in ["_vlmcs", "_tcp", "example", "com"] {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&[0, 33, 0, 1]);
    m
}

/// Its reply: one SRV answer with compression pointers.
fn reply(id: u16) -> Vec<u8> {
    let mut m = query(id);
    m[2] = 0x85;
    m[3] = 0x80;
    m[7] = 1;
    m.extend_from_slice(&[0xC0, 12, 0, 33, 0, 1, 0, 0, 0x0E, 0x10]);
    let mut rdata = vec![0, 0, 0, 0, 0x06, 0x98];
    rdata.extend_from_slice(&[4, b'k', b'm', b's', b'1', 0xC0, 12 + 7 + 5]);
    m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    m.extend(rdata);
    m
}

/// The tsig_verify input layout (see fuzz_targets/tsig_verify.rs).
fn tsig_input(flags: u8, offset: i16, fudge: u8, request_mac: &[u8], message: &[u8]) -> Vec<u8> {
    let mut v = vec![flags];
    v.extend_from_slice(&offset.to_be_bytes());
    v.push(fudge);
    v.push(0);
    v.push(request_mac.len() as u8);
    v.extend_from_slice(request_mac);
    v.extend_from_slice(message);
    v
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let repo = root.parent().unwrap();
    let seeds = root.join("seeds");

    // config
    let dir = seeds.join("config");
    write(&dir, "config.example.toml", CONFIG_TEXT);
    write(
        &dir,
        "multi.toml",
        fs::read(repo.join("tests/fixtures/multi.toml")).unwrap(),
    );
    write(&dir, "minimal.toml", "[[hosts]]\nname = \"kms1.example.com\"\n\n[[domains]]\nname = \"example.com\"\n");

    // keyfile: tsig-keygen's format for every algorithm, plus comments and odd layout.
    let dir = seeds.join("keyfile");
    let mut all = String::new();
    for alg in TsigAlgorithm::ALL {
        let text = key(alg).to_bind_key_file();
        write(&dir, &format!("{}.key", alg.name()), &text);
        all.push_str(&text);
    }
    all.push_str("# a comment\n// another\n/* block\n comment */ key other.example. {\n\talgorithm hmac-sha512; secret \"c2VjcmV0c2VjcmV0\";\n};\n");
    write(&dir, "several.key", all);

    // key_env_value: byte 0 = algorithm selector (bit 7: configured), then the value.
    let dir = seeds.join("key_env_value");
    let b64 = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=";
    write(&dir, "plain", format!("\0{b64}"));
    write(&dir, "name", format!("\0kms-update.example.com:{b64}"));
    write(&dir, "alg", format!("\u{7f}hmac-sha256:kms-update.example.com.:{b64}"));
    write(&dir, "configured", [&[0x81u8][..], format!("hmac-sha384:kms-update.example.com:{b64}").as_bytes()].concat());

    // resolv_conf
    let dir = seeds.join("resolv_conf");
    write(&dir, "resolv.conf", "# generated\nnameserver 192.0.2.1\nnameserver 2001:db8::1\nnameserver fe80::1%lo\nsearch corp.example.com example.com\noptions ndots:2 timeout:1 attempts:3 rotate edns0\n");
    write(&dir, "domain.conf", "domain example.net\nnameserver 127.0.0.53\nsortlist 130.155.160.0/255.255.240.0 130.155.0.0\noptions trust-ad\n");
    write(&dir, "resolver", "127.0.0.1:5353\n[::1]:53\n");

    // saved_plan: a real plan of config.example.toml against a made-up observed state.
    let dir = seeds.join("saved_plan");
    let d = desired();
    let srv = |t: &str, prio: u16| SrvRecord {
        target: Fqdn::parse_host(t).unwrap(),
        port: 1688,
        priority: prio,
        weight: 0,
        ttl: 3600,
    };
    let target = |zone: &str, addr: &str, transport, key: Option<&str>| ZoneTarget {
        zone: Fqdn::parse_domain(zone).unwrap(),
        zone_discovered: false,
        server: ServerTarget {
            label: format!("primary ({addr})"),
            address: addr.parse().unwrap(),
            fallbacks: vec![],
            discovered: false,
            transport,
            timeout_ms: 3000,
            retries: 2,
            key: key.map(str::to_string),
        },
    };
    let corp = Fqdn::parse_domain("corp.example.com").unwrap();
    let branch = Fqdn::parse_domain("branch.example.net").unwrap();
    let observed = ObservedState {
        zones: vec![
            ObservedZone {
                target: target("example.com", "192.0.2.53:53", Transport::Udp, Some("kms-update")),
                domains: vec![corp.clone()],
                rrsets: vec![ObservedRrset {
                    domain: corp,
                    records: vec![srv("old-kms.corp.example.com", 0), srv("kms1.corp.example.com", 5)],
                }],
                error: None,
                failover: None,
            },
            ObservedZone {
                target: target("example.net", "[2001:db8::53]:53", Transport::Tcp, Some("branch-update")),
                domains: vec![branch.clone()],
                rrsets: vec![ObservedRrset { domain: branch, records: vec![] }],
                error: None,
                failover: None,
            },
        ],
        failed_domains: vec![DomainProblem {
            domain: Fqdn::parse_domain("lab.example.org").unwrap(),
            problem: Problem {
                message: "no SOA found".to_string(),
                hint: "check the name".to_string(),
            },
        }],
    };
    let plan = kmsdns::plan::diff(d, &observed);
    let text = serde_json::to_string_pretty(&plan).unwrap();
    kmsdns::plan::saved::load("seed", &text, d).expect("the seed plan loads");
    write(&dir, "plan.json", &text);
    write(&dir, "plan-compact.json", serde_json::to_string(&plan).unwrap());
    let empty = kmsdns::plan::diff(d, &ObservedState::default());
    write(&dir, "empty.json", serde_json::to_string_pretty(&empty).unwrap());

    // tsig_verify: signed requests and replies for every algorithm, and the raw messages.
    let dir = seeds.join("tsig_verify");
    for (i, alg) in TsigAlgorithm::ALL.into_iter().enumerate() {
        let k = key(alg);
        let sel = (i as u8) << 4;
        let req = sign(&query(0x1234), &k, NOW, DEFAULT_FUDGE).unwrap();
        let rep = sign_reply(&reply(0x1234), &k, &req.mac, NOW + 1, DEFAULT_FUDGE).unwrap();
        write(&dir, &format!("request-{}", alg.name()), tsig_input(sel, 10, 0, &[], &req.bytes));
        write(&dir, &format!("reply-{}", alg.name()), tsig_input(sel | 1, 0, 0, &req.mac, &rep.bytes));
        write(&dir, &format!("sign-request-{}", alg.name()), tsig_input(sel | 2, 0, 255, &[], &query(7)));
        write(&dir, &format!("sign-reply-{}", alg.name()), tsig_input(sel | 3, -400, 200, &req.mac, &reply(7)));
    }
    println!("seeds written to {}", seeds.display());
}
