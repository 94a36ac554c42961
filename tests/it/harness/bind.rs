//! A real `named` (BIND 9) on 127.0.0.1 (or ::1) with its config, keys and zones in a temp dir.

use std::fmt::Write as _;
use std::fs;
use std::ops::{Deref, DerefMut};
use std::os::unix::fs::MetadataExt;
use std::process::Command;

use super::{LabDir, Policy, Server, ServerBuilder, ZoneBuilder, ports, require};

/// A running `named`, killed on drop. Derefs to [`Server`] for the query/update helpers.
pub struct BindServer(Server);

impl BindServer {
    /// Writes named.conf, keys and zone files, checks the config with `named-checkconf`, starts
    /// `named -g` and waits (≤ 10 s) until the first and last zone answer SOA.
    /// Panics when named or named-checkconf is not installed (see [`super::require`]).
    pub fn start(builder: &ServerBuilder) -> BindServer {
        Self::start_on(builder, ports::free_port_on(builder.ip()))
    }

    /// Like [`BindServer::start`] on a given port (from [`ports::free_port_on`] for the
    /// builder's address), for setups that must know a server's port before it runs (a
    /// primary's `also-notify` to a secondary).
    pub fn start_on(builder: &ServerBuilder, port: u16) -> BindServer {
        let named = require("named");
        let checkconf = require("named-checkconf");
        assert!(
            !builder.zones.is_empty(),
            "a BIND lab needs at least one zone"
        );
        let lab = LabDir::new("bind", builder);
        let dir = &lab.path;
        let ip = builder.ip();
        // Listen on exactly one loopback address; `-4`/`-6` keep named off the other family.
        let (listen_v4, listen_v6, family) = if ip.is_ipv6() {
            (
                "{ none; }".to_owned(),
                format!("port {port} {{ {ip}; }}"),
                "-6",
            )
        } else {
            (
                format!("port {port} {{ {ip}; }}"),
                "{ none; }".to_owned(),
                "-4",
            )
        };

        let mut conf = String::new();
        let d = dir.display();
        write!(
            conf,
            "options {{\n\
             \tdirectory \"{d}\";\n\
             \tpid-file \"{d}/named.pid\";\n\
             \tsession-keyfile \"{d}/session.key\";\n\
             \tmanaged-keys-directory \"{d}\";\n\
             \tlisten-on {listen_v4};\n\
             \tlisten-on-v6 {listen_v6};\n\
             \trecursion no;\n\
             \tnotify no;\n\
             \tdnssec-validation no;\n"
        )
        .unwrap();
        for statement in &builder.bind_options {
            writeln!(conf, "\t{statement}").unwrap();
        }
        conf.push_str("};\ncontrols { };\n");
        for key in &lab.keys {
            writeln!(conf, "include \"{}\";", key.file.display()).unwrap();
        }
        for file in &builder.includes {
            writeln!(conf, "include \"{}\";", file.display()).unwrap();
        }
        for zone in &builder.zones {
            conf.push_str(&zone_statement(zone));
            if zone.primary.is_none() {
                fs::write(dir.join(zone_file_name(zone)), zone.zone_file_for(ip))
                    .expect("write zone");
            }
        }
        let conf_path = dir.join("named.conf");
        fs::write(&conf_path, &conf).expect("write named.conf");

        let check = Command::new(checkconf)
            .arg(&conf_path)
            .output()
            .expect("run named-checkconf");
        assert!(
            check.status.success(),
            "named-checkconf rejected the generated config:\n{}{}\n--- named.conf ---\n{conf}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr),
        );

        let mut cmd = Command::new(named);
        cmd.arg("-g");
        if running_as_root() {
            cmd.args(["-u", "root"]);
        }
        cmd.arg(family).arg("-c").arg(&conf_path);
        cmd.envs(builder.env.iter().map(|(k, v)| (k, v)));
        let log_path = dir.join("named.log");
        let server = lab.launch("named", cmd, log_path, ip, port, builder);
        BindServer(server)
    }
}

impl Deref for BindServer {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

impl DerefMut for BindServer {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.0
    }
}

fn zone_file_name(zone: &ZoneBuilder) -> String {
    if zone.primary.is_some() {
        format!("{}.secondary.db", zone.name)
    } else {
        format!("{}.db", zone.name)
    }
}

/// The `zone "..." { ... };` statement.
fn zone_statement(zone: &ZoneBuilder) -> String {
    let mut s = format!("zone \"{}\" {{\n", zone.name);
    match zone.primary {
        Some(primary) => {
            s.push_str("\ttype secondary;\n");
            writeln!(
                s,
                "\tprimaries {{ {} port {}; }};",
                primary.ip(),
                primary.port()
            )
            .unwrap();
        }
        None => s.push_str("\ttype primary;\n"),
    }
    writeln!(s, "\tfile \"{}\";", zone_file_name(zone)).unwrap();
    if let Some(acl) = &zone.allow_transfer {
        writeln!(s, "\tallow-transfer {{ {acl} }};").unwrap();
    }
    if !zone.also_notify.is_empty() {
        // notify-delay 0: tests should not wait BIND's default 5 s before the NOTIFY goes out.
        s.push_str("\tnotify explicit;\n\tnotify-delay 0;\n\talso-notify {");
        for a in &zone.also_notify {
            write!(s, " {} port {};", a.ip(), a.port()).unwrap();
        }
        s.push_str(" };\n");
    }
    match &zone.policy {
        Policy::Grant { key, domains } => {
            s.push_str("\tupdate-policy {\n");
            for domain in domains {
                let domain = domain.trim_end_matches('.');
                writeln!(s, "\t\tgrant {key} name _vlmcs._tcp.{domain}. SRV;").unwrap();
            }
            s.push_str("\t};\n");
        }
        Policy::Raw(text) => {
            for line in text.lines() {
                writeln!(s, "\t{line}").unwrap();
            }
        }
        Policy::None => {}
    }
    s.push_str("};\n");
    s
}

fn running_as_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
