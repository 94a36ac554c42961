//! The top-level `[defaults]` table and `client_suffixes` list.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Validator, get};
use crate::config::raw::RawDefaults;
use crate::config::schema;
use crate::model::{Defaults, Fqdn};

impl Validator {
    #[allow(clippy::type_complexity)]
    pub(super) fn defaults(
        &mut self,
        doc: &DeTable<'_>,
    ) -> (Defaults, Option<(String, Range<usize>)>) {
        let mut d = Defaults::default();
        let Some(v) = get(doc, "defaults") else {
            return (d, None);
        };
        let Some(raw) = self.table::<RawDefaults>("defaults", v, "[defaults]", schema::DEFAULTS)
        else {
            return (d, None);
        };
        if let Some(t) = &raw.ttl {
            d.ttl = self.ttl(t, "defaults.ttl").unwrap_or(d.ttl)
        }
        if let Some(p) = &raw.port {
            d.port = self.port(p, "defaults.port").unwrap_or(d.port)
        }
        if let Some(p) = &raw.priority {
            d.priority = self
                .u16_field(p, "defaults.priority", "priority")
                .unwrap_or(0)
        }
        if let Some(w) = &raw.weight {
            d.weight = self.u16_field(w, "defaults.weight", "weight").unwrap_or(0)
        }
        if let Some(p) = &raw.prune {
            d.prune = *p.get_ref()
        }
        if let Some(r) = &raw.retries {
            d.retries = self
                .int(
                    r,
                    "defaults.retries",
                    0,
                    i64::from(crate::model::MAX_RETRIES),
                    "retries",
                )
                .unwrap_or(d.retries)
        }
        let key = raw.key.map(|k| (k.get_ref().clone(), k.span()));
        d.key = key.as_ref().map(|k| k.0.clone());
        (d, key)
    }

    pub(super) fn client_suffixes(&mut self, doc: &DeTable<'_>) -> Vec<Fqdn> {
        let Some(v) = get(doc, "client_suffixes") else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                v.span(),
                "client_suffixes",
                "`client_suffixes` must be an array of domain names",
                "write client_suffixes = [\"corp.example.com\", \"example.com\"]",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("client_suffixes[{i}]");
            match item.get_ref() {
                DeValue::String(s) => {
                    let s = Spanned::new(item.span(), s.to_string());
                    if let Some(n) = self.name(&s, &key, false) {
                        out.push(n);
                    }
                }
                _ => self.err(
                    item.span(),
                    key,
                    "must be a string",
                    "write a DNS suffix like \"corp.example.com\"",
                ),
            }
        }
        out
    }
}
