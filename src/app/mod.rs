//! The use cases, which are also the library API: `validate`, `observe` and `plan`, `apply`,
//! `verify`, `render`, `keygen`. The glue between the pure core (`config`, `plan`, `render`,
//! `verify` rules) and the wire (`dns`). The CLI calls one function here per command and
//! prints what it returns; everything async runs on the one runtime `crate::run` makes.
#![warn(missing_docs)]

pub mod apply;
mod failover;
pub mod import;
pub mod keygen;
pub mod keys;
pub mod observe;
mod reads;
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
    /// Zones (plan, apply) or domains (verify) in flight at once over all servers
    /// (`--parallel`); each server's `max_inflight` bounds the messages to it on top.
    pub parallel: usize,
    /// The clock TSIG signs with (its time signed) — the system clock by default.
    pub clock: Clock,
    /// Told how far a run is (e.g. to draw a progress bar): `(stage, done, total)`.
    pub progress: Option<Progress>,
    /// One bound on messages in flight per server address, shared by every client of it.
    pub(crate) caps: ServerCaps,
}

/// A progress callback: `(stage, done, total)`, e.g. `("reading zones", 3, 10)`.
pub type Progress = std::sync::Arc<dyn Fn(&'static str, usize, usize) + Send + Sync>;

/// Calls `progress` with one more item done of `total` in `stage`; for [`in_order`]'s `on_done`.
pub(crate) fn counter<R>(
    progress: &Option<Progress>,
    stage: &'static str,
    total: usize,
) -> impl FnMut(&R) + use<R> {
    let progress = progress.clone();
    let mut done = 0;
    move |_| {
        done += 1;
        if let Some(p) = &progress {
            p(stage, done, total);
        }
    }
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            resolver: None,
            discovered_port: 53,
            parallel: DEFAULT_PARALLEL,
            clock: system_clock(),
            progress: None,
            caps: ServerCaps::default(),
        }
    }
}

/// Zones in flight at once over all servers unless `--parallel` says otherwise (see
/// BENCHMARKS.md, History, for the measurement behind it).
pub const DEFAULT_PARALLEL: usize = 64;

/// The semaphores that bound the messages in flight to each server: one per address, made
/// with the first `max_inflight` asked for it.
#[derive(Clone, Default)]
pub(crate) struct ServerCaps(
    std::sync::Arc<
        std::sync::Mutex<
            std::collections::HashMap<SocketAddr, std::sync::Arc<tokio::sync::Semaphore>>,
        >,
    >,
);

impl ServerCaps {
    /// The bound of `server`, made with `max_inflight` slots (at least 1) if it is new.
    pub(crate) fn of(
        &self,
        server: SocketAddr,
        max_inflight: u32,
    ) -> std::sync::Arc<tokio::sync::Semaphore> {
        let mut map = self.0.lock().expect("caps lock");
        map.entry(server)
            .or_insert_with(|| {
                std::sync::Arc::new(tokio::sync::Semaphore::new(max_inflight.max(1) as usize))
            })
            .clone()
    }
}

/// Like [`in_order`] for work that can fail: the first error ends it, and the work still
/// running is dropped (a dead server then costs one exchange, not one per item).
pub(crate) async fn try_in_order<T, R, E, F, Fut>(
    items: Vec<T>,
    window: usize,
    work: F,
) -> Result<Vec<R>, E>
where
    T: Send + 'static,
    R: Send + 'static,
    E: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = Result<R, E>> + Send + 'static,
{
    let n = items.len();
    let mut set = tokio::task::JoinSet::new();
    let mut out: Vec<Option<R>> = (0..n).map(|_| None).collect();
    let mut items = items.into_iter().enumerate();
    loop {
        while set.len() < window.max(1) {
            let Some((i, item)) = items.next() else { break };
            let fut = work(item);
            set.spawn(async move { (i, fut.await) });
        }
        match set.join_next().await {
            Some(r) => {
                let (i, value) = r.expect("a task does not panic");
                out[i] = Some(value?);
            }
            None => break,
        }
    }
    Ok(out
        .into_iter()
        .map(|r| r.expect("every task ran"))
        .collect())
}

/// Runs `work` on every item, at most `window` at once, and returns the results in the order
/// of `items`; `on_done` sees each result as it comes. Every task runs on the process's one
/// runtime.
pub(crate) async fn in_order<T, R, F, Fut>(
    items: Vec<T>,
    window: usize,
    work: F,
    mut on_done: impl FnMut(&R),
) -> Vec<R>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = R> + Send + 'static,
{
    let n = items.len();
    let mut set = tokio::task::JoinSet::new();
    let mut out: Vec<Option<R>> = (0..n).map(|_| None).collect();
    let mut items = items.into_iter().enumerate();
    loop {
        while set.len() < window.max(1) {
            let Some((i, item)) = items.next() else { break };
            let fut = work(item);
            set.spawn(async move { (i, fut.await) });
        }
        match set.join_next().await {
            Some(r) => {
                let (i, value) = r.expect("a task does not panic");
                on_done(&value);
                out[i] = Some(value);
            }
            None => break,
        }
    }
    out.into_iter()
        .map(|r| r.expect("every task ran"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Results come back in the order of the items, never more than `window` run at once, and
    /// every client of one server shares its one bound.
    #[test]
    fn in_order_keeps_order_and_window_and_caps_are_shared() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut seen = 0;
        let out = rt.block_on(in_order(
            (0..50u64).collect(),
            3,
            |i| {
                let (now, most) = (now.clone(), most.clone());
                async move {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    // Later items finish first.
                    tokio::time::sleep(std::time::Duration::from_millis(50 - i)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    i * 2
                }
            },
            |_| seen += 1,
        ));
        assert_eq!(out, (0..50u64).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 3);
        assert_eq!(seen, 50);
        let caps = ServerCaps::default();
        let addr: SocketAddr = "192.0.2.53:53".parse().unwrap();
        let a = caps.of(addr, 4);
        let b = caps.of(addr, 100);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(b.available_permits(), 4);
        assert_eq!(
            caps.of("192.0.2.54:53".parse().unwrap(), 0)
                .available_permits(),
            1
        );
    }
}
