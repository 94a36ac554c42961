//! Several addresses per zone: which one takes the zone, and when to move on to the next.
//!
//! A zone's server may have several addresses (`address = [...]` in the config; for a zone
//! found from its SOA, the MNAME and then the zone's other NS hosts). They are tried in order,
//! and the next one only when the current one cannot be reached or times out (after its own
//! tries): a refused connection, an ICMP unreachable, no reply in time. Any answer — REFUSED,
//! NOTAUTH, a prerequisite failure, a verified reply of any RCODE, a server's unsigned TSIG
//! verdict, even a reply that fails verification — is the zone's answer, and no other address
//! is asked. See docs/design.md ("Several servers per zone") for the rules of an UPDATE whose
//! outcome is uncertain.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use super::NetOptions;
use super::keys::{KeyRing, Signer};
use crate::dns::{DnsClient, DnsError};
use crate::model::{Failover, Problem, ServerTarget, SkipReason, SkippedServer};

/// Why an error lets the next address be tried: `Some` only when nothing answered — the
/// address could not be reached or did not reply in time ([`DnsError::unanswered`]).
pub(crate) fn skip_reason(e: &DnsError) -> Option<SkipReason> {
    e.unanswered()
}

/// One client per address of `server`, in the order they are tried.
pub(crate) fn clients_for(
    server: &ServerTarget,
    keys: &KeyRing,
    signer: Option<&Signer>,
    opts: &NetOptions,
) -> Vec<DnsClient> {
    server
        .candidates()
        .into_iter()
        .map(|c| {
            let mut one = server.clone();
            one.label = c.label;
            one.address = c.address;
            one.fallbacks.clear();
            // Each address its own client (and, for GSS-TSIG, its own security context).
            keys.client(&one, signer, opts)
        })
        .collect()
}

/// Addresses that did not answer earlier in this run, shared by every zone's chain: a zone
/// behind a silent address it shares with zones tried before it moves on without paying the
/// timeout again. Only ever consulted where another address is left, and before anything is
/// sent to the address.
#[derive(Clone, Debug, Default)]
pub(crate) struct Unanswered(Arc<Mutex<HashMap<SocketAddr, SkippedServer>>>);

impl Unanswered {
    fn get(&self, addr: SocketAddr) -> Option<SkippedServer> {
        self.0.lock().expect("unanswered lock").get(&addr).cloned()
    }

    fn insert(&self, s: &SkippedServer) {
        self.0
            .lock()
            .expect("unanswered lock")
            .entry(s.address)
            .or_insert_with(|| s.clone());
    }
}

/// The addresses of a zone's server in the order one run tries them, with those passed over.
#[derive(Debug)]
pub(crate) struct ServerChain {
    clients: Vec<DnsClient>,
    current: usize,
    /// The addresses passed over so far, in order.
    pub skipped: Vec<SkippedServer>,
    unanswered: Unanswered,
}

impl ServerChain {
    /// `clients` must not be empty.
    pub(crate) fn new(clients: Vec<DnsClient>) -> Self {
        assert!(
            !clients.is_empty(),
            "a zone has at least one server address"
        );
        ServerChain {
            clients,
            current: 0,
            skipped: Vec::new(),
            unanswered: Unanswered::default(),
        }
    }

    /// Shares what did not answer with the other zones of this run.
    pub(crate) fn sharing(mut self, unanswered: &Unanswered) -> Self {
        self.unanswered = unanswered.clone();
        self
    }

    /// Moves past the current address without asking it when it did not answer for another
    /// zone earlier in this run and another address is left.
    fn skip_known(&mut self) -> bool {
        if self.current + 1 >= self.clients.len() {
            return false;
        }
        let Some(earlier) = self.unanswered.get(self.current().addr()) else {
            return false;
        };
        self.skipped.push(SkippedServer {
            server: self.current().label.clone(),
            detail: format!(
                "not asked: it did not answer earlier in this run ({})",
                earlier.detail
            ),
            ..earlier
        });
        self.current += 1;
        true
    }

    /// The address in use now.
    pub(crate) fn current(&self) -> &DnsClient {
        &self.clients[self.current]
    }

    /// Moves on to the next address when `e` says the current one cannot be reached or timed
    /// out and another is left; records why, with `context` (e.g. "the update may have reached
    /// it") appended. False (and nothing changes) otherwise.
    pub(crate) fn skip(&mut self, e: &DnsError, context: Option<&str>) -> bool {
        let Some(reason) = skip_reason(e) else {
            return false;
        };
        if self.current + 1 >= self.clients.len() {
            return false;
        }
        let c = self.current();
        let detail = match context {
            Some(more) => format!("{e}; {more}"),
            None => e.to_string(),
        };
        tracing::warn!(server = %c.label, %reason, "{detail}; trying the next address");
        let skipped = SkippedServer {
            server: c.label.clone(),
            address: c.addr(),
            reason,
            detail,
        };
        self.unanswered.insert(&skipped);
        self.skipped.push(skipped);
        self.current += 1;
        true
    }

    /// The failover record when an address other than the first is in use.
    pub(crate) fn failover(&self) -> Option<Failover> {
        (!self.skipped.is_empty()).then(|| Failover {
            server: self.current().label.clone(),
            address: self.current().addr(),
            skipped: self.skipped.clone(),
        })
    }

