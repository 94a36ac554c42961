//! The bad-input corpus under tests/bad/<kind>/<case>/ (written by tests/bad/generate.py):
//! configs, key files and secret variables, saved plans and flag combinations that kmsdns must
//! refuse before the first packet. Each case directory holds the input files and `case.toml`:
//! `args` (run in a copy of the directory, so the default `kmsdns.toml` is the case's), `exit`
//! (the expected code) and `secrets` (strings no output may contain). An optional `env` file
//! holds `VAR=value` lines for the run. `@SERVER@` in any file or argument is replaced by the
//! address of a UDP socket and a TCP listener on one 127.0.0.1 port that count what reaches
//! them: every case must leave both at 0.
//!
//! Per case: the exit code, no panic, stderr under 4 KiB, no secret in stdout or stderr, no
//! packet, and an insta snapshot of the output (`bad__<kind>__<case>.snap`). All failures are
//! collected and reported at once. A case named `…-BUG` records kmsdns's current behaviour
//! where it breaks the contract (see the report that added it).

use std::io::ErrorKind;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::cli::kmsdns_std;

const PLACEHOLDER: &str = "@SERVER@";
const STDERR_LIMIT: usize = 4096;
const CASE_TIMEOUT: Duration = Duration::from_secs(10);

/// Every case directory, sorted: tests/bad/<kind>/<case>/.
fn case_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut out = Vec::new();
    for kind in std::fs::read_dir(&root).expect("read tests/bad") {
        let kind = kind.expect("dir entry").path();
        if !kind.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&kind).expect("read kind dir") {
            let case = case.expect("dir entry").path();
            if case.join("case.toml").is_file() {
                out.push(case);
            }
        }
    }
    out.sort();
    out
}

/// A UDP socket and a TCP listener on the same 127.0.0.1 port, counting what reaches them.
struct Counter {
    udp: UdpSocket,
    tcp: TcpListener,
}

impl Counter {
    fn bind() -> Counter {
        for _ in 0..100 {
            let tcp = TcpListener::bind("127.0.0.1:0").expect("bind tcp");
            let port = tcp.local_addr().expect("local addr").port();
            if let Ok(udp) = UdpSocket::bind(("127.0.0.1", port)) {
                udp.set_nonblocking(true).expect("nonblocking udp");
                tcp.set_nonblocking(true).expect("nonblocking tcp");
                return Counter { udp, tcp };
            }
        }
        panic!("no 127.0.0.1 port free for both UDP and TCP");
    }

    fn port(&self) -> u16 {
        self.tcp.local_addr().expect("local addr").port()
    }

    /// Datagrams received plus connections accepted so far (queued by the kernel meanwhile).
    fn packets(&self) -> usize {
        let mut n = 0;
        let mut buf = [0u8; 65536];
        loop {
            match self.udp.recv_from(&mut buf) {
                Ok(_) => n += 1,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => n += 1, // e.g. an ICMP error: something was still sent
            }
        }
        while self.tcp.accept().is_ok() {
            n += 1;
        }
        n
    }
}

