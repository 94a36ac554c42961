//! A real `pdns_server` (PowerDNS Authoritative 4.x, gsqlite3 backend) on 127.0.0.1 (or ::1)
//! with its config, database, keys and policy script in a temp dir.
//!
//! Setup, as an operator would do it: the sqlite schema of pdns-backend-sqlite3 and the zones
//! (`zone2sql --gsqlite`) loaded with `sqlite3`, keys with `pdnsutil import-tsig-key`, per zone
//! `pdnsutil set-meta` SOA-EDIT-DNSUPDATE INCREASE (serial +1 per update, as BIND and Knot),
//! ALLOW-DNSUPDATE-FROM (loopback) and, for `Policy::Grant`, TSIG-ALLOW-DNSUPDATE; a zone with
//! `Policy::None` gets no metadata. Packet and query caches are off, so reads right after an
//! update are fresh.
//!
//! Metadata cannot restrict record types, so every lab runs a Lua update policy
//! (`lua-dnsupdate-policy-script`). With it PowerDNS skips the ALLOW-DNSUPDATE-FROM and
//! TSIG-ALLOW-DNSUPDATE checks, so the script checks source, key, type and owner itself.
//! PowerDNS decides each record on its own: a record the policy refuses is skipped and the
//! update still answers NOERROR (a wrong secret is REFUSED, before the policy runs).
//!
//! Keep the default `distributor-threads` (3): with `distributor-threads=1` ("operating
//! unthreaded"), PowerDNS 4.7.3 hands the Lua policy the TSIG key name of the *previous*
//! signed packet for an unsigned update, so an unsigned update sent after a signed one passes
//! a key check (seen here; `pdns_skips_records_outside_the_policy_and_still_answers_noerror`
//! sends exactly that sequence).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::{LabDir, Policy, Server, ServerBuilder, ZoneBuilder, ports, require};

/// Where pdns-backend-sqlite3 installs its schema (Debian 12 and later; older ones under doc).
const SCHEMAS: [&str; 2] = [
    "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql",
    "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql",
];

/// Update sources allowed by the generated policy and metadata: the loopback addresses.
const LOOPBACK: [&str; 2] = ["127.0.0.0/8", "::1/128"];

/// A running `pdns_server`, killed on drop. Derefs to [`Server`] for the query/update helpers.
pub struct PdnsServer {
    server: Server,
    pdnsutil: PathBuf,
}

impl PdnsServer {
    /// Builds the sqlite database, imports keys and metadata with pdnsutil, writes pdns.conf
    /// and the Lua update policy, starts `pdns_server` in the foreground and waits (≤ 10 s)
    /// until the first and last zone answer SOA. Panics when PowerDNS, its sqlite backend or
    /// sqlite3 is not installed (see [`super::require`]).
    pub fn start(builder: &ServerBuilder) -> PdnsServer {
        let pdns = require("pdns_server");
        let pdnsutil = require("pdnsutil");
        let zone2sql = require("zone2sql");
        let sqlite3 = require("sqlite3");
        let schema = sqlite_schema();
        assert!(
            !builder.zones.is_empty(),
            "a PowerDNS lab needs at least one zone"
        );
        let lab = LabDir::new("pdns", builder);
        let dir = lab.path.clone();
        let ip = builder.ip();
        let port = ports::free_port_on(ip);

        // The database: schema, then every zone as zone2sql writes it.
        let mut sql = fs::read_to_string(&schema)
            .unwrap_or_else(|e| panic!("read {}: {e}", schema.display()));
        for zone in &builder.zones {
            assert!(
                zone.primary.is_none() && zone.also_notify.is_empty(),
                "secondary_of/also_notify are implemented for BIND only"
            );
            if let Some(transfer) = &zone.allow_transfer {
                panic!("allow_transfer({transfer:?}) is implemented for BIND only");
            }
            let file = dir.join(format!("{}.zone", zone.name));
            fs::write(&file, zone.zone_file_for(ip)).expect("write zone file");
            let out = Command::new(&zone2sql)
                .arg("--gsqlite")
                .arg(format!("--zone={}", file.display()))
                .arg(format!("--zone-name={}", zone.name))
                .output()
                .expect("run zone2sql");
            assert!(
                out.status.success(),
                "zone2sql {} failed: {}",
                zone.name,
                String::from_utf8_lossy(&out.stderr)
            );
            sql.push_str(&String::from_utf8(out.stdout).expect("zone2sql prints UTF-8"));
        }
        let db = dir.join("pdns.db");
        run_with_stdin(Command::new(sqlite3).arg(&db), &sql, "sqlite3");

        let policy_path = dir.join("update-policy.lua");
        let policy = builder
            .pdns_policy_script
            .clone()
            .unwrap_or_else(|| policy_script(&builder.zones));
        fs::write(&policy_path, policy).expect("write update-policy.lua");
        let conf = format!(
            "launch=gsqlite3\n\
             gsqlite3-database={db}\n\
             local-address={ip}\n\
             local-port={port}\n\
             dnsupdate=yes\n\
             allow-dnsupdate-from={from}\n\
             lua-dnsupdate-policy-script={policy}\n\
             cache-ttl=0\n\
             query-cache-ttl=0\n\
             negquery-cache-ttl=0\n\
             zone-metadata-cache-ttl=0\n\
             security-poll-suffix=\n\
             disable-syslog=yes\n",
            db = db.display(),
            from = LOOPBACK.join(" "),
            policy = policy_path.display(),
        );
        fs::write(dir.join("pdns.conf"), conf).expect("write pdns.conf");

        let util = |args: &[&str]| pdnsutil_checked(&pdnsutil, &dir, args);
        for key in &lab.keys {
            util(&[
                "import-tsig-key",
                &key.name,
                &key.algorithm,
                &key.secret_b64,
            ]);
        }
        for zone in &builder.zones {
            let z = zone.name.as_str();
            if matches!(zone.policy, Policy::None) {
                continue; // no metadata at all (a custom policy script may still allow updates)
            }
            util(&["set-meta", z, "SOA-EDIT-DNSUPDATE", "INCREASE"]);
            let mut from = vec!["set-meta", z, "ALLOW-DNSUPDATE-FROM"];
            from.extend(LOOPBACK);
            util(&from);
            if let Policy::Grant { key, .. } = &zone.policy {
                util(&["set-meta", z, "TSIG-ALLOW-DNSUPDATE", key]);
            }
        }

        let mut cmd = Command::new(pdns);
        cmd.arg(format!("--config-dir={}", dir.display()))
            .arg(format!("--socket-dir={}", dir.display()))
            .args(["--guardian=no", "--daemon=no"]);
        let log_path = dir.join("pdns.log");
        let server = lab.launch("pdns_server", cmd, log_path, ip, port, builder);
        PdnsServer { server, pdnsutil }
    }

