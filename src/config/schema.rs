//! The key schema of the configuration file, used to report every unknown key at once with a
//! "did you mean" suggestion (serde's `deny_unknown_fields` stops at the first one).

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diag::Diagnostic;

pub const TOP: &[&str] = &[
    "defaults",
    "keys",
    "servers",
    "hosts",
    "domains",
    "client_suffixes",
];
pub const DEFAULTS: &[&str] = &[
    "ttl", "port", "priority", "weight", "prune", "key", "retries",
];
pub const KEY: &[&str] = &[
    "name",
    "file",
    "secret_env",
    "algorithm",
    "type",
    "principal",
    "keytab",
    "service",
];
pub const SERVER: &[&str] = &[
    "address",
    "key",
    "transport",
    "timeout",
    "retries",
    "max_inflight",
];
pub const HOST: &[&str] = &["name", "port", "priority", "weight", "ttl"];
pub const DOMAIN: &[&str] = &["name", "hosts", "zone", "server", "prune"];
pub const DOMAIN_HOST: &[&str] = &["name", "port", "priority", "weight", "ttl"];

/// The closest known key, when it is close enough to be a likely typo: a transposed,
/// missing or extra letter (`tll`, `priorty`, `adress`) or a high Jaro-Winkler similarity.
pub fn did_you_mean<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let unknown = unknown.to_ascii_lowercase();
    let max_edits = (unknown.chars().count() / 4).max(1);
    known
        .iter()
        .map(|k| {
            let edits = strsim::osa_distance(&unknown, k);
            let similarity = strsim::jaro_winkler(&unknown, k);
            (edits, similarity, *k)
        })
        .filter(|(edits, similarity, _)| *edits <= max_edits || *similarity > 0.8)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, k)| k)
}

/// Reports every key of `table` that is not in `known`.
pub fn check_keys(table: &DeTable<'_>, known: &[&str], path: &str, out: &mut Vec<Diagnostic>) {
    for (key, _) in table.iter() {
        let name: &str = key.get_ref();
        if known.contains(&name) {
            continue;
        }
        let full = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        let mut d = Diagnostic::new(key.span(), full, format!("unknown key `{name}`"));
        let top_level = !path.is_empty() && TOP.contains(&name);
        d = match did_you_mean(name, known) {
            _ if top_level => d.hint(format!(
                "`{name}` is a top-level key, but TOML puts every key after a [table] header \
                 into that table: move it above the first [table]"
            )),
            Some(s) => d.hint(format!(
                "did you mean `{s}`? Valid keys here: {}",
                known.join(", ")
            )),
            None => d.hint(format!("valid keys here: {}", known.join(", "))),
        };
        out.push(d);
    }
}

fn table_of<'a, 'i>(v: &'a Spanned<DeValue<'i>>) -> Option<&'a DeTable<'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

/// Scans the whole document (or a batch of its `[[domains]]` entries, the first of them the
/// file's entry number `first_domain`) for unknown keys.
pub fn scan(doc: &DeTable<'_>, first_domain: usize, out: &mut Vec<Diagnostic>) {
    check_keys(doc, TOP, "", out);
    for (key, value) in doc.iter() {
        let key: &str = key.get_ref();
        match (key, value.get_ref()) {
            ("defaults", DeValue::Table(t)) => check_keys(t, DEFAULTS, "defaults", out),
            ("keys" | "servers", DeValue::Table(t)) => {
                let known = if key == "keys" { KEY } else { SERVER };
                for (name, entry) in t.iter() {
                    if let Some(et) = table_of(entry) {
                        check_keys(et, known, &format!("{key}.{}", name.get_ref()), out);
                    }
                }
            }
            ("hosts" | "domains", DeValue::Array(items)) => {
                let known = if key == "hosts" { HOST } else { DOMAIN };
                for (i, item) in items.iter().enumerate() {
                    let i = if key == "domains" {
                        first_domain + i
                    } else {
                        i
                    };
                    let Some(t) = table_of(item) else { continue };
                    let path = format!("{key}[{i}]");
                    check_keys(t, known, &path, out);
                    if key != "domains" {
                        continue;
                    }
                    let refs = t.iter().find(|(k, _)| k.get_ref() == "hosts");
                    if let Some((_, v)) = refs
                        && let DeValue::Array(refs) = v.get_ref()
                    {
                        for (j, r) in refs.iter().enumerate() {
                            if let Some(rt) = table_of(r) {
                                check_keys(rt, DOMAIN_HOST, &format!("{path}.hosts[{j}]"), out);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_for_typos_only() {
        assert_eq!(did_you_mean("tll", DEFAULTS), Some("ttl"));
        assert_eq!(did_you_mean("priorty", HOST), Some("priority"));
        assert_eq!(did_you_mean("adress", SERVER), Some("address"));
        assert_eq!(did_you_mean("host", TOP), Some("hosts"));
        assert_eq!(did_you_mean("colour", HOST), None);
    }
}
