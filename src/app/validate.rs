//! `validate`: the configuration, and every key file or secret variable it names, checked
//! without any network I/O, all problems in one pass.

use std::path::Path;

use crate::config::{ConfigErrors, Diagnostic};
use crate::error::{Error, Result};
use crate::model::{DesiredState, KeySource};

/// A valid configuration and the keys that loaded, as `id (algorithm)`.
pub struct Validated {
    /// The desired state the file asks for.
    pub desired: DesiredState,
    /// The keys that loaded, as `id (algorithm)`.
    pub keys_loaded: Vec<String>,
}

/// Checks the file at `path` and loads every key it names. A key that cannot be loaded (a key
/// file missing or malformed, a secret variable unset or bad) is an error reported with the
/// file's other errors (exit 3) — or, with `offline` (checking a config where its secrets are
/// not, e.g. in review CI), a warning.
pub fn validate(path: &Path, offline: bool) -> Result<Validated> {
    let checked = crate::config::check(path);
    let mut errors: ConfigErrors = checked.errors;
    let mut keys_loaded = Vec::new();
    for (spec, span, key_path) in &checked.keys {
        let loaded = match &spec.source {
            KeySource::Gss(g) => crate::dns::gss::GssKey::new(&spec.id, g.clone())
                .map(|_| format!("{} ({}, GSS-TSIG)", spec.id, g.algorithm))
                .map_err(|e| (e.to_string(), Some(e.hint()))),
            _ => super::keys::load_key(spec)
                .map(|k| format!("{} ({})", spec.id, k.algorithm))
                .map_err(|e| (e.to_string(), None)),
        };
        match loaded {
            Ok(k) => keys_loaded.push(k),
            Err((e, _)) if offline => {
                tracing::warn!("key `{}`: {e} (plan and apply will need it)", spec.id)
            }
            Err((e, gss_hint)) => {
                let hint = match &spec.source {
                    KeySource::File(_) => {
                        "the key file must be readable here; to check the configuration without its secrets, run `kmsdns validate --offline`"
                    }
                    KeySource::Env(_) => {
                        "export the variable; to check the configuration without its secrets, run `kmsdns validate --offline`"
                    }
                    KeySource::Gss(_) => "",
                };
                let hint = match gss_hint {
                    Some(h) => format!(
                        "{h}; to check the configuration without it, run `kmsdns validate --offline`"
                    ),
                    None => hint.to_string(),
                };
                errors.diagnostics.push(
                    Diagnostic::new(
                        span.clone(),
                        key_path.clone(),
                        format!("TSIG key `{}`: {e}", spec.id),
                    )
                    .hint(hint),
                );
            }
        }
    }
    match checked.state {
        Some(desired) if errors.diagnostics.is_empty() => Ok(Validated {
            desired,
            keys_loaded,
        }),
        _ => {
            errors.diagnostics.sort_by_key(|d| d.span.start);
            Err(Error::from(errors))
        }
    }
}
