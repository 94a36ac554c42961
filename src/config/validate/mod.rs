//! Stage two of configuration loading: raw TOML → [`Config`], collecting every error.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diag::Diagnostic;
use super::schema;
use crate::model::DesiredState;
use crate::model::{Fqdn, MAX_TTL};

mod hosts;
mod keys_gss;
mod read;
mod servers;
mod split;
mod top;
mod words;

use hosts::DomainAcc;
use words::{friendly_type_error, name_hint};

pub use servers::parse_address;

type Diags = Vec<Diagnostic>;

/// Where each valid key's secret source (`file = …` / `secret_env = …`) is written: its span
/// and key path, by key id.
pub type KeySources = BTreeMap<String, (Range<usize>, String)>;

/// The outcome of checking a file: the desired state as far as it could be built (complete
/// when `Diags` is empty) and where each valid key's source is written.
pub struct Outcome {
    pub state: Option<DesiredState>,
    pub diags: Diags,
    pub key_sources: KeySources,
}

pub fn validate(path: &Path, text: &str) -> Result<DesiredState, Diags> {
    let o = check(path, text);
    match o.state {
        Some(s) if o.diags.is_empty() => Ok(s),
        _ => Err(o.diags),
    }
}

/// Checks `text`, keeping what could be built even when there are errors.
pub fn check(path: &Path, text: &str) -> Outcome {
    let mut diags = Diags::new();
    // CR-only line endings (classic Mac OS) make the whole file one TOML line: one error,
    // not one per line.
    if let Some(at) = text.find('\r').filter(|&i| !text[i..].starts_with("\r\n")) {
        diags.push(
            Diagnostic::new(
                at..at + 1,
                "",
                "the file uses bare CR line endings: TOML needs LF (or CRLF)",
            )
            .hint("save the file with LF line endings, e.g. `tr '\\r' '\\n' < OLD > NEW`"),
        );
        return Outcome {
            state: None,
            diags,
            key_sources: KeySources::new(),
        };
    }
    read::fast(path, text).unwrap_or_else(|| read::whole(path, text))
}

struct Validator {
    diags: Diags,
    base: std::path::PathBuf,
    /// Every `[keys.*]`, `[servers.*]` id and `[[hosts]]` name the file declares, valid or
    /// not: a reference to one that failed validation is not reported a second time.
    declared_keys: BTreeSet<String>,
    declared_servers: BTreeSet<String>,
    declared_hosts: BTreeSet<String>,
    /// The file has `[[hosts]]` entries, valid or not.
    any_host_declared: bool,
    /// `[defaults].retries`, for servers without their own.
    default_retries: u32,
    /// Where each valid key's secret source is written.
    key_sources: KeySources,
}

/// Looks up a top-level key of the document.
fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v)
}

