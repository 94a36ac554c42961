//! `kmsdns render`: snapshots of every format, and the real BIND tools (named-checkzone,
//! named-checkconf) loading what bind and named-conf print. knot and pdns are proven on real
//! servers in render_servers.rs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use crate::harness::require;

const FORMATS: [&str; 8] = [
    "bind",
    "knot",
    "named-conf",
    "nsupdate",
    "pdns",
    "powershell",
    "registry",
    "table",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures")
}

/// `kmsdns` run in `dir`, with no config from the environment and no colours.
fn kmsdns(dir: &Path) -> assert_cmd::Command {
    let mut cmd = crate::harness::cli::kmsdns();
    cmd.current_dir(dir);
    cmd
}

/// stdout of a successful `kmsdns render ARGS…` (configs are named relative to `dir`).
fn render(dir: &Path, args: &[&str]) -> String {
    let out = kmsdns(dir).arg("render").args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// The kmsdns version changes with every release; snapshots should not.
macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            filters => vec![(r"kmsdns \d+\.\d+\.\d+\S*", "kmsdns [VERSION]")],
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

/// Registry files are CRLF; the snapshot shows them with LF after checking every line.
fn lf(text: &str) -> String {
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "a bare LF in registry output"
    );
    text.replace("\r\n", "\n")
}

#[test]
fn every_format_from_the_example_config() {
    for format in FORMATS {
        let text = render(&root(), &[format, "-c", "config.example.toml"]);
        let text = if format == "registry" {
            lf(&text)
        } else {
            text
        };
        snapshot!(format!("render_example_{format}"), text);
    }
}

#[test]
fn every_format_from_the_multi_zone_config() {
    for format in FORMATS {
        let text = render(&fixtures(), &[format, "-c", "multi.toml"]);
        let text = if format == "registry" {
            lf(&text)
        } else {
            text
        };
        snapshot!(format!("render_multi_{format}"), text);
    }
}

#[test]
fn format_variants() {
    let dir = fixtures();
    let legacy = render(&dir, &["registry", "-c", "multi.toml", "--legacy"]);
    snapshot!("render_multi_registry_legacy", lf(&legacy));
    let disable = render(
        &dir,
        &["registry", "-c", "multi.toml", "--disable-publishing"],
    );
    snapshot!("render_multi_registry_disable_publishing", lf(&disable));
    let summary = render(
        &dir,
        &[
            "zone-summary",
            "-c",
            "multi.toml",
            "--zone",
            "bücher.example",
        ],
    );
    snapshot!("render_multi_zone_summary_idn", summary);
}

/// The records the multi fixture puts in each zone: zone → owner names.
fn multi_owners() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (
            "example.com",
            vec![
                "_vlmcs._tcp.corp.example.com.",
                "_vlmcs._tcp.example.com.",
                "_vlmcs._tcp.sales.corp.example.com.",
            ],
        ),
        (
            "xn--bcher-kva.example",
            vec!["_vlmcs._tcp.xn--bcher-kva.example."],
        ),
        ("example.net", vec!["_vlmcs._tcp.dmz.example.net."]),
        ("lab.example.org", vec!["_vlmcs._tcp.lab.example.org."]),
        ("example.org", vec![]),
    ]
}

/// A minimal zone: SOA, NS, the name server's address and addresses for in-zone targets.
fn minimal_zone(zone: &str) -> String {
    let mut z = format!(
        "$TTL 3600\n@ IN SOA ns1.{zone}. hostmaster.{zone}. 1 3600 600 86400 300\n@ IN NS ns1.{zone}.\nns1.{zone}. IN A 192.0.2.1\n"
    );
    for target in [
        "kms1.corp.example.com",
        "kms2.corp.example.com",
        "kms3.dmz.example.net",
    ] {
        if target.ends_with(&format!(".{zone}")) {
            z.push_str(&format!("{target}. IN A 192.0.2.10\n"));
        }
    }
    z
}

#[test]
fn bind_output_loads_with_named_checkzone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    kmsdns(&fixtures())
        .args(["render", "bind", "-c", "multi.toml", "--out-dir"])
        .arg(&out)
        .assert()
        .success();
    for (zone, owners) in multi_owners() {
        let lines = std::fs::read_to_string(out.join(format!("{zone}.zone"))).unwrap();
        let file = tmp.path().join(format!("{zone}.db"));
        std::fs::write(&file, format!("{}{lines}", minimal_zone(zone))).unwrap();
        let check = StdCommand::new(require("named-checkzone"))
            .args(["-D", "-o", "-", zone])
            .arg(&file)
            .output()
            .expect("run named-checkzone");
        let stdout = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success(),
            "named-checkzone {zone} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let found: BTreeSet<&str> = stdout
            .lines()
            .filter(|l| l.split_whitespace().nth(3) == Some("SRV"))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let want: BTreeSet<&str> = owners.into_iter().collect();
        assert_eq!(found, want, "SRV owners in zone {zone}");
    }
}

