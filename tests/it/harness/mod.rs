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
//!   `.also_notify(addr)` (BIND only). Default zone: SOA `ns1.<zone>.` serial 1, NS `ns1.<zone>.`,
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
//! - [`relay`]: a fault-injecting DNS relay in front of a server ([`relay::Relay::start`]`(addr,
//!   faults)`, UDP and TCP on one port): drops, delays, duplicates, truncates, garbles or forges
//!   replies, strips or breaks their TSIG, so tests can show what a client does when the
//!   network misbehaves.
//!
//! Set `KMSDNS_KEEP_LAB=1` to keep a server's temp dir (its path is printed on drop).
//! Every wait is bounded; nothing talks to anything but 127.0.0.1 and ::1.

#![allow(dead_code)] // Not every test uses every helper.

pub mod bind;
pub mod cli;
pub mod knot;
pub mod pdns;
pub mod ports;
pub mod relay;

use std::fs;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use bind::BindServer;
pub use knot::KnotServer;
pub use pdns::PdnsServer;

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

/// A TSIG key generated by `tsig-keygen` for one server.
#[derive(Clone)]
pub struct Key {
    pub name: String,
    pub algorithm: String,
    /// A BIND `key` statement (mode 0600), accepted by named's `include` and `nsupdate -k`.
    pub file: PathBuf,
    /// The base64 secret. Never print it.
    pub secret_b64: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// Runs `tsig-keygen -a ALGORITHM NAME` and stores the key in `dir/<name>.key`.
    fn generate(dir: &Path, name: &str, algorithm: &str) -> Key {
        let out = Command::new(require("tsig-keygen"))
            .args(["-a", algorithm, name])
            .output()
            .expect("run tsig-keygen");
        assert!(
            out.status.success(),
            "tsig-keygen -a {algorithm} {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("tsig-keygen prints UTF-8");
        let secret_b64 = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("secret \""))
            .and_then(|rest| rest.strip_suffix("\";"))
            .expect("tsig-keygen output has a secret line")
            .to_owned();
        let key = Key {
            name: name.to_owned(),
            algorithm: algorithm.to_owned(),
            file: dir.join(format!("{name}.key")),
            secret_b64,
        };
        key.write_file();
        key
    }

    /// A key with the same name and algorithm but another secret, written next to this one.
    pub fn with_secret(&self, secret_b64: &str) -> Key {
        let dir = self.file.parent().expect("key file has a parent dir");
        let mut n = 1;
        let file = loop {
            let candidate = dir.join(format!("{}.alt{n}.key", self.name));
            if !candidate.exists() {
                break candidate;
            }
            n += 1;
        };
        let key = Key {
            file,
            secret_b64: secret_b64.to_owned(),
            ..self.clone()
        };
        key.write_file();
        key
    }

    /// The BIND `key` statement.
    pub fn bind_statement(&self) -> String {
        format!(
            "key \"{}\" {{\n\talgorithm {};\n\tsecret \"{}\";\n}};\n",
            self.name, self.algorithm, self.secret_b64
        )
    }

    fn write_file(&self) {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.file)
            .unwrap_or_else(|e| panic!("create {}: {e}", self.file.display()));
        f.write_all(self.bind_statement().as_bytes())
            .expect("write key file");
    }
}

/// Who may update a zone.
#[derive(Clone, Debug)]
pub enum Policy {
    /// `key` may change only the SRV RRset at `_vlmcs._tcp.<domain>.` for each domain.
    /// BIND: `update-policy { grant KEY name _vlmcs._tcp.<domain>. SRV; ... };`.
    /// Knot: an ACL with `update-type: SRV`, `update-owner: name`, `update-owner-match: equal`.
    /// PowerDNS: a rule in the Lua update policy (key, type, owner, source) plus the metadata
    /// TSIG-ALLOW-DNSUPDATE and ALLOW-DNSUPDATE-FROM (not enforced once a Lua policy is set).
    Grant { key: String, domains: Vec<String> },
    /// Server-specific text. BIND: statements inside the zone block, e.g.
    /// `update-policy { grant k zonesub SRV; };`. Knot: the lines of an `acl:` item after its
    /// `id`, one option per line, e.g. `key: k\naction: update`. PowerDNS: a Lua boolean
    /// expression over `input` deciding each record of an update to this zone, e.g.
    /// `input:getTsigName():equal("k")` (any record, with key k).
    Raw(String),
    /// No updates allowed. (PowerDNS still answers NOERROR; it writes nothing.)
    None,
}

