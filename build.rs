//! Sets `KMSDNS_VERSION` for `kmsdns --version`: the crate version, followed by
//! `git describe --always --dirty` in parentheses when the crate is built from its own git
//! checkout. Outside git (a crates.io tarball, a Debian source package) — or when the
//! enclosing git repository is not this crate's (a tarball unpacked inside another checkout)
//! — it is the plain crate version.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=build.rs");
    let full = match describe(&dir) {
        Some(described) => format!("{version} ({described})"),
        None => version,
    };
    println!("cargo:rustc-env=KMSDNS_VERSION={full}");
}

/// `git describe --always --dirty` of the checkout at `dir`, and the rerun-if-changed lines
/// that keep it current; `None` outside a git checkout of this crate.
fn describe(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(&top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    // HEAD moves on checkout; the branch's ref on commit; the index on add/commit (dirty);
    // the sources on edit (dirty). In a worktree `.git` is a file: ask git for the paths.
    let mut watch = vec![git(dir, &["rev-parse", "--git-path", "HEAD"])?];
    watch.push(git(dir, &["rev-parse", "--git-path", "index"])?);
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        let loose = git(dir, &["rev-parse", "--git-path", &branch])?;
        if dir.join(&loose).exists() {
            watch.push(loose);
        } else {
            watch.push(git(dir, &["rev-parse", "--git-path", "packed-refs"])?);
        }
    }
    for path in watch {
        let path = dir.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    for path in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={path}");
    }
    git(dir, &["describe", "--always", "--dirty"])
}

/// The trimmed stdout of `git ARGS` run in `dir`, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
