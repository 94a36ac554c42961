//! Every command that writes to stdout ends quietly with 0 when stdout is a closed pipe
//! (`kmsdns plan --json | head -1`): no "Broken pipe" error, no exit 1 because of the pipe, no
//! panic.

use std::path::Path;

use crate::harness::cli::kmsdns_std;
use crate::plan_apply::setup;

/// Runs kmsdns with stdout a pipe whose read end is closed before it starts: its first write
/// gets EPIPE.
fn closed_pipe(cfg: &Path, args: &[&str]) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = kmsdns_std()
        .arg("-c")
        .arg(cfg)
        .args(args)
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(
        !stderr.to_lowercase().contains("broken pipe"),
        "{args:?}: {stderr}"
    );
}

#[test]
fn every_command_that_writes_stdout_ends_quietly_on_a_closed_pipe() {
    let (bind, _dir, cfg) = setup("");
    let port = bind.port().to_string();
    let resolver = format!("127.0.0.1:{port}");
    let net = [
        "--resolver",
        resolver.as_str(),
        "--server-port",
        port.as_str(),
    ];
    let with_net = |cmd: &[&'static str]| -> Vec<String> {
        cmd.iter()
            .map(|s| s.to_string())
            .chain(net.iter().map(|s| s.to_string()))
            .collect()
    };
    let mut cases: Vec<Vec<String>> = vec![
        with_net(&["plan"]),
        with_net(&["plan", "--json"]),
        with_net(&["plan", "--format", "markdown"]),
        with_net(&["plan", "--detailed-exitcode", "--json"]),
        with_net(&["verify", "--json", "--no-connect"]),
        with_net(&["verify", "--no-connect"]),
        with_net(&["verify", "--format", "prometheus", "--no-connect"]),
    ];
    for args in [
        &["validate"][..],
        &["render", "table"],
        &["render", "bind"],
        &["render", "named-conf"],
        &["render", "nsupdate"],
        &["keygen", "pipe-test"],
        &["completions", "bash"],
        &["man"],
    ] {
        cases.push(args.iter().map(|s| s.to_string()).collect());
    }
    for args in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        closed_pipe(&cfg, &args);
    }
}