/// Writes `options { directory … }` plus the rendered statements as named.conf, the minimal
/// zones the zone statements name, and runs `named-checkconf -z`.
fn named_checkconf(dir: &Path, statements: &str, zones: &[&str]) {
    let conf = dir.join("named.conf");
    std::fs::write(
        &conf,
        format!(
            "options {{ directory \"{}\"; }};\n{statements}",
            dir.display()
        ),
    )
    .unwrap();
    for zone in zones {
        std::fs::write(dir.join(format!("{zone}.db")), minimal_zone(zone)).unwrap();
    }
    let check = StdCommand::new(require("named-checkconf"))
        .arg("-z")
        .arg(&conf)
        .current_dir(dir)
        .output()
        .expect("run named-checkconf");
    assert!(
        check.status.success(),
        "named-checkconf failed:\n{}{}\n--- named.conf\n{statements}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

/// A temp dir with the multi fixture and its two key files made by tsig-keygen.
fn multi_with_keys() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("multi.toml"), tmp.path().join("multi.toml")).unwrap();
    for (file, alg, name) in [
        ("kms-update.key", "hmac-sha256", "kms-update"),
        ("dmz.key", "hmac-sha512", "dmz-update.example.com"),
    ] {
        let out = StdCommand::new(require("tsig-keygen"))
            .args(["-a", alg, name])
            .output()
            .expect("run tsig-keygen");
        assert!(out.status.success());
        std::fs::write(tmp.path().join(file), out.stdout).unwrap();
    }
    tmp
}

fn zone_names() -> Vec<&'static str> {
    multi_owners().into_iter().map(|(z, _)| z).collect()
}

#[test]
fn named_conf_output_passes_named_checkconf() {
    let tmp = multi_with_keys();
    let text = render(tmp.path(), &["named-conf", "-c", "multi.toml"]);
    assert!(text.contains("include \"kms-update.key\";"));
    assert!(text.contains("grant dmz-update.example.com name _vlmcs._tcp.dmz.example.net. SRV;"));
    assert!(!text.contains("\n    allow-update"));
    named_checkconf(tmp.path(), &text, &zone_names());
}

#[test]
fn named_conf_include_secret_copies_the_key_statement() {
    let tmp = multi_with_keys();
    let text = render(
        tmp.path(),
        &["named-conf", "-c", "multi.toml", "--include-secret"],
    );
    let key_file = std::fs::read_to_string(tmp.path().join("dmz.key")).unwrap();
    assert!(
        text.contains(key_file.trim_end()),
        "key statement copied verbatim"
    );
    assert!(!text.contains("include \""));
    named_checkconf(tmp.path(), &text, &zone_names());
}

#[test]
fn out_dir_files_with_a_secret_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = multi_with_keys();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let secret = tmp.path().join("secret");
    kmsdns(tmp.path())
        .args([
            "render",
            "named-conf",
            "-c",
            "multi.toml",
            "--include-secret",
            "--out-dir",
        ])
        .arg(&secret)
        .assert()
        .success();
    let keys = secret.join("keys.named.conf");
    let key_file = std::fs::read_to_string(tmp.path().join("dmz.key")).unwrap();
    assert!(
        std::fs::read_to_string(&keys)
            .unwrap()
            .contains(key_file.trim_end())
    );
    for entry in std::fs::read_dir(&secret).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    // Without a secret the files keep the usual mode.
    let plain = tmp.path().join("plain");
    kmsdns(tmp.path())
        .args(["render", "named-conf", "-c", "multi.toml", "--out-dir"])
        .arg(&plain)
        .assert()
        .success();
    assert_ne!(mode(&plain.join("keys.named.conf")), 0o600);
}

#[test]
fn named_conf_include_secret_refuses_environment_keys() {
    let out = kmsdns(&root())
        .args([
            "render",
            "named-conf",
            "-c",
            "config.example.toml",
            "--include-secret",
            "--zone",
            "example.net",
        ])
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(stderr.contains("KMSDNS_BRANCH_TSIG"), "{stderr}");
    assert!(stderr.contains("kmsdns keygen"), "{stderr}");
}

