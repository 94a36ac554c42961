//! A network namespace of the test process's own for the Samba DC, which insists on fixed
//! ports (53, 88, 135, 389, 445, 464): loopback up and a veth pair whose two ends both stay
//! inside, the DC on one end ([`DC_IP`]), nothing routed out. Needs root (CI runs as root).
//!
//! Names are `kmsdns-samba-<pid>-<n>`: a namespace whose pid is dead is a leftover of a killed
//! run, and [`remove_stale`] deletes it (killing whatever still runs in it) along with its lab
//! directory.

use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::harness::require;

/// The DC's address inside the namespace (on `kd0`).
pub const DC_IP: Ipv4Addr = Ipv4Addr::new(10, 53, 0, 1);
/// The other end of the veth pair (`kd1`), also inside the namespace.
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 53, 0, 2);
/// The interface the DC listens on besides loopback.
pub const DC_IFACE: &str = "kd0";

/// Prefix of every namespace and lab directory this harness creates.
pub const PREFIX: &str = "kmsdns-samba-";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh namespace name for this process.
pub fn fresh_name() -> String {
    format!(
        "{PREFIX}{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `ip ARGS…`; panics with its stderr when it fails.
fn ip(args: &[&str]) {
    let out = Command::new(require("ip"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "`ip {}` failed ({}): {} (the Samba DC harness needs root for network namespaces)",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Creates namespace `name`: `lo` up, veth `kd0` ([`DC_IP`]/24) ↔ `kd1` ([`PEER_IP`]/24).
pub fn create(name: &str) {
    ip(&["netns", "add", name]);
    ip(&["-n", name, "link", "set", "lo", "up"]);
    ip(&[
        "-n", name, "link", "add", DC_IFACE, "type", "veth", "peer", "name", "kd1",
    ]);
    ip(&[
        "-n",
        name,
        "addr",
        "add",
        &format!("{DC_IP}/24"),
        "dev",
        DC_IFACE,
    ]);
    ip(&[
        "-n",
        name,
        "addr",
        "add",
        &format!("{PEER_IP}/24"),
        "dev",
        "kd1",
    ]);
    ip(&["-n", name, "link", "set", DC_IFACE, "up"]);
    ip(&["-n", name, "link", "set", "kd1", "up"]);
}

/// `ip netns exec NAME PROGRAM`: a command that runs `program` inside the namespace with the
/// environment, working directory and stdio the returned `Command` is given.
pub fn command(name: &str, program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(require("ip"));
    cmd.args(["netns", "exec", name]).arg(program);
    cmd
}

/// Kills every process in namespace `name` and deletes it. Errors are ignored (it may be gone).
pub fn destroy(name: &str) {
    let Ok(out) = Command::new(require("ip"))
        .args(["netns", "pids", name])
        .output()
    else {
        return;
    };
    for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
    let _ = Command::new(require("ip"))
        .args(["netns", "del", name])
        .stderr(Stdio::null())
        .status();
}

/// The pid in a `kmsdns-samba-<pid>-<n>` name.
fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Deletes namespaces and lab directories left by runs whose process is gone (a test run
/// killed with SIGKILL cannot clean up after itself; its guardian normally does, but it can be
/// killed too). Labs kept with `KMSDNS_KEEP_LAB=1` stay.
pub fn remove_stale(tmp: &Path) {
    if let Ok(out) = Command::new(require("ip")).args(["netns", "list"]).output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            if owner_pid(name).is_some_and(|pid| !alive(pid)) {
                destroy(name);
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(tmp) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // A lab kept with KMSDNS_KEEP_LAB=1 has a KEEP file: it stays.
            if owner_pid(&name).is_some_and(|pid| !alive(pid))
                && !entry.path().join("KEEP").exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn owner_pid_reads_the_name() {
        assert_eq!(super::owner_pid("kmsdns-samba-1234-0"), Some(1234));
        assert_eq!(super::owner_pid("kmsdns-samba-x-0"), None);
        assert_eq!(super::owner_pid("other-1234-0"), None);
    }
}
