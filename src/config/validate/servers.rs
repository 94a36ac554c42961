//! `[keys.*]` and `[servers.*]` tables, and server addresses.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use toml::Spanned;
use toml::de::DeTable;

use super::{Validator, keys_gss};
use crate::config::raw::{RawAddresses, RawKey, RawServer};
use crate::config::schema;
use crate::model::{
    DEFAULT_MAX_INFLIGHT, Fqdn, KeySource, KeySpec, MAX_MAX_INFLIGHT, MAX_RETRIES, MAX_TIMEOUT,
    ServerAddress, ServerSpec, Transport, TsigAlgorithm, parse_key_name,
};

impl Validator {
    pub(super) fn keys(&mut self, doc: &DeTable<'_>) -> BTreeMap<String, KeySpec> {
        let mut out = BTreeMap::new();
        for (id, v) in self.entries(doc, "keys", "[keys.NAME] tables") {
            let path = format!("keys.{id}");
            self.declared_keys.insert(id.clone());
            let Some(raw) = self.table::<RawKey>(&path, v, "a [keys.NAME] table", schema::KEY)
            else {
                continue;
            };
            match self.key_type(&path, &raw) {
                keys_gss::KeyType::Hmac => {}
                keys_gss::KeyType::Gss => {
                    if let Some(spec) = self.gss_key(&id, &path, &raw) {
                        out.insert(id.clone(), spec);
                    }
                    continue;
                }
                keys_gss::KeyType::Bad => continue,
            }
            let given = raw.name.as_ref().map_or(id.as_str(), |n| n.get_ref());
            let name = match parse_key_name(given) {
                Ok(n) => n,
                Err(why) => {
                    let name_span = raw.name.as_ref().map_or(v.span(), |n| n.span());
                    self.err(name_span, format!("{path}.name"), format!("`{given}` is not a valid TSIG key name: {why}"), "use letters, digits, hyphens, underscores and dots, like kms-update or kms-update.example.com (labels of at most 63 octets)");
                    given.to_string()
                }
            };
            let algorithm = match &raw.algorithm {
                None => None,
                Some(a) => match TsigAlgorithm::from_name(a.get_ref()) {
                    Some(alg) => Some(alg),
                    None => {
                        if crate::model::GssAlgorithm::from_name(a.get_ref()).is_some() {
                            self.err(
                                a.span(),
                                format!("{path}.algorithm"),
                                format!("`{}` is a GSS-TSIG algorithm, but key `{id}` is an HMAC key", a.get_ref()),
                                "for Kerberos (Active Directory, BIND with tkey-gssapi-keytab) add type = \"gss-tsig\" and drop `file`/`secret_env`; for an HMAC key use one of: hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha1 (legacy)",
                            );
                            continue;
                        }
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
                    self.key_sources
                        .insert(id.clone(), (f.span(), format!("{path}.file")));
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
                    self.key_sources
                        .insert(id.clone(), (e.span(), format!("{path}.secret_env")));
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
    pub(super) fn servers(
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
            let addresses = self.addresses(&path, &raw.address);
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
                    Ok(d) if d >= Duration::from_millis(100) && d <= MAX_TIMEOUT => d,
                    Ok(_) => {
                        self.err(
                            t.span(),
                            format!("{path}.timeout"),
                            format!("timeout `{}` is out of range", t.get_ref()),
                            "use a value from 100ms to 60s per try, e.g. \"3s\" (retries sets how many tries)",
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
            let retries = raw.retries.as_ref().and_then(|r| {
                self.int::<u32>(
                    r,
                    &format!("{path}.retries"),
                    0,
                    i64::from(MAX_RETRIES),
                    "retries",
                )
            });
            let max_inflight = raw.max_inflight.as_ref().and_then(|m| {
                self.int::<u32>(
                    m,
                    &format!("{path}.max_inflight"),
                    1,
                    i64::from(MAX_MAX_INFLIGHT),
                    "max_inflight",
                )
            });
            let Some(addresses) = addresses else { continue };
            let spec = ServerSpec {
                id: id.clone(),
                addresses,
                key: raw.key.as_ref().map(|k| k.get_ref().clone()),
                transport,
                timeout,
                retries: retries.unwrap_or(self.default_retries),
                max_inflight: max_inflight.unwrap_or(DEFAULT_MAX_INFLIGHT),
            };
            out.insert(id, (spec, raw.key));
        }
        out
    }
}

const ADDRESS_HINT: &str = "write host:port, an IPv4 address, [IPv6]:port or a name, e.g. \"192.0.2.53:53\", \"[2001:db8::53]:53\" or \"ns1.example.com\"";

impl Validator {
    /// `servers.ID.address`: one address or a non-empty list without duplicates, tried in
    /// order. `None` after reporting every bad element.
    fn addresses(&mut self, path: &str, raw: &Spanned<RawAddresses>) -> Option<Vec<ServerAddress>> {
        let key = format!("{path}.address");
        match raw.get_ref() {
            RawAddresses::One(text) => match parse_address(text) {
                Ok(a) => Some(vec![a]),
                Err(msg) => {
                    self.err(raw.span(), key, msg, ADDRESS_HINT);
                    None
                }
            },
            RawAddresses::List(items) if items.is_empty() => {
                self.err(
                    raw.span(),
                    key,
                    "the address list is empty",
                    "give at least one address, e.g. address = [\"192.0.2.53:53\", \"192.0.2.54:53\"] (tried in order), or one string",
                );
                None
            }
            RawAddresses::List(items) => {
                let mut out: Vec<ServerAddress> = Vec::new();
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    let ekey = format!("{key}[{i}]");
                    match parse_address(item.get_ref()) {
                        Ok(a) => {
                            if let Some(j) = out.iter().position(|b| *b == a) {
                                self.err(
                                    item.span(),
                                    ekey,
                                    format!(
                                        "`{}` is in the list twice (also {key}[{j}], both mean {a})",
                                        item.get_ref().trim()
                                    ),
                                    "list each address once: the list is tried in order, a second copy would only repeat the timeout",
                                );
                                ok = false;
                            } else {
                                out.push(a);
                            }
                        }
                        Err(msg) => {
                            self.err(item.span(), ekey, msg, ADDRESS_HINT);
                            ok = false;
                        }
                    }
                }
                ok.then_some(out)
            }
        }
    }
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
        let first = s.split(':').next().unwrap_or("");
        // A URL, or an IPv4 address or a name before the first colon (a port typed twice).
        return Err(if let Some((scheme, rest)) = s.split_once("://") {
            format!("`{s}` is a URL: write the address without `{scheme}://`, e.g. \"{rest}\"")
        } else if first.contains('.') {
            format!(
                "`{s}` has more than one `:`: write one port after the address, e.g. \"{first}:53\""
            )
        } else {
            format!("`{s}` is not an address: write IPv6 addresses with a port as [addr]:port")
        });
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
