//! A real Active Directory domain controller — Samba 4 (`samba`, Debian 12: 4.17) — for the
//! Microsoft DNS / GSS-TSIG tests, in a network namespace of the test process's own.
//!
//! The DC wants fixed ports (53, 88, 135, 389, 445, 464), so it cannot share 127.0.0.1 with
//! other tests: it runs in namespace `kmsdns-samba-<pid>-<n>` on [`DC_IP`], and everything that
//! talks to it — `kmsdns`, `dig`, `nsupdate`, `kinit` — runs in the same namespace through
//! [`SambaDc::command`] (`ip netns exec NAME PROGRAM`), with `KRB5_CONFIG` pointing at the
//! lab's own krb5.conf. Nothing on the host changes: no /etc/krb5.conf, no /etc/samba, no
//! nsswitch; smb.conf, databases, logs, pid files and sockets all live in the lab directory.
//! Needs root (network namespaces); CI runs as root.
//!
//! Provisioning takes seconds (see [`SambaDc::provision_time`]), so the tests of one process
//! share one DC: [`SambaDc::shared`]. Tests keep out of each other's way by using their own
//! names from [`SambaDc::fresh_domain`]. A guardian process (guardian.sh) stops the DC and
//! deletes the namespace and lab directory when the test process ends, however it ends;
//! leftovers of a run killed before its guardian could act are removed by the next run.
//!
//! ```ignore
//! let dc = SambaDc::shared();
//! let domain = dc.fresh_domain("apply");              // e.g. apply-3.ad.kmsdns.test
//! let ticket = dc.kinit("kmsdns");                    // a credential cache of the test's own
//! let out = dc.nsupdate(Some(&ticket), &format!(
//!     "update add _vlmcs._tcp.{domain}. 300 SRV 0 0 1688 kms1.{}.\nsend\n", ZONE));
//! assert_eq!(dc.srv_records(&format!("_vlmcs._tcp.{domain}")).len(), 1);
//! let out = dc.kmsdns().args(["plan", "-c"]).arg(&config).output().unwrap();
//! ```
//!
//! Users: `kmsdns` and `other` (ordinary domain users, random passwords nobody knows) and
//! `Administrator`, each with a keytab ([`SambaUser::keytab`], mode 0600).
//!
//! # API
//! - Facts: `ip()` (10.53.0.1, DNS on 53, KDC on 88), `zone()` (`ad.kmsdns.test`), `realm()`
//!   (`AD.KMSDNS.TEST`), `mname()` (`dc1.ad.kmsdns.test`, the SOA MNAME; the DNS service
//!   principal is `DNS/` + it), `krb5_conf()`, `user(name)`, `keytab(name)`, `netns()`,
//!   `dir()`, `log()`, `provision_time`, `start_time`.
//! - Running things in the namespace: `command(program)` (lab `KRB5_CONFIG`, an empty
//!   credential cache), `command_with(&Ticket, program)`, `kmsdns()` / `kmsdns_with(&Ticket)`
//!   (our binary, clean environment) and `kmsdns_assert()`; `kinit(user) -> Ticket`.
//! - DNS: `dig(args)`, `dig_status(args)`, `srv_records(owner)`, `nsupdate(Option<&Ticket>,
//!   script)` (`-g` with a ticket; `server` and `zone` lines are added),
//!   `nsupdate_without_credentials(script)`.
//! - AD: `node_dn(owner)`, `node_owner_sid(owner)`, `user_sid(name)`,
//!   `grant_node_write(owner, user)` (`RPWP` on that node only), `samba_tool(subcommand)`.
//! - Config pieces: `fresh_domain(hint)`, `server_toml(id, key)`, `gss_key_toml(id, user)`.

mod client;
mod netns;
mod provision;

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

#[allow(unused_imports)] // for the kmsdns end-to-end tests against the DC
pub use client::Ticket;
#[allow(unused_imports)]
pub use netns::{DC_IP, PEER_IP};
#[allow(unused_imports)]
pub use provision::{HOST, NETBIOS_DOMAIN, REALM, SambaUser, ZONE};

use super::require;

/// How long the DC may take to answer DNS and Kerberos after `samba` starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The guardian script (see its header).
const GUARDIAN: &str = include_str!("samba/guardian.sh");

/// The ordinary users every lab DC has (plus `Administrator`).
pub const USERS: [&str; 2] = ["kmsdns", "other"];

/// A running Samba AD DC in its own network namespace. Stopped (namespace and lab directory
/// deleted) on drop, or — for [`SambaDc::shared`] — when the test process ends.
pub struct SambaDc {
    netns: String,
    dir: PathBuf,
    smb_conf: PathBuf,
    krb5_conf: PathBuf,
    users: Vec<SambaUser>,
    guardian: Option<Child>,
    samba_pid: u32,
    names: AtomicU32,
    /// `samba-tool domain provision` + users + keytabs.
    pub provision_time: Duration,
    /// From starting `samba` until DNS answers the zone's SOA and the KDC issues a ticket.
    pub start_time: Duration,
}

