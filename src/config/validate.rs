//! Stage two of configuration loading: raw TOML → [`Config`], collecting every error.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diag::Diagnostic;
use super::raw::{RawDefaults, RawDomain, RawHost, RawHostRef, RawKey, RawServer};
use super::schema;
use super::{
    Config, Defaults, Domain, Host, KeySource, KeySpec, ServerAddress, ServerSpec, Transport,
};
use crate::model::{Fqdn, MAX_TTL, NameError, SrvRecord, TsigAlgorithm};

type Diags = Vec<Diagnostic>;

pub fn validate(path: &Path, text: &str) -> Result<Config, Diags> {
    let mut diags = Diags::new();
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(_) => {
            let (_, errors) = DeTable::parse_recoverable(text);
            for e in errors {
                let span = e.span().unwrap_or(0..0);
                let mut message = e.message().trim().to_string();
                let mut key = String::new();
                let mut hint =
                    "fix the TOML syntax (quotes around strings, `key = value`, [table] headers)"
                        .to_string();
                if message == "duplicate key"
                    && let Some(k) = text.get(span.clone())
                {
                    message = format!("duplicate key `{k}`: it is already set in this table");
                    key = k.to_string();
                    hint = format!(
                        "keep one `{k} = …` per table; for another entry start a new [[table]] header above it"
                    );
                }
                diags
                    .push(Diagnostic::new(span, key, format!("TOML syntax: {message}")).hint(hint));
            }
            return Err(diags);
        }
    };
    schema::scan(doc.get_ref(), &mut diags);
    let mut v = Validator {
        diags,
        base: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        declared_keys: BTreeSet::new(),
        declared_servers: BTreeSet::new(),
        declared_hosts: BTreeSet::new(),
        any_host_declared: false,
    };
    let config = v.build(path, doc.get_ref());
    if v.diags.is_empty() {
        Ok(config)
    } else {
        v.diags.sort_by_key(|d| d.span.start);
        v.diags.dedup();
        Err(v.diags)
    }
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

/// serde's "invalid type: string \"1688\", expected i64" in the words of the file format,
/// with a hint for the usual cause.
fn friendly_type_error(msg: &str, what: &str) -> (String, String) {
    let msg = msg
        .replace("invalid type: ", "wrong type: ")
        .replace("expected i64", "expected an integer")
        .replace("expected a sequence", "expected an array")
        .replace("expected a string", "expected a string in quotes")
        .replace("found integer", "found an integer");
    let hint = if msg.contains("expected an integer") && msg.contains("string") {
        "write numbers without quotes, e.g. port = 1688".to_string()
    } else if msg.contains("expected an array") {
        "write a list in brackets, e.g. hosts = [\"kms1.corp.example.com\"]".to_string()
    } else if msg.contains("expected a string") || msg.contains("expected a host name string") {
        "put the value in double quotes, e.g. name = \"kms1.corp.example.com\"".to_string()
    } else if msg.contains("expected a boolean") {
        "write true or false without quotes".to_string()
    } else {
        format!("see config.example.toml for the keys of {what}")
    };
    (msg, hint)
}

fn name_hint(e: &NameError, host: bool) -> String {
    match e {
        NameError::IpAddress(_) => "SRV targets must be host names with A/AAAA records (RFC 2782); write the KMS host's FQDN, e.g. kms1.corp.example.com".into(),
        NameError::SingleLabel(n) => format!("write the fully qualified name, e.g. {n}.corp.example.com"),
        NameError::BadCharacter(_) => "use letters, digits and hyphens only; underscores and spaces are not valid in host names".into(),
        NameError::Idna(_) => "check the spelling, or write the A-label (xn--…) form yourself".into(),
        _ if host => "write the KMS host's fully qualified name, e.g. kms1.corp.example.com".into(),
        _ => "write a DNS domain name, e.g. corp.example.com".into(),
    }
}

impl Validator {
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
        let mut t = only_known(t, known);
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
                let (msg, hint) = friendly_type_error(msg, what);
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

