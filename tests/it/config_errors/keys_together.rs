//! Key files and secret variables are checked by `validate` in the same pass as the rest of
//! the file: a key that cannot be loaded is an error (exit 3) next to the config's own errors;
//! `--offline` turns it into a warning.

use crate::harness::cli::kmsdns;

use super::*;

const MISSING_FILE: &str = "[keys.k]\nfile = \"nowhere.key\"\n";
const UNSET_VAR: &str = "[keys.e]\nsecret_env = \"KMSDNS_TEST_NEVER_SET_VAR\"\n";

#[test]
fn a_missing_key_file_is_an_error_at_its_file_key() {
    bad(&format!("{MISSING_FILE}{HOST}{DOMAIN}"))
        .at("\"nowhere.key\"", "keys.k.file")
        .says("cannot read key file")
        .says("validate --offline")
        .count(1);
}

#[test]
fn an_unset_secret_variable_is_an_error_at_its_secret_env_key() {
    bad(&format!("{UNSET_VAR}{HOST}{DOMAIN}"))
        .at("\"KMSDNS_TEST_NEVER_SET_VAR\"", "keys.e.secret_env")
        .says("KMSDNS_TEST_NEVER_SET_VAR")
        .says("is not set or empty")
        .count(1);
}

#[test]
fn key_errors_and_config_errors_in_one_report() {
    let toml = format!(
        "{MISSING_FILE}{UNSET_VAR}{HOST}{DOMAIN}[[domains]]\nname = \"bad_name.example\"\n"
    );
    bad(&toml)
        .at("\"nowhere.key\"", "keys.k.file")
        .at("\"KMSDNS_TEST_NEVER_SET_VAR\"", "keys.e.secret_env")
        .at("\"bad_name.example\"", "domains[1].name")
        .count(3);
}

#[test]
fn offline_turns_key_problems_into_warnings_but_not_config_errors() {
    let (_dir, file, _) = run("");
    std::fs::write(&file, format!("{MISSING_FILE}{UNSET_VAR}{HOST}{DOMAIN}")).unwrap();
    let out = good_file(&file, &["--offline"]);
    assert!(out.contains("Configuration is valid."), "{out}");
    std::fs::write(&file, format!("{MISSING_FILE}{HOST}{DOMAIN}port = 0\n")).unwrap();
    let out = kmsdns()
        .args(["validate", "--offline", "-c"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_example_config_needs_offline() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    let out = kmsdns().args(["validate", "-c", example]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("validate --offline"), "{stderr}");
}

/// `plan` and `apply` refuse a key that cannot be loaded before any packet (exit 3): a UDP
/// socket standing in for the server sees nothing.
#[test]
fn plan_and_apply_refuse_an_unloadable_key_before_any_packet() {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_nonblocking(true).unwrap();
    let addr = sock.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::harness::cli::write_config(
        dir.path(),
        &format!(
            "[defaults]\nkey = \"k\"\n{MISSING_FILE}[servers.s]\naddress = \"{addr}\"\n\
             [[hosts]]\nname = \"kms1.example.com\"\n\
             [[domains]]\nname = \"corp.example.com\"\nzone = \"example.com\"\nserver = \"s\"\n"
        ),
    );
    for args in [&["plan"][..], &["apply", "--yes"]] {
        let out = kmsdns().arg("-c").arg(&cfg).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains("1 TSIG key problem(s); nothing was sent to DNS")
                && err.contains("key `k`: cannot read key file"),
            "{err}"
        );
    }
    let mut buf = [0u8; 512];
    assert!(
        sock.recv_from(&mut buf).is_err(),
        "no packet reached the server"
    );
}

/// RFC 8945 §6: a secret shorter than half the HMAC output is accepted with a warning naming
/// the key and the fix; the secret itself is never shown.
#[test]
fn a_short_secret_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("short.key"),
        "key \"short\" { algorithm hmac-sha256; secret \"QQ==\"; };\n",
    )
    .unwrap();
    let cfg = crate::harness::cli::write_config(
        dir.path(),
        &format!("[keys.short]\nfile = \"short.key\"\n{HOST}{DOMAIN}"),
    );
    let out = kmsdns()
        .args(["validate", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("TSIG key `short`: its secret is 1 byte(s), shorter than the 16 RFC 8945 §6 asks for hmac-sha256")
            && err.contains("kmsdns keygen short -a hmac-sha256"),
        "{err}"
    );
    assert!(!err.contains("QQ=="), "the secret is never shown");
}
