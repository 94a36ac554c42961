//! `kmsdns validate` against bad configuration files: every error class of issue 2 must exit 3
//! with nothing on stdout, and name the file, `LINE:COL`, the key path and a hint on stderr.

mod domains;
mod keys_servers;
mod keys_together;
mod names;
mod references;
mod syntax;
mod valid;
mod values;

use std::path::{Path, PathBuf};

use crate::harness::cli::kmsdns;

/// One `[[hosts]]` and one `[[domains]]` entry: the smallest valid file, to build cases on.
const HOST: &str = "[[hosts]]\nname = \"kms1.example.com\"\n";
const DOMAIN: &str = "[[domains]]\nname = \"example.com\"\n";

/// Writes `toml` to a temp file and runs `kmsdns validate -c FILE` on it.
fn run(toml: &str) -> (tempfile::TempDir, PathBuf, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kmsdns.toml");
    std::fs::write(&file, toml).unwrap();
    let out = kmsdns()
        .args(["validate", "-c"])
        .arg(&file)
        .output()
        .unwrap();
    (dir, file, out)
}

/// The outcome of validating a bad file; the assertions read like the error they expect.
struct Bad {
    toml: String,
    file: PathBuf,
    stderr: String,
    _dir: tempfile::TempDir,
}

/// Validates `toml`, asserting exit code 3 and an empty stdout.
fn bad(toml: &str) -> Bad {
    let (dir, file, out) = run(toml);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "want exit 3 for:\n{toml}\nstderr:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty on error, got:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    Bad {
        toml: toml.to_string(),
        file,
        stderr,
        _dir: dir,
    }
}

/// 1-based line and column (in characters) of the first occurrence of `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in the case's TOML"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, col)
}

impl Bad {
    /// An error at the first occurrence of `needle`, for key path `key`.
    #[track_caller]
    fn at(&self, needle: &str, key: &str) -> &Self {
        let (line, col) = position(&self.toml, needle);
        let want = format!("{}:{line}:{col}: error: {key}: ", self.file.display());
        assert!(
            self.stderr.contains(&want),
            "want `{want}` in stderr:\n{}",
            self.stderr
        );
        self
    }

    /// An error somewhere on `line` (for errors at the end of a line or file).
    #[track_caller]
    fn on_line(&self, line: usize) -> &Self {
        let want = format!("{}:{line}:", self.file.display());
        assert!(
            self.stderr.contains(&want),
            "want `{want}` in stderr:\n{}",
            self.stderr
        );
        self
    }

    /// `fragment` appears in stderr (a message or hint).
    #[track_caller]
    fn says(&self, fragment: &str) -> &Self {
        assert!(
            self.stderr.contains(fragment),
            "want `{fragment}` in stderr:\n{}",
            self.stderr
        );
        self
    }

    /// `fragment` does not appear in stderr.
    #[track_caller]
    fn never(&self, fragment: &str) -> &Self {
        assert!(
            !self.stderr.contains(fragment),
            "did not want `{fragment}` in stderr:\n{}",
            self.stderr
        );
        self
    }

    /// The closing count line says exactly `n` errors.
    #[track_caller]
    fn count(&self, n: usize) -> &Self {
        let s = if n == 1 { "" } else { "s" };
        let want = format!(
            "{}: {n} error{s} in the configuration; nothing was sent to DNS",
            self.file.display()
        );
        assert!(
            self.stderr.contains(&want),
            "want `{want}` in stderr:\n{}",
            self.stderr
        );
        self
    }
}

/// Validates a good file with `validate -c FILE ARGS`: exit 0, no errors on stderr (with
/// `--offline`, warnings about key files or secret variables not present on this machine are
/// fine); returns stdout.
fn good_file(file: &Path, args: &[&str]) -> String {
    let out = kmsdns()
        .args(["validate", "-c"])
        .arg(file)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(
        stderr.lines().all(|l| l.contains("WARN")),
        "stderr:\n{stderr}"
    );
    String::from_utf8(out.stdout).unwrap()
}

fn good(toml: &str) -> String {
    let (_dir, file, _) = run("");
    std::fs::write(&file, toml).unwrap();
    good_file(&file, &[])
}
