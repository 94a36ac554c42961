//! The progress bar is drawn on a terminal only: with stderr a pipe (as in every test and CI
//! log) not one escape code or carriage return reaches it, even for a run long enough for the
//! bar; on a terminal (a pty made by `script`) it appears.

use std::time::Duration;

use super::*;
use crate::harness::cli::kmsdns_on_tty;
use crate::harness::relay::{Fault, FaultKind, Relay, Scope};

/// A run of `plan` that lasts over the bar's second whatever the machine: 100 domains through
/// a relay that holds the first reply back 1.5 s (the per-try timeout is 3 s).
fn slow_config(bind: &Server) -> (Relay, tempfile::TempDir, PathBuf) {
    let relay = Relay::start(
        bind.addr(),
        vec![
            Fault::new(FaultKind::Delay(Duration::from_millis(1500)))
                .on(Scope::Queries)
                .first_n(1),
        ],
    );
    let (dir, cfg) = config(bind, 100);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace(&bind.addr().to_string(), &relay.addr().to_string());
    std::fs::write(&cfg, text).unwrap();
    (relay, dir, cfg)
}

#[test]
fn no_progress_bar_when_stderr_is_a_pipe() {
    let bind = lab("update-policy { grant kms-update zonesub SRV; };");
    let (_relay, _dir, cfg) = slow_config(&bind);
    let started = std::time::Instant::now();
    let out = run(&cfg, &["plan"]).success();
    let took = started.elapsed();
    let stderr = out.get_output().stderr.clone();
    assert!(
        !stderr.contains(&0x1b) && !stderr.contains(&b'\r'),
        "escape codes on a piped stderr after {took:?}: {:?}",
        String::from_utf8_lossy(&stderr)
    );
    assert!(
        took > Duration::from_millis(1500),
        "{took:?}: the relay holds a reply back"
    );
}

#[test]
fn the_progress_bar_appears_on_a_terminal_and_not_with_q() {
    let bind = lab("update-policy { grant kms-update zonesub SRV; };");
    let (_relay, _dir, cfg) = slow_config(&bind);
    let cfg = cfg.to_str().unwrap();
    let tty = kmsdns_on_tty(["-c", cfg, "plan"]).assert().success();
    let text = String::from_utf8_lossy(&tty.get_output().stdout).to_string();
    assert!(
        text.contains("reading zones") || text.contains("finding zones"),
        "{text}"
    );
    // A fresh relay: its first reply is held back again.
    let (_relay, _dir, cfg) = slow_config(&bind);
    let cfg = cfg.to_str().unwrap();
    let quiet = kmsdns_on_tty(["-q", "-c", cfg, "plan"]).assert().success();
    let text = String::from_utf8_lossy(&quiet.get_output().stdout).to_string();
    assert!(!text.contains("zones"), "{text}");
}
