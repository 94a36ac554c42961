//! Loading the TSIG keys the configuration names: from BIND key files or the environment.
//! Secrets stay inside [`TsigKey`]; errors name the key and the file or variable, never the
//! secret.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::dns::keyfile::{self, KeyRef};
use crate::dns::tsig::{KeyError, TsigKey};
use crate::model::{DesiredState, KeySource, KeySpec};

/// Loads the key a `[keys.<id>]` table points at.
pub fn load_key(spec: &KeySpec) -> Result<TsigKey, KeyError> {
    let key = KeyRef {
        id: &spec.id,
        name: &spec.name,
        algorithm: spec.algorithm,
    };
    let loaded = match &spec.source {
        KeySource::File(path) => keyfile::load_from_file(&key, path),
        KeySource::Env(var) => keyfile::load_from_env(&key, var),
    }?;
    // RFC 8945 §6: a secret shorter than half the HMAC's output weakens the key.
    let min = loaded.algorithm.output_len() / 2;
    if loaded.secret.len() < min {
        tracing::warn!(
            "TSIG key `{}`: its secret is {} byte(s), shorter than the {min} RFC 8945 §6 asks for {}; make a new key with `kmsdns keygen {} -a {}`",
            spec.id,
            loaded.secret.len(),
            loaded.algorithm,
            loaded.name,
            loaded.algorithm
        );
    }
    Ok(loaded)
}

/// Every key of the configuration, loaded once: by config id and by TSIG name.
#[derive(Default)]
pub struct KeyRing {
    by_id: BTreeMap<String, Result<Arc<TsigKey>, String>>,
}

impl KeyRing {
    /// Loads every `[keys.*]` table; a key that fails keeps its error for the domains that
    /// use it.
    pub fn load(desired: &DesiredState) -> KeyRing {
        let by_id = desired
            .keys
            .values()
            .map(|spec| {
                let k = load_key(spec).map(Arc::new).map_err(|e| e.to_string());
                (spec.id.clone(), k)
            })
            .collect();
        KeyRing { by_id }
    }

    /// Loads every key like [`KeyRing::load`], and fails (exit 3, before any packet) when a
    /// key that some domain's messages would be signed with cannot be loaded.
    pub fn load_used(desired: &DesiredState) -> crate::error::Result<KeyRing> {
        let ring = KeyRing::load(desired);
        let mut problems: Vec<String> = Vec::new();
        for d in &desired.domains {
            if let Some(spec) = desired.key_of(d)
                && let Some(Err(e)) = ring.by_id(&spec.id)
            {
                let line = format!("key `{}`: {e}", spec.id);
                if !problems.contains(&line) {
                    problems.push(line);
                }
            }
        }
        if problems.is_empty() {
            return Ok(ring);
        }
        Err(crate::error::Error::Usage {
            message: format!(
                "{}: {} TSIG key problem(s); nothing was sent to DNS\n  {}",
                desired.path.display(),
                problems.len(),
                problems.join("\n  ")
            ),
        })
    }

    /// The key with config id `id`.
    pub fn by_id(&self, id: &str) -> Option<&Result<Arc<TsigKey>, String>> {
        self.by_id.get(id)
    }

    /// A loaded key by its TSIG name (as a plan names it).
    pub fn by_name(&self, name: &str) -> Option<Arc<TsigKey>> {
        self.by_id
            .values()
            .filter_map(|k| k.as_ref().ok())
            .find(|k| k.name == name)
            .cloned()
    }
}