/// A copy of `table` without the keys that are not in `known`.
fn only_known<'i>(table: &DeTable<'i>, known: &[&str]) -> DeTable<'i> {
    let mut out = DeTable::new();
    for (k, v) in table.iter() {
        if known.contains(&k.get_ref().as_ref()) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// What kind of TOML value this is, for messages.
fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The key path (`.port`, `.hosts[1].ttl`) of the innermost value of `table` that contains
/// byte `offset`.
fn path_at(table: &DeTable<'_>, offset: usize) -> Option<String> {
    fn value_path(v: &Spanned<DeValue<'_>>, offset: usize) -> String {
        match v.get_ref() {
            DeValue::Table(t) => path_at(t, offset).unwrap_or_default(),
            DeValue::Array(items) => items
                .iter()
                .enumerate()
                .find(|(_, item)| item.span().contains(&offset))
                .map(|(i, item)| format!("[{i}]{}", value_path(item, offset)))
                .unwrap_or_default(),
            _ => String::new(),
        }
    }
    table
        .iter()
        .find(|(k, v)| v.span().contains(&offset) || k.span().contains(&offset))
        .map(|(k, v)| format!(".{}{}", k.get_ref(), value_path(v, offset)))
}

impl Validator {
    fn new(path: &Path, diags: Diags) -> Self {
        Validator {
            diags,
            base: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            declared_keys: BTreeSet::new(),
            declared_servers: BTreeSet::new(),
            declared_hosts: BTreeSet::new(),
            any_host_declared: false,
            default_retries: crate::model::DEFAULT_RETRIES,
            key_sources: KeySources::new(),
        }
    }

    fn finish(mut self, state: Option<DesiredState>) -> Outcome {
        self.diags.sort_by_key(|d| d.span.start);
        self.diags.dedup();
        Outcome {
            state,
            diags: self.diags,
            key_sources: self.key_sources,
        }
    }

    /// Reports `server = …` naming no `[servers.*]` table (`valid`: the valid ids, sorted).
    fn unknown_server(&mut self, s: &Spanned<String>, dpath: &str, valid: &[&str]) {
        if valid.binary_search(&s.get_ref().as_str()).is_ok()
            || self.declared_servers.contains(s.get_ref())
        {
            return;
        }
        let hint = match schema::did_you_mean(s.get_ref(), valid) {
            Some(m) => format!("did you mean `{m}`?"),
            None if valid.is_empty() => format!(
                "define [servers.{}] with address = \"host:port\", or remove `server` to use the zone's primary from its SOA",
                s.get_ref()
            ),
            None => format!("defined servers: {}", valid.join(", ")),
        };
        self.err(
            s.span(),
            format!("{dpath}.server"),
            format!("unknown server `{}`", s.get_ref()),
            hint,
        );
    }

    fn err(
        &mut self,
        span: Range<usize>,
        key: impl Into<String>,
        msg: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.diags.push(Diagnostic::new(span, key, msg).hint(hint));
    }

    /// Deserializes one table with serde, reporting its (first) error in place with the key
    /// path of the offending value. Keys outside `known` (and outside the schema of a domain's
    /// host tables) are removed first: the schema scan has reported all of them with
    /// suggestions, and the rest of the table still deserves checking.
    fn table<T: DeserializeOwned>(
        &mut self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        what: &str,
        known: &[&str],
    ) -> Option<T> {
        let DeValue::Table(t) = value.get_ref() else {
            self.err(
                value.span(),
                key,
                format!("must be a table ({what}), found {}", kind(value.get_ref())),
                format!("see config.example.toml for the shape of {what}"),
            );
            return None;
        };
        let original = t;
        let mut t = only_known(original, known);
        if known == schema::DOMAIN
            && let Some((_, hosts)) = t.iter_mut().find(|(k, _)| k.get_ref() == "hosts")
            && let DeValue::Array(items) = hosts.get_mut()
        {
            for item in items.iter_mut() {
                if let DeValue::Table(ht) = item.get_mut() {
                    *ht = only_known(ht, schema::DOMAIN_HOST);
                }
            }
        }
        let table_span = value.span();
        let de = toml::de::Deserializer::from(Spanned::new(table_span.clone(), t.clone()));
        match T::deserialize(de) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or(table_span.clone());
                let msg = e.message().trim();
                if let Some(field) = msg
                    .strip_prefix("missing field `")
                    .and_then(|r| r.strip_suffix('`'))
                {
                    // A misspelt `nmae` has been reported with "did you mean `name`?": the
                    // missing `name` is that same mistake.
                    let misspelt = original.iter().any(|(k, _)| {
                        !known.contains(&k.get_ref().as_ref())
                            && schema::did_you_mean(k.get_ref(), known) == Some(field)
                    });
                    if misspelt {
                        return None;
                    }
                    // The span is the whole table; point at its header / opening brace.
                    let at = value.span();
                    self.err(
                        at.start..at.start + 1,
                        format!("{key}.{field}"),
                        format!("missing required key `{field}` in {what}"),
                        format!("add {field} = … to {what}; see config.example.toml"),
                    );
                    return None;
                }
                let sub = path_at(&t, span.start).unwrap_or_default();
                let (msg, hint) = friendly_type_error(msg, what, &format!("{key}{sub}"));
                self.err(span, format!("{key}{sub}"), msg, hint);
                None
            }
        }
    }

    fn int<T: TryFrom<i64>>(
        &mut self,
        v: &Spanned<i64>,
        key: &str,
        min: i64,
        max: i64,
        what: &str,
    ) -> Option<T> {
        let n = *v.get_ref();
        if n < min || n > max {
            self.err(
                v.span(),
                key,
                format!("{what} {n} is out of range"),
                format!("use a value from {min} to {max}"),
            );
            return None;
        }
        T::try_from(n).ok()
    }

    fn port(&mut self, v: &Spanned<i64>, key: &str) -> Option<u16> {
        self.int(v, key, 1, 65535, "port")
    }
    fn u16_field(&mut self, v: &Spanned<i64>, key: &str, what: &str) -> Option<u16> {
        self.int(v, key, 0, 65535, what)
    }
    fn ttl(&mut self, v: &Spanned<i64>, key: &str) -> Option<u32> {
        self.int(v, key, 0, i64::from(MAX_TTL), "TTL")
    }

    fn name(&mut self, v: &Spanned<String>, key: &str, host: bool) -> Option<Fqdn> {
        let parsed = if host {
            Fqdn::parse_host(v.get_ref())
        } else {
            Fqdn::parse_domain(v.get_ref())
        };
        match parsed {
            Ok(n) => Some(n),
            Err(e) => {
                let what = if host { "host name" } else { "domain name" };
                self.err(
                    v.span(),
                    key,
                    format!("invalid {what} `{}`: {e}", v.get_ref()),
                    name_hint(&e, host),
                );
                None
            }
        }
    }

    /// Checks the file from `doc`, its whole text or the part before its `[[domains]]`
    /// entries; `more` checks the entries that are not in `doc` (`None`: the batches cannot
    /// be checked apart, and neither can the file).
    fn build(
        &mut self,
        path: &Path,
        doc: &DeTable<'_>,
        more: impl FnOnce(&mut Self, &mut DomainAcc<'_>) -> Option<()>,
    ) -> Option<DesiredState> {
        let defaults = self.defaults(doc);
        self.default_retries = defaults.0.retries;
        let keys = self.keys(doc);
        let servers = self.servers(doc);
        let hosts = self.hosts(doc, &defaults);
        let valid_servers: Vec<&str> = servers.keys().map(String::as_str).collect();
        let mut acc = DomainAcc::new(&defaults.0, &hosts, &valid_servers);
        self.domains_in(doc, 0, &mut acc);
        more(self, &mut acc)?;
        self.no_domains(&acc);
        let domains = acc.out;
        let client_suffixes = self.client_suffixes(doc);

        // References between tables.
        let mut key_refs: Vec<(Spanned<String>, String)> = Vec::new();
        if let Some((k, span)) = &defaults.1 {
            key_refs.push((Spanned::new(span.clone(), k.clone()), "defaults.key".into()));
        }
        for (id, (_, key_ref)) in &servers {
            if let Some(k) = key_ref {
                key_refs.push((k.clone(), format!("servers.{id}.key")));
            }
        }
        for (k, path) in key_refs {
            if !keys.contains_key(k.get_ref()) && !self.declared_keys.contains(k.get_ref()) {
                let valid = keys.keys().cloned().collect::<Vec<_>>();
                let hint = match schema::did_you_mean(
                    k.get_ref(),
                    &valid.iter().map(String::as_str).collect::<Vec<_>>(),
                ) {
                    Some(s) => format!(
                        "did you mean `{s}`? Define it as [keys.{}] with file = … or secret_env = …",
                        k.get_ref()
                    ),
                    None if valid.is_empty() => format!(
                        "define it as [keys.{}] with file = \"….key\" or secret_env = \"VAR\"",
                        k.get_ref()
                    ),
                    None => format!("defined keys: {}", valid.join(", ")),
                };
                self.err(
                    k.span(),
                    path,
                    format!("unknown key `{}`", k.get_ref()),
                    hint,
                );
            }
        }
        Some(DesiredState {
            path: path.to_path_buf(),
            defaults: defaults.0,
            keys,
            servers: servers.into_iter().map(|(k, (s, _))| (k, s)).collect(),
            hosts: hosts.into_iter().map(|(h, _)| h).collect(),
            domains,
            client_suffixes,
            sha256: String::new(),
        })
    }

    fn entries<'a, 'i>(
        &mut self,
        doc: &'a DeTable<'i>,
        key: &str,
        shape: &str,
    ) -> Vec<(String, &'a Spanned<DeValue<'i>>)> {
        let Some(v) = get(doc, key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::Table(t) => t
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), v))
                .collect(),
            _ => {
                self.err(
                    v.span(),
                    key,
                    format!("`{key}` must be a table of tables"),
                    format!("write {shape}"),
                );
                Vec::new()
            }
        }
    }

    fn array<'a, 'i>(&mut self, doc: &'a DeTable<'i>, key: &str) -> Vec<&'a Spanned<DeValue<'i>>> {
        let Some(v) = get(doc, key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::Array(items) => items.iter().collect(),
            _ => {
                self.err(
                    v.span(),
                    key,
                    format!("`{key}` must be an array of tables"),
                    format!("write each entry as a [[{key}]] table"),
                );
                Vec::new()
            }
        }
    }
}

/// A name as the model stores it, for matching references to entries that failed validation.
fn normalise(name: &str) -> String {
    let n = name.trim();
    n.strip_suffix('.').unwrap_or(n).to_lowercase()
}