    /// `pdnsutil --config-dir=DIR ARGS…` against this server's database (e.g. `set-meta`).
    pub fn pdnsutil(&self, args: &[&str]) -> Output {
        Command::new(&self.pdnsutil)
            .arg(format!("--config-dir={}", self.dir().display()))
            .args(args)
            .output()
            .expect("run pdnsutil")
    }

    /// The Lua update policy the server runs.
    pub fn policy_script(&self) -> String {
        fs::read_to_string(self.dir().join("update-policy.lua")).unwrap_or_default()
    }
}

impl Deref for PdnsServer {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl DerefMut for PdnsServer {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.server
    }
}

/// The sqlite schema file of pdns-backend-sqlite3; panics naming the package when missing.
fn sqlite_schema() -> PathBuf {
    SCHEMAS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the PowerDNS sqlite schema is missing (looked for {}): install the Debian \
                 package `pdns-backend-sqlite3`. `bash scripts/test.sh` installs every server \
                 and tool the tests need, then runs them",
                SCHEMAS.join(", ")
            )
        })
}

fn pdnsutil_checked(pdnsutil: &Path, dir: &Path, args: &[&str]) {
    let out = Command::new(pdnsutil)
        .arg(format!("--config-dir={}", dir.display()))
        .args(args)
        .output()
        .expect("run pdnsutil");
    assert!(
        out.status.success(),
        "pdnsutil {} failed: {}{}",
        args.first().copied().unwrap_or_default(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run_with_stdin(cmd: &mut Command, input: &str, what: &str) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .unwrap_or_else(|e| panic!("write to {what}: {e}"));
    let out = child.wait_with_output().expect("wait for child");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The harness's own Lua update policy (independent of `kmsdns render pdns`): per zone one
/// rule from its [`Policy`]; updates from outside the loopback and zones without a rule are
/// refused.
fn policy_script(zones: &[ZoneBuilder]) -> String {
    let mut s = String::from(
        "-- kmsdns test harness: lua-dnsupdate-policy-script, called once per record of an\n\
         -- UPDATE. It replaces the ALLOW-DNSUPDATE-FROM and TSIG-ALLOW-DNSUPDATE checks.\n\
         local from = newNMG()\n",
    );
    for net in LOOPBACK {
        writeln!(s, "from:addMask({})", lua_str(net)).unwrap();
    }
    s.push_str("local rules = {}\n");
    for zone in zones {
        let expr = match &zone.policy {
            Policy::Grant { key, domains } => {
                let owners: Vec<String> = domains
                    .iter()
                    .map(|d| {
                        let owner = format!("_vlmcs._tcp.{}.", d.trim_end_matches('.'));
                        format!("input:getQName():equal({})", lua_str(&owner))
                    })
                    .collect();
                format!(
                    "input:getTsigName():equal({}) and input:getQType() == pdns.SRV\n    and ({})",
                    lua_str(key),
                    owners.join("\n      or ")
                )
            }
            Policy::Raw(expr) => expr.trim().to_owned(),
            Policy::None => continue,
        };
        writeln!(
            s,
            "rules[#rules + 1] = {{ zone = {}, allow = function(input)\n  return {expr}\nend }}",
            lua_str(&format!("{}.", zone.name))
        )
        .unwrap();
    }
    s.push_str(
        "function updatepolicy(input)\n  \
           if not from:match(input:getRemote()) then return false end\n  \
           for _, rule in ipairs(rules) do\n    \
             if input:getZoneName():equal(rule.zone) then return rule.allow(input) == true end\n  \
           end\n  \
           return false\n\
         end\n",
    );
    s
}

/// A Lua string literal.
fn lua_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