impl SambaDc {
    /// The DC this test process shares, started on first use. Panics (in every test that asks,
    /// with the same message) when it cannot be started.
    pub fn shared() -> &'static SambaDc {
        static SHARED: OnceLock<Result<SambaDc, String>> = OnceLock::new();
        let dc = SHARED.get_or_init(|| {
            std::panic::catch_unwind(SambaDc::start).map_err(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "unknown panic".to_owned())
            })
        });
        match dc {
            Ok(dc) => dc,
            Err(e) => panic!("the shared Samba DC could not be started: {e}"),
        }
    }

    /// Provisions a new domain and starts its DC in a new namespace (a DC of the caller's own;
    /// most tests want [`SambaDc::shared`]). Panics naming the Debian packages when Samba is
    /// not installed.
    pub fn start() -> SambaDc {
        let samba = require_samba();
        let tmp = std::env::temp_dir();
        netns::remove_stale(&tmp);
        let name = netns::fresh_name();
        let dir = tmp.join(&name);
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));

        // Until the guardian runs, a panic here cleans up what exists so far.
        let mut setup = SetupGuard {
            dir: dir.clone(),
            netns: None,
        };
        let t = Instant::now();
        let prov = provision::provision(&dir, &USERS);
        let provision_time = t.elapsed();

        netns::create(&name);
        setup.netns = Some(name.clone());
        let t = Instant::now();
        let guardian = spawn_guardian(&name, &dir, &samba, &prov.smb_conf);
        std::mem::forget(setup); // the guardian cleans up from here on
        let mut dc = SambaDc {
            netns: name,
            dir,
            smb_conf: prov.smb_conf,
            krb5_conf: prov.krb5_conf,
            users: prov.users,
            guardian: Some(guardian),
            samba_pid: 0,
            names: AtomicU32::new(0),
            provision_time,
            start_time: Duration::ZERO,
        };
        dc.wait_ready(t);
        dc.start_time = t.elapsed();
        dc
    }

    /// Waits until the DC answers SOA for the zone and its KDC gives `kmsdns` a ticket.
    fn wait_ready(&mut self, started: Instant) {
        let deadline = started + START_TIMEOUT;
        let pid_file = self.dir.join("samba.pid");
        let mut dns_up = false;
        loop {
            if self.samba_pid == 0 {
                self.samba_pid = fs::read_to_string(&pid_file)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
            }
            if self.samba_pid != 0 && !process_running(self.samba_pid) {
                panic!(
                    "samba exited before it was ready; log:\n{}",
                    self.log_tail()
                );
            }
            if self.samba_pid != 0 {
                // One short try per poll: a query sent while samba is still loading would
                // otherwise wait out dig's default retries.
                dns_up = dns_up
                    || self
                        .dig(&["+short", "+time=1", "+tries=1", ZONE, "SOA"])
                        .starts_with(HOST);
                if dns_up && self.try_kinit("kmsdns").is_ok() {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "the Samba DC did not answer (DNS up: {dns_up}) within {START_TIMEOUT:?}; \
                     log:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The network namespace the DC runs in.
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// The lab directory (smb.conf in `etc/`, databases in `private/`, keytabs, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The DC's address inside the namespace (DNS on port 53, KDC on 88).
    pub fn ip(&self) -> std::net::IpAddr {
        DC_IP.into()
    }

    /// The AD zone, `ad.kmsdns.test`.
    pub fn zone(&self) -> &'static str {
        ZONE
    }

    /// The Kerberos realm, `AD.KMSDNS.TEST`.
    pub fn realm(&self) -> &'static str {
        REALM
    }

    /// The DC's host name, the zone's SOA MNAME: `dc1.ad.kmsdns.test` (no trailing dot).
    /// The DNS service principal is `DNS/` + this.
    pub fn mname(&self) -> String {
        format!("{HOST}.{ZONE}")
    }

    /// The lab's krb5.conf (what [`SambaDc::command`] sets `KRB5_CONFIG` to).
    pub fn krb5_conf(&self) -> &Path {
        &self.krb5_conf
    }

    /// The lab's smb.conf (for `samba-tool -s`).
    pub fn smb_conf(&self) -> &Path {
        &self.smb_conf
    }

    /// The account called `name` (`kmsdns`, `other` or `Administrator`).
    pub fn user(&self, name: &str) -> &SambaUser {
        self.users
            .iter()
            .find(|u| u.name == name)
            .unwrap_or_else(|| {
                panic!("no user {name:?} on the Samba DC (have {USERS:?} and Administrator)")
            })
    }

    /// The keytab of `name` (mode 0600).
    pub fn keytab(&self, name: &str) -> &Path {
        &self.user(name).keytab
    }

    /// A domain name under the zone no other test of this process gets:
    /// `HINT-N.ad.kmsdns.test`. Its KMS owner name is `_vlmcs._tcp.` + this.
    pub fn fresh_domain(&self, hint: &str) -> String {
        let n = self.names.fetch_add(1, Ordering::Relaxed);
        format!("{hint}-{n}.{ZONE}")
    }

    /// samba's output so far (it runs with `-i`: its log goes to stdout).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("samba.log")).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for SambaDc {
    fn drop(&mut self) {
        if let Some(mut guardian) = self.guardian.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &guardian.id().to_string()])
                .status();
            let _ = guardian.wait();
        }
    }
}