#[test]
fn named_conf_allow_any_warns() {
    let tmp = multi_with_keys();
    let out = kmsdns(tmp.path())
        .args(["render", "named-conf", "-c", "multi.toml", "--allow-any"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(stderr.contains("allow-update { any; }"), "{stderr}");
    assert_eq!(stdout.matches("    allow-update { any; };").count(), 5);
    assert!(!stdout.contains("update-policy {\n"));
    snapshot!("render_multi_named_conf_allow_any", stdout.clone());
    named_checkconf(tmp.path(), &stdout, &zone_names());
}

#[test]
fn unknown_zone_names_the_valid_ones() {
    let out = kmsdns(&fixtures())
        .args(["render", "bind", "-c", "multi.toml", "--zone", "example.co"])
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(stderr.contains("unknown zone `example.co`"), "{stderr}");
    assert!(
        stderr.contains("example.com, xn--bcher-kva.example, example.net"),
        "{stderr}"
    );
}

#[test]
fn format_flags_belong_to_their_format() {
    kmsdns(&fixtures())
        .args(["render", "bind", "-c", "multi.toml", "--legacy"])
        .assert()
        .code(3);
}

#[test]
fn zone_filter_keeps_one_zone() {
    let text = render(
        &fixtures(),
        &["nsupdate", "-c", "multi.toml", "--zone", "example.net"],
    );
    assert_eq!(text.matches("\nsend\n").count(), 1);
    assert!(text.contains("zone example.net.\n"));
    assert!(!text.contains("example.com."));
}

#[test]
fn out_dir_writes_one_file_per_zone_or_host() {
    let zones = [
        "example.com",
        "xn--bcher-kva.example",
        "example.net",
        "lab.example.org",
        "example.org",
    ];
    let per_zone =
        |ext: &str| -> BTreeSet<String> { zones.iter().map(|z| format!("{z}.{ext}")).collect() };
    let mut named: BTreeSet<String> = per_zone("named.conf");
    named.insert("keys.named.conf".into());
    let hosts: BTreeSet<String> = [
        "kms1.corp.example.com.reg",
        "kms2.corp.example.com.reg",
        "kms3.dmz.example.net.reg",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let mut knot: BTreeSet<String> = per_zone("knot.conf");
    knot.insert("keys.knot.conf".into());
    let pdns: BTreeSet<String> = ["update-policy.lua", "pdnsutil.sh"]
        .into_iter()
        .map(String::from)
        .collect();
    for (format, want) in [
        ("bind", per_zone("zone")),
        ("knot", knot),
        ("named-conf", named),
        ("nsupdate", per_zone("nsupdate")),
        ("pdns", pdns),
        ("powershell", per_zone("ps1")),
        ("registry", hosts),
        ("table", per_zone("txt")),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        kmsdns(&fixtures())
            .args(["render", format, "-c", "multi.toml", "--out-dir"])
            .arg(tmp.path())
            .assert()
            .success()
            .stdout("");
        let got: BTreeSet<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(got, want, "files of {format}");
        for name in &got {
            let text = std::fs::read_to_string(tmp.path().join(name)).unwrap();
            let first = if format == "registry" {
                text.lines().nth(2).unwrap()
            } else {
                text.lines().next().unwrap()
            };
            assert!(
                first.starts_with([';', '#', '/']) || first.starts_with("-- "),
                "{name} starts with its header comment"
            );
            assert!(text.contains("from multi.toml"), "{name} names its config");
        }
    }
}

/// A config with one host and one IDN domain, for byte-exact registry checks.
fn idn_config() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("kmsdns.toml"),
        "[[hosts]]\nname = \"kms.example.com\"\n\n[[domains]]\nname = \"bücher.example\"\n",
    )
    .unwrap();
    tmp
}

#[test]
fn registry_hex7_encoding_is_byte_exact() {
    let tmp = idn_config();
    let text = render(tmp.path(), &["registry"]);
    // "xn--bcher-kva.example, 0, 0" in UTF-16LE, NUL, NUL; regedit's wrapping.
    let want = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\SoftwareProtectionPlatform]\r\n\
\"DisableDnsPublishing\"=dword:00000000\r\n\
\"DnsDomainPublishList\"=hex(7):78,00,6e,00,2d,00,2d,00,62,00,63,00,68,00,65,00,\\\r\n\
\x20 72,00,2d,00,6b,00,76,00,61,00,2e,00,65,00,78,00,61,00,6d,00,70,00,6c,00,65,\\\r\n\
\x20 00,2c,00,20,00,30,00,2c,00,20,00,30,00,00,00,00,00\r\n\
\r\n";
    assert!(text.starts_with("Windows Registry Editor Version 5.00\r\n\r\n;"));
    assert!(text.ends_with(want), "got:\n{text}");

    let legacy = render(tmp.path(), &["registry", "--legacy"]);
    let want = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\SL]\r\n\
\"DisableDnsPublishing\"=dword:00000000\r\n\
\"DnsDomainPublishList\"=hex(7):78,00,6e,00,2d,00,2d,00,62,00,63,00,68,00,65,00,\\\r\n\
\x20 72,00,2d,00,6b,00,76,00,61,00,2e,00,65,00,78,00,61,00,6d,00,70,00,6c,00,65,\\\r\n\
\x20 00,00,00,00,00\r\n\
\r\n";
    assert!(legacy.ends_with(want), "got:\n{legacy}");

    let disable = render(tmp.path(), &["registry", "--disable-publishing"]);
    assert!(disable.ends_with(
        "SoftwareProtectionPlatform]\r\n\"DisableDnsPublishing\"=dword:00000001\r\n\r\n"
    ));
    assert!(!disable.contains("DnsDomainPublishList\"="));
}
