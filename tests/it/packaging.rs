//! What the packages ship besides the binary: `kmsdns --version` (with the git commit when
//! built from a checkout), the shell completion scripts (each parsed by its shell where
//! scripts/test.sh installs it: bash, zsh, fish) and the man pages (formatted by groff with
//! every warning on). The subcommand list comes from the clap definitions, so a new
//! subcommand is checked without touching this file.

use std::path::Path;
use std::process::{Command, Stdio};

use clap::CommandFactory;

use crate::harness::cli::kmsdns;
use crate::harness::require;

/// The visible subcommands, from the clap definitions (clap's own `help` left out).
fn subcommands() -> Vec<String> {
    kmsdns::cli::Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_owned())
        .collect()
}

/// stdout of a successful `kmsdns ARGS…`, as text.
fn run(args: &[&str]) -> String {
    let out = kmsdns().args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).expect("utf-8 output")
}

/// Runs `program args…` with `input` on stdin; panics with its stderr unless it succeeds
/// silently (stderr empty).
fn check_with(program: &Path, args: &[&str], input: &str, what: &str) {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn checker");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to checker");
    let out = child.wait_with_output().expect("wait for checker");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "{} {args:?} rejects {what} ({}):\n{stderr}",
        program.display(),
        out.status
    );
}

#[test]
fn version_names_the_commit_when_built_from_git() {
    let line = run(&["--version"]);
    let want = format!("kmsdns {}", env!("CARGO_PKG_VERSION"));
    assert!(
        line.starts_with(&want),
        "`{line}` should start with `{want}`"
    );
    assert_eq!(line.lines().count(), 1, "one line: {line:?}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !dir.join(".git").exists() {
        // A crates.io tarball or a source package: the plain version.
        assert_eq!(line.trim_end(), want);
        return;
    }
    let head = Command::new(require("git"))
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .output()
        .expect("git rev-parse");
    assert!(head.status.success(), "git rev-parse HEAD failed");
    let head = String::from_utf8(head.stdout).expect("hex");
    let short = &head.trim()[..7];
    assert!(
        line.contains(short),
        "`{line}` should name the commit {short} (git describe --always --dirty)"
    );
}

#[test]
fn completion_scripts_name_every_subcommand_and_parse() {
    let subs = subcommands();
    assert!(subs.len() >= 8, "subcommands: {subs:?}");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = run(&["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for sub in &subs {
            assert!(
                script.contains(sub.as_str()),
                "{shell}: no `{sub}` in the script"
            );
        }
        let what = format!("the {shell} completion script");
        match shell {
            "bash" => check_with(&require("bash"), &["-n"], &script, &what),
            "zsh" => check_with(&require("zsh"), &["-n"], &script, &what),
            "fish" => check_with(&require("fish"), &["-n"], &script, &what),
            // No shell to parse these with: non-empty and naming every subcommand.
            _ => {}
        }
    }
    kmsdns().args(["completions", "tcsh"]).assert().code(3);
}

/// `groff -man -Tutf8 -ww PAGE` prints no warning; returns the formatted text (unhyphenated,
/// whitespace collapsed).
fn format_page(page: &str, what: &str) -> String {
    let groff = require("groff");
    check_with(&groff, &["-man", "-Tutf8", "-ww", "-z"], page, what);
    let out = Command::new(groff)
        .args(["-man", "-Tutf8", "-rHY=0", "-P-c", "-P-b", "-P-u"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(page.as_bytes())?;
            child.wait_with_output()
        })
        .expect("run groff");
    // Justified text has runs of spaces: compare words.
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn man_pages_format_cleanly_and_cover_every_subcommand() {
    let top = run(&["man"]);
    assert!(
        top.starts_with(".ie") || top.contains(".TH kmsdns 1"),
        "{top}"
    );
    assert!(top.is_ascii(), "kmsdns.1 should be plain ASCII roff");
    let text = format_page(&top, "kmsdns.1");
    for sub in subcommands() {
        assert!(
            text.contains(&format!("kmsdns-{sub}(1)")),
            "kmsdns.1 should list kmsdns-{sub}(1):\n{text}"
        );
        let page = run(&["man", &sub]);
        assert!(page.contains(&format!(".TH kmsdns-{sub} 1")), "{page}");
        assert!(page.is_ascii(), "kmsdns-{sub}.1 should be plain ASCII roff");
        format_page(&page, &format!("kmsdns-{sub}.1"));
    }
    // The exit codes are on the top page.
    assert!(text.contains("Exit codes"), "{text}");
}

#[test]
fn man_out_dir_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let listed = run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    let mut want = vec!["kmsdns.1".to_owned()];
    want.extend(subcommands().iter().map(|s| format!("kmsdns-{s}.1")));
    let mut written: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    want.sort();
    assert_eq!(written, want);
    assert_eq!(listed.lines().count(), want.len(), "{listed}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("kmsdns-plan.1")).unwrap(),
        run(&["man", "plan"])
    );
    kmsdns()
        .args(["man", "nosuch"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("no subcommand `nosuch`"));
}
