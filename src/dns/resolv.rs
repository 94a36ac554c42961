//! The resolver clients use: the first `nameserver` of /etc/resolv.conf (or `--resolver`),
//! and the suffix search list (`search` / `domain`). resolv.conf(5) is read by the
//! `resolv-conf` crate; this module turns its result into socket addresses and names.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::path::Path;

use resolv_conf::{Config, ScopedIp};

use crate::model::Fqdn;

/// What resolv.conf says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvConf {
    /// The `nameserver` lines, in order, on port 53.
    pub nameservers: Vec<SocketAddr>,
    /// The `search` (or `domain`) list.
    pub search: Vec<Fqdn>,
}

impl ResolvConf {
    /// Parses resolv.conf text (resolv.conf(5)): `nameserver ADDR` (port 53; an IPv6 scope,
    /// `fe80::1%eth0` or `%2`, becomes the scope id), `search D…`, `domain D` (the last of
    /// `search`/`domain` wins, as in glibc). Never fails: like glibc, it skips what it cannot
    /// read (an unknown directive, a bad address, a line that is not UTF-8, a search domain
    /// that is not a valid name) and keeps the rest; skipped lines are logged at debug level.
    /// Unlike glibc, the crate also skips a nameserver whose scope has other characters than
    /// letters and digits (`fe80::1%br-lan`).
    pub fn parse(text: &str) -> Self {
        Self::parse_bytes(text.as_bytes())
    }

    fn parse_bytes(bytes: &[u8]) -> Self {
        let (config, errors) = Config::parse_with_errors(bytes);
        for e in &errors {
            tracing::debug!("resolv.conf: skipped: {e} (lines counted from 0)");
        }
        ResolvConf {
            nameservers: config.nameservers.iter().map(nameserver_addr).collect(),
            search: config
                .get_last_search_or_domain()
                .filter_map(|d| Fqdn::parse_domain(d).ok())
                .collect(),
        }
    }

    /// Reads and parses the file at `path` (usually /etc/resolv.conf).
    pub fn load(path: &Path) -> std::io::Result<Self> {
        Ok(Self::parse_bytes(&std::fs::read(path)?))
    }

    /// The system's resolv.conf.
    pub fn system() -> std::io::Result<Self> {
        Self::load(Path::new("/etc/resolv.conf"))
    }
}

fn nameserver_addr(ip: &ScopedIp) -> SocketAddr {
    match ip {
        ScopedIp::V4(ip) => SocketAddr::new(IpAddr::V4(*ip), 53),
        ScopedIp::V6(ip, scope) => {
            let scope_id = scope.as_deref().map_or(0, scope_id);
            SocketAddr::V6(SocketAddrV6::new(*ip, 53, 0, scope_id))
        }
    }
}

/// An IPv6 scope as the crate gives it (a string): a number, or an interface name turned
/// into the interface's index; 0 (no scope) for an interface this machine does not have.
fn scope_id(scope: &str) -> u32 {
    scope.parse().unwrap_or_else(|_| interface_index(scope))
}

/// The index of a network interface, from Linux's sysfs (no FFI needed); 0 elsewhere or for
/// an interface this machine does not have.
fn interface_index(name: &str) -> u32 {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        || name.starts_with('.')
    {
        return 0;
    }
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// Parses a `--resolver` value: `IP`, `IP:PORT` or `[IPv6]:PORT`.
pub fn parse_resolver(s: &str) -> Result<SocketAddr, String> {
    let bad = || format!("`{s}` is not a resolver address: write IP, IP:PORT or [IPv6]:PORT");
    let addr = if let Ok(sa) = s.parse::<SocketAddr>() {
        sa
    } else {
        let ip = match s.strip_prefix('[') {
            Some(rest) => rest.strip_suffix(']').ok_or_else(bad)?,
            None => s,
        };
        SocketAddr::new(ip.parse::<IpAddr>().map_err(|_| bad())?, 53)
    };
    if addr.port() == 0 {
        return Err(format!(
            "`{s}`: port 0 is not a port to send to; use 1-65535 (53 when omitted)"
        ));
    }
    Ok(addr)
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

    fn scope_ids(r: &ResolvConf) -> Vec<u32> {
        r.nameservers
            .iter()
            .map(|a| match a {
                SocketAddr::V6(a) => a.scope_id(),
                SocketAddr::V4(a) => panic!("{a} is not IPv6"),
            })
            .collect()
    }

    #[test]
    fn ipv6_scopes_become_scope_ids() {
        let r = ResolvConf::parse(
            "nameserver fe80::1%3\nnameserver fe80::2%lo\nnameserver fe80::3%nosuchif0\nnameserver fe80::4\n",
        );
        assert!(r.nameservers.iter().all(|a| a.port() == 53));
        let ids = scope_ids(&r);
        assert_eq!(ids[0], 3, "a numeric scope is the id");
        assert_eq!(ids[2..], [0, 0], "unknown interface, no scope");
        // An interface name is its index: on Linux, compare with what the kernel says.
        #[cfg(target_os = "linux")]
        {
            let lo: u32 = std::fs::read_to_string("/sys/class/net/lo/ifindex")
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert_eq!(ids[1], lo);
        }
    }

    #[test]
    fn the_last_search_or_domain_wins() {
        let search = |text: &str| -> Vec<String> {
            ResolvConf::parse(text)
                .search
                .iter()
                .map(|d| d.as_str().to_string())
                .collect()
        };
        assert_eq!(
            search("search a.example b.example\ndomain c.example\n"),
            ["c.example"]
        );
        assert_eq!(
            search("domain c.example\nsearch a.example B.example.\n"),
            ["a.example", "b.example"]
        );
        assert_eq!(
            search("search a.example\nsearch b.example\n"),
            ["b.example"]
        );
        assert_eq!(
            search("domain a.example\ndomain b.example\n"),
            ["b.example"]
        );
        assert!(search("nameserver 192.0.2.1\n").is_empty());
    }

    #[test]
    fn what_cannot_be_read_is_skipped_not_fatal() {
        let text: &[u8] = b"nameserver 192.0.2.1\n\
            frobnicate yes\n\
            nameserver not-an-ip\n\
            nameserver 192.0.2.9%eth0\n\
            nameserver\n\
            options ndots:x no-such-option\n\
            \xff\xfe not UTF-8\n\
            search ok.example bad..example\n\
            nameserver 192.0.2.3 trailing words\n";
        let r = ResolvConf::parse_bytes(text);
        assert_eq!(
            r.nameservers,
            [
                "192.0.2.1:53".parse().unwrap(),
                "192.0.2.3:53".parse().unwrap()
            ]
        );
        assert_eq!(r.search.len(), 1);
        assert_eq!(r.search[0].as_str(), "ok.example");
        assert!(
            ResolvConf::parse("nameserver fe80::1%br-lan\n")
                .nameservers
                .is_empty()
        );
        assert_eq!(ResolvConf::parse(""), ResolvConf::default());
        assert_eq!(ResolvConf::parse("\0\0\n;\n#\n  \n"), ResolvConf::default());

        // A file that is not UTF-8 as a whole still loads.
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        assert_eq!(ResolvConf::load(file.path()).unwrap(), r);
    }
}