impl Policy {
    /// `Policy::Grant` from a key name and domains.
    pub fn grant<I, S>(key: &str, domains: I) -> Policy
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Policy::Grant {
            key: key.to_owned(),
            domains: domains.into_iter().map(Into::into).collect(),
        }
    }
}

/// One zone a server serves.
#[derive(Clone, Debug)]
pub struct ZoneBuilder {
    pub(crate) name: String,
    pub(crate) serial: u32,
    pub(crate) records: Vec<String>,
    pub(crate) policy: Policy,
    pub(crate) primary: Option<SocketAddr>,
    pub(crate) allow_transfer: Option<String>,
    pub(crate) also_notify: Vec<SocketAddr>,
}

impl ZoneBuilder {
    /// A primary zone (name without trailing dot is fine) with SOA/NS/`ns1 A 127.0.0.1`.
    pub fn new(name: &str) -> ZoneBuilder {
        ZoneBuilder {
            name: name.trim_end_matches('.').to_ascii_lowercase(),
            serial: 1,
            records: Vec::new(),
            policy: Policy::None,
            primary: None,
            allow_transfer: None,
            also_notify: Vec::new(),
        }
    }

    /// An extra zone-file line, e.g. `kms1 A 127.0.0.1`.
    pub fn record(mut self, line: &str) -> Self {
        self.records.push(line.to_owned());
        self
    }

    pub fn serial(mut self, serial: u32) -> Self {
        self.serial = serial;
        self
    }

    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Serve this zone as a secondary of `primary` (BIND only); records and serial are ignored.
    pub fn secondary_of(mut self, primary: SocketAddr) -> Self {
        self.primary = Some(primary);
        self
    }

    /// The address match list of `allow-transfer`, e.g. `"127.0.0.1;"` or `"none;"` (BIND).
    /// Unset: BIND's default (anyone).
    pub fn allow_transfer(mut self, acl: &str) -> Self {
        self.allow_transfer = Some(acl.to_owned());
        self
    }

    /// Send NOTIFY to `addr` after changes (BIND only; notifies are off otherwise).
    pub fn also_notify(mut self, addr: SocketAddr) -> Self {
        self.also_notify.push(addr);
        self
    }

