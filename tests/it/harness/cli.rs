//! Running the `kmsdns` binary from tests.

use std::path::{Path, PathBuf};

/// An `assert_cmd::Command` for the `kmsdns` binary with a clean environment for our variables:
/// every `KMSDNS_*` variable and `RUST_LOG` removed, `NO_COLOR=1` set.
pub fn kmsdns() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_kmsdns"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KMSDNS_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env_remove("KMSDNS_CONFIG")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    cmd
}

/// Writes `toml` to `dir/kmsdns.toml` and returns the path.
pub fn write_config(dir: &Path, toml: &str) -> PathBuf {
    let path = dir.join("kmsdns.toml");
    std::fs::write(&path, toml).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}
