//! README's shell blocks marked `sh tested` run, as written, against a lab BIND: a newcomer's
//! first commands are proven, not only written. Each block runs with `bash -eo pipefail` in a
//! directory holding the lab's `kmsdns.toml` and key, with `kmsdns` on the PATH and
//! `KMSDNS_RESOLVER` / `KMSDNS_PORT` set to the lab server's address and port.

use std::path::Path;

use crate::harness::BindServer;
use crate::harness::cli::{clean_env, kmsdns_std, write_config};
use crate::plan_apply::{config, lab_builder};

/// The bodies of the ```` ```sh tested ```` blocks of `text`, in order.
fn tested_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_end() == "```sh tested" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.push(current.take().expect("open")),
            Some(body) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    assert!(current.is_none(), "a ```sh tested block is never closed");
    blocks
}

#[test]
fn readme_tested_blocks_run_against_the_lab() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let blocks = tested_blocks(&readme);
    assert!(
        blocks.len() >= 2,
        "README should have its quick start as ```sh tested blocks, found {}",
        blocks.len()
    );
    let bind = BindServer::start(&lab_builder());
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &config(&bind, ""));
    let bin = kmsdns_std();
    let bin_dir = Path::new(bin.get_program())
        .parent()
        .expect("the binary has a directory")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (i, block) in blocks.iter().enumerate() {
        let mut cmd = std::process::Command::new("bash");
        clean_env(&mut cmd);
        let out = cmd
            .args(["-eo", "pipefail", "-c", block])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("KMSDNS_RESOLVER", bind.addr().to_string())
            .env("KMSDNS_PORT", bind.port().to_string())
            .output()
            .expect("run bash");
        assert!(
            out.status.success(),
            "README block {} failed ({}):\n{block}\nstdout:\n{}\nstderr:\n{}",
            i + 1,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The blocks did the job: the records are there.
    assert_eq!(bind.srv_records("_vlmcs._tcp.corp.example.com").len(), 2);
}

#[test]
fn tested_blocks_are_found() {
    let text = "a\n```sh tested\necho 1\n```\n```sh\nnot this\n```\n```sh tested\necho 2\n```\n";
    assert_eq!(tested_blocks(text), vec!["echo 1\n", "echo 2\n"]);
}
