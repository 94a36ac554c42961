//! `render`: operator outputs from the desired state. The formats are pure (`crate::render`);
//! this reads what they need from disk (key statements, a saved plan) and writes files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::dns::keyfile::extract_key_statement;
use crate::error::{Error, Result};
use crate::model::{DesiredState, Fqdn, KeySource};
use crate::render::{self, Rendered, ZoneGroup};

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `bind`: zone-file lines.
    Bind,
    /// `knot`: Knot DNS key and ACL configuration.
    Knot,
    /// `named-conf`: the key include and per-zone `update-policy` grants.
    NamedConf,
    /// `nsupdate`: a script for `nsupdate -k KEYFILE`.
    Nsupdate,
    /// `pdns`: PowerDNS update-policy Lua script and pdnsutil lines.
    Pdns,
    /// `powershell`: Microsoft DNS `*-DnsServerResourceRecord` commands.
    Powershell,
    /// `registry`: a `.reg` file per KMS host.
    Registry,
    /// `table`: domain → zone → server → targets, for reviews.
    Table,
}

/// What to render and how.
#[derive(Clone, Debug)]
pub struct RenderRequest {
    /// The output format.
    pub format: Format,
    /// Only this zone.
    pub zone: Option<String>,
    /// named-conf: copy the key statement with its secret from the key file.
    pub include_secret: bool,
    /// named-conf: `allow-update { any; };` instead of the grants.
    pub allow_any: bool,
    /// nsupdate: `prereq` lines from this saved plan.
    pub plan: Option<PathBuf>,
    /// registry: the Windows Server 2008 form.
    pub legacy: bool,
    /// registry: DisableDnsPublishing=1.
    pub disable_publishing: bool,
}

/// Renders the requested format.
pub fn render(desired: &DesiredState, req: &RenderRequest) -> Result<Rendered> {
    let only = match &req.zone {
        Some(z) => Some(Fqdn::parse_domain(z).map_err(|e| Error::Usage {
            message: format!("--zone `{z}` is not a domain name: {e}"),
        })?),
        None => None,
    };
    let groups =
        render::zone_groups(desired, only.as_ref()).map_err(|message| Error::Usage { message })?;
    Ok(match req.format {
        Format::Bind => render::bind::render(desired, &groups),
        Format::Knot => render::knot::render(desired, &groups),
        Format::NamedConf => {
            let inline_keys = if req.include_secret {
                read_key_statements(desired, &groups)?
            } else {
                BTreeMap::new()
            };
            let opts = render::named_conf::NamedConfOptions {
                allow_any: req.allow_any,
                inline_keys,
            };
            render::named_conf::render(desired, &groups, &opts)
        }
        Format::Nsupdate => {
            let state = match &req.plan {
                Some(file) => Some(plan_state(file, desired)?),
                None => None,
            };
            render::nsupdate::render(desired, &groups, state.as_ref())
        }
        Format::Pdns => render::pdns::render(desired, &groups),
        Format::Powershell => render::powershell::render(desired, &groups),
        Format::Registry => render::registry::render(
            desired,
            &groups,
            render::registry::RegistryOptions {
                legacy: req.legacy,
                disable_publishing: req.disable_publishing,
            },
        ),
        Format::Table => render::table::render(desired, &groups),
    })
}

/// `--include-secret`: the key statement of every key the zones use, copied verbatim from
/// its BIND key file.
fn read_key_statements(
    desired: &DesiredState,
    groups: &[ZoneGroup<'_>],
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for d in groups.iter().flat_map(|g| &g.domains) {
        let Some(key) = desired.key_of(d) else {
            continue;
        };
        if out.contains_key(&key.id) {
            continue;
        }
        let path = match &key.source {
            KeySource::File(p) => p,
            KeySource::Gss(_) => continue,
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
        let stmt = extract_key_statement(&text, &key.name).ok_or_else(|| {
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

/// The current records of a saved plan made from this very config.
fn plan_state(file: &Path, desired: &DesiredState) -> Result<render::nsupdate::CurrentState> {
    let plan = super::saved::read_saved_plan(file, desired)?;
    Ok(plan
        .zones
        .into_iter()
        .flat_map(|z| z.rrsets)
        .map(|r| (r.owner, r.current))
        .collect())
}

/// Writes one file per section into `dir`; files that hold a secret (`secret`) get mode 0600.
/// Returns the paths written.
pub fn write_files(dir: &Path, rendered: &Rendered, secret: bool) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        context: format!("cannot create the output directory {}", dir.display()),
        source: e,
    })?;
    let mut written = Vec::new();
    for (name, text) in rendered.files() {
        let path = dir.join(&name);
        super::write_file(&path, text.as_bytes(), secret).map_err(|e| Error::Io {
            context: format!("cannot write {}", path.display()),
            source: e,
        })?;
        written.push(path);
    }
    Ok(written)
}
