//! A running server (BIND, Knot or PowerDNS): dig, nsupdate, reading records back, and the lab
//! directory the starters share.

use std::fs;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::*;

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
        srv_answer(&self.dig(&["+noall", "+answer", owner, "SRV"]))
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

/// The SRV records of `dig +noall +answer … SRV` output, sorted.
pub fn srv_answer(text: &str) -> Vec<SrvRr> {
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
