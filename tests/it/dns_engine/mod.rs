//! The DNS engine (issue 3) against real servers: state reads, RFC 2136 updates with
//! prerequisites, TSIG error mapping, transports. Every change is checked with `dig`.

mod transport;
mod tsig;
mod updates;

pub(crate) use updates::{add_replace_ttl_delete, prerequisite_guards};

use std::sync::Arc;
use std::time::Duration;

use kmsdns::dns::DnsError;
use kmsdns::dns::client::DnsClient;
use kmsdns::dns::keyfile::parse_key_file;
use kmsdns::dns::query::read_srv;
use kmsdns::dns::transport::Endpoint;
use kmsdns::dns::tsig::TsigKey;
use kmsdns::dns::update::{UpdateReceipt, UpdateReply, build_update, send_update};
use kmsdns::model::Transport;
use kmsdns::model::{Fqdn, SrvRecord};
use kmsdns::plan::diff_rrset as diff;

use crate::harness::{Key, Policy, Server, ServerBuilder, SrvRr, ZoneBuilder};

fn load(key: &Key) -> Arc<TsigKey> {
    let text = std::fs::read_to_string(&key.file).unwrap();
    let keys = parse_key_file(&key.file, &text).expect("harness key files parse");
    Arc::new(keys.into_iter().next().unwrap())
}

fn client(server: &Server, key: Option<Arc<TsigKey>>, transport: Transport) -> DnsClient {
    DnsClient::new(
        Endpoint::new(server.addr(), transport, Duration::from_secs(2)),
        format!("lab ({})", server.addr()),
        key,
    )
}

fn name(s: &str) -> Fqdn {
    Fqdn::parse_domain(s).unwrap()
}

fn rec(target: &str, priority: u16, ttl: u32) -> SrvRecord {
    SrvRecord {
        target: Fqdn::parse_host(target).unwrap(),
        port: 1688,
        priority,
        weight: 0,
        ttl,
    }
}

fn rr(ttl: u32, priority: u16, target: &str) -> SrvRr {
    SrvRr {
        ttl,
        priority,
        weight: 0,
        port: 1688,
        target: format!("{target}."),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Reads each domain's RRset, diffs it against `desired` (prune) and sends one UPDATE for the
/// zone — the same path `apply` takes.
fn converge(
    c: &DnsClient,
    zone: &str,
    wanted: &[(&str, Vec<SrvRecord>)],
) -> Result<Option<UpdateReceipt>, DnsError> {
    runtime().block_on(async {
        let zone = name(zone);
        let mut changes = Vec::new();
        for (domain, desired) in wanted {
            let owner = name(domain).kms_owner();
            let current = read_srv(c, Some(&zone), &owner).await?;
            let mut desired = desired.clone();
            desired.sort();
            changes.push(diff(&owner, &current, &desired, true).to_rrset_change());
        }
        match build_update(&zone, &changes) {
            None => Ok(None),
            Some(msg) => decided(send_update(c, &zone, msg).await).map(Some),
        }
    })
}

/// An UPDATE's outcome as success or the error that decided it (the uncertain outcomes keep
/// the error that made them uncertain, e.g. a server's TSIG verdict).
fn decided(r: Result<UpdateReply, DnsError>) -> Result<UpdateReceipt, DnsError> {
    match r? {
        UpdateReply::Applied(receipt) => Ok(receipt),
        UpdateReply::NotApplied(e) => Err(e),
        UpdateReply::Uncertain(u) => Err(u.error),
    }
}

/// An UPDATE that the server refused in a verified reply: its error.
fn refused(r: Result<UpdateReply, DnsError>) -> DnsError {
    match r {
        Ok(UpdateReply::NotApplied(e)) => e,
        other => panic!("want a verified refusal, got {other:?}"),
    }
}

fn lab() -> ServerBuilder {
    ServerBuilder::new()
        .key("kms-key", "hmac-sha256")
        .key("other-key", "hmac-sha256")
        .zone(
            ZoneBuilder::new("example.com")
                .record("kms1 A 127.0.0.1")
                .record("kms2 A 127.0.0.1")
                .policy(Policy::grant("kms-key", ["a.example.com", "b.example.com"])),
        )
}