    /// The zone file text, `ns1` at 127.0.0.1.
    pub(crate) fn zone_file(&self) -> String {
        self.zone_file_for(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// The zone file text with `ns1` (the SOA MNAME and NS) at `ip`: an A record for an IPv4
    /// lab, an AAAA record (only) for an IPv6 one, so discovery from the SOA finds the server.
    pub(crate) fn zone_file_for(&self, ip: IpAddr) -> String {
        let z = &self.name;
        let rtype = if ip.is_ipv6() { "AAAA" } else { "A" };
        let mut text = format!(
            "$ORIGIN {z}.\n$TTL 300\n\
             @ IN SOA ns1.{z}. hostmaster.{z}. {} 3600 600 86400 300\n\
             @ IN NS ns1.{z}.\n\
             ns1 IN {rtype} {ip}\n",
            self.serial
        );
        for r in &self.records {
            text.push_str(r);
            text.push('\n');
        }
        text
    }
}

/// Keys and zones for a server; the same builder can start BIND, Knot and PowerDNS.
#[derive(Clone, Debug, Default)]
pub struct ServerBuilder {
    pub(crate) keys: Vec<(String, String)>,
    pub(crate) zones: Vec<ZoneBuilder>,
    /// BIND only: extra `include "FILE";` lines (e.g. a key made by `kmsdns keygen`).
    pub(crate) includes: Vec<PathBuf>,
    /// Listen on `::1` instead of 127.0.0.1.
    pub(crate) ipv6: bool,
    /// PowerDNS only: the whole `lua-dnsupdate-policy-script`, replacing the generated one.
    pub(crate) pdns_policy_script: Option<String>,
}

impl ServerBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A TSIG key, generated at start with `tsig-keygen -a ALGORITHM NAME`.
    pub fn key(mut self, name: &str, algorithm: &str) -> Self {
        self.keys.push((name.to_owned(), algorithm.to_owned()));
        self
    }

    pub fn zone(mut self, zone: ZoneBuilder) -> Self {
        self.zones.push(zone);
        self
    }

    /// BIND only: `include "FILE";` in named.conf.
    pub fn include(mut self, file: &Path) -> Self {
        self.includes.push(file.to_path_buf());
        self
    }

    /// Listen on the IPv6 loopback `::1` (only) instead of 127.0.0.1; the port is free for
    /// TCP and UDP on `::1`. Panics at start when `::1` cannot be bound on this machine.
    pub fn ipv6(mut self) -> Self {
        self.ipv6 = true;
        self
    }

    /// PowerDNS only: use `lua` as the `lua-dnsupdate-policy-script` (it must define
    /// `updatepolicy(input)`) instead of the script the harness writes from the zones'
    /// [`Policy`]s. Metadata is still set from the policies.
    pub fn pdns_policy_script(mut self, lua: &str) -> Self {
        self.pdns_policy_script = Some(lua.to_owned());
        self
    }

    /// The loopback address the server listens on.
    pub fn ip(&self) -> IpAddr {
        if self.ipv6 {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
    }
}

/// One `SRV` record as read back with dig.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SrvRr {
    pub ttl: u32,
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// As dig prints it: absolute, with the trailing dot.
    pub target: String,
}

/// A running server (BIND, Knot or PowerDNS), killed on drop. `BindServer`, `KnotServer` and
/// `PdnsServer` deref to it.
pub struct Server {
    pub(crate) kind: &'static str,
    pub(crate) ip: IpAddr,
    pub(crate) port: u16,
    pub(crate) dir: Option<tempfile::TempDir>,
    pub(crate) dir_path: PathBuf,
    pub(crate) child: Child,
    pub(crate) log_path: PathBuf,
    pub(crate) keys: Vec<Key>,
    /// How long the server took to answer its first and last zone's SOA.
    pub startup: Duration,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((self.ip, self.port))
    }

    /// 127.0.0.1, or ::1 for a builder with [`ServerBuilder::ipv6`].
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temp dir with the config, keys, zone files and log.
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The key called `name`; panics if the builder had none.
    pub fn key(&self, name: &str) -> &Key {
        self.keys
            .iter()
            .find(|k| k.name == name)
            .unwrap_or_else(|| panic!("no key {name:?} on this {} server", self.kind))
    }

