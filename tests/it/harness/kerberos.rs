//! A Kerberos realm per test: an MIT KDC on 127.0.0.1 with its own krb5.conf / kdc.conf in a
//! temp dir, principals and keytabs made with `kadmin.local`, and a GSS-TSIG-enabled BIND
//! (`tkey-gssapi-keytab`, a `grant admin@REALM` update policy) in front of it.
//!
//! Nothing reads the machine's /etc/krb5.conf: every process started here (krb5kdc, named,
//! kinit, nsupdate, kmsdns) gets `KRB5_CONFIG` (and the KDC `KRB5_KDC_PROFILE`) pointing into
//! the realm's dir, through [`Kdc::env`].
//!
//! ```ignore
//! let lab = GssLab::start(&["corp.example.com"]);
//! let ccache = lab.kinit("admin", None);           // FILE: ccache in the lab dir
//! let out = lab.nsupdate_gss(&ccache, "update add _vlmcs._tcp.corp.example.com. 300 SRV 0 0 1688 kms1.corp.example.com.\nsend\n");
//! assert!(out.status.success());
//! ```

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{BindServer, Policy, ServerBuilder, ZoneBuilder, ports, require};

/// The realm every lab uses (each in its own dir, on its own port).
pub const REALM: &str = "KMSDNS.TEST";

/// A running `krb5kdc` with its database, killed on drop.
pub struct Kdc {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    pub port: u16,
    child: Child,
}

impl Kdc {
    /// Writes krb5.conf and kdc.conf, creates the database (`kdb5_util create -s`) and starts
    /// `krb5kdc -n` on a free port; waits (≤ 10 s) until it accepts TCP connections.
    pub fn start() -> Kdc {
        let kdb5_util = require("kdb5_util");
        let krb5kdc = require("krb5kdc");
        require("kadmin.local");
        let dir = tempfile::Builder::new()
            .prefix("kmsdns-kdc-")
            .tempdir()
            .expect("create temp dir");
        let path = dir.path().to_path_buf();
        let port = ports::free_port();
        let d = path.display();
        // Each [realms] entry on its own lines: a one-line `REALM = { kdc = … }` is ignored.
        let krb5_conf = format!(
            "[libdefaults]\n\
             \tdefault_realm = {REALM}\n\
             \tdns_lookup_kdc = false\n\
             \tdns_lookup_realm = false\n\
             \tdns_canonicalize_hostname = false\n\
             \trdns = false\n\
             \tdefault_ccache_name = FILE:{d}/ccache-default\n\
             \tdefault_client_keytab_name = FILE:{d}/no-default-client.keytab\n\
             \tkdc_timesync = 0\n\
             [realms]\n\
             \t{REALM} = {{\n\
             \t\tkdc = 127.0.0.1:{port}\n\
             \t\tadmin_server = 127.0.0.1:{port}\n\
             \t}}\n"
        );
        fs::write(path.join("krb5.conf"), krb5_conf).expect("write krb5.conf");
        let kdc_conf = format!(
            "[kdcdefaults]\n\
             \tkdc_listen = 127.0.0.1:{port}\n\
             \tkdc_tcp_listen = 127.0.0.1:{port}\n\
             [realms]\n\
             \t{REALM} = {{\n\
             \t\tdatabase_name = {d}/principal\n\
             \t\tkey_stash_file = {d}/stash\n\
             \t\tacl_file = {d}/kadm5.acl\n\
             \t\tmax_life = 10h\n\
             \t\tmax_renewable_life = 0\n\
             \t}}\n\
             [logging]\n\
             \tkdc = FILE:{d}/kdc.log\n"
        );
        fs::write(path.join("kdc.conf"), kdc_conf).expect("write kdc.conf");
        fs::write(path.join("kadm5.acl"), "").expect("write kadm5.acl");
        let mut kdc = Kdc {
            dir: Some(dir),
            path: path.clone(),
            port,
            child: Command::new("true").spawn().expect("spawn true"),
        };
        let out = kdc
            .command(&kdb5_util)
            .args(["create", "-s", "-r", REALM, "-P", "kmsdns-test-master"])
            .output()
            .expect("run kdb5_util");
        assert!(out.status.success(), "kdb5_util create: {}", text(&out));
        let log = fs::File::create(path.join("krb5kdc.out")).expect("create kdc log");
        let _ = kdc.child.wait();
        kdc.child = kdc
            .command(&krb5kdc)
            .args(["-n", "-r", REALM])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("spawn krb5kdc");
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = kdc.child.try_wait() {
                panic!("krb5kdc exited ({status}): {}", kdc.log());
            }
            assert!(
                Instant::now() < deadline,
                "krb5kdc did not listen on {addr} within 10 s: {}",
                kdc.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        kdc
    }

    /// The realm's dir (krb5.conf, kdc.conf, database, keytabs, ccaches).
    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// The test realm's krb5.conf.
    pub fn krb5_conf(&self) -> PathBuf {
        self.path.join("krb5.conf")
    }

    /// Points `cmd` at this realm: `KRB5_CONFIG`, `KRB5_KDC_PROFILE`, and a ccache in the realm
    /// dir unless the caller sets `KRB5CCNAME` later.
    pub fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("KRB5_CONFIG", self.krb5_conf())
            .env("KRB5_KDC_PROFILE", self.path.join("kdc.conf"))
            .env(
                "KRB5CCNAME",
                format!("FILE:{}", self.path.join("ccache-default").display()),
            )
            .env_remove("KRB5_CLIENT_KTNAME")
            .env_remove("KRB5_KTNAME")
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        self.env(&mut cmd);
        cmd
    }

