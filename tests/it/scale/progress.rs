//! The progress bar is drawn on a terminal only: with stderr a pipe (as in every test and CI
//! log) not one escape code or carriage return reaches it, even for a run long enough for the
//! bar; on a terminal (a pty made by `script`) it appears.

use super::*;
use crate::harness::cli::kmsdns_on_tty;

/// A run of `plan` long enough for the bar (over a second): 1,000 domains, every read slowed
/// by a server limited to one message in flight.
fn slow_config(bind: &Server) -> (tempfile::TempDir, PathBuf) {
    let (dir, cfg) = config(bind, 1000);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[servers.lab]\n", "[servers.lab]\nmax_inflight = 1\n");
    std::fs::write(&cfg, text).unwrap();
    (dir, cfg)
}

#[test]
fn no_progress_bar_when_stderr_is_a_pipe() {
    let bind = lab("update-policy { grant kms-update zonesub SRV; };");
    let (_dir, cfg) = slow_config(&bind);
    let started = std::time::Instant::now();
    let out = run(&cfg, &["plan", "--parallel", "1"]).success();
    let took = started.elapsed();
    let stderr = out.get_output().stderr.clone();
    assert!(
        !stderr.contains(&0x1b) && !stderr.contains(&b'\r'),
        "escape codes on a piped stderr after {took:?}: {:?}",
        String::from_utf8_lossy(&stderr)
    );
    eprintln!("plan took {took:?} (the bar appears after 1s on a terminal)");
}

#[test]
fn the_progress_bar_appears_on_a_terminal_and_not_with_q() {
    let bind = lab("update-policy { grant kms-update zonesub SRV; };");
    let (_dir, cfg) = slow_config(&bind);
    let cfg = cfg.to_str().unwrap();
    let tty = kmsdns_on_tty(["-c", cfg, "plan", "--parallel", "1"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&tty.get_output().stdout).to_string();
    assert!(
        text.contains("reading zones") || text.contains("finding zones"),
        "{text}"
    );
    let quiet = kmsdns_on_tty(["-q", "-c", cfg, "plan", "--parallel", "1"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&quiet.get_output().stdout).to_string();
    assert!(!text.contains("zones"), "{text}");
}
