//! Shared test harness: real DNS servers on 127.0.0.1 (or ::1) and a builder for CLI runs.
//!
//! Every test starts its own server with its own temp dir, keys, zones and port, so tests run in
//! parallel. The server is killed when the value is dropped. Nothing is ever skipped: a missing
//! server or tool fails the test with the Debian package to install (`bash scripts/test.sh`
//! installs them all).
//!
//! ```ignore
//! use crate::harness::{BindServer, KnotServer, Policy, ServerBuilder, ZoneBuilder};
//!
//! let lab = ServerBuilder::new()
//!     .key("kms-key", "hmac-sha256")
//!     .zone(ZoneBuilder::new("corp.example.com")
//!         .record("kms1 A 127.0.0.1")
//!         .policy(Policy::grant("kms-key", ["corp.example.com"])));
//! let bind = BindServer::start(&lab); // panics if named is not installed
//! let key = bind.key("kms-key");
//! let out = bind.nsupdate(key, "update add _vlmcs._tcp.corp.example.com. 300 SRV 0 0 1688 kms1.corp.example.com.\nsend\n");
//! assert!(out.status.success());
//! assert_eq!(bind.srv_records("_vlmcs._tcp.corp.example.com").len(), 1);
//! assert_eq!(bind.soa_serial("corp.example.com"), 2);
//! ```
//!
//! # API
//! - [`ServerBuilder`]: `new()`, `.key(name, algorithm)`, `.zone(ZoneBuilder)`, `.ipv6()` (listen
//!   on `[::1]` instead of 127.0.0.1; dig, nsupdate and the readiness check follow),
//!   `.pdns_policy_script(lua)` (PowerDNS only: this `lua-dnsupdate-policy-script` instead of
//!   the one made from the zones' policies). The same builder can start BIND, Knot and
//!   PowerDNS (each gets fresh keys made by `tsig-keygen`).
//! - [`ZoneBuilder`]: `new(name)`, `.record(line)` (raw zone-file line, relative names allowed),
//!   `.serial(n)`, `.policy(Policy)`, `.secondary_of(addr)` (BIND only), `.allow_transfer(acl)`,
//!   `.also_notify(addr)` (BIND only), `.ns1_at(ip)` (`ns1`, the SOA MNAME, at another
//!   address: a dead primary). Default zone: SOA `ns1.<zone>.` serial 1, NS `ns1.<zone>.`,
//!   `ns1 A 127.0.0.1` (`ns1 AAAA ::1` instead on an IPv6 lab), TTL 300.
//! - [`Policy`]: `Grant { key, domains }` (one least-privilege grant per domain: SRV at
//!   `_vlmcs._tcp.<domain>.` only), `Raw(text)` (server-specific, see its doc), `None`.
//! - [`BindServer::start`] / [`KnotServer::start`] / [`PdnsServer::start`] (and
//!   `BindServer::start_on(builder, port)`) return the running server; all deref to [`Server`]:
//!   `addr()`, `ip()`, `port()`, `dir()`, `key(name) -> &Key`, `keys()`, `dig(&[args]) -> String`,
//!   `srv_records(owner) -> Vec<SrvRr>`, `soa_serial(zone) -> u32`,
//!   `nsupdate(&Key, script) -> Output`, `log() -> String`. Generic tests take `&Server`.
//!   [`PdnsServer`] also has `pdnsutil(&[args]) -> Output` (against its database) and
//!   `policy_script()`. PowerDNS answers NOERROR to an update whose records its policy refuses
//!   (it skips them): check what an update did by reading back, never by the exit code.
//! - [`Key`]: `name`, `algorithm`, `file` (a BIND `key` statement, mode 0600, usable with
//!   `nsupdate -k`), `secret_b64` (never print it); `with_secret(b64)` makes a same-name key with
//!   another secret (for "wrong secret" tests).
//! - [`ports::free_port`] / [`ports::free_port_on`]: a port free for TCP and UDP (on 127.0.0.1,
//!   or the given loopback address), never handed out twice in this process.
//! - [`require`]: the path of a server or tool binary; panics when it is missing (in CI and
//!   out of it) naming the binary, its Debian package and `bash scripts/test.sh`.
//! - [`cli`]: the one way tests run our binary, always with a clean environment (no
//!   `KMSDNS_*`, no `RUST_LOG`, `NO_COLOR=1`): [`cli::kmsdns`] (`assert_cmd::Command`),
//!   [`cli::kmsdns_std`] (`std::process::Command`, when assert_cmd is in the way),
//!   [`cli::kmsdns_on_tty`] (on a pty via `script`); [`cli::write_config`] writes
//!   `kmsdns.toml` into a dir.
//! - [`kerberos`]: a per-test MIT Kerberos realm ([`kerberos::Kdc`]: krb5.conf/kdc.conf,
//!   `kdb5_util`, `kadmin.local`, `krb5kdc` on a free port, `kinit`) and [`kerberos::GssLab`]:
//!   a GSS-TSIG BIND (`tkey-gssapi-keytab`, `grant admin@REALM name _vlmcs._tcp.<zone>. SRV`)
//!   with client principals `admin` and `other` and their keytabs, `nsupdate_gss`. Every
//!   process gets the realm's `KRB5_CONFIG`, never /etc/krb5.conf. The builder's
//!   `.bind_option(statement)` and `.env(name, value)` are how it configures named.
//! - [`relay`]: a fault-injecting DNS relay in front of a server ([`relay::Relay::start`]`(addr,
//!   faults)`, UDP and TCP on one port): drops, delays, duplicates, truncates, garbles or forges
//!   replies, strips or breaks their TSIG, or goes dark after an UPDATE (`Scope::AfterUpdate`),
//!   so tests can show what a client does when the network misbehaves.
//! - [`samba`]: a real Active Directory DC (Samba) in a network namespace of the test's own,
//!   shared by the tests of one process ([`samba::SambaDc::shared`]), with `kmsdns`, `other`
//!   and `Administrator` keytabs; clients (`kmsdns`, dig, nsupdate, kinit) run inside the
//!   namespace through [`samba::SambaDc::command`]. Needs root.
//!
//! Set `KMSDNS_KEEP_LAB=1` to keep a server's temp dir (its path is printed on drop).
//! Every wait is bounded; nothing talks to anything but 127.0.0.1 and ::1 (the Samba DC: its
//! own network namespace).

