//! The use cases, which are also the library API: `validate`, `observe` and `plan`, `apply`,
//! `verify`, `render`, `keygen`. The glue between the pure core (`config`, `plan`, `render`,
//! `verify` rules) and the wire (`dns`). The CLI calls one function here per command and
//! prints what it returns; everything async runs on the one runtime `crate::run` makes.
#![warn(missing_docs)]

pub mod apply;
pub mod import;
pub mod keygen;
pub mod keys;
pub mod observe;
pub mod render;
pub mod saved;
pub mod validate;
pub mod verify;
pub mod wait;

use std::net::SocketAddr;
use std::path::Path;

pub use crate::config::ConfigErrors;
pub use crate::dns::client::{Clock, system_clock};
pub use crate::dns::resolv::{ResolvConf, parse_resolver};
pub use crate::dns::tsig::TsigKey;
pub use crate::plan::{Change, Plan, RrsetDiff, Totals, ZonePlan};
pub use crate::verify::{Check, DomainReport, DomainSpec, VerifyOptions, VerifyReport};
pub use apply::{ZoneOutcome, ZoneReport};
pub use keys::KeyRing;
pub use wait::{NsSync, ZoneSync};

use crate::error::Result;
use crate::model::DesiredState;

/// Network options shared by plan, apply and verify.
#[derive(Clone)]
pub struct NetOptions {
    /// Resolver for discovery; `None` = the first nameserver of /etc/resolv.conf.
    pub resolver: Option<SocketAddr>,
    /// Port for servers discovered from the SOA MNAME.
    pub discovered_port: u16,
    /// Zones read or updated at the same time on one server (a slow or dead server holds
    /// only its own zones back); [`MAX_IN_FLIGHT`] over all servers.
    pub concurrency: usize,
    /// The clock TSIG signs with (its time signed) — the system clock by default.
    pub clock: Clock,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            resolver: None,
            discovered_port: 53,
            concurrency: 8,
            clock: system_clock(),
        }
    }
}

/// Zones in flight at once over all servers.
pub const MAX_IN_FLIGHT: usize = 64;

/// Bounds the zones in flight: `per_server` on each server, [`MAX_IN_FLIGHT`] in all.
#[derive(Clone)]
pub(crate) struct Limits {
    all: std::sync::Arc<tokio::sync::Semaphore>,
    per_server: std::sync::Arc<
        std::sync::Mutex<
            std::collections::HashMap<SocketAddr, std::sync::Arc<tokio::sync::Semaphore>>,
        >,
    >,
    per: usize,
}

impl Limits {
    pub(crate) fn new(per_server: usize) -> Self {
        Limits {
            all: std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            per_server: Default::default(),
            per: per_server.max(1),
        }
    }

    /// Waits for a slot on `server` and in all; the slot is free again when dropped.
    pub(crate) async fn slot(
        &self,
        server: SocketAddr,
    ) -> (
        tokio::sync::OwnedSemaphorePermit,
        tokio::sync::OwnedSemaphorePermit,
    ) {
        let one = {
            let mut map = self.per_server.lock().expect("limits lock");
            map.entry(server)
                .or_insert_with(|| std::sync::Arc::new(tokio::sync::Semaphore::new(self.per)))
                .clone()
        };
        let mine = one.acquire_owned().await.expect("semaphore open");
        let all = self
            .all
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore open");
        (mine, all)
    }
}

/// Runs `work` on every item, `per` at a time on each server (`server_of`) and
/// [`MAX_IN_FLIGHT`] in all, and returns the results in the order of `items`; `on_done` sees
/// each result as it comes. One task per slot pulls its server's items in turn: a task per
/// item, spawned up front, held 29 MiB of waiting futures for 10,000 zones. A slow or dead
/// server holds back only its own items.
pub(crate) async fn per_server<T, R, F, Fut>(
    items: Vec<T>,
    per: usize,
    server_of: impl Fn(&T) -> SocketAddr,
    work: F,
    mut on_done: impl FnMut(&R),
) -> Vec<R>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = R> + Send,
{
    use std::collections::{HashMap, VecDeque};
    use std::sync::{Arc, Mutex};
    let n = items.len();
    let mut queues: HashMap<SocketAddr, VecDeque<(usize, T)>> = HashMap::new();
    for (i, item) in items.into_iter().enumerate() {
        queues
            .entry(server_of(&item))
            .or_default()
            .push_back((i, item));
    }
    let all = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut set = tokio::task::JoinSet::new();
    for queue in queues.into_values() {
        let workers = per.max(1).min(queue.len());
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..workers {
            let (queue, all, tx, work) = (queue.clone(), all.clone(), tx.clone(), work.clone());
            set.spawn(async move {
                loop {
                    let Some((i, item)) = queue.lock().expect("queue lock").pop_front() else {
                        break;
                    };
                    let _slot = all.clone().acquire_owned().await.expect("semaphore open");
                    let _ = tx.send((i, work(item).await));
                }
            });
        }
    }
    drop(tx);
    let mut out: Vec<Option<R>> = (0..n).map(|_| None).collect();
    while let Some((i, r)) = rx.recv().await {
        on_done(&r);
        out[i] = Some(r);
    }
    while let Some(done) = set.join_next().await {
        done.expect("a worker task does not panic");
    }
    out.into_iter()
        .map(|r| r.expect("every item has a result"))
        .collect()
}

/// Reads and validates the configuration file.
pub fn load_config(path: &Path) -> Result<DesiredState> {
    Ok(crate::config::load(path)?)
}

/// Reads the live state of every configured domain and diffs it against the file.
pub async fn plan(desired: &DesiredState, keys: &KeyRing, opts: &NetOptions) -> Plan {
    let observed = observe::observe(desired, keys, opts).await;
    crate::plan::diff(desired, &observed)
}

/// Writes `text` to `path`, creating it with mode 0600 when `secret` (it holds a TSIG
/// secret) and refusing to follow an existing file's wider mode.
pub fn write_file(path: &Path, text: &[u8], secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(text)
}
