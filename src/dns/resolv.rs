//! The resolver clients use: the first `nameserver` of /etc/resolv.conf (or `--resolver`),
//! and the suffix search list (`search` / `domain`).

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::model::Fqdn;

/// What resolv.conf says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvConf {
    pub nameservers: Vec<SocketAddr>,
    pub search: Vec<Fqdn>,
}

impl ResolvConf {
    /// Parses resolv.conf text (resolv.conf(5)): `nameserver ADDR`, `search D…`, `domain D`
    /// (the last of `search`/`domain` wins, as in glibc).
    pub fn parse(text: &str) -> Self {
        let mut out = ResolvConf::default();
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    if let Some(ip) = words
                        .next()
                        .and_then(|w| w.split('%').next()?.parse::<IpAddr>().ok())
                    {
                        out.nameservers.push(SocketAddr::new(ip, 53));
                    }
                }
                Some("search") | Some("domain") => {
                    out.search = words.filter_map(|w| Fqdn::parse_domain(w).ok()).collect();
                }
                _ => {}
            }
        }
        out
    }

    pub fn load(path: &Path) -> std::io::Result<Self> {
        Ok(Self::parse(&std::fs::read_to_string(path)?))
    }

    /// The system's resolv.conf.
    pub fn system() -> std::io::Result<Self> {
        Self::load(Path::new("/etc/resolv.conf"))
    }
}

/// Parses a `--resolver` value: `IP`, `IP:PORT` or `[IPv6]:PORT`.
pub fn parse_resolver(s: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("`{s}` is not a resolver address: write IP, IP:PORT or [IPv6]:PORT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resolv_conf() {
        let r = ResolvConf::parse(
            "# comment\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nsearch corp.example.com example.com\noptions edns0\n",
        );
        assert_eq!(r.nameservers[0], "127.0.0.53:53".parse().unwrap());
        assert_eq!(r.nameservers.len(), 2);
        assert_eq!(r.search.len(), 2);
        assert_eq!(r.search[1].as_str(), "example.com");
        assert_eq!(parse_resolver("127.0.0.1:5300").unwrap().port(), 5300);
        assert_eq!(parse_resolver("::1").unwrap().port(), 53);
        assert!(parse_resolver("resolver.example").is_err());
    }
}
