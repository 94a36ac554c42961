//! A real `knotd` (Knot DNS 3.x) on 127.0.0.1 (or ::1) with its config, keys and zones in a
//! temp dir.
//!
//! `Policy::Grant` becomes one ACL per zone: `action: update`, `update-type: SRV`,
//! `update-owner: name`, `update-owner-match: equal`, `update-owner-name:` the absolute
//! `_vlmcs._tcp.<domain>.` names. Knot answers a policy refusal with NOTAUTH (TSIG BADKEY), not
//! REFUSED.

use std::fmt::Write as _;
use std::fs;
use std::ops::{Deref, DerefMut};
use std::process::Command;

use super::{LabDir, Policy, Server, ServerBuilder, ports, require};

/// A running `knotd`, killed on drop. Derefs to [`Server`] for the query/update helpers.
pub struct KnotServer(Server);

impl KnotServer {
    /// Writes knot.conf and zone files, checks the config with `knotc conf-check`, starts
    /// `knotd` in the foreground and waits (≤ 10 s) until the first and last zone answer SOA.
    /// Panics when knotd or knotc is not installed (see [`super::require`]).
    pub fn start(builder: &ServerBuilder) -> KnotServer {
        let knotd = require("knotd");
        let knotc = require("knotc");
        assert!(
            !builder.zones.is_empty(),
            "a Knot lab needs at least one zone"
        );
        let lab = LabDir::new("knot", builder);
        let dir = &lab.path;
        let d = dir.display();
        for sub in ["db", "zones"] {
            fs::create_dir_all(dir.join(sub)).expect("create knot storage dir");
        }
        let ip = builder.ip();
        let port = ports::free_port_on(ip);

        let mut conf = format!(
            "server:\n\
             \x20   listen: {ip}@{port}\n\
             \x20   rundir: \"{d}\"\n\
             \x20   pidfile: \"{d}/knot.pid\"\n\
             log:\n\
             \x20 - target: stderr\n\
             \x20   any: info\n\
             database:\n\
             \x20   storage: \"{d}/db\"\n"
        );
        if !lab.keys.is_empty() {
            conf.push_str("key:\n");
            for key in &lab.keys {
                write!(
                    conf,
                    "  - id: {}\n    algorithm: {}\n    secret: {}\n",
                    key.name, key.algorithm, key.secret_b64
                )
                .unwrap();
            }
        }
        let mut acls = String::new();
        let mut zones = String::new();
        for (i, zone) in builder.zones.iter().enumerate() {
            assert!(
                zone.primary.is_none() && zone.also_notify.is_empty(),
                "secondary_of/also_notify are implemented for BIND only"
            );
            fs::write(
                dir.join("zones").join(format!("{}.zone", zone.name)),
                zone.zone_file_for(ip),
            )
            .expect("write zone file");
            let acl_id = format!("acl-{i}");
            match &zone.policy {
                Policy::Grant { key, domains } => {
                    write!(
                        acls,
                        "  - id: {acl_id}\n    key: {key}\n    action: update\n    \
                         update-type: SRV\n    update-owner: name\n    \
                         update-owner-match: equal\n    update-owner-name: ["
                    )
                    .unwrap();
                    let names: Vec<String> = domains
                        .iter()
                        .map(|dom| format!("_vlmcs._tcp.{}.", dom.trim_end_matches('.')))
                        .collect();
                    acls.push_str(&names.join(", "));
                    acls.push_str("]\n");
                }
                Policy::Raw(text) => {
                    writeln!(acls, "  - id: {acl_id}").unwrap();
                    for line in text.lines() {
                        writeln!(acls, "    {}", line.trim()).unwrap();
                    }
                }
                Policy::None => {}
            }
            writeln!(zones, "  - domain: {}.", zone.name).unwrap();
            if !matches!(zone.policy, Policy::None) {
                writeln!(zones, "    acl: {acl_id}").unwrap();
            }
            if let Some(transfer) = &zone.allow_transfer {
                panic!("allow_transfer({transfer:?}) is implemented for BIND only");
            }
        }
        if !acls.is_empty() {
            conf.push_str("acl:\n");
            conf.push_str(&acls);
        }
        write!(
            conf,
            "template:\n\
             \x20 - id: default\n\
             \x20   storage: \"{d}/zones\"\n\
             \x20   file: \"%s.zone\"\n\
             \x20   zonefile-sync: -1\n\
             \x20   journal-content: changes\n\
             zone:\n{zones}"
        )
        .unwrap();
        let conf_path = dir.join("knot.conf");
        fs::write(&conf_path, &conf).expect("write knot.conf");

        let check = Command::new(knotc)
            .arg("-c")
            .arg(&conf_path)
            .arg("conf-check")
            .output()
            .expect("run knotc conf-check");
        assert!(
            check.status.success(),
            "knotc conf-check rejected the generated config:\n{}{}\n--- knot.conf ---\n{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr),
            redact(&conf),
        );

        let mut cmd = Command::new(knotd);
        cmd.arg("-c").arg(&conf_path);
        let log_path = dir.join("knotd.log");
        let server = lab.launch("knotd", cmd, log_path, ip, port, builder);
        KnotServer(server)
    }
}

impl Deref for KnotServer {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

impl DerefMut for KnotServer {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.0
    }
}

/// The config with secrets blanked, for panic messages.
fn redact(conf: &str) -> String {
    conf.lines()
        .map(|l| match l.split_once("secret:") {
            Some((indent, _)) => format!("{indent}secret: <redacted>"),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
