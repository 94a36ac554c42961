//! `kmsdns render FORMAT`: operator outputs. Wiring only: the formats live in `crate::render`,
//! reached through `app::render`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::GlobalArgs;
use crate::app::{self, render::RenderRequest};
use crate::error::{Error, Exit, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Zone-file lines ($ORIGIN-relative owners, explicit TTLs)
    Bind,
    /// Knot DNS key items and per-zone ACLs limiting each key to SRV at _vlmcs._tcp names
    Knot,
    /// named.conf key statement and least-privilege update-policy per zone
    NamedConf,
    /// A script for `nsupdate -k KEYFILE`
    Nsupdate,
    /// PowerDNS Lua update policy limiting each key to SRV at _vlmcs._tcp names, and the
    /// pdnsutil commands for keys and zone metadata
    Pdns,
    /// Idempotent PowerShell for Microsoft DNS (DnsServer module)
    Powershell,
    /// A .reg file per KMS host (DnsDomainPublishList / DisableDnsPublishing)
    Registry,
    /// A table of domain → zone → server → targets, for reviews
    #[value(alias = "zone-summary")]
    Table,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Output format
    #[arg(value_enum)]
    pub format: Format,
    /// Only this zone (a configured zone, or a domain whose zone is not configured)
    #[arg(long, value_name = "ZONE")]
    pub zone: Option<String>,
    /// Write one file per zone (per KMS host for registry; update-policy.lua and pdnsutil.sh
    /// for pdns) into DIR instead of stdout
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// named-conf: copy the key statement with its secret from the key file instead of an include
    #[arg(long)]
    pub include_secret: bool,
    /// named-conf: print `allow-update { any; };` instead of the grants (unsafe)
    #[arg(long)]
    pub allow_any: bool,
    /// nsupdate: add `prereq` lines for the records read into this saved plan (`kmsdns plan
    /// --out FILE`), so the script fails instead of overwriting changes made since
    #[arg(long, value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,
    /// registry: bare-domain entries under ...\CurrentVersion\SL (Windows Server 2008)
    #[arg(long)]
    pub legacy: bool,
    /// registry: set DisableDnsPublishing=1 on the hosts whose records kmsdns owns
    #[arg(long)]
    pub disable_publishing: bool,
}

pub fn execute(global: &GlobalArgs, args: &RenderArgs) -> Result<Exit> {
    check_flags(args)?;
    let desired = app::load_config(&global.config)?;
    let req = RenderRequest {
        format: match args.format {
            Format::Bind => app::render::Format::Bind,
            Format::Knot => app::render::Format::Knot,
            Format::NamedConf => app::render::Format::NamedConf,
            Format::Nsupdate => app::render::Format::Nsupdate,
            Format::Pdns => app::render::Format::Pdns,
            Format::Powershell => app::render::Format::Powershell,
            Format::Registry => app::render::Format::Registry,
            Format::Table => app::render::Format::Table,
        },
        zone: args.zone.clone(),
        include_secret: args.include_secret,
        allow_any: args.allow_any,
        plan: args.plan.clone(),
        legacy: args.legacy,
        disable_publishing: args.disable_publishing,
    };
    let rendered = app::render::render(&desired, &req)?;
    if args.allow_any {
        let mut err = anstream::stderr();
        let style = anstyle::Style::new()
            .bold()
            .fg_color(Some(anstyle::AnsiColor::Yellow.into()));
        let _ = writeln!(
            err,
            "{style}warning{style:#}: --allow-any renders `allow-update {{ any; }};`: anyone who can reach the server can rewrite these zones. Use the default update-policy grants unless you must."
        );
    }
    match &args.out_dir {
        None => {
            let mut out = anstream::stdout().lock();
            out.write_all(rendered.to_text().as_bytes())?;
            out.flush()?;
        }
        Some(dir) => {
            let mut log = anstream::stderr();
            for path in app::render::write_files(dir, &rendered, args.include_secret)? {
                let _ = writeln!(log, "wrote {}", path.display());
            }
        }
    }
    Ok(Exit::Success)
}

fn check_flags(args: &RenderArgs) -> Result<()> {
    let named = args.format == Format::NamedConf;
    let registry = args.format == Format::Registry;
    for (set, flag, ok, format) in [
        (args.include_secret, "--include-secret", named, "named-conf"),
        (args.allow_any, "--allow-any", named, "named-conf"),
        (args.legacy, "--legacy", registry, "registry"),
        (
            args.plan.is_some(),
            "--plan",
            args.format == Format::Nsupdate,
            "nsupdate",
        ),
        (
            args.disable_publishing,
            "--disable-publishing",
            registry,
            "registry",
        ),
    ] {
        if set && !ok {
            return Err(Error::Usage {
                message: format!("{flag} only applies to `kmsdns render {format}`"),
            });
        }
    }
    if args.include_secret && args.allow_any {
        return Err(Error::Usage {
            message: "--include-secret and --allow-any do not go together: allow-update { any; } uses no key".into(),
        });
    }
    Ok(())
}