    /// The problem for `last`, the error of the address in use, naming the addresses
    /// skipped before it: "no address answered" when it did not answer either.
    pub(crate) fn all_failed(&self, last: &DnsError) -> Problem {
        if self.skipped.is_empty() {
            return Problem::from(last);
        }
        let mut tried: Vec<String> = self
            .skipped
            .iter()
            .map(|s| format!("{} ({}: {})", s.server, s.reason, s.detail))
            .collect();
        let message = if skip_reason(last).is_some() {
            tried.push(format!("{} ({last})", self.current().label));
            format!(
                "no address of the server answered, tried in order: {}",
                tried.join("; ")
            )
        } else {
            format!("{last} (after skipping {})", tried.join("; "))
        };
        Problem {
            message,
            hint: last.hint(),
        }
    }

    /// Starts with the addresses the plan's reads skipped (see [`apply_order`]), so the
    /// report of this run names them too.
    pub(crate) fn skipped_when_planned(mut self, read_from: Option<&Failover>) -> Self {
        if let Some(f) = read_from {
            self.skipped = f
                .skipped
                .iter()
                .map(|s| SkippedServer {
                    detail: format!("when the state was read for the plan: {}", s.detail),
                    ..s.clone()
                })
                .collect();
        }
        self
    }
}

/// A definite answer from a fallback address: the hint adds why that address was asked, and
/// that a secondary (in a configured list, or in a discovered zone's NS set) takes no updates.
pub(crate) fn after_skipping(chain: &ServerChain, mut p: Problem) -> Problem {
    if let Some(first) = chain.skipped.first() {
        p.hint = format!(
            "{} ({} was asked because {} could not be reached: {}; if it is a secondary, it takes no updates: bring the primary back or list only primaries)",
            p.hint,
            chain.current().label,
            first.server,
            first.reason
        );
    }
    p
}

/// Runs `op` against each address in turn until one answers (success or a definite error);
/// the chain is left at the address that answered, or at the last one.
pub(crate) async fn first_answer<T, F, Fut>(
    chain: &mut ServerChain,
    mut op: F,
) -> Result<T, DnsError>
where
    F: FnMut(DnsClient) -> Fut,
    Fut: std::future::Future<Output = Result<T, DnsError>>,
{
    loop {
        if chain.skip_known() {
            continue;
        }
        match op(chain.current().clone()).await {
            Err(e) if chain.skip(&e, None) => continue,
            other => return other,
        }
    }
}

/// The clients of a plan's zone in the order `apply` tries them: the address the plan's reads
/// came from first (the prerequisites are that server's state), then the others in order.
pub(crate) fn apply_order(
    mut clients: Vec<DnsClient>,
    read_from: Option<&Failover>,
) -> Vec<DnsClient> {
    if let Some(f) = read_from
        && let Some(i) = clients.iter().position(|c| c.addr() == f.address)
    {
        let first = clients.remove(i);
        clients.insert(0, first);
    }
    clients
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn client(port: u16) -> DnsClient {
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        DnsClient::unsigned(
            addr,
            format!("s{port} ({addr})"),
            Duration::from_millis(100),
            1,
        )
    }

    fn timeout(port: u16) -> DnsError {
        DnsError::test_timeout(format!("127.0.0.1:{port}").parse().unwrap())
    }

    #[test]
    fn only_silence_moves_on() {
        assert_eq!(skip_reason(&timeout(1)), Some(SkipReason::Timeout));
        let refused = DnsError::test_unreachable("127.0.0.1:1".parse().unwrap());
        assert_eq!(skip_reason(&refused), Some(SkipReason::Unreachable));
        let answered = DnsError::test_refused();
        assert_eq!(skip_reason(&answered), None);
        let mut chain = ServerChain::new(vec![client(1), client(2)]);
        assert!(!chain.skip(&answered, None), "an answer never moves on");
        assert!(chain.skip(&timeout(1), None));
        assert_eq!(chain.current().addr().port(), 2);
        assert!(!chain.skip(&timeout(2), None), "the last address stays");
        let f = chain.failover().unwrap();
        assert_eq!(f.address.port(), 2);
        assert_eq!(f.skipped.len(), 1);
        assert_eq!(f.skipped[0].reason, SkipReason::Timeout);
        let p = chain.all_failed(&timeout(2));
        assert!(
            p.message.contains("s1 (127.0.0.1:1) (timeout"),
            "{}",
            p.message
        );
        assert!(p.message.contains("s2 (127.0.0.1:2)"), "{}", p.message);
    }

    #[test]
    fn apply_starts_where_the_plan_read() {
        let f = Failover {
            server: "s3".into(),
            address: "127.0.0.1:3".parse().unwrap(),
            skipped: vec![],
        };
        let order: Vec<u16> = apply_order(vec![client(1), client(2), client(3)], Some(&f))
            .iter()
            .map(|c| c.addr().port())
            .collect();
        assert_eq!(order, vec![3, 1, 2]);
        let order: Vec<u16> = apply_order(vec![client(1), client(2)], None)
            .iter()
            .map(|c| c.addr().port())
            .collect();
        assert_eq!(order, vec![1, 2]);
    }
}
