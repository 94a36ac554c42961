//! Talking to the Samba DC from inside its namespace: commands with the lab's Kerberos
//! environment, `kinit` into a credential cache of the test's own, `dig`, `nsupdate`, our
//! binary, and `samba-tool` on the DC's database (node ACLs).

use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use super::SambaDc;
use super::netns::{self, DC_IP};
use super::provision::{self, ZONE};
use crate::harness::{SrvRr, cli, require};

/// A Kerberos credential cache holding a ticket-granting ticket, in a temp dir of its own
/// inside the lab directory (deleted on drop, and with the lab).
pub struct Ticket {
    _dir: tempfile::TempDir,
    /// The cache file (for `KRB5CCNAME=FILE:…`).
    pub ccache: PathBuf,
    /// Whose ticket it is (`kmsdns@AD.KMSDNS.TEST`).
    pub principal: String,
}

impl Ticket {
    /// The `KRB5CCNAME` value for this cache.
    pub fn ccname(&self) -> String {
        format!("FILE:{}", self.ccache.display())
    }
}

impl SambaDc {
    /// `program` run inside the DC's namespace (`ip netns exec NAME program`) with
    /// `KRB5_CONFIG` = the lab's krb5.conf and `KRB5CCNAME` pointing at an empty cache (no
    /// credentials until a test gives some: [`SambaDc::command_with`], or a keytab in the
    /// config). The host's keytab variables are removed.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = netns::command(self.netns(), program);
        cmd.env("KRB5_CONFIG", self.krb5_conf())
            .env(
                "KRB5CCNAME",
                format!(
                    "FILE:{}",
                    self.dir().join("no-credentials.ccache").display()
                ),
            )
            .env_remove("KRB5_KTNAME")
            .env_remove("KRB5_CLIENT_KTNAME")
            .env_remove("KRB5_TRACE");
        cmd
    }

    /// [`SambaDc::command`] with `ticket`'s credential cache as `KRB5CCNAME`.
    pub fn command_with(&self, ticket: &Ticket, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = self.command(program);
        cmd.env("KRB5CCNAME", ticket.ccname());
        cmd
    }

    /// Our binary inside the namespace, with the clean environment of [`cli::clean_env`] plus
    /// the lab's Kerberos environment of [`SambaDc::command`].
    pub fn kmsdns(&self) -> Command {
        let mut cmd = self.command(cli::binary());
        cli::clean_env(&mut cmd);
        cmd
    }

    /// [`SambaDc::kmsdns`] with `ticket`'s credential cache.
    pub fn kmsdns_with(&self, ticket: &Ticket) -> Command {
        let mut cmd = self.kmsdns();
        cmd.env("KRB5CCNAME", ticket.ccname());
        cmd
    }

    /// [`SambaDc::kmsdns`] as an `assert_cmd::Command`.
    pub fn kmsdns_assert(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.kmsdns())
    }

    /// `kinit -k -t KEYTAB user@REALM` into a new credential cache; panics when it fails.
    pub fn kinit(&self, user: &str) -> Ticket {
        self.try_kinit(user)
            .unwrap_or_else(|e| panic!("kinit {user}: {e}"))
    }

    pub(super) fn try_kinit(&self, user: &str) -> Result<Ticket, String> {
        let account = self.user(user);
        let dir = tempfile::Builder::new()
            .prefix("ccache-")
            .tempdir_in(self.dir())
            .expect("create ccache dir");
        let ccache = dir.path().join("ccache");
        let out = self
            .command(require("kinit"))
            .env("KRB5CCNAME", format!("FILE:{}", ccache.display()))
            .arg("-k")
            .arg("-t")
            .arg(&account.keytab)
            .arg(&account.principal)
            .stdin(Stdio::null())
            .output()
            .expect("run kinit");
        if out.status.success() {
            Ok(Ticket {
                _dir: dir,
                ccache,
                principal: account.principal.clone(),
            })
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    /// `dig @DC_IP +norec +time=2 +tries=2 ARGS…` in the namespace; its stdout.
    pub fn dig(&self, args: &[&str]) -> String {
        let out = self
            .command(require("dig"))
            .arg(format!("@{DC_IP}"))
            .args(["+norec", "+time=2", "+tries=2"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run dig");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The status dig reports for `ARGS…` (`NOERROR`, `NXDOMAIN`, …).
    pub fn dig_status(&self, args: &[&str]) -> String {
        let text = self.dig(args);
        text.split("status: ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_else(|| panic!("no status in dig output: {text}"))
            .to_owned()
    }

    /// The SRV records at `owner`, sorted.
    pub fn srv_records(&self, owner: &str) -> Vec<SrvRr> {
        crate::harness::server::srv_answer(&self.dig(&["+noall", "+answer", owner, "SRV"]))
    }

    /// `nsupdate` in the namespace with `server DC_IP` and `zone ad.kmsdns.test` before
    /// `script`: signed with GSS-TSIG (`-g`) from `ticket`'s cache, or unsigned with `None`.
    pub fn nsupdate(&self, ticket: Option<&Ticket>, script: &str) -> Output {
        match ticket {
            Some(t) => run_nsupdate(self.command_with(t, require("nsupdate")), true, script),
            None => run_nsupdate(self.command(require("nsupdate")), false, script),
        }
    }

    /// [`SambaDc::nsupdate`] with extra arguments (e.g. `-D` to see the messages).
    pub fn nsupdate_with_args(
        &self,
        ticket: Option<&Ticket>,
        args: &[&str],
        script: &str,
    ) -> Output {
        let mut cmd = match ticket {
            Some(t) => self.command_with(t, require("nsupdate")),
            None => self.command(require("nsupdate")),
        };
        cmd.args(args);
        run_nsupdate(cmd, ticket.is_some(), script)
    }

    /// `nsupdate -g` with an empty credential cache.
    pub fn nsupdate_without_credentials(&self, script: &str) -> Output {
        run_nsupdate(self.command(require("nsupdate")), true, script)
    }

    /// `samba-tool SUBCOMMAND… -s SMB_CONF`, working on the DC's database directly (add `-H`
    /// with [`SambaDc::sam_ldb`] for commands that would otherwise connect over LDAP).
    pub fn samba_tool(&self, subcommand: &[&str]) -> Command {
        provision::samba_tool(self.smb_conf(), subcommand)
    }

    /// The DC's database, `DIR/private/sam.ldb`, for `samba-tool … -H`.
    pub fn sam_ldb(&self) -> String {
        format!("{}", self.dir().join("private/sam.ldb").display())
    }

    /// The AD object of the DNS node `owner` (an absolute name in the zone, with or without
    /// the trailing dot): `DC=_vlmcs._tcp.x,DC=ad.kmsdns.test,CN=MicrosoftDNS,DC=DomainDnsZones,
    /// DC=ad,DC=kmsdns,DC=test`.
    pub fn node_dn(&self, owner: &str) -> String {
        let owner = owner.trim_end_matches('.');
        let relative = owner
            .strip_suffix(&format!(".{ZONE}"))
            .unwrap_or_else(|| panic!("{owner} is not in the zone {ZONE}"));
        let base: Vec<String> = ZONE.split('.').map(|l| format!("DC={l}")).collect();
        format!(
            "DC={relative},DC={ZONE},CN=MicrosoftDNS,DC=DomainDnsZones,{}",
            base.join(",")
        )
    }

    /// The objectSid of account `name`.
    pub fn user_sid(&self, name: &str) -> String {
        let out = self
            .samba_tool(&["user", "show"])
            .args([name, "--attributes=objectSid"])
            .output()
            .expect("run samba-tool user show");
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|l| l.strip_prefix("objectSid: "))
            .unwrap_or_else(|| panic!("no objectSid for {name}: {text}"))
            .trim()
            .to_owned()
    }

    /// Grants `user` read and write of properties (`RPWP`: what a DNS update of the node
    /// needs) on the node `owner` and nothing else — the least-privilege grant the README
    /// and `render powershell` describe. The node must exist.
    pub fn grant_node_write(&self, owner: &str, user: &str) {
        let sddl = format!("(A;;RPWP;;;{})", self.user_sid(user));
        let out = self
            .samba_tool(&["dsacl", "set"])
            .args(["-H", &self.sam_ldb()])
            .arg(format!("--objectdn={}", self.node_dn(owner)))
            .arg(format!("--sddl={sddl}"))
            .output()
            .expect("run samba-tool dsacl set");
        assert!(
            out.status.success(),
            "samba-tool dsacl set on {owner} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The owner SID of the node `owner` (from its security descriptor).
    pub fn node_owner_sid(&self, owner: &str) -> String {
        let out = self
            .samba_tool(&["dsacl", "get"])
            .args(["-H", &self.sam_ldb()])
            .arg(format!("--objectdn={}", self.node_dn(owner)))
            .output()
            .expect("run samba-tool dsacl get");
        let text = String::from_utf8_lossy(&out.stdout);
        text.split("O:")
            .nth(1)
            .and_then(|rest| rest.split("G:").next())
            .unwrap_or_else(|| panic!("no owner in the descriptor of {owner}: {text}"))
            .to_owned()
    }
}

fn run_nsupdate(mut cmd: Command, gss: bool, script: &str) -> Output {
    if gss {
        cmd.arg("-g");
    }
    let mut child = cmd
        .args(["-t", "6", "-u", "2", "-r", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nsupdate");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = format!("server {DC_IP}\nzone {ZONE}\n{script}");
    stdin
        .write_all(input.as_bytes())
        .expect("write nsupdate script");
    drop(stdin);
    child.wait_with_output().expect("wait for nsupdate")
}

impl SambaDc {
    /// A `[servers.ID]` table for the DC (its address in the namespace) signed with key `key`.
    pub fn server_toml(&self, id: &str, key: &str) -> String {
        format!("[servers.{id}]\naddress = \"{DC_IP}\"\nkey = \"{key}\"\n")
    }

    /// A `[keys.ID]` table for a GSS-TSIG key of `user` from its keytab, in the config shape
    /// issue 14 specifies (`type = "gss-tsig"`, `principal`, `keytab`).
    pub fn gss_key_toml(&self, id: &str, user: &str) -> String {
        let account = self.user(user);
        format!(
            "[keys.{id}]\ntype = \"gss-tsig\"\nprincipal = \"{}\"\nkeytab = \"{}\"\n",
            account.principal,
            account.keytab.display()
        )
    }
}