    fn build(&mut self, path: &Path, doc: &DeTable<'_>) -> Config {
        let defaults = self.defaults(doc);
        let keys = self.keys(doc);
        let servers = self.servers(doc);
        let hosts = self.hosts(doc, &defaults);
        let domains = self.domains(doc, &defaults, &hosts);
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
        let mut domain_list = Vec::new();
        for (d, server_ref, dpath) in domains {
            if let Some(s) = server_ref
                && !servers.contains_key(s.get_ref())
                && !self.declared_servers.contains(s.get_ref())
            {
                let valid: Vec<&str> = servers.keys().map(String::as_str).collect();
                let hint = match schema::did_you_mean(s.get_ref(), &valid) {
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
            domain_list.push(d);
        }
        Config {
            path: path.to_path_buf(),
            defaults: defaults.0,
            keys,
            servers: servers.into_iter().map(|(k, (s, _))| (k, s)).collect(),
            hosts: hosts.into_iter().map(|(h, _)| h).collect(),
            domains: domain_list,
            client_suffixes,
            sha256: String::new(),
        }
    }

    #[allow(clippy::type_complexity)]
    fn defaults(&mut self, doc: &DeTable<'_>) -> (Defaults, Option<(String, Range<usize>)>) {
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
        let key = raw.key.map(|k| (k.get_ref().clone(), k.span()));
        d.key = key.as_ref().map(|k| k.0.clone());
        (d, key)
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

    fn keys(&mut self, doc: &DeTable<'_>) -> BTreeMap<String, KeySpec> {
        let mut out = BTreeMap::new();
        for (id, v) in self.entries(doc, "keys", "[keys.NAME] tables") {
            let path = format!("keys.{id}");
            self.declared_keys.insert(id.clone());
            let Some(raw) = self.table::<RawKey>(&path, v, "a [keys.NAME] table", schema::KEY)
            else {
                continue;
            };
            let name = match &raw.name {
                Some(n) => n.get_ref().trim_end_matches('.').to_string(),
                None => id.clone(),
            };
            let name_span = raw.name.as_ref().map_or(v.span(), |n| n.span());
            if !valid_key_name(&name) {
                self.err(name_span, format!("{path}.name"), format!("`{name}` is not a valid TSIG key name"), "use letters, digits, hyphens, underscores and dots, like kms-update or kms-update.example.com (labels of at most 63 octets)");
            }
            let algorithm = match &raw.algorithm {
                None => None,
                Some(a) => match TsigAlgorithm::from_name(a.get_ref()) {
                    Some(alg) => Some(alg),
                    None => {
                        let extra = if a.get_ref().to_ascii_lowercase().contains("md5") {
                            " (hmac-md5 is not supported: it is insecure; make a new key with `kmsdns keygen`)"
                        } else {
                            ""
                        };
                        self.err(
                            a.span(),
                            format!("{path}.algorithm"),
                            format!("unknown TSIG algorithm `{}`{extra}", a.get_ref()),
                            format!("valid algorithms: {}", TsigAlgorithm::valid_list()),
                        );
                        None
                    }
                },
            };
            let source = match (&raw.file, &raw.secret_env) {
                (Some(f), None) => {
                    if f.get_ref().trim().is_empty() {
                        self.err(
                            f.span(),
                            format!("{path}.file"),
                            "the key file path is empty",
                            "name the BIND key file written by tsig-keygen or kmsdns keygen",
                        );
                        continue;
                    }
                    KeySource::File(self.base.join(f.get_ref()))
                }
                (None, Some(e)) => {
                    let var = e.get_ref();
                    if var.is_empty()
                        || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        || var.starts_with(|c: char| c.is_ascii_digit())
                    {
                        self.err(e.span(), format!("{path}.secret_env"), format!("`{var}` is not an environment variable name"), "name the variable that holds the secret, e.g. KMSDNS_TSIG_SECRET (the secret itself never goes in this file)");
                        continue;
                    }
                    KeySource::Env(var.clone())
                }
                (Some(f), Some(_)) => {
                    self.err(f.span(), path.clone(), "both `file` and `secret_env` are set", "keep one: file = \"….key\" (a BIND key file) or secret_env = \"VAR\" (base64 secret in the environment)");
                    continue;
                }
                (None, None) => {
                    self.err(v.span(), path.clone(), format!("key `{id}` has neither `file` nor `secret_env`"), "add file = \"kms-update.key\" (written by `kmsdns keygen` or tsig-keygen) or secret_env = \"KMSDNS_TSIG_SECRET\"; the secret never goes in this file");
                    continue;
                }
            };
            out.insert(
                id.clone(),
                KeySpec {
                    id,
                    name,
                    source,
                    algorithm,
                },
            );
        }
        out
    }

    #[allow(clippy::type_complexity)]
    fn servers(
        &mut self,
        doc: &DeTable<'_>,
    ) -> BTreeMap<String, (ServerSpec, Option<Spanned<String>>)> {
        let mut out = BTreeMap::new();
        for (id, v) in self.entries(doc, "servers", "[servers.NAME] tables") {
            let path = format!("servers.{id}");
            self.declared_servers.insert(id.clone());
            let Some(raw) =
                self.table::<RawServer>(&path, v, "a [servers.NAME] table", schema::SERVER)
            else {
                continue;
            };
            let address = match parse_address(raw.address.get_ref()) {
                Ok(a) => Some(a),
                Err(msg) => {
                    self.err(raw.address.span(), format!("{path}.address"), msg, "write host:port, an IPv4 address, [IPv6]:port or a name, e.g. \"192.0.2.53:53\", \"[2001:db8::53]:53\" or \"ns1.example.com\"");
                    None
                }
            };
            let transport = match raw
                .transport
                .as_ref()
                .map(|t| t.get_ref().to_ascii_lowercase())
            {
                None => Transport::Udp,
                Some(t) if t == "udp" => Transport::Udp,
                Some(t) if t == "tcp" => Transport::Tcp,
                Some(t) => {
                    let span = raw.transport.as_ref().map_or(v.span(), |s| s.span());
                    self.err(
                        span,
                        format!("{path}.transport"),
                        format!("unknown transport `{t}`"),
                        "use \"udp\" (UDP with TCP fallback, the default) or \"tcp\"",
                    );
                    Transport::Udp
                }
            };
            let timeout = match &raw.timeout {
                None => Duration::from_secs(3),
                Some(t) => match humantime::parse_duration(t.get_ref()) {
                    Ok(d) if d >= Duration::from_millis(100) && d <= Duration::from_secs(120) => d,
                    Ok(_) => {
                        self.err(
                            t.span(),
                            format!("{path}.timeout"),
                            format!("timeout `{}` is out of range", t.get_ref()),
                            "use a value from 100ms to 120s, e.g. \"3s\"",
                        );
                        Duration::from_secs(3)
                    }
                    Err(e) => {
                        self.err(
                            t.span(),
                            format!("{path}.timeout"),
                            format!("cannot read timeout `{}`: {e}", t.get_ref()),
                            "write a duration like \"3s\" or \"500ms\"",
                        );
                        Duration::from_secs(3)
                    }
                },
            };
            let Some(address) = address else { continue };
            let spec = ServerSpec {
                id: id.clone(),
                address,
                key: raw.key.as_ref().map(|k| k.get_ref().clone()),
                transport,
                timeout,
            };
            out.insert(id, (spec, raw.key));
        }
        out
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

    fn hosts(
        &mut self,
        doc: &DeTable<'_>,
        defaults: &(Defaults, Option<(String, Range<usize>)>),
    ) -> Vec<(Host, Range<usize>)> {
        let d = &defaults.0;
        let mut out: Vec<(Host, Range<usize>)> = Vec::new();
        for (i, v) in self.array(doc, "hosts").into_iter().enumerate() {
            let path = format!("hosts[{i}]");
            self.any_host_declared = true;
            if let DeValue::Table(t) = v.get_ref()
                && let Some(n) = get(t, "name")
                && let DeValue::String(n) = n.get_ref()
            {
                self.declared_hosts.insert(normalise(n));
            }
            let Some(raw) = self.table::<RawHost>(&path, v, "a [[hosts]] entry", schema::HOST)
            else {
                continue;
            };
            let Some(name) = self.name(&raw.name, &format!("{path}.name"), true) else {
                continue;
            };
            if out.iter().any(|(h, _)| h.name == name) {
                self.err(
                    raw.name.span(),
                    format!("{path}.name"),
                    format!(
                        "duplicate host `{}` (names are case-insensitive)",
                        name.as_str()
                    ),
                    "list each KMS host once; remove this entry or merge it with the first one",
                );
                continue;
            }
            let host = Host {
                port: raw
                    .port
                    .as_ref()
                    .and_then(|p| self.port(p, &format!("{path}.port")))
                    .unwrap_or(d.port),
                priority: raw
                    .priority
                    .as_ref()
                    .and_then(|p| self.u16_field(p, &format!("{path}.priority"), "priority"))
                    .unwrap_or(d.priority),
                weight: raw
                    .weight
                    .as_ref()
                    .and_then(|p| self.u16_field(p, &format!("{path}.weight"), "weight"))
                    .unwrap_or(d.weight),
                ttl: raw
                    .ttl
                    .as_ref()
                    .and_then(|p| self.ttl(p, &format!("{path}.ttl")))
                    .unwrap_or(d.ttl),
                name,
            };
            out.push((host, raw.name.span()));
        }
        out
    }

    #[allow(clippy::type_complexity)]
    fn domains(
        &mut self,
        doc: &DeTable<'_>,
        defaults: &(Defaults, Option<(String, Range<usize>)>),
        hosts: &[(Host, Range<usize>)],
    ) -> Vec<(Domain, Option<Spanned<String>>, String)> {
        let d = &defaults.0;
        let mut out: Vec<(Domain, Option<Spanned<String>>, String)> = Vec::new();
        for (i, v) in self.array(doc, "domains").into_iter().enumerate() {
            let path = format!("domains[{i}]");
            let Some(raw) =
                self.table::<RawDomain>(&path, v, "a [[domains]] entry", schema::DOMAIN)
            else {
                continue;
            };
            let Some(name) = self.name(&raw.name, &format!("{path}.name"), false) else {
                continue;
            };
            if out.iter().any(|(o, _, _)| o.name == name) {
                self.err(
                    raw.name.span(),
                    format!("{path}.name"),
                    format!(
                        "duplicate domain `{}` (names are case-insensitive)",
                        name.as_str()
                    ),
                    "list each client domain once; merge the two entries",
                );
                continue;
            }
            if name.kms_owner().wire_len() > 255 {
                self.err(
                    raw.name.span(),
                    format!("{path}.name"),
                    format!(
                        "`_vlmcs._tcp.{}` would be longer than 255 octets",
                        name.as_str()
                    ),
                    "use a shorter domain name (RFC 1035 limit)",
                );
                continue;
            }
            let zone = match &raw.zone {
                None => None,
                Some(z) => match self.name(z, &format!("{path}.zone"), false) {
                    Some(zn) if name.is_at_or_below(&zn) => Some(zn),
                    Some(zn) => {
                        self.err(z.span(), format!("{path}.zone"), format!("domain `{}` is not inside zone `{}`", name.as_str(), zn.as_str()), format!("set zone to `{}` or one of its parent domains, or remove `zone` to discover it", name.as_str()));
                        None
                    }
                    None => None,
                },
            };
            let mut records: Vec<SrvRecord> = Vec::new();
            match &raw.hosts {
                None => {
                    records = hosts
                        .iter()
                        .map(|(h, _)| SrvRecord {
                            target: h.name.clone(),
                            port: h.port,
                            priority: h.priority,
                            weight: h.weight,
                            ttl: h.ttl,
                        })
                        .collect();
                    if hosts.is_empty() && !self.any_host_declared {
                        self.err(raw.name.span(), format!("{path}.hosts"), format!("domain `{}` gets no KMS hosts: there are no [[hosts]] entries", name.as_str()), "add [[hosts]] entries, or write hosts = [] to say on purpose that this domain has no KMS records");
                    }
                }
                Some(list) => {
                    for (j, entry) in list.get_ref().iter().enumerate() {
                        let epath = format!("{path}.hosts[{j}]");
                        let ref_name = entry.get_ref().name();
                        let parsed = match Fqdn::parse_host(ref_name) {
                            Ok(n) => n,
                            Err(e) => {
                                self.err(
                                    entry.span(),
                                    epath,
                                    format!("invalid host name `{ref_name}`: {e}"),
                                    name_hint(&e, true),
                                );
                                continue;
                            }
                        };
                        let Some((host, _)) = hosts.iter().find(|(h, _)| h.name == parsed) else {
                            if self.declared_hosts.contains(parsed.as_str()) {
                                // Its [[hosts]] entry is invalid and reported already.
                                continue;
                            }
                            let known: Vec<&str> =
                                hosts.iter().map(|(h, _)| h.name.as_str()).collect();
                            let hint = match schema::did_you_mean(parsed.as_str(), &known) {
                                Some(m) => format!(
                                    "did you mean `{m}`? Every host a domain lists must have a [[hosts]] entry"
                                ),
                                None => format!(
                                    "add a [[hosts]] entry with name = \"{}\"; defined hosts: {}",
                                    parsed.as_str(),
                                    if known.is_empty() {
                                        "none".to_string()
                                    } else {
                                        known.join(", ")
                                    }
                                ),
                            };
                            self.err(
                                entry.span(),
                                epath,
                                format!("unknown host `{}`", parsed.as_str()),
                                hint,
                            );
                            continue;
                        };
                        if records.iter().any(|r| r.target == parsed) {
                            self.err(
                                entry.span(),
                                epath,
                                format!(
                                    "host `{}` is listed twice for this domain",
                                    parsed.as_str()
                                ),
                                "list each host once per domain",
                            );
                            continue;
                        }
                        let mut rec = SrvRecord {
                            target: host.name.clone(),
                            port: host.port,
                            priority: host.priority,
                            weight: host.weight,
                            ttl: host.ttl,
                        };
                        if let RawHostRef::Table(t) = entry.get_ref() {
                            if let Some(p) = &t.port {
                                rec.port =
                                    self.port(p, &format!("{epath}.port")).unwrap_or(rec.port)
                            }
                            if let Some(p) = &t.priority {
                                rec.priority = self
                                    .u16_field(p, &format!("{epath}.priority"), "priority")
                                    .unwrap_or(rec.priority)
                            }
                            if let Some(p) = &t.weight {
                                rec.weight = self
                                    .u16_field(p, &format!("{epath}.weight"), "weight")
                                    .unwrap_or(rec.weight)
                            }
                            if let Some(p) = &t.ttl {
                                rec.ttl = self.ttl(p, &format!("{epath}.ttl")).unwrap_or(rec.ttl)
                            }
                        }
                        records.push(rec);
                    }
                }
            }
            records.sort();
            // One RRset has one TTL (RFC 2181 §5.2): differing TTLs would be merged by servers.
            if let Some(first) = records.first()
                && let Some(other) = records.iter().find(|r| r.ttl != first.ttl)
            {
                let span = raw.hosts.as_ref().map_or(raw.name.span(), |h| h.span());
                self.err(span, format!("{path}.hosts"), format!("the records of `_vlmcs._tcp.{}` would have different TTLs ({} for {}, {} for {})", name.as_str(), first.ttl, first.target.as_str(), other.ttl, other.target.as_str()), "one RRset has one TTL (RFC 2181 §5.2): give these hosts the same ttl");
            }
            let prune = raw.prune.as_ref().map_or(d.prune, |p| *p.get_ref());
            out.push((
                Domain {
                    name,
                    records,
                    zone,
                    server: raw.server.as_ref().map(|s| s.get_ref().clone()),
                    prune,
                },
                raw.server,
                path,
            ));
        }
        if out.is_empty() && self.diags.is_empty() {
            self.err(
                0..0,
                "domains",
                "the configuration lists no [[domains]]",
                "add at least one [[domains]] entry with name = \"corp.example.com\"",
            );
        }
        out
    }

    fn client_suffixes(&mut self, doc: &DeTable<'_>) -> Vec<Fqdn> {
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

/// A name as the model stores it, for matching references to entries that failed validation.
fn normalise(name: &str) -> String {
    let n = name.trim();
    n.strip_suffix('.').unwrap_or(n).to_lowercase()
}

fn valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Parses `host:port`, an IP address (v4, bare v6, `[v6]:port`) or a name; port defaults to 53.
pub fn parse_address(s: &str) -> Result<ServerAddress, String> {
    let s = s.trim();
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return check_port(sa.port(), s).map(|_| ServerAddress::Socket(sa));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(ServerAddress::Socket(SocketAddr::new(ip, 53)));
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner
            .parse::<IpAddr>()
            .map(|ip| ServerAddress::Socket(SocketAddr::new(ip, 53)))
            .map_err(|_| format!("`{s}` is not an IPv6 address"));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => {
            let port: u16 = p
                .parse()
                .map_err(|_| format!("`{p}` in `{s}` is not a port number (1-65535)"))?;
            (h, port)
        }
        None => (s, 53),
    };
    check_port(port, s)?;
    if host.contains(':') {
        return Err(format!(
            "`{s}` is not an address: write IPv6 addresses with a port as [addr]:port"
        ));
    }
    let host = Fqdn::parse_domain(host)
        .map_err(|e| format!("`{s}` is not a valid server address: {e}"))?;
    Ok(ServerAddress::Name { host, port })
}

fn check_port(port: u16, s: &str) -> Result<(), String> {
    if port == 0 {
        Err(format!("port 0 in `{s}` is out of range"))
    } else {
        Ok(())
    }
}
