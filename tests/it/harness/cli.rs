//! Running the `kmsdns` binary from tests: the only place that names the binary cargo built.
//!
//! Every run gets the same clean environment ([`clean_env`]): every `KMSDNS_*` variable and
//! `RUST_LOG` removed, `NO_COLOR=1` set, so a developer's shell cannot change what a test sees.
//! - [`kmsdns`]: an `assert_cmd::Command` — what almost every test wants.
//! - [`kmsdns_std`]: the same as a `std::process::Command`, for what assert_cmd cannot do
//!   (e.g. hand the child another stdout, or inspect the environment it will get).
//! - [`kmsdns_on_tty`]: the binary run by `script` on a pseudo-terminal.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `kmsdns` binary cargo built for this test run.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kmsdns"))
}

/// Removes every `KMSDNS_*` variable and `RUST_LOG` from the environment `cmd` passes on, and
/// sets `NO_COLOR=1`. (`KMSDNS_CONFIG` and `RUST_LOG` are removed even when unset here, so a
/// run never depends on the shell the tests were started from.)
pub fn clean_env(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KMSDNS_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env_remove("KMSDNS_CONFIG")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
}

/// A `std::process::Command` for the `kmsdns` binary with the clean environment of
/// [`clean_env`]. Prefer [`kmsdns`] unless assert_cmd is in the way.
pub fn kmsdns_std() -> Command {
    let mut cmd = Command::new(binary());
    clean_env(&mut cmd);
    cmd
}

/// An `assert_cmd::Command` for the `kmsdns` binary with the clean environment of
/// [`clean_env`].
pub fn kmsdns() -> assert_cmd::Command {
    assert_cmd::Command::from_std(kmsdns_std())
}

/// `kmsdns ARGS…` on a pseudo-terminal: `script -qec "kmsdns ARGS…" /dev/null` (util-linux,
/// Debian package bsdutils) with the clean environment of [`clean_env`]. Its stdin is the
/// terminal's input; its stdout carries everything the program wrote to the terminal.
pub fn kmsdns_on_tty<I, S>(args: I) -> assert_cmd::Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut line = shell_quote(binary().as_os_str());
    for arg in args {
        line.push(' ');
        line.push_str(&shell_quote(arg.as_ref()));
    }
    let mut cmd = Command::new(super::require("script"));
    clean_env(&mut cmd).arg("-qec").arg(line).arg("/dev/null");
    assert_cmd::Command::from_std(cmd)
}

/// `s` in single quotes for `sh -c`.
fn shell_quote(s: &OsStr) -> String {
    let s = s
        .to_str()
        .unwrap_or_else(|| panic!("argument {s:?} is not UTF-8"));
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Writes `toml` to `dir/kmsdns.toml` and returns the path.
pub fn write_config(dir: &Path, toml: &str) -> PathBuf {
    let path = dir.join("kmsdns.toml");
    std::fs::write(&path, toml).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}