    /// Runs one `kadmin.local -q QUERY`; panics when it fails or prints an error.
    pub fn kadmin(&self, query: &str) -> String {
        let out = self
            .command(&require("kadmin.local"))
            .args(["-r", REALM, "-q", query])
            .output()
            .expect("run kadmin.local");
        let all = text(&out);
        assert!(
            out.status.success() && !all.contains("kadmin.local: "),
            "kadmin.local -q {query:?}: {all}"
        );
        all
    }

    /// Adds `principal` (e.g. `admin`, `DNS/ns1.corp.example.com`) with a random key.
    pub fn add_principal(&self, principal: &str) {
        self.kadmin(&format!("addprinc -randkey {principal}"));
    }

    /// Exports the keys of `principals` into `DIR/file` (mode 0600) and returns its path.
    pub fn keytab(&self, file: &str, principals: &[&str]) -> PathBuf {
        let path = self.path.join(file);
        for p in principals {
            self.kadmin(&format!("ktadd -k {} {p}", path.display()));
        }
        path
    }

    /// `kinit -k -t KEYTAB PRINCIPAL` into a new FILE ccache in the realm dir (with `-l
    /// LIFETIME` when given); returns the ccache name for `KRB5CCNAME`.
    pub fn kinit(&self, principal: &str, keytab: &Path, lifetime: Option<&str>) -> String {
        let ccache = format!(
            "FILE:{}",
            self.path
                .join(format!("ccache-{}", principal.replace('/', "_")))
                .display()
        );
        let mut cmd = self.command(&require("kinit"));
        cmd.env("KRB5CCNAME", &ccache)
            .arg("-k")
            .arg("-t")
            .arg(keytab);
        if let Some(l) = lifetime {
            cmd.args(["-l", l]);
        }
        let out = cmd.arg(principal).output().expect("run kinit");
        assert!(out.status.success(), "kinit {principal}: {}", text(&out));
        ccache
    }

    /// krb5kdc's log so far.
    pub fn log(&self) -> String {
        let a = fs::read_to_string(self.path.join("kdc.log")).unwrap_or_default();
        let b = fs::read_to_string(self.path.join("krb5kdc.out")).unwrap_or_default();
        format!("{a}{b}")
    }
}

impl Drop for Kdc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var("KMSDNS_KEEP_LAB").is_ok_and(|v| v == "1")
            && let Some(dir) = self.dir.take()
        {
            eprintln!("KMSDNS_KEEP_LAB: kept KDC lab at {}", dir.keep().display());
        }
    }
}

/// A KDC and a GSS-TSIG BIND serving `zones`, with client principals `admin` (granted SRV at
/// `_vlmcs._tcp.<zone>.` in every zone) and `other` (granted nothing), and their keytabs.
pub struct GssLab {
    // Field order: named stops before the KDC.
    pub bind: BindServer,
    pub kdc: Kdc,
    pub zones: Vec<String>,
    /// Keytab of `admin@REALM`.
    pub admin_keytab: PathBuf,
    /// Keytab of `other@REALM`.
    pub other_keytab: PathBuf,
}

