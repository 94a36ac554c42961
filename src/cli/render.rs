//! `kmsdns render FORMAT`: operator outputs. Wiring only: the formats live in `crate::render`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::GlobalArgs;
use crate::config::{Config, KeySource};
use crate::error::{Error, Exit, Result};
use crate::model::Fqdn;
use crate::render::{self, Rendered, ZoneGroup};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Zone-file lines ($ORIGIN-relative owners, explicit TTLs)
    Bind,
    /// named.conf key statement and least-privilege update-policy per zone
    NamedConf,
    /// A script for `nsupdate -k KEYFILE`
    Nsupdate,
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
    /// Write one file per zone (per KMS host for registry) into DIR instead of stdout
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
    let config = Config::load(&global.config)?;
    let only = match &args.zone {
        Some(z) => Some(Fqdn::parse_domain(z).map_err(|e| Error::Usage {
            message: format!("--zone `{z}` is not a domain name: {e}"),
        })?),
        None => None,
    };
    let groups = render::zone_groups(&config, only.as_ref())?;
    let rendered = render_format(&config, &groups, args)?;
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
        Some(dir) => write_files(dir, &rendered)?,
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

fn render_format(config: &Config, groups: &[ZoneGroup<'_>], args: &RenderArgs) -> Result<Rendered> {
    Ok(match args.format {
        Format::Bind => render::bind::render(config, groups),
        Format::NamedConf => {
            let inline_keys = if args.include_secret {
                read_key_statements(config, groups)?
            } else {
                BTreeMap::new()
            };
            let opts = render::named_conf::NamedConfOptions {
                allow_any: args.allow_any,
                inline_keys,
            };
            render::named_conf::render(config, groups, &opts)
        }
        Format::Nsupdate => {
            let state = match &args.plan {
                Some(file) => Some(plan_state(file, config)?),
                None => None,
            };
            render::nsupdate::render(config, groups, state.as_ref())
        }
        Format::Powershell => render::powershell::render(config, groups),
        Format::Registry => render::registry::render(
            config,
            groups,
            render::registry::RegistryOptions {
                legacy: args.legacy,
                disable_publishing: args.disable_publishing,
            },
        ),
        Format::Table => render::table::render(config, groups),
    })
}

/// `--include-secret`: the key statement of every key the zones use, copied verbatim from
/// its BIND key file.
fn read_key_statements(
    config: &Config,
    groups: &[ZoneGroup<'_>],
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for d in groups.iter().flat_map(|g| &g.domains) {
        let Some(key) = render::domain_key(config, d) else {
            continue;
        };
        if out.contains_key(&key.id) {
            continue;
        }
        let path = match &key.source {
            KeySource::File(p) => p,
            KeySource::Env(var) => {
                return Err(Error::Usage {
                    message: format!(
                        "--include-secret: key `{}` takes its secret from the environment variable {var}, not a key file, so there is no key statement to copy; create a key file with `kmsdns keygen {}` (or tsig-keygen) and set file = \"…\" in [keys.{}], or render without --include-secret",
                        key.id, key.name, key.id
                    ),
                });
            }
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            context: format!(
                "--include-secret: cannot read the key file {} of key `{}`",
                path.display(),
                key.id
            ),
            source: e,
        })?;
        let stmt =
            render::named_conf::extract_key_statement(&text, &key.name).ok_or_else(|| {
                Error::Runtime(format!(
                    "--include-secret: the key file {} has no `key \"{}\" {{ … }};` statement; check [keys.{}].name or write the file with `kmsdns keygen`",
                    path.display(),
                    key.name,
                    key.id
                ))
            })?;
        out.insert(key.id.clone(), stmt);
    }
    Ok(out)
}

fn write_files(dir: &std::path::Path, rendered: &Rendered) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        context: format!("cannot create the output directory {}", dir.display()),
        source: e,
    })?;
    let mut log = anstream::stderr();
    for (name, text) in rendered.files() {
        let path = dir.join(&name);
        std::fs::write(&path, text).map_err(|e| Error::Io {
            context: format!("cannot write {}", path.display()),
            source: e,
        })?;
        let _ = writeln!(log, "wrote {}", path.display());
    }
    Ok(())
}

/// The current records of a saved plan made from this very config.
fn plan_state(file: &std::path::Path, config: &Config) -> Result<render::nsupdate::CurrentState> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::Io {
        context: format!("cannot read the plan {}", file.display()),
        source: e,
    })?;
    let saved: crate::plan::PlanFile = serde_json::from_str(&text).map_err(|e| Error::Usage {
        message: format!("{} is not a kmsdns plan file: {e}", file.display()),
    })?;
    if saved.config_sha256 != config.sha256 {
        return Err(Error::Usage {
            message: format!(
                "the plan {} was made from another version of {}: run `kmsdns plan --out` again",
                file.display(),
                config.path.display()
            ),
        });
    }
    Ok(saved
        .zones
        .into_iter()
        .flat_map(|z| z.rrsets)
        .map(|r| (r.owner, r.current))
        .collect())
}
