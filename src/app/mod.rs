//! The use cases, which are also the library API: `validate`, `observe` and `plan`, `apply`,
//! `verify`, `render`, `keygen`. The glue between the pure core (`config`, `plan`, `render`,
//! `verify` rules) and the wire (`dns`). The CLI calls one function here per command and
//! prints what it returns; everything async runs on the one runtime `crate::run` makes.

pub mod apply;
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
    /// Zones read or updated at the same time.
    pub concurrency: usize,
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
