//! `[keys.*]` tables of `type = "gss-tsig"` (RFC 3645): optional `principal`, `keytab`,
//! `service` and `algorithm`; no `file`/`secret_env` (there is no shared secret), and the
//! GSS-TSIG fields on an HMAC key are errors too.

use super::Validator;
use crate::config::raw::RawKey;
use crate::model::{GssAlgorithm, GssKeySpec, KeySource, KeySpec};

/// What a `[keys.*]` table's `type` says.
pub(super) enum KeyType {
    Hmac,
    Gss,
    /// Reported already.
    Bad,
}

const GSS_ONLY: &str = "for a Kerberos key add type = \"gss-tsig\" (and drop `file`/`secret_env`); an HMAC key needs only `file` or `secret_env`";

impl Validator {
    /// Reads `type`; on an HMAC key, reports every GSS-only field that is set.
    pub(super) fn key_type(&mut self, path: &str, raw: &RawKey) -> KeyType {
        let kind = match &raw.kind {
            None => KeyType::Hmac,
            Some(t) => match t.get_ref().trim().to_ascii_lowercase().as_str() {
                "hmac" => KeyType::Hmac,
                "gss-tsig" => KeyType::Gss,
                other => {
                    self.err(
                        t.span(),
                        format!("{path}.type"),
                        format!("unknown key type `{other}`"),
                        "use type = \"hmac\" (a TSIG shared secret, the default) or type = \"gss-tsig\" (Kerberos, RFC 3645: Active Directory, BIND with tkey-gssapi-keytab)",
                    );
                    return KeyType::Bad;
                }
            },
        };
        if matches!(kind, KeyType::Hmac) {
            let mut bad = false;
            for (field, value) in [
                ("principal", &raw.principal),
                ("keytab", &raw.keytab),
                ("service", &raw.service),
            ] {
                if let Some(v) = value {
                    self.err(
                        v.span(),
                        format!("{path}.{field}"),
                        format!("`{field}` is only for GSS-TSIG keys, and this key has no type = \"gss-tsig\""),
                        GSS_ONLY,
                    );
                    bad = true;
                }
            }
            if bad {
                return KeyType::Bad;
            }
        }
        kind
    }

    /// Builds a GSS-TSIG key spec, reporting every problem of the table.
    pub(super) fn gss_key(&mut self, id: &str, path: &str, raw: &RawKey) -> Option<KeySpec> {
        let mut ok = true;
        for (field, value) in [("file", &raw.file), ("secret_env", &raw.secret_env)] {
            if let Some(v) = value {
                self.err(
                    v.span(),
                    format!("{path}.{field}"),
                    format!("key `{id}` has type = \"gss-tsig\", which takes no `{field}`: GSS-TSIG has no shared secret, the key is negotiated with Kerberos"),
                    "remove it; name the Kerberos credential with `keytab` (and `principal`), or leave both out to use the credential cache (kinit)",
                );
                ok = false;
            }
        }
        if let Some(n) = &raw.name {
            self.err(
                n.span(),
                format!("{path}.name"),
                "a GSS-TSIG key has no fixed name: kmsdns negotiates a fresh key name with each server (TKEY)",
                "remove `name`; set `principal` for the Kerberos client name",
            );
            ok = false;
        }
        let algorithm = match &raw.algorithm {
            None => GssAlgorithm::default(),
            Some(a) => match GssAlgorithm::from_name(a.get_ref()) {
                Some(alg) => alg,
                None => {
                    self.err(
                        a.span(),
                        format!("{path}.algorithm"),
                        format!("`{}` is not a GSS-TSIG algorithm", a.get_ref()),
                        "use algorithm = \"gss-tsig\" (RFC 3645, the default) or \"gss.microsoft.com\" (old Windows servers)",
                    );
                    ok = false;
                    GssAlgorithm::default()
                }
            },
        };
        let principal = match &raw.principal {
            None => None,
            Some(p) => {
                let text = p.get_ref().trim();
                if text.is_empty() || text.contains(char::is_whitespace) || text.ends_with('@') {
                    self.err(
                        p.span(),
                        format!("{path}.principal"),
                        format!("`{}` is not a Kerberos principal name", p.get_ref()),
                        "write user@REALM (e.g. kmsdns@AD.EXAMPLE.COM), or just the user name for the default realm",
                    );
                    ok = false;
                }
                Some(text.to_string())
            }
        };
        let service = match &raw.service {
            None => None,
            Some(s) => {
                let text = s.get_ref().trim();
                let valid = !text.is_empty()
                    && !text.contains(char::is_whitespace)
                    && (text.contains('/') || text.contains('@'))
                    && !text.starts_with(['/', '@'])
                    && !text.ends_with(['/', '@']);
                if !valid {
                    self.err(
                        s.span(),
                        format!("{path}.service"),
                        format!("`{}` is not a service principal", s.get_ref()),
                        "write DNS/dc1.ad.example.com (a principal, realm optional) or DNS@dc1.ad.example.com (service@host)",
                    );
                    ok = false;
                }
                Some(text.to_string())
            }
        };
        let keytab = match &raw.keytab {
            None => None,
            Some(k) if k.get_ref().trim().is_empty() => {
                self.err(
                    k.span(),
                    format!("{path}.keytab"),
                    "the keytab path is empty",
                    "name a client keytab (ktutil, kadmin ktadd, or ktpass on Windows), or remove `keytab` to use the credential cache",
                );
                ok = false;
                None
            }
            Some(k) => {
                self.key_sources
                    .insert(id.to_string(), (k.span(), format!("{path}.keytab")));
                Some(self.base.join(k.get_ref()))
            }
        };
        if keytab.is_none()
            && let Some(t) = &raw.kind
        {
            // Checked too (the build must have GSS-TSIG), pointing at `type`.
            self.key_sources
                .insert(id.to_string(), (t.span(), format!("{path}.type")));
        }
        ok.then(|| KeySpec {
            id: id.to_string(),
            name: id.to_ascii_lowercase(),
            source: KeySource::Gss(GssKeySpec {
                principal,
                keytab,
                service,
                algorithm,
            }),
            algorithm: None,
        })
    }
}