    /// The server's stdout/stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Runs `dig @IP -p PORT +norec +time=2 +tries=2 ARGS...` and returns its stdout.
    pub fn dig(&self, args: &[&str]) -> String {
        let out = Command::new(require("dig"))
            .arg(format!("@{}", self.ip))
            .args([
                "-p",
                &self.port.to_string(),
                "+norec",
                "+time=2",
                "+tries=2",
            ])
            .args(args)
            .output()
            .expect("run dig");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The SRV records at `owner`, sorted.
    pub fn srv_records(&self, owner: &str) -> Vec<SrvRr> {
        let text = self.dig(&["+noall", "+answer", owner, "SRV"]);
        let mut rrs: Vec<SrvRr> = text
            .lines()
            .filter_map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                match f.as_slice() {
                    [_, ttl, "IN", "SRV", prio, weight, port, target] => Some(SrvRr {
                        ttl: ttl.parse().ok()?,
                        priority: prio.parse().ok()?,
                        weight: weight.parse().ok()?,
                        port: port.parse().ok()?,
                        target: (*target).to_owned(),
                    }),
                    _ => None,
                }
            })
            .collect();
        rrs.sort();
        rrs
    }

    /// The SOA serial of `zone`; panics if the server does not answer with one.
    pub fn soa_serial(&self, zone: &str) -> u32 {
        let text = self.dig(&["+short", zone, "SOA"]);
        text.split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no SOA serial for {zone} in dig output: {text:?}"))
    }

    /// Runs `nsupdate -k KEYFILE` with `server IP PORT` followed by `script` on stdin.
    pub fn nsupdate(&self, key: &Key, script: &str) -> Output {
        let mut child = Command::new(require("nsupdate"))
            .args(["-t", "4", "-u", "1", "-r", "2", "-k"])
            .arg(&key.file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run nsupdate");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = format!("server {} {}\n{script}", self.ip, self.port);
        stdin
            .write_all(input.as_bytes())
            .expect("write nsupdate script");
        drop(stdin);
        child.wait_with_output().expect("wait for nsupdate")
    }

    /// Waits until every zone answers a SOA query; panics with the log tail on timeout/exit.
    pub(crate) fn wait_ready(&mut self, zones: &[&str], started: Instant) {
        let deadline = started + START_TIMEOUT;
        for zone in zones {
            loop {
                if let Ok(Some(status)) = self.child.try_wait() {
                    panic!(
                        "{} exited ({status}) before answering; log:\n{}",
                        self.kind,
                        tail(&self.log(), 40)
                    );
                }
                if soa_answers(self.ip, self.port, zone) {
                    break;
                }
                if Instant::now() > deadline {
                    panic!(
                        "{} on port {} did not answer SOA {zone} within {:?}; log:\n{}",
                        self.kind,
                        self.port,
                        START_TIMEOUT,
                        tail(&self.log(), 40)
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.startup = started.elapsed();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if keep_lab()
            && let Some(dir) = self.dir.take()
        {
            eprintln!(
                "KMSDNS_KEEP_LAB: kept {} lab at {}",
                self.kind,
                dir.keep().display()
            );
        }
    }
}

fn keep_lab() -> bool {
    std::env::var("KMSDNS_KEEP_LAB").is_ok_and(|v| v == "1")
}

/// Pieces shared by the server starters: temp dir, log file, keys.
pub(crate) struct LabDir {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub keys: Vec<Key>,
}

impl LabDir {
    pub fn new(kind: &str, builder: &ServerBuilder) -> LabDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("kmsdns-{kind}-"))
            .tempdir()
            .expect("create temp dir");
        let path = dir.path().to_path_buf();
        let keys = builder
            .keys
            .iter()
            .map(|(name, alg)| Key::generate(&path, name, alg))
            .collect();
        LabDir { dir, path, keys }
    }

    /// Spawns the server `cmd` (logging into `log_path`) and waits until the builder's first
    /// and last zone answer SOA on `ip:port`.
    pub fn launch(
        self,
        kind: &'static str,
        cmd: Command,
        log_path: PathBuf,
        ip: impl Into<IpAddr>,
        port: u16,
        builder: &ServerBuilder,
    ) -> Server {
        let ip = ip.into();
        let started = Instant::now();
        let child = self.spawn(cmd, &log_path);
        let mut server = Server {
            kind,
            ip,
            port,
            dir_path: self.path.clone(),
            dir: Some(self.dir),
            child,
            log_path,
            keys: self.keys,
            startup: Duration::ZERO,
        };
        let first = builder.zones.first().map(|z| z.name.as_str());
        let last = builder.zones.last().map(|z| z.name.as_str());
        let mut ready: Vec<&str> = first.into_iter().chain(last).collect();
        ready.dedup();
        server.wait_ready(&ready, started);
        server
    }

    /// Spawns `cmd` with stdout and stderr into `log_path`.
    pub fn spawn(&self, mut cmd: Command, log_path: &Path) -> Child {
        let log = fs::File::create(log_path).expect("create server log");
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"))
    }
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Sends one non-recursive SOA query over UDP; true if a NOERROR answer with records comes back.
fn soa_answers(ip: IpAddr, port: u16, zone: &str) -> bool {
    let local = match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    };
    let Ok(sock) = UdpSocket::bind((local, 0)) else {
        return false;
    };
    if sock
        .set_read_timeout(Some(Duration::from_millis(200)))
        .is_err()
        || sock.connect((ip, port)).is_err()
    {
        return false;
    }
    let id: u16 = 0x4b4d;
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]); // flags 0, QDCOUNT 1
    for label in zone.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 6, 0, 1]); // root, SOA, IN
    if sock.send(&q).is_err() {
        return false;
    }
    let mut buf = [0u8; 1500];
    let Ok(n) = sock.recv(&mut buf) else {
        return false;
    };
    let ancount = n >= 12 && u16::from_be_bytes([buf[6], buf[7]]) > 0;
    n >= 12 && buf[..2] == id.to_be_bytes() && buf[3] & 0x0f == 0 && ancount
}