#![allow(dead_code)] // Not every test uses every helper.

mod builder;
mod key;
mod server;

pub mod bind;
pub mod cli;
pub mod kerberos;
pub mod knot;
pub mod pdns;
pub mod ports;
pub mod relay;
pub mod samba;

use std::path::PathBuf;
use std::time::Duration;

pub use bind::BindServer;
pub use builder::{Policy, ServerBuilder, SrvRr, ZoneBuilder};
pub use key::Key;
pub use knot::KnotServer;
pub use pdns::PdnsServer;
pub(crate) use server::LabDir;
pub use server::Server;

/// How long a server may take to answer its first SOA queries.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Locates `binary` in PATH, /usr/sbin and /usr/bin; panics when it is missing, in CI and out
/// of it, naming the Debian package that provides it. A missing server is a test failure, never
/// a skip: `bash scripts/test.sh` installs everything the tests run.
pub fn require(binary: &str) -> PathBuf {
    let package = debian_package(binary);
    find_binary(binary).unwrap_or_else(|| {
        panic!(
            "`{binary}` not found (searched PATH, /usr/sbin, /usr/bin): install the Debian \
             package `{package}`. `bash scripts/test.sh` installs every server and tool the \
             tests need, then runs them"
        )
    })
}

/// The Debian package that provides `binary`. Keep in sync with `need` in scripts/test.sh,
/// which installs them: a binary not listed here is a harness bug, even when it is installed.
fn debian_package(binary: &str) -> &'static str {
    match binary {
        "named" => "bind9",
        "named-checkconf" | "named-checkzone" | "tsig-keygen" => "bind9-utils",
        "dig" | "nsupdate" => "bind9-dnsutils",
        "knotd" | "knotc" => "knot",
        "pdns_server" | "pdnsutil" | "zone2sql" => "pdns-server",
        "sqlite3" => "sqlite3",
        "kdig" => "knot-dnsutils",
        "script" => "bsdutils",
        "systemd-analyze" => "systemd",
        "bash" => "bash",
        "groff" => "groff-base",
        "zsh" => "zsh",
        "fish" => "fish",
        "git" => "git",
        "samba" => "samba",
        "samba-tool" => "samba-common-bin",
        "winbindd" => "winbind",
        "ip" => "iproute2",
        "krb5kdc" | "kdb5_util" => "krb5-kdc",
        "kadmin.local" => "krb5-admin-server",
        "kinit" | "klist" | "kdestroy" => "krb5-user",
        _ => panic!(
            "harness::require({binary:?}): add `{binary}` and its Debian package to \
             debian_package() in tests/it/harness/mod.rs and to `need` in scripts/test.sh"
        ),
    }
}

fn find_binary(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(binary))
        .find(|candidate| candidate.is_file())
}
