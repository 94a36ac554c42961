//! The declarative configuration: TOML text → [`DesiredState`], validated before any network
//! I/O. No network here.
//!
//! Loading has two stages (see `raw.rs` and `validate/`); every problem is reported at once
//! with file:line:col, the key path and a hint.

mod diag;
mod raw;
mod schema;
mod validate;

use std::path::Path;

pub use diag::{ConfigErrors, Diagnostic, line_col};
pub use validate::parse_address;

use crate::model::{DesiredState, sha256_hex};

/// The keys each table of the file may hold, as (table, keys): `""` is the top level,
/// `keys.ID` / `servers.ID` each `[keys.*]` / `[servers.*]` table, `hosts[]` / `domains[]` each
/// `[[hosts]]` / `[[domains]]` entry and `domains[].hosts[]` a host table inside a domain's
/// `hosts`. The one list the validator checks keys against; docs/config.schema.json is tested
/// to name the same keys.
pub fn known_keys() -> [(&'static str, &'static [&'static str]); 7] {
    [
        ("", schema::TOP),
        ("defaults", schema::DEFAULTS),
        ("keys.ID", schema::KEY),
        ("servers.ID", schema::SERVER),
        ("hosts[]", schema::HOST),
        ("domains[]", schema::DOMAIN),
        ("domains[].hosts[]", schema::DOMAIN_HOST),
    ]
}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> Result<DesiredState, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors::whole_file(
            path,
            format!("cannot read the configuration file: {e}"),
            "pass the file with -c FILE or KMSDNS_CONFIG, or create kmsdns.toml (see config.example.toml)",
        )
    })?;
    from_str(path, &text)
}

/// Validates configuration text; `path` names it in errors and anchors relative key file
/// paths.
pub fn from_str(path: &Path, text: &str) -> Result<DesiredState, ConfigErrors> {
    validate::validate(path, text)
        .map(|mut c| {
            c.sha256 = sha256_hex(text.as_bytes());
            c
        })
        .map_err(|diagnostics| ConfigErrors {
            file: path.to_path_buf(),
            source_text: text.to_string(),
            diagnostics,
        })
}
