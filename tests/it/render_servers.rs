//! `render knot` and `render pdns` proven on the real servers: the rendered Knot ACL and
//! key items in knotd (and `knotc conf-check`), the rendered Lua policy and pdnsutil commands
//! in PowerDNS. With them kmsdns can change the SRV records, and the same key cannot change an
//! A record or an SRV record at another name.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::{Key, KnotServer, PdnsServer, Policy, Server, ServerBuilder, ZoneBuilder};
use crate::harness::{SrvRr, require};

const CORP: &str = "_vlmcs._tcp.corp.example.com";
const APEX: &str = "_vlmcs._tcp.example.com";

/// example.com, key kms-update; `policy` decides what the server itself allows.
fn lab(policy: Policy) -> ServerBuilder {
    ServerBuilder::new().key("kms-update", "hmac-sha256").zone(
        ZoneBuilder::new("example.com")
            .record("kms1 A 127.0.0.1")
            .policy(policy),
    )
}

/// kmsdns.toml: corp.example.com and example.com in zone example.com, through `addr` with the
/// key in `key_file`.
fn config_with(dir: &Path, key_file: &Path, addr: &str) -> PathBuf {
    write_config(
        dir,
        &format!(
            "[defaults]\nkey = \"kms-update\"\n[keys.kms-update]\nfile = \"{}\"\n\
             algorithm = \"hmac-sha256\"\n[servers.lab]\naddress = \"{addr}\"\n\
             [[hosts]]\nname = \"kms1.example.com\"\n\
             [[domains]]\nname = \"corp.example.com\"\nzone = \"example.com\"\nserver = \"lab\"\n\
             [[domains]]\nname = \"example.com\"\nzone = \"example.com\"\nserver = \"lab\"\n",
            key_file.display(),
        ),
    )
}

/// [`config_with`] for a running server and its key.
fn config(dir: &Path, server: &Server) -> PathBuf {
    config_with(
        dir,
        &server.key("kms-update").file,
        &server.addr().to_string(),
    )
}

/// `kmsdns render FORMAT ARGS…` of that config before any server runs: render reads neither
/// the network nor the key file, so the output depends on the config alone.
fn render_before_start(dir: &Path, format: &str, args: &[&str]) -> String {
    let cfg = config_with(dir, Path::new("kms-update.key"), "127.0.0.1:53");
    run_ok(&cfg, &[&["render", format][..], args].concat())
}

/// stdout of `kmsdns -c CFG ARGS…`, which must succeed.
fn run_ok(cfg: &Path, args: &[&str]) -> String {
    let out = kmsdns().arg("-c").arg(cfg).args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// kmsdns applies both RRsets and plans no changes after; then the same key tries an A record
/// and an SRV record at another owner with nsupdate, and neither is written.
fn kmsdns_writes_srv_and_the_key_writes_nothing_else(server: &Server, cfg: &Path) {
    let text = run_ok(cfg, &["apply", "--yes"]);
    assert!(
        text.contains("applied    example.com.") && text.contains("read back and verified"),
        "{text}"
    );
    let want = vec![SrvRr {
        ttl: 3600,
        priority: 0,
        weight: 0,
        port: 1688,
        target: "kms1.example.com.".into(),
    }];
    assert_eq!(server.srv_records(CORP), want);
    assert_eq!(server.srv_records(APEX), want);
    let out = kmsdns()
        .arg("-c")
        .arg(cfg)
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("No changes."), "{text}");

    let serial = server.soa_serial("example.com");
    let key = server.key("kms-update");
    for script in [
        "update add rogue.example.com. 300 A 192.0.2.66\nsend\n",
        "update delete kms1.example.com. A\nsend\n",
        "update add _ldap._tcp.example.com. 300 SRV 0 0 389 kms1.example.com.\nsend\n",
        "update add x._vlmcs._tcp.corp.example.com. 300 SRV 0 0 1688 kms1.example.com.\nsend\n",
    ] {
        // Knot refuses (NOTAUTH); PowerDNS answers NOERROR and skips the record. Either
        // way nothing may change.
        server.nsupdate(key, script);
    }
    assert_eq!(server.dig(&["+short", "rogue.example.com", "A"]), "");
    assert_eq!(
        server.dig(&["+short", "kms1.example.com", "A"]).trim(),
        "127.0.0.1"
    );
    assert!(server.srv_records("_ldap._tcp.example.com").is_empty());
    assert!(
        server
            .srv_records("x._vlmcs._tcp.corp.example.com")
            .is_empty()
    );
    assert_eq!(
        server.soa_serial("example.com"),
        serial,
        "nothing was written"
    );
}

/// The rendered acl item of example.com, as the lines after its `- id:` line.
fn rendered_acl_lines(rendered: &str) -> String {
    let start = rendered
        .find("  - id: kmsdns-kms-update-example.com\n")
        .unwrap_or_else(|| panic!("no acl item in:\n{rendered}"));
    let item = &rendered[start..];
    let end = item
        .find("\nzone:\n")
        .expect("the zone item follows the acl");
    item[..end]
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", l.trim()))
        .collect()
}

