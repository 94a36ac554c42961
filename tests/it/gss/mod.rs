//! GSS-TSIG (RFC 3645) end to end: an MIT KDC and a GSS-enabled BIND per test
//! (`harness::kerberos`), nsupdate -g as the independent client, kmsdns with gss-tsig keys.

mod credentials;
mod end_to_end;
mod harness_selftest;
mod many_domains;
mod render;
mod tampered;

use std::path::{Path, PathBuf};

use crate::harness::cli::{kmsdns, write_config};
use crate::harness::kerberos::GssLab;

pub(crate) const CORP: &str = "_vlmcs._tcp.corp.example.com";
pub(crate) const BRANCH: &str = "_vlmcs._tcp.branch.example.net";

/// A config for `lab`'s zones (corp.example.com, branch.example.net if served) through
/// `address`, signed by `[keys.ad]` whose table lines are `key_lines`; the KMS hosts listen
/// on `kms_port`, clients search the zones.
pub(crate) fn config(address: &str, key_lines: &str, zones: &[&str], kms_port: u16) -> String {
    let suffixes: Vec<String> = zones.iter().map(|z| format!("\"{z}\"")).collect();
    let mut c = format!(
        "client_suffixes = [{}]\n\n\
         [defaults]\nttl = 600\nport = {kms_port}\nkey = \"ad\"\n\n[keys.ad]\ntype = \"gss-tsig\"\n{key_lines}\n\
         [servers.dc]\naddress = \"{address}\"\ntimeout = \"2s\"\nretries = 1\n\n\
         [[hosts]]\nname = \"kms1.corp.example.com\"\n\n\
         [[hosts]]\nname = \"kms2.corp.example.com\"\npriority = 10\n",
        suffixes.join(", ")
    );
    for z in zones {
        c.push_str(&format!(
            "\n[[domains]]\nname = \"{z}\"\nzone = \"{z}\"\nserver = \"dc\"\n"
        ));
    }
    c
}

/// The key lines for a keytab credential.
pub(crate) fn keytab_lines(keytab: &Path, principal: &str) -> String {
    format!(
        "keytab = \"{}\"\nprincipal = \"{principal}\"\n",
        keytab.display()
    )
}

/// Writes the config (KMS port 1688) into a new temp dir.
pub(crate) fn write(lab: &GssLab, address: &str, key_lines: &str) -> (tempfile::TempDir, PathBuf) {
    write_with_port(lab, address, key_lines, 1688)
}

/// Writes the config with the KMS hosts on `kms_port` into a new temp dir.
pub(crate) fn write_with_port(
    lab: &GssLab,
    address: &str,
    key_lines: &str,
    kms_port: u16,
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let zones: Vec<&str> = lab.zones.iter().map(String::as_str).collect();
    let cfg = write_config(dir.path(), &config(address, key_lines, &zones, kms_port));
    (dir, cfg)
}

/// `kmsdns -c CFG ARGS…` in the lab's realm (KRB5_CONFIG), with `KRB5CCNAME=ccache`.
pub(crate) fn run(
    lab: &GssLab,
    cfg: &Path,
    ccache: &str,
    args: &[&str],
) -> assert_cmd::assert::Assert {
    let mut cmd = kmsdns();
    cmd.env("KRB5_CONFIG", lab.kdc.krb5_conf())
        .env("KRB5CCNAME", ccache)
        .env_remove("KRB5_CLIENT_KTNAME")
        .arg("-c")
        .arg(cfg)
        .args(args);
    cmd.assert()
}

/// stdout + stderr of a run.
pub(crate) fn output(a: &assert_cmd::assert::Assert) -> String {
    let o = a.get_output();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
