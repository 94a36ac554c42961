//! `kmsdns import`: read live `_vlmcs._tcp` SRV RRsets and write a kmsdns TOML that
//! reproduces them. Records kmsdns cannot express are listed in the file (`# not imported:`)
//! and on stderr; the exit code stays 0 for them (1 when a domain could not be read).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::GlobalArgs;
use super::net::NetArgs;
use crate::app::{self, import::ImportRequest};
use crate::error::{Error, Exit, Result};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Domains to import (`corp.example.com` or `_vlmcs._tcp.corp.example.com`)
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Also import the domains listed in FILE (one per line, `#` starts a comment)
    #[arg(long, value_name = "FILE")]
    pub from_file: Vec<PathBuf>,
    /// Also import every `_vlmcs._tcp` owner of zone Z, listed by zone transfer (AXFR)
    #[arg(long, value_name = "Z")]
    pub zone: Vec<String>,
    /// Read every record from this server, IP[:PORT] (default: each zone's primary, found
    /// through the resolver from the SOA MNAME)
    #[arg(long, value_name = "ADDR", value_parser = app::parse_resolver)]
    pub server: Option<SocketAddr>,
    /// TSIG key file (BIND format) that signs the reads and transfers; written into the
    /// output as [keys.NAME] file = …
    #[arg(long, value_name = "KEYFILE")]
    pub key: Option<PathBuf>,
    /// Write the configuration to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists
    #[arg(long, requires = "output")]
    pub force: bool,
    #[command(flatten)]
    pub net: NetArgs,
}

pub async fn execute(_global: &GlobalArgs, args: &ImportArgs) -> Result<Exit> {
    let mut names: Vec<(String, String)> = args
        .domains
        .iter()
        .map(|d| (d.clone(), "the command line".to_string()))
        .collect();
    for f in &args.from_file {
        names.extend(app::import::names_from_file(f)?);
    }
    if names.is_empty() && args.zone.is_empty() {
        return Err(Error::Usage {
            message: "nothing to import: name domains, --from-file FILE or --zone Z".into(),
        });
    }
    if let Some(path) = &args.output
        && !args.force
        && path.exists()
    {
        return Err(Error::Usage {
            message: format!(
                "{} already exists; choose another file or pass --force to replace it",
                path.display()
            ),
        });
    }
    let request = ImportRequest {
        names,
        zones: args.zone.clone(),
        server: args.server,
        key_file: args.key.clone(),
        net: args.net.options(),
    };
    let out = app::import::import(&request).await?;
    match &args.output {
        Some(path) => {
            app::write_file(path, out.toml.as_bytes(), false).map_err(|e| Error::Io {
                context: format!("cannot write {}", path.display()),
                source: e,
            })?;
        }
        None => anstream::stdout().lock().write_all(out.toml.as_bytes())?,
    }
    let mut err = anstream::stderr().lock();
    if !out.not_imported.is_empty() {
        writeln!(
            err,
            "warning: {} record(s) not imported (kmsdns cannot express them; listed under `# not imported:` in the output):",
            out.not_imported.len()
        )?;
        for l in &out.not_imported {
            writeln!(err, "  {l}")?;
        }
    }
    if !out.not_read.is_empty() {
        writeln!(
            err,
            "error: {} domain(s) could not be read:",
            out.not_read.len()
        )?;
        for l in &out.not_read {
            writeln!(err, "  {l}")?;
        }
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}