#[test]
fn rendered_knot_acl_lets_kmsdns_write_srv_and_nothing_else() {
    // Render first, then start knotd with exactly that ACL for example.com.
    let dir = tempfile::tempdir().unwrap();
    let rendered = render_before_start(dir.path(), "knot", &[]);
    let acl = rendered_acl_lines(&rendered);
    assert_eq!(
        acl,
        "key: kms-update\naction: update\nupdate-type: SRV\nupdate-owner: name\n\
         update-owner-match: equal\n\
         update-owner-name: [_vlmcs._tcp.corp.example.com., _vlmcs._tcp.example.com.]\n"
    );
    let knot = KnotServer::start(&lab(Policy::Raw(acl)));
    let cfg = config(dir.path(), &knot);
    kmsdns_writes_srv_and_the_key_writes_nothing_else(&knot, &cfg);
}

/// The whole `render knot` output of the multi-zone fixture, secrets pasted in, passes
/// `knotc conf-check` with a default template; with a placeholder left in it does not.
#[test]
fn rendered_knot_config_passes_knotc_conf_check() {
    let knotc = require("knotc");
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::copy(fixtures.join("multi.toml"), tmp.path().join("multi.toml")).unwrap();
    let mut secrets = Vec::new();
    for (file, alg, name) in [
        ("kms-update.key", "hmac-sha256", "kms-update"),
        ("dmz.key", "hmac-sha512", "dmz-update.example.com"),
    ] {
        let out = Command::new(require("tsig-keygen"))
            .args(["-a", alg, name])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let secret = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("secret \""))
            .and_then(|s| s.strip_suffix("\";"))
            .unwrap()
            .to_owned();
        std::fs::write(tmp.path().join(file), text).unwrap();
        secrets.push((format!("SECRET-OF-{name}"), secret));
    }
    let out = kmsdns()
        .current_dir(tmp.path())
        .args(["render", "knot", "-c", "multi.toml"])
        .assert()
        .success();
    let rendered = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let preamble = format!(
        "server:\n    listen: 127.0.0.1@53\n    rundir: \"{d}\"\n\
         template:\n  - id: default\n    storage: \"{d}\"\n    file: \"%s.zone\"\n",
        d = tmp.path().display()
    );
    let check = |text: &str| {
        let conf = tmp.path().join("knot.conf");
        std::fs::write(&conf, format!("{preamble}{text}")).unwrap();
        Command::new(&knotc)
            .arg("-c")
            .arg(&conf)
            .arg("conf-check")
            .output()
            .unwrap()
    };
    let placeholder = check(&rendered);
    assert!(!placeholder.status.success(), "a placeholder secret passed");
    assert!(
        String::from_utf8_lossy(&placeholder.stderr).contains("base64"),
        "{}",
        String::from_utf8_lossy(&placeholder.stderr)
    );
    let mut filled = rendered.clone();
    for (placeholder, secret) in &secrets {
        filled = filled.replace(placeholder, secret);
    }
    let out = check(&filled);
    assert!(
        out.status.success(),
        "knotc conf-check: {}{}\n--- rendered\n{rendered}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs every `pdnsutil …` line of the rendered pdnsutil.sh against `pdns`, the placeholder
/// replaced by the lab key's secret.
fn run_pdnsutil_lines(pdns: &PdnsServer, script: &str, key: &Key) {
    let lines: Vec<&str> = script
        .lines()
        .filter(|l| l.starts_with("pdnsutil "))
        .collect();
    assert_eq!(lines.len(), 3, "{script}");
    for line in lines {
        let line = line.replace("SECRET-OF-kms-update", &key.secret_b64);
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = pdns.pdnsutil(&args);
        assert!(
            out.status.success(),
            "{}: {}",
            args[..2].join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn rendered_pdns_policy_lets_kmsdns_write_srv_and_nothing_else() {
    // Render first, then start PowerDNS with the rendered script and no metadata, and run
    // the rendered pdnsutil lines.
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    render_before_start(
        dir.path(),
        "pdns",
        &["--out-dir", out_dir.to_str().unwrap()],
    );
    let lua = std::fs::read_to_string(out_dir.join("update-policy.lua")).unwrap();
    let script = std::fs::read_to_string(out_dir.join("pdnsutil.sh")).unwrap();
    assert!(
        script.contains("pdnsutil import-tsig-key kms-update hmac-sha256 SECRET-OF-kms-update\n")
            && script.contains("pdnsutil set-meta example.com TSIG-ALLOW-DNSUPDATE kms-update\n")
            && script.contains("pdnsutil set-meta example.com SOA-EDIT-DNSUPDATE INCREASE\n"),
        "{script}"
    );

    let pdns = PdnsServer::start(&lab(Policy::None).pdns_policy_script(&lua));
    assert_eq!(pdns.policy_script(), lua);
    run_pdnsutil_lines(&pdns, &script, pdns.key("kms-update"));
    let meta = pdns.pdnsutil(&["get-meta", "example.com"]);
    let meta = String::from_utf8_lossy(&meta.stdout);
    assert!(
        meta.contains("SOA-EDIT-DNSUPDATE = INCREASE")
            && meta.contains("TSIG-ALLOW-DNSUPDATE = kms-update"),
        "{meta}"
    );
    let cfg = config(dir.path(), &pdns);
    kmsdns_writes_srv_and_the_key_writes_nothing_else(&pdns, &cfg);
    // SOA-EDIT-DNSUPDATE INCREASE from the rendered lines: serial 1 → 2, not a date.
    assert_eq!(pdns.soa_serial("example.com"), 2);
    assert!(
        pdns.log().contains("Not permitted by policy"),
        "{}",
        pdns.log()
    );
}
