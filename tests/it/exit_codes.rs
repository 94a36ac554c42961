//! README's exit-code table matches behaviour: one case per row, run for real (a lab BIND for
//! "changes pending", a silent socket for a DNS failure).

use std::path::Path;

use crate::harness::BindServer;
use crate::harness::cli::{kmsdns, write_config};
use crate::plan_apply::{config, lab_builder};

/// The codes of the rows of README's `### Exit codes` table.
fn readme_codes() -> Vec<i32> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let table = readme
        .split("### Exit codes")
        .nth(1)
        .expect("README has an exit-code table");
    table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.trim_matches('|').split('|').next()?.trim().parse().ok())
        .collect()
}

fn code(dir: &Path, toml: &str, args: &[&str]) -> Option<i32> {
    let cfg = write_config(dir, toml);
    kmsdns()
        .arg("-c")
        .arg(&cfg)
        .args(args)
        .output()
        .unwrap()
        .status
        .code()
}

#[test]
fn every_row_of_the_exit_code_table_is_what_kmsdns_does() {
    let codes = readme_codes();
    assert_eq!(codes, vec![0, 1, 2, 3], "the table's rows");
    let bind = BindServer::start(&lab_builder());
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dead = silent.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lab = config(&bind, "");
    for row in codes {
        let got = match row {
            // 0: success (and no changes with --detailed-exitcode once applied).
            0 => {
                assert_eq!(code(dir.path(), &lab, &["apply", "--yes"]), Some(0));
                code(dir.path(), &lab, &["plan", "--detailed-exitcode"])
            }
            // 1: a DNS failure: the server does not answer.
            1 => code(
                dir.path(),
                &format!(
                    "[servers.dead]\naddress = \"{dead}\"\ntimeout = \"200ms\"\nretries = 0\n\
                     [[hosts]]\nname = \"kms1.example.com\"\n\
                     [[domains]]\nname = \"corp.example.com\"\nzone = \"example.com\"\nserver = \"dead\"\n"
                ),
                &["plan"],
            ),
            // 2: changes pending.
            2 => code(
                dir.path(),
                &lab.replace("priority = 10", "priority = 20"),
                &["plan", "--detailed-exitcode"],
            ),
            // 3: a usage or configuration error, before any packet.
            3 => code(dir.path(), "[[hosts]]\nnmae = \"x\"\n", &["plan"]),
            other => panic!("README lists exit code {other}, which this test does not know"),
        };
        assert_eq!(got, Some(row), "README row {row}");
    }
}
