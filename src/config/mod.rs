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

use crate::model::{DesiredState, KeySpec, sha256_hex};

/// A file checked as far as it goes, for `validate`: every problem (`errors`, empty when the
/// file is valid), the desired state when it is valid, and each key table that is valid with
/// the span and key path of its `file` / `secret_env` — so that the key files and variables can
/// be checked, and reported, in the same pass as the rest of the file.
pub struct Checked {
    /// Every problem found; `errors.diagnostics` is empty when the file is valid.
    pub errors: ConfigErrors,
    /// The desired state, when the file is valid.
    pub state: Option<DesiredState>,
    /// The valid `[keys.*]` tables, with where their secret source is written.
    pub keys: Vec<(KeySpec, std::ops::Range<usize>, String)>,
}

/// Reads and checks a configuration file, keeping its valid key tables even when other parts
/// are wrong.
pub fn check(path: &Path) -> Checked {
    let text = match read(path) {
        Ok(t) => t,
        Err(errors) => {
            return Checked {
                errors,
                state: None,
                keys: Vec::new(),
            };
        }
    };
    let outcome = validate::check(path, &text);
    let mut sources = outcome.key_sources;
    // The key paths of the errors, sorted: whether a key's table has one is a range lookup.
    let error_keys: std::collections::BTreeSet<&str> =
        outcome.diags.iter().map(|d| d.key.as_str()).collect();
    let keys = outcome
        .state
        .as_ref()
        .map(|s| {
            s.keys
                .values()
                .filter(|k| {
                    // A key whose own table has an error is reported for that alone.
                    let table = format!("keys.{}", k.id);
                    let below = format!("{table}.");
                    !error_keys.contains(table.as_str())
                        && !error_keys
                            .range(below.as_str()..)
                            .next()
                            .is_some_and(|e| e.starts_with(&below))
                })
                .filter_map(|k| sources.remove(&k.id).map(|(span, p)| (k.clone(), span, p)))
                .collect()
        })
        .unwrap_or_default();
    let valid = outcome.diags.is_empty();
    Checked {
        state: outcome.state.filter(|_| valid).map(|mut c| {
            c.sha256 = sha256_hex(text.as_bytes());
            c
        }),
        errors: ConfigErrors {
            file: path.to_path_buf(),
            source_text: text,
            diagnostics: outcome.diags,
        },
        keys,
    }
}

fn read(path: &Path) -> Result<String, ConfigErrors> {
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigErrors::whole_file(
            path,
            format!("cannot read the configuration file: {e}"),
            "pass the file with -c FILE or KMSDNS_CONFIG, or create kmsdns.toml (see config.example.toml)",
        )
    })?;
    String::from_utf8(bytes).map_err(|e| {
        // Point at the first byte that is not UTF-8; the text before it is shown as it is.
        let at = e.utf8_error().valid_up_to();
        let bad = e.as_bytes()[at];
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        ConfigErrors {
            file: path.to_path_buf(),
            diagnostics: vec![
                Diagnostic::new(
                    at..at + 1,
                    "",
                    format!("the file is not UTF-8 text: byte 0x{bad:02x} here is not valid UTF-8"),
                )
                .hint("save the file as UTF-8 (TOML files are UTF-8); e.g. `iconv -f latin1 -t utf-8`"),
            ],
            source_text: text,
        }
    })
}

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
    let text = read(path)?;
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
