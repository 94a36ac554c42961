//! `kmsdns validate`: check the file and summarise the desired state. No network I/O.

use std::io::Write;

use clap::Args;

use super::GlobalArgs;
use crate::config::{Config, KeySource};
use crate::dns::tsig::KeyError;
use crate::error::{Error, Exit, Result};

#[derive(Debug, Args)]
pub struct ValidateArgs {}

pub fn execute(global: &GlobalArgs, _args: &ValidateArgs) -> Result<Exit> {
    let config = Config::load(&global.config)?;
    // Key files are local: load them now so a malformed one shows here, not in the first
    // plan. A key file that is not there yet, or a secret in an unset environment variable, is
    // only a warning (the config may be validated where the secrets are not, e.g. in review CI).
    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    for spec in config.keys.values() {
        match crate::dns::keyfile::load_key(spec) {
            Ok(k) => loaded.push(format!("{} ({})", spec.id, k.algorithm)),
            Err(e @ KeyError::EnvMissing { .. }) => tracing::warn!("{e}"),
            Err(e @ KeyError::Read { .. }) if !key_file_exists(spec) => {
                tracing::warn!("{e} (plan and apply will need it)")
            }
            Err(e) => problems.push(format!("key `{}`: {e}", spec.id)),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Usage {
            message: format!(
                "{}: {} TSIG key problem(s); nothing was sent to DNS\n  {}",
                config.path.display(),
                problems.len(),
                problems.join("\n  ")
            ),
        });
    }
    let mut out = anstream::stdout().lock();
    write_summary(&mut out, &config)?;
    if !loaded.is_empty() {
        writeln!(out, "TSIG keys loaded: {}", loaded.join(", "))?;
    }
    Ok(Exit::Success)
}

fn write_summary(out: &mut impl Write, config: &Config) -> std::io::Result<()> {
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
            writeln!(
                out,
                "  {} {} ({:?}, timeout {:?}, {key})",
                s.id, s.address, s.transport, s.timeout
            )?;
        }
    }
    writeln!(out, "{green}Configuration is valid.{green:#}")?;
    Ok(())
}

fn key_file_exists(spec: &crate::config::KeySpec) -> bool {
    matches!(&spec.source, KeySource::File(p) if p.exists())
}
