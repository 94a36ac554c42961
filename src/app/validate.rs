//! `validate`: the configuration, and every key file it names, checked without any network
//! I/O.

use crate::dns::tsig::KeyError;
use crate::error::{Error, Result};
use crate::model::{DesiredState, KeySource, KeySpec};

/// The keys that loaded, as `id (algorithm)`. A malformed key file is an error; a key file
/// that is not there yet, or a secret in an unset environment variable, is only a warning
/// (the config may be validated where the secrets are not, e.g. in review CI).
pub fn check_keys(desired: &DesiredState) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    for spec in desired.keys.values() {
        match super::keys::load_key(spec) {
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
                desired.path.display(),
                problems.len(),
                problems.join("\n  ")
            ),
        });
    }
    Ok(loaded)
}

fn key_file_exists(spec: &KeySpec) -> bool {
    matches!(&spec.source, KeySource::File(p) if p.exists())
}
