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
    match &spec.source {
        KeySource::File(path) => keyfile::load_from_file(&key, path),
        KeySource::Env(var) => keyfile::load_from_env(&key, var),
    }
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