fn replace_bytes(data: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (from, to) = (from.as_bytes(), to.as_bytes());
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

/// Copies `from` into `to` recursively, replacing the placeholder in every file.
fn copy_case(from: &Path, to: &Path, server: &str) {
    std::fs::create_dir_all(to).expect("create case copy");
    for entry in std::fs::read_dir(from).expect("read case dir") {
        let path = entry.expect("dir entry").path();
        // Corpus key files are stored as `*.key.in` (the repository ignores `*.key`).
        let name = path.file_name().expect("file name").to_string_lossy();
        let dest = to.join(
            name.strip_suffix(".key.in")
                .map_or(name.to_string(), |stem| format!("{stem}.key")),
        );
        if path.is_dir() {
            copy_case(&path, &dest, server);
        } else {
            let data = std::fs::read(&path).expect("read case file");
            std::fs::write(&dest, replace_bytes(&data, PLACEHOLDER, server))
                .expect("write case file");
            if dest.extension().is_some_and(|e| e == "key") {
                // As `kmsdns keygen` writes it: git does not keep the mode.
                let mode = std::os::unix::fs::PermissionsExt::from_mode(0o600);
                std::fs::set_permissions(&dest, mode).expect("chmod 600");
            }
        }
    }
}

/// What case.toml asks.
struct Spec {
    args: Vec<String>,
    exit: i32,
    secrets: Vec<String>,
    /// What kmsdns does wrong in a `…-BUG` case: only its exit code and output are checked.
    bug: Option<String>,
}

fn spec(dir: &Path) -> Spec {
    let text = std::fs::read_to_string(dir.join("case.toml")).expect("read case.toml");
    let table: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: bad case.toml: {e}", dir.display()));
    let strings = |key: &str| -> Vec<String> {
        table
            .get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().expect("a string").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    Spec {
        args: strings("args"),
        exit: table
            .get("exit")
            .and_then(|v| v.as_integer())
            .expect("case.toml: exit") as i32,
        secrets: strings("secrets"),
        bug: table
            .get("bug")
            .and_then(|v| v.as_str())
            .map(str::to_string),
    }
}

/// `VAR=value` lines of the case's `env` file.
fn env_vars(dir: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(dir.join("env")) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').expect("env line VAR=value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The outcome of one run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    packets: usize,
}

fn run_case(dir: &Path, spec: &Spec) -> (Run, tempfile::TempDir, String) {
    let counter = Counter::bind();
    let server = format!("127.0.0.1:{}", counter.port());
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = tmp.path().join("case");
    copy_case(dir, &work, &server);
    let out_path = tmp.path().join("stdout");
    let err_path = tmp.path().join("stderr");
    let args: Vec<String> = spec
        .args
        .iter()
        .map(|a| a.replace(PLACEHOLDER, &server))
        .collect();
    let mut child = kmsdns_std()
        .current_dir(&work)
        .args(&args)
        .envs(env_vars(&work))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn kmsdns");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > CASE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).expect("read output")).into_owned();
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: read(&out_path),
        stderr: read(&err_path),
        packets: counter.packets(),
    };
    (run, tmp, server)
}

/// Checks one case; returns its problems (empty when it passed).
fn check(dir: &Path) -> Vec<String> {
    let kind = dir.parent().and_then(|p| p.file_name()).expect("kind");
    let name = dir.file_name().expect("name");
    let id = format!("{}/{}", kind.to_string_lossy(), name.to_string_lossy());
    let spec = spec(dir);
    let (run, tmp, server) = run_case(dir, &spec);
    let mut problems = Vec::new();
    if run.code != Some(spec.exit) {
        problems.push(format!("exit {:?}, want {}", run.code, spec.exit));
    }
    let both = format!("{}{}", run.stdout, run.stderr);
    let is_bug = name.to_string_lossy().ends_with("-BUG");
    if is_bug != spec.bug.is_some() {
        problems.push("a -BUG case needs `bug` in case.toml, and only a -BUG case".to_string());
    }
    if is_bug {
        // Today's behaviour, recorded: the checks below are the bug.
    } else if both.contains("panicked") || both.contains("RUST_BACKTRACE") {
        problems.push("panicked".to_string());
    }
    if !is_bug && run.stderr.len() >= STDERR_LIMIT {
        problems.push(format!("stderr is {} bytes", run.stderr.len()));
    }
    for s in spec.secrets.iter().filter(|_| !is_bug) {
        if both.contains(s.as_str()) {
            problems.push(format!("the secret `{s}` is in the output"));
        }
    }
    if !is_bug && run.packets != 0 {
        problems.push(format!("{} packet(s) reached {server}", run.packets));
    }
    let tmp_path = tmp.path().to_string_lossy().into_owned();
    let mut text = format!(
        "args: {:?}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}",
        spec.args, run.code, run.stdout, run.stderr
    );
    // A carriage return is shown, not kept: insta normalises line endings.
    text = text
        .replace('\r', "\\r")
        .replace(&tmp_path, "[TMP]")
        .replace(&server, "127.0.0.1:[PORT]")
        .replace(
            &format!(":{}", server.rsplit(':').next().expect("port")),
            ":[PORT]",
        );
    let snap = format!(
        "bad__{}__{}",
        kind.to_string_lossy(),
        name.to_string_lossy()
    );
    let snapshot = std::panic::catch_unwind(|| {
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            filters => vec![
                (r"kmsdns \d+\.\d+\.\d+ \([^)]*\)", "kmsdns [VERSION]"),
                (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
            ],
        }, {
            insta::assert_snapshot!(snap.as_str(), text);
        });
    });
    if snapshot.is_err() {
        problems.push("snapshot differs (cargo insta review)".to_string());
    }
    problems.into_iter().map(|p| format!("{id}: {p}")).collect()
}

#[test]
fn every_bad_input_is_refused_before_any_packet() {
    let dirs = case_dirs();
    assert!(
        dirs.len() >= 200,
        "only {} cases under tests/bad",
        dirs.len()
    );
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(dir) = dirs.get(i) else { break };
                    let problems = check(dir);
                    failures.lock().expect("lock").extend(problems);
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("lock");
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} problem(s) in {} cases:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

/// The counter does see packets: the valid config of a flag case, planned, reads its zone from
/// the counting socket (which never answers, so the plan fails with exit 1).
#[test]
fn the_counting_socket_sees_a_plan() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad/cli/no-subcommand");
    let spec = Spec {
        args: vec!["plan".to_string()],
        exit: 1,
        secrets: Vec::new(),
        bug: None,
    };
    let (run, _tmp, server) = run_case(&dir, &spec);
    assert_eq!(run.code, Some(spec.exit), "stderr:\n{}", run.stderr);
    assert!(run.packets >= 1, "no packet reached {server}");
}
