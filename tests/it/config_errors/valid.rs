//! Valid configuration files: accepted, normalised and summarised; key files loaded; a closed
//! stdout pipe is not a crash.

use std::path::Path;

use crate::harness::cli::{kmsdns, kmsdns_std};

use super::*;

// ---- valid files ---------------------------------------------------------------------------

#[test]
fn example_config_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let out = good_file(&example, &["--offline"]);
    for line in [
        "domains: 3 (5 SRV records desired)",
        "_vlmcs._tcp.corp.example.com. 3600 IN SRV 0 0 1688 kms1.corp.example.com.",
        "_vlmcs._tcp.corp.example.com. 3600 IN SRV 10 0 1688 kms2.corp.example.com.",
        "_vlmcs._tcp.branch.example.net. 3600 IN SRV 0 0 1688 kms2.corp.example.com.",
        "_vlmcs._tcp.branch.example.net. 3600 IN SRV 10 0 1688 kms1.corp.example.com.",
        "_vlmcs._tcp.lab.example.org. 3600 IN SRV 0 0 1688 kms1.corp.example.com.",
        "Configuration is valid.",
    ] {
        assert!(out.contains(line), "want `{line}` in:\n{out}");
    }
}

#[test]
fn config_from_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("from-env.toml");
    std::fs::write(&file, format!("{HOST}{DOMAIN}")).unwrap();
    let out = kmsdns()
        .env("KMSDNS_CONFIG", &file)
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("from-env.toml"), "{stdout}");
    assert!(stdout.contains("_vlmcs._tcp.example.com. 3600 IN SRV 0 0 1688 kms1.example.com."));
}

#[test]
fn trailing_dots_and_upper_case_normalised() {
    let out = good(
        "[[hosts]]\nname = \"KMS1.Example.COM.\"\n\
         [[domains]]\nname = \"Corp.Example.COM.\"\nzone = \"EXAMPLE.com.\"\nhosts = [\"kms1.example.com\"]\n",
    );
    assert!(out.contains("  kms1.example.com.  port 1688"), "{out}");
    assert!(
        out.contains("  corp.example.com.  zone: example.com."),
        "{out}"
    );
    assert!(
        out.contains("_vlmcs._tcp.corp.example.com. 3600 IN SRV 0 0 1688 kms1.example.com."),
        "{out}"
    );
}

#[test]
fn idn_domain_shown_as_a_label() {
    let out = good(&format!("{HOST}[[domains]]\nname = \"Bücher.example\"\n"));
    assert!(
        out.contains("xn--bcher-kva.example. (bücher.example)"),
        "{out}"
    );
    assert!(
        out.contains("_vlmcs._tcp.xn--bcher-kva.example. 3600 IN SRV"),
        "{out}"
    );
}

#[test]
fn per_domain_host_overrides_in_summary() {
    let out = good(
        "[defaults]\nttl = 600\n\
         [[hosts]]\nname = \"kms1.example.com\"\n[[hosts]]\nname = \"kms2.example.com\"\nport = 1700\n\
         [[domains]]\nname = \"branch.example.com\"\n\
         hosts = [{ name = \"kms2.example.com\", priority = 0, weight = 5 }, { name = \"kms1.example.com\", priority = 10 }]\n",
    );
    assert!(
        out.contains("_vlmcs._tcp.branch.example.com. 600 IN SRV 0 5 1700 kms2.example.com."),
        "{out}"
    );
    assert!(
        out.contains("_vlmcs._tcp.branch.example.com. 600 IN SRV 10 0 1688 kms1.example.com."),
        "{out}"
    );
    assert!(out.contains("domains: 1 (2 SRV records desired)"), "{out}");
}

#[test]
fn empty_host_list_is_allowed() {
    let out = good(&format!("{HOST}{DOMAIN}hosts = []\n"));
    assert!(
        out.contains("(no records: the RRset is to be empty)"),
        "{out}"
    );
}

#[test]
fn validate_loads_key_files_and_reports_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.key");
    std::fs::write(
        &key,
        "key \"kms-update\" {\n\talgorithm hmac-sha256;\n\tsecret \"not base64!!\";\n};\n",
    )
    .unwrap();
    let cfg = dir.path().join("kmsdns.toml");
    std::fs::write(
        &cfg,
        "[keys.kms-update]\nfile = \"k.key\"\n[[hosts]]\nname = \"kms1.example.com\"\n[[domains]]\nname = \"example.com\"\n",
    )
    .unwrap();
    let out = kmsdns()
        .arg("-c")
        .arg(&cfg)
        .arg("validate")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("key `kms-update`") && err.contains("k.key:3"),
        "{err}"
    );
    assert!(
        !err.contains("not base64!!"),
        "the secret text is never echoed: {err}"
    );
    assert!(out.stdout.is_empty());
    // A good key file loads and is reported.
    let ok = kmsdns()
        .args(["keygen", "kms-update", "-o"])
        .arg(dir.path().join("good.key"))
        .output()
        .unwrap();
    assert!(ok.status.success());
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("k.key", "good.key"),
    )
    .unwrap();
    let out = kmsdns()
        .arg("-c")
        .arg(&cfg)
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("TSIG keys loaded: kms-update (hmac-sha256)")
    );
}

/// `kmsdns validate | head -1`: a closed pipe ends quietly with success, no panic.
#[test]
fn closed_stdout_pipe_is_not_a_crash() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    // The read end is closed before the program starts: its first write gets EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = kmsdns_std()
        .args(["validate", "--offline", "-c", example])
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