/// Starts guardian.sh (in a process group of its own, so a Ctrl-C does not reach it): it runs
/// `samba` in namespace `name` and cleans up namespace and `dir` when this process ends or it
/// gets TERM.
fn spawn_guardian(name: &str, dir: &Path, samba: &Path, smb_conf: &Path) -> Child {
    let path = dir.join("guardian.sh");
    fs::write(&path, GUARDIAN).expect("write guardian.sh");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).expect("chmod guardian.sh");
    Command::new("/bin/sh")
        .arg(&path)
        .arg(std::process::id().to_string())
        .arg(name)
        .arg(dir)
        .arg(samba)
        .arg(smb_conf)
        .arg(require("ip"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn the Samba guardian")
}

/// Removes the lab directory and namespace of a start that failed before its guardian ran.
struct SetupGuard {
    dir: PathBuf,
    netns: Option<String>,
}

impl Drop for SetupGuard {
    fn drop(&mut self) {
        if let Some(name) = &self.netns {
            netns::destroy(name);
        }
        if std::env::var("KMSDNS_KEEP_LAB").is_ok_and(|v| v == "1") {
            let _ = fs::write(self.dir.join("KEEP"), "");
            eprintln!("KMSDNS_KEEP_LAB: kept Samba lab at {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// True while `pid` runs (a zombie counts as gone).
fn process_running(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// `samba`'s path; panics naming the Debian packages an AD DC needs when any part is missing.
fn require_samba() -> PathBuf {
    let samba = require("samba");
    require("samba-tool");
    require("winbindd");
    require("kinit");
    require("ip");
    let lib = format!("/usr/lib/{}-linux-gnu/samba", std::env::consts::ARCH);
    for (file, package) in [
        ("/usr/share/samba/setup".to_owned(), "samba-ad-provision"),
        (format!("{lib}/ldb/acl.so"), "samba-dsdb-modules"),
        (format!("{lib}/vfs/acl_xattr.so"), "samba-vfs-modules"),
    ] {
        assert!(
            Path::new(&file).exists(),
            "{file} not found: install the Debian package `{package}` (with \
             --no-install-recommends, as `bash scripts/test.sh` does; the recommended \
             libnss-winbind edits /etc/nsswitch.conf)"
        );
    }
    samba
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guardian's TERM path (what dropping a [`SambaDc`] does), with a stand-in for samba
    /// that only sleeps: the process in the namespace, the namespace and the lab directory
    /// all go.
    #[test]
    fn the_guardian_cleans_up_on_term() {
        let name = netns::fresh_name();
        let dir = std::env::temp_dir().join(&name);
        fs::create_dir(&dir).unwrap();
        netns::create(&name);
        let fake_samba = dir.join("fake-samba");
        fs::write(&fake_samba, "#!/bin/sh\nexec sleep 600\n").unwrap();
        fs::set_permissions(&fake_samba, fs::Permissions::from_mode(0o700)).unwrap();
        let mut guardian = spawn_guardian(&name, &dir, &fake_samba, Path::new("/dev/null"));

        let pid_file = dir.join("samba.pid");
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid: u32 = loop {
            if let Some(pid) = fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "the guardian started nothing");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(process_running(pid));
        let netns_list = || {
            let out = Command::new(require("ip"))
                .args(["netns", "list"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert!(netns_list().contains(&name));

        Command::new("kill")
            .args(["-TERM", &guardian.id().to_string()])
            .status()
            .unwrap();
        guardian.wait().unwrap();
        assert!(!process_running(pid), "the stand-in samba still runs");
        assert!(!netns_list().contains(&name), "namespace {name} is left");
        if std::env::var("KMSDNS_KEEP_LAB").is_ok_and(|v| v == "1") {
            assert!(dir.join("KEEP").exists(), "a kept lab is marked KEEP");
            fs::remove_dir_all(&dir).unwrap();
        } else {
            assert!(!dir.exists(), "{} is left", dir.display());
        }
    }
}