impl GssLab {
    /// Starts a realm and named. The service principal is `DNS/ns1.<first zone>` — the host of
    /// every zone's SOA MNAME is `ns1.<zone>`, so each zone gets its own `DNS/ns1.<zone>`, all in
    /// named's keytab.
    pub fn start(zones: &[&str]) -> GssLab {
        Self::start_with(zones, |b| b)
    }

    /// Like [`GssLab::start`], with a last change to the BIND builder.
    pub fn start_with(zones: &[&str], f: impl FnOnce(ServerBuilder) -> ServerBuilder) -> GssLab {
        Self::build(zones, &[], f)
    }

    /// Like [`GssLab::start`] for one zone, with `admin` also granted SRV at
    /// `_vlmcs._tcp.<domain>.` for each of `domains` (names inside `zone`).
    #[allow(dead_code)] // for tests with many domains in one zone
    pub fn start_with_domains(zone: &str, domains: &[String]) -> GssLab {
        Self::build(&[zone], domains, |b| b)
    }

    fn build(
        zones: &[&str],
        domains: &[String],
        f: impl FnOnce(ServerBuilder) -> ServerBuilder,
    ) -> GssLab {
        let kdc = Kdc::start();
        let services: Vec<String> = zones.iter().map(|z| format!("DNS/ns1.{z}")).collect();
        for p in services
            .iter()
            .map(String::as_str)
            .chain(["admin", "other"])
        {
            kdc.add_principal(p);
        }
        let service_refs: Vec<&str> = services.iter().map(String::as_str).collect();
        let dns_keytab = kdc.keytab("dns.keytab", &service_refs);
        let admin_keytab = kdc.keytab("admin.keytab", &["admin"]);
        let other_keytab = kdc.keytab("other.keytab", &["other"]);
        let mut builder = ServerBuilder::new()
            .bind_option(&format!("tkey-gssapi-keytab \"{}\";", dns_keytab.display()))
            .env("KRB5_CONFIG", &kdc.krb5_conf().display().to_string())
            .env("KRB5_KTNAME", &format!("FILE:{}", dns_keytab.display()));
        for z in zones {
            let mut grants = format!("\tgrant admin@{REALM} name _vlmcs._tcp.{z}. SRV;\n");
            for d in domains.iter().filter(|d| d.ends_with(&format!(".{z}"))) {
                grants.push_str(&format!(
                    "\tgrant admin@{REALM} name _vlmcs._tcp.{d}. SRV;\n"
                ));
            }
            builder = builder.zone(
                ZoneBuilder::new(z)
                    .record("kms1 A 127.0.0.1")
                    .record("kms2 A 127.0.0.1")
                    .policy(Policy::Raw(format!("update-policy {{\n{grants}}};"))),
            );
        }
        let bind = BindServer::start(&f(builder));
        GssLab {
            bind,
            kdc,
            zones: zones.iter().map(|z| z.to_string()).collect(),
            admin_keytab,
            other_keytab,
        }
    }

    /// `kinit -k` for `principal` (`admin` or `other`) from its keytab; the ccache name.
    pub fn kinit(&self, principal: &str, lifetime: Option<&str>) -> String {
        let keytab = match principal {
            "admin" => &self.admin_keytab,
            "other" => &self.other_keytab,
            p => panic!("no keytab for {p} in this lab"),
        };
        self.kdc.kinit(principal, keytab, lifetime)
    }

    /// `nsupdate -g` with `KRB5CCNAME=ccache` against named, `script` after `server IP PORT`.
    pub fn nsupdate_gss(&self, ccache: &str, script: &str) -> Output {
        let mut cmd = Command::new(require("nsupdate"));
        self.kdc.env(&mut cmd).env("KRB5CCNAME", ccache);
        let mut child = cmd
            .args(["-g", "-t", "6"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run nsupdate -g");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = format!("server {} {}\n{script}", self.bind.ip(), self.bind.port());
        stdin.write_all(input.as_bytes()).expect("write script");
        drop(stdin);
        child.wait_with_output().expect("wait for nsupdate")
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
