//! Loading the TSIG keys the configuration names: from BIND key files or the environment.
//! Secrets stay inside [`TsigKey`]; errors name the key and the file or variable, never the
//! secret.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::dns::DnsClient;
use crate::dns::gss::{GssKey, GssSession};
use crate::dns::keyfile::{self, KeyRef};
use crate::dns::tsig::{KeyError, TsigKey};
use crate::model::{DesiredState, KeySource, KeySpec, ServerTarget};

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
        KeySource::Gss(_) => Err(KeyError::NotHmac {
            key_id: spec.id.clone(),
        }),
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

/// What signs the messages of a key: an HMAC secret, or a GSS-TSIG credential.
#[derive(Clone, Debug)]
pub enum Signer {
    /// A TSIG key with its secret.
    Hmac(Arc<TsigKey>),
    /// A `type = "gss-tsig"` key: contexts are negotiated per server.
    Gss(Arc<GssKey>),
}

/// Every key of the configuration, loaded once: by config id and by TSIG name. GSS-TSIG
/// contexts are made on first use, one per key and server, and shared for the whole run.
/// GSS-TSIG contexts by key id and server address.
type Sessions = Arc<Mutex<HashMap<(String, SocketAddr), Arc<GssSession>>>>;

/// A clone shares the sessions.
#[derive(Clone, Default)]
pub struct KeyRing {
    by_id: BTreeMap<String, Result<Arc<TsigKey>, String>>,
    gss: BTreeMap<String, Result<Arc<GssKey>, String>>,
    sessions: Sessions,
}

impl KeyRing {
    /// Loads every `[keys.*]` table; a key that fails keeps its error for the domains that
    /// use it.
    pub fn load(desired: &DesiredState) -> KeyRing {
        let mut ring = KeyRing::default();
        for spec in desired.keys.values() {
            if let KeySource::Gss(g) = &spec.source {
                let k = GssKey::new(&spec.id, g.clone())
                    .map(Arc::new)
                    .map_err(|e| format!("{e}; {}", e.hint()));
                ring.gss.insert(spec.id.clone(), k);
                continue;
            }
            let k = load_key(spec).map(Arc::new).map_err(|e| e.to_string());
            ring.by_id.insert(spec.id.clone(), k);
        }
        ring
    }

    /// Loads every key like [`KeyRing::load`], and fails (exit 3, before any packet) when a
    /// key that some domain's messages would be signed with cannot be loaded.
    pub fn load_used(desired: &DesiredState) -> crate::error::Result<KeyRing> {
        let ring = KeyRing::load(desired);
        let mut problems: Vec<String> = Vec::new();
        for d in &desired.domains {
            if let Some(spec) = desired.key_of(d)
                && let Some(Err(e)) = ring.signer(&spec.id)
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

    /// What signs for the key with config id `id`.
    pub fn signer(&self, id: &str) -> Option<Result<Signer, String>> {
        if let Some(k) = self.gss.get(id) {
            return Some(k.clone().map(Signer::Gss));
        }
        self.by_id.get(id).map(|k| k.clone().map(Signer::Hmac))
    }

    /// What signs for the key a plan names (the TSIG name; a GSS-TSIG key's id).
    pub fn signer_by_name(&self, name: &str) -> Option<Signer> {
        if let Some(Ok(k)) = self.gss.get(name) {
            return Some(Signer::Gss(k.clone()));
        }
        self.by_name(name).map(Signer::Hmac)
    }

    /// The name a plan records for `signer`: the TSIG key name, or the GSS-TSIG key's id.
    pub fn plan_name(signer: &Signer) -> String {
        match signer {
            Signer::Hmac(k) => k.name.clone(),
            Signer::Gss(k) => k.id.clone(),
        }
    }

    /// A client for `server` that signs with `signer`: an HMAC key directly, a GSS-TSIG key
    /// through the one context this run keeps with that server.
    pub(crate) fn client(
        &self,
        server: &ServerTarget,
        signer: Option<&Signer>,
        opts: &super::NetOptions,
    ) -> DnsClient {
        match signer {
            None => super::observe::client_for(server, None, opts),
            Some(Signer::Hmac(k)) => super::observe::client_for(server, Some(k.clone()), opts),
            Some(Signer::Gss(k)) => {
                let mut c = super::observe::client_for(server, None, opts);
                let session = self
                    .sessions
                    .lock()
                    .expect("sessions lock")
                    .entry((k.id.clone(), server.address))
                    .or_insert_with(|| Arc::new(GssSession::new(k.clone())))
                    .clone();
                c.gss = Some(session);
                c
            }
        }
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
