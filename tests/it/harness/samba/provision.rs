//! Provisioning a Samba AD domain into a lab directory, all offline (before the DC runs):
//! `samba-tool domain provision --targetdir`, users with random passwords, their keytabs, and a
//! krb5.conf of the lab's own. Nothing is written outside the lab directory: the smb.conf that
//! provision starts from is ours (`-s`), with every directory Samba would otherwise put under
//! /var, /run or /etc pointed into the lab.

use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::netns::{DC_IFACE, DC_IP};
use crate::harness::require;

/// The AD DNS domain (and zone) of every lab DC.
pub const ZONE: &str = "ad.kmsdns.test";
/// Its Kerberos realm.
pub const REALM: &str = "AD.KMSDNS.TEST";
/// Its NetBIOS domain name.
pub const NETBIOS_DOMAIN: &str = "KMSDNS";
/// The DC's short host name: it is the zone's SOA MNAME `dc1.ad.kmsdns.test.`.
pub const HOST: &str = "dc1";

/// A domain account with its keytab.
#[derive(Debug, Clone)]
pub struct SambaUser {
    /// The account name (`kmsdns`).
    pub name: String,
    /// `name@AD.KMSDNS.TEST`.
    pub principal: String,
    /// A client keytab for the principal (mode 0600).
    pub keytab: PathBuf,
}

/// Files made by [`provision`].
pub struct Provisioned {
    /// `DIR/etc/smb.conf`, for `samba -s` and `samba-tool -s`.
    pub smb_conf: PathBuf,
    /// The lab's krb5.conf (KDC = the DC's address; no DNS lookups, no canonicalisation).
    pub krb5_conf: PathBuf,
    pub users: Vec<SambaUser>,
}

/// An administrator password Samba's complexity rules accept, from /dev/urandom. Never printed.
fn random_password() -> String {
    let mut bytes = [0u8; 18];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    let mut s = String::from("Kd1-");
    for b in bytes {
        write!(s, "{b:02x}").unwrap();
    }
    s
}

/// Runs `cmd`; panics with its output (with `secret` blanked out) when it fails.
fn run(what: &str, cmd: &mut Command, secret: Option<&str>) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    if !out.status.success() {
        let mut text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(secret) = secret {
            text = text.replace(secret, "[REDACTED]");
        }
        let lines: Vec<&str> = text.lines().collect();
        panic!(
            "{what} failed ({}):\n{}",
            out.status,
            lines[lines.len().saturating_sub(40)..].join("\n")
        );
    }
    out
}

/// `samba-tool SUBCOMMAND… -s SMB_CONF` on the lab's database (no server needed); the
/// caller adds the subcommand's arguments.
pub fn samba_tool(smb_conf: &Path, subcommand: &[&str]) -> Command {
    let mut cmd = Command::new(require("samba-tool"));
    cmd.args(subcommand).arg("-s").arg(smb_conf);
    cmd
}

/// The smb.conf provision starts from: every path inside `dir`, only the services a DC for
/// DNS + Kerberos + LDAP needs, no TLS keys to generate at start.
fn seed_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "[global]\n\
         \tpid directory = {d}/run\n\
         \tlog file = {d}/log/%m.log\n\
         \tlogging = file\n\
         \twinbindd socket directory = {d}/winbindd\n\
         \tntp signd socket directory = {d}/ntp_signd\n\
         \tncalrpc dir = {d}/ncalrpc\n\
         \tinterfaces = lo {DC_IFACE}\n\
         \tbind interfaces only = yes\n\
         \ttls enabled = no\n\
         \tserver services = -dnsupdate -s3fs -spoolss -nbt -wrepl -ntp_signd\n"
    )
}

/// Provisions the domain into `dir` (which must exist) and creates `users` with keytabs.
/// Also exports `Administrator`'s keytab (`administrator.keytab`), for tests that act as the
/// domain admin (pre-creating a node, granting on it).
pub fn provision(dir: &Path, users: &[&str]) -> Provisioned {
    for sub in ["run", "log", "winbindd", "ntp_signd", "ncalrpc", "keytabs"] {
        fs::create_dir_all(dir.join(sub)).expect("create lab subdir");
    }
    let seed = dir.join("seed-smb.conf");
    fs::write(&seed, seed_conf(dir)).expect("write seed smb.conf");
    let password = random_password();
    run(
        "samba-tool domain provision",
        Command::new(require("samba-tool"))
            .args(["domain", "provision", "-s"])
            .arg(&seed)
            .arg(format!("--targetdir={}", dir.display()))
            .arg(format!("--realm={REALM}"))
            .arg(format!("--domain={NETBIOS_DOMAIN}"))
            .arg(format!("--host-name={HOST}"))
            .arg(format!("--host-ip={DC_IP}"))
            .args(["--server-role=dc", "--dns-backend=SAMBA_INTERNAL"])
            .arg(format!("--adminpass={password}")),
        Some(&password),
    );
    drop(password);
    let smb_conf = dir.join("etc/smb.conf");

    let keytabs = dir.join("keytabs");
    fs::set_permissions(&keytabs, fs::Permissions::from_mode(0o700)).expect("chmod keytabs");
    let mut accounts = Vec::new();
    for &name in users {
        run(
            &format!("samba-tool user create {name}"),
            samba_tool(&smb_conf, &["user", "create"]).args([name, "--random-password"]),
            None,
        );
        accounts.push(name);
    }
    accounts.push("Administrator");
    let users = accounts
        .into_iter()
        .map(|name| {
            let principal = format!("{name}@{REALM}");
            let keytab = keytabs.join(format!("{}.keytab", name.to_lowercase()));
            run(
                &format!("samba-tool domain exportkeytab --principal={principal}"),
                samba_tool(&smb_conf, &["domain", "exportkeytab"])
                    .arg(&keytab)
                    .arg(format!("--principal={principal}")),
                None,
            );
            fs::set_permissions(&keytab, fs::Permissions::from_mode(0o600)).expect("chmod keytab");
            SambaUser {
                name: name.to_owned(),
                principal,
                keytab,
            }
        })
        .collect();

    let krb5_conf = dir.join("krb5.conf");
    fs::write(&krb5_conf, krb5_conf_text()).expect("write krb5.conf");
    Provisioned {
        smb_conf,
        krb5_conf,
        users,
    }
}

/// krb5.conf for clients in the namespace. Each `[realms]` entry on lines of its own (a
/// one-line block is silently ignored); no DNS lookups and no host name canonicalisation, so
/// the service principal is exactly `DNS/dc1.ad.kmsdns.test`.
pub fn krb5_conf_text() -> String {
    format!(
        "[libdefaults]\n\
         \tdefault_realm = {REALM}\n\
         \tdns_lookup_realm = false\n\
         \tdns_lookup_kdc = false\n\
         \tdns_canonicalize_hostname = false\n\
         \trdns = false\n\
         \n\
         [realms]\n\
         \t{REALM} = {{\n\
         \t\tkdc = {DC_IP}\n\
         \t\tadmin_server = {DC_IP}\n\
         \t}}\n\
         \n\
         [domain_realm]\n\
         \t.{ZONE} = {REALM}\n\
         \t{ZONE} = {REALM}\n"
    )
}
