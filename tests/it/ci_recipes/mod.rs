//! The CI recipes in examples/ci/ are run, not only written: each test parses a pipeline file,
//! takes the shell of the steps that run kmsdns (everything but the step that installs it) and
//! runs it with bash, as the CI system would, in a fresh "checkout" holding a kmsdns.toml whose
//! key comes from `secret_env`, against a real BIND — the pull-request pipeline (validate, plan:
//! exit 2 tolerated, plan.json written, nothing sent), then the default-branch pipeline (apply
//! of the saved plan: dig shows the records; a second plan: no changes).
//!
//! A `kmsdns` shim first in PATH runs the binary cargo built and logs each call and its exit
//! code, so the tests see the exit codes the recipes' shell lines swallow on purpose (2).

mod github;
mod gitlab;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::cli::write_config;
use crate::harness::{BindServer, Server};
use crate::plan_apply::lab_builder;

/// The variable the recipes' config names in `secret_env` (the CI secret's name).
pub(crate) const SECRET_VAR: &str = "KMSDNS_TSIG_SECRET";

pub(crate) fn recipe(name: &str) -> serde_norway::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/ci")
        .join(name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// The `[lab_builder]` config, as a config repository would hold it: key `kms-update` from
/// the environment variable [`SECRET_VAR`] (no key file), every domain through server `lab`.
fn config_with_secret_env(server: &Server) -> String {
    let config = crate::plan_apply::config(server, "");
    let file_line = format!("file = \"{}\"", server.key("kms-update").file.display());
    assert!(config.contains(&file_line), "{config}");
    config.replace(
        &file_line,
        &format!("secret_env = \"{SECRET_VAR}\"\nalgorithm = \"hmac-sha256\""),
    )
}

/// A BIND lab, the config for it and the secret to put in [`SECRET_VAR`].
pub(crate) struct Lab {
    pub bind: BindServer,
    pub config: String,
    pub secret: String,
    root: tempfile::TempDir,
    shim_dir: PathBuf,
    log: PathBuf,
    checkouts: usize,
}

impl Lab {
    pub fn start() -> Lab {
        let bind = BindServer::start(&lab_builder());
        let config = config_with_secret_env(&bind);
        let secret = bind.key("kms-update").secret_b64.clone();
        let root = tempfile::tempdir().unwrap();
        let shim_dir = root.path().join("bin");
        std::fs::create_dir(&shim_dir).unwrap();
        let log = root.path().join("kmsdns-calls.log");
        write_shim(&shim_dir.join("kmsdns"), &log);
        Lab {
            bind,
            config,
            secret,
            root,
            shim_dir,
            log,
            checkouts: 0,
        }
    }

    /// A fresh directory holding kmsdns.toml: a CI job's clone of the config repository.
    pub fn checkout(&mut self) -> PathBuf {
        self.checkouts += 1;
        let dir = self.root.path().join(format!("checkout{}", self.checkouts));
        std::fs::create_dir(&dir).unwrap();
        write_config(&dir, &self.config);
        dir
    }

    /// Runs `bash ARGS… SCRIPT` in `dir` with only `env` (plus PATH, HOME, CI=true) in the
    /// environment: no variable of the shell that started the tests leaks in.
    pub fn bash(
        &self,
        dir: &Path,
        bash_args: &[&str],
        script: &str,
        env: &BTreeMap<String, String>,
    ) -> Output {
        let file = self.root.path().join("step.sh");
        std::fs::write(&file, script).unwrap();
        let bin = crate::harness::cli::kmsdns_std();
        let bin_dir = Path::new(bin.get_program()).parent().unwrap();
        let path = format!(
            "{}:{}:/usr/local/bin:/usr/bin:/bin",
            self.shim_dir.display(),
            bin_dir.display()
        );
        Command::new("bash")
            .args(bash_args)
            .arg(&file)
            .current_dir(dir)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.root.path())
            .env("CI", "true")
            .envs(env)
            .output()
            .expect("run bash")
    }

    /// The kmsdns calls so far, as (exit code, arguments), and forgets them.
    pub fn take_calls(&self) -> Vec<(i32, String)> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        std::fs::write(&self.log, "").unwrap();
        text.lines()
            .map(|line| {
                let (code, args) = line.split_once('\t').expect("shim log line");
                (code.parse().unwrap(), args.to_owned())
            })
            .collect()
    }

    /// `kmsdns plan --detailed-exitcode` run by the test itself (not from a recipe).
    pub fn plan_exit_code(&self, dir: &Path) -> i32 {
        let out = crate::harness::cli::kmsdns_std()
            .current_dir(dir)
            .env(SECRET_VAR, &self.secret)
            .args(["plan", "--detailed-exitcode"])
            .output()
            .unwrap();
        out.status.code().expect("exit code")
    }

    /// Asserts the records of a successful apply, as dig reads them.
    pub fn assert_applied(&self) {
        use crate::plan_apply::{BRANCH, CORP, rr};
        assert_eq!(
            self.bind.srv_records(CORP),
            vec![
                rr(3600, 0, "kms1.example.com."),
                rr(3600, 10, "kms2.example.com.")
            ]
        );
        assert_eq!(
            self.bind.srv_records(BRANCH),
            vec![rr(3600, 0, "kms2.example.com.")]
        );
    }

    pub fn assert_nothing_applied(&self) {
        assert!(self.bind.srv_records(crate::plan_apply::CORP).is_empty());
        assert!(self.bind.srv_records(crate::plan_apply::BRANCH).is_empty());
    }
}

/// A bash `kmsdns` that runs the binary cargo built and appends "EXIT\tARGS" to `log`.
fn write_shim(path: &Path, log: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let shim = format!(
        "#!/bin/bash\nrc=0\n'{bin}' \"$@\" || rc=$?\nprintf '%s\\t%s\\n' \"$rc\" \"$*\" >> '{log}'\nexit \"$rc\"\n",
        bin = crate::harness::cli::binary().display(),
        log = log.display()
    );
    std::fs::write(path, shim).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The plan command every recipe runs, as the shim logs it.
pub(crate) fn is_saved_plan(args: &str) -> bool {
    args == "plan --detailed-exitcode --format markdown --out plan.json"
}

/// Reads a saved plan and returns how many changes it holds.
pub(crate) fn saved_plan_changes(path: &Path) -> usize {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the recipe wrote no {}: {e}", path.display()));
    let plan: kmsdns::plan::Plan = serde_json::from_str(&text).unwrap();
    plan.zones
        .iter()
        .flat_map(|z| &z.rrsets)
        .map(|r| r.changes.len())
        .sum()
}

/// `out` as text, for failure messages.
pub(crate) fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A YAML mapping's string value at `key`.
pub(crate) fn str_at<'a>(value: &'a serde_norway::Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(|v| v.as_str())
}
