//! `kmsdns validate`: check the file and summarise the desired state. No network I/O.

use std::io::Write;

use clap::Args;

use super::GlobalArgs;
use crate::app;
use crate::error::{Exit, Result};
use crate::model::{DesiredState, KeySource};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Check the configuration without its secrets: a key file or secret variable that cannot
    /// be loaded is a warning instead of an error (exit 3)
    #[arg(long)]
    pub offline: bool,
}

pub fn execute(global: &GlobalArgs, args: &ValidateArgs) -> Result<Exit> {
    let app::validate::Validated {
        desired,
        keys_loaded: loaded,
    } = app::validate::validate(&global.config, args.offline)?;
    let mut out = anstream::stdout().lock();
    write_summary(&mut out, &desired)?;
    if !loaded.is_empty() {
        writeln!(out, "TSIG keys loaded: {}", loaded.join(", "))?;
    }
    Ok(Exit::Success)
}

fn write_summary(out: &mut impl Write, config: &DesiredState) -> std::io::Result<()> {
    let bold = anstyle::Style::new().bold();
    let green = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Green.into()));
    writeln!(out, "{bold}{}{bold:#}", config.path.display())?;
    writeln!(out, "hosts: {}", config.hosts.len())?;
    for h in &config.hosts {
        writeln!(
            out,
            "  {}  port {}  priority {}  weight {}  ttl {}",
            h.name, h.port, h.priority, h.weight, h.ttl
        )?;
    }
    writeln!(
        out,
        "domains: {} ({} SRV records desired)",
        config.domains.len(),
        config.record_count()
    )?;
    for d in &config.domains {
        let zone = d
            .zone
            .as_ref()
            .map_or("discovered from SOA".to_string(), |z| z.to_string());
        let server = d
            .server
            .clone()
            .unwrap_or_else(|| "the zone's primary (SOA MNAME)".to_string());
        let unicode = d
            .name
            .unicode()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {}{unicode}  zone: {zone}  server: {server}  prune: {}",
            d.name, d.prune
        )?;
        if d.records.is_empty() {
            writeln!(out, "    (no records: the RRset is to be empty)")?;
        }
        for r in &d.records {
            writeln!(out, "    {} {r}", d.owner())?;
        }
    }
    if !config.keys.is_empty() {
        writeln!(out, "keys: {}", config.keys.len())?;
        for k in config.keys.values() {
            let source = match &k.source {
                KeySource::File(p) => format!("file {}", p.display()),
                KeySource::Env(v) => format!("environment variable {v}"),
                KeySource::Gss(g) => {
                    let who = g.principal.as_deref().unwrap_or("the default principal");
                    let alg = g.algorithm;
                    let from = match &g.keytab {
                        Some(p) => format!("keytab {}", p.display()),
                        None => "the credential cache".to_string(),
                    };
                    writeln!(out, "  {} (GSS-TSIG, {alg}) as {who} from {from}", k.id)?;
                    continue;
                }
            };
            let alg = k.algorithm.map(|a| format!(", {a}")).unwrap_or_default();
            writeln!(out, "  {} (TSIG name {}{alg}) from {source}", k.id, k.name)?;
        }
    }
    if !config.servers.is_empty() {
        writeln!(out, "servers: {}", config.servers.len())?;
        for s in config.servers.values() {
            let key = config
                .key_for_server(Some(s))
                .map_or("unsigned".to_string(), |k| format!("key {}", k.id));
            let tries = s.retries + 1;
            writeln!(
                out,
                "  {} {} ({}, timeout {}, {tries} tr{}, {key})",
                s.id,
                s.address_list(),
                s.transport,
                humantime::format_duration(s.timeout),
                if tries == 1 { "y" } else { "ies" }
            )?;
        }
    }
    writeln!(out, "{green}Configuration is valid.{green:#}")?;
    Ok(())
}
