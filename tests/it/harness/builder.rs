//! What a lab holds: update policies, zones, keys (the builders), and SRV records as read back.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// Who may update a zone.
#[derive(Clone, Debug)]
pub enum Policy {
    /// `key` may change only the SRV RRset at `_vlmcs._tcp.<domain>.` for each domain.
    /// BIND: `update-policy { grant KEY name _vlmcs._tcp.<domain>. SRV; ... };`.
    /// Knot: an ACL with `update-type: SRV`, `update-owner: name`, `update-owner-match: equal`.
    /// PowerDNS: a rule in the Lua update policy (key, type, owner, source) plus the metadata
    /// TSIG-ALLOW-DNSUPDATE and ALLOW-DNSUPDATE-FROM (not enforced once a Lua policy is set).
    Grant { key: String, domains: Vec<String> },
    /// Server-specific text. BIND: statements inside the zone block, e.g.
    /// `update-policy { grant k zonesub SRV; };`. Knot: the lines of an `acl:` item after its
    /// `id`, one option per line, e.g. `key: k\naction: update`. PowerDNS: a Lua boolean
    /// expression over `input` deciding each record of an update to this zone, e.g.
    /// `input:getTsigName():equal("k")` (any record, with key k).
    Raw(String),
    /// No updates allowed. (PowerDNS still answers NOERROR; it writes nothing.)
    None,
}

impl Policy {
    /// `Policy::Grant` from a key name and domains.
    pub fn grant<I, S>(key: &str, domains: I) -> Policy
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Policy::Grant {
            key: key.to_owned(),
            domains: domains.into_iter().map(Into::into).collect(),
        }
    }
}

/// One zone a server serves.
#[derive(Clone, Debug)]
pub struct ZoneBuilder {
    pub(crate) name: String,
    pub(crate) serial: u32,
    pub(crate) records: Vec<String>,
    pub(crate) policy: Policy,
    pub(crate) primary: Option<SocketAddr>,
    pub(crate) allow_transfer: Option<String>,
    pub(crate) also_notify: Vec<SocketAddr>,
    /// Where `ns1` (the SOA MNAME) points instead of the server's own address.
    pub(crate) ns1_ip: Option<IpAddr>,
}

impl ZoneBuilder {
    /// A primary zone (name without trailing dot is fine) with SOA/NS/`ns1 A 127.0.0.1`.
    pub fn new(name: &str) -> ZoneBuilder {
        ZoneBuilder {
            name: name.trim_end_matches('.').to_ascii_lowercase(),
            serial: 1,
            records: Vec::new(),
            policy: Policy::None,
            primary: None,
            allow_transfer: None,
            also_notify: Vec::new(),
            ns1_ip: None,
        }
    }

    /// Point `ns1` (the SOA MNAME and first NS) at `ip` instead of the server itself, e.g. a
    /// loopback address nobody listens on: a primary that is down, for failover tests.
    pub fn ns1_at(mut self, ip: IpAddr) -> Self {
        self.ns1_ip = Some(ip);
        self
    }

    /// An extra zone-file line, e.g. `kms1 A 127.0.0.1`.
    pub fn record(mut self, line: &str) -> Self {
        self.records.push(line.to_owned());
        self
    }

    pub fn serial(mut self, serial: u32) -> Self {
        self.serial = serial;
        self
    }

    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Serve this zone as a secondary of `primary` (BIND only); records and serial are ignored.
    pub fn secondary_of(mut self, primary: SocketAddr) -> Self {
        self.primary = Some(primary);
        self
    }

    /// The address match list of `allow-transfer`, e.g. `"127.0.0.1;"` or `"none;"` (BIND).
    /// Unset: BIND's default (anyone).
    pub fn allow_transfer(mut self, acl: &str) -> Self {
        self.allow_transfer = Some(acl.to_owned());
        self
    }

    /// Send NOTIFY to `addr` after changes (BIND only; notifies are off otherwise).
    pub fn also_notify(mut self, addr: SocketAddr) -> Self {
        self.also_notify.push(addr);
        self
    }

    /// The zone file text, `ns1` at 127.0.0.1.
    pub(crate) fn zone_file(&self) -> String {
        self.zone_file_for(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// The zone file text with `ns1` (the SOA MNAME and NS) at `ip`: an A record for an IPv4
    /// lab, an AAAA record (only) for an IPv6 one, so discovery from the SOA finds the server.
    pub(crate) fn zone_file_for(&self, ip: IpAddr) -> String {
        let z = &self.name;
        let ip = self.ns1_ip.unwrap_or(ip);
        let rtype = if ip.is_ipv6() { "AAAA" } else { "A" };
        let mut text = format!(
            "$ORIGIN {z}.\n$TTL 300\n\
             @ IN SOA ns1.{z}. hostmaster.{z}. {} 3600 600 86400 300\n\
             @ IN NS ns1.{z}.\n\
             ns1 IN {rtype} {ip}\n",
            self.serial
        );
        for r in &self.records {
            text.push_str(r);
            text.push('\n');
        }
        text
    }
}

/// Keys and zones for a server; the same builder can start BIND, Knot and PowerDNS.
#[derive(Clone, Debug, Default)]
pub struct ServerBuilder {
    pub(crate) keys: Vec<(String, String)>,
    pub(crate) zones: Vec<ZoneBuilder>,
    /// BIND only: extra `include "FILE";` lines (e.g. a key made by `kmsdns keygen`).
    pub(crate) includes: Vec<PathBuf>,
    /// Listen on `::1` instead of 127.0.0.1.
    pub(crate) ipv6: bool,
    /// PowerDNS only: the whole `lua-dnsupdate-policy-script`, replacing the generated one.
    pub(crate) pdns_policy_script: Option<String>,
    /// BIND only: extra statements inside `options { };` (e.g. `tkey-gssapi-keytab "…";`).
    pub(crate) bind_options: Vec<String>,
    /// Environment variables for the server process (e.g. `KRB5_CONFIG`).
    pub(crate) env: Vec<(String, String)>,
}

impl ServerBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A TSIG key, generated at start with `tsig-keygen -a ALGORITHM NAME`.
    pub fn key(mut self, name: &str, algorithm: &str) -> Self {
        self.keys.push((name.to_owned(), algorithm.to_owned()));
        self
    }

    pub fn zone(mut self, zone: ZoneBuilder) -> Self {
        self.zones.push(zone);
        self
    }

    /// BIND only: `include "FILE";` in named.conf.
    pub fn include(mut self, file: &Path) -> Self {
        self.includes.push(file.to_path_buf());
        self
    }

    /// Listen on the IPv6 loopback `::1` (only) instead of 127.0.0.1; the port is free for
    /// TCP and UDP on `::1`. Panics at start when `::1` cannot be bound on this machine.
    pub fn ipv6(mut self) -> Self {
        self.ipv6 = true;
        self
    }

    /// PowerDNS only: use `lua` as the `lua-dnsupdate-policy-script` (it must define
    /// `updatepolicy(input)`) instead of the script the harness writes from the zones'
    /// [`Policy`]s. Metadata is still set from the policies.
    pub fn pdns_policy_script(mut self, lua: &str) -> Self {
        self.pdns_policy_script = Some(lua.to_owned());
        self
    }

    /// BIND only: a statement inside `options { };`, e.g. `tkey-gssapi-keytab "DIR/dns.keytab";`.
    pub fn bind_option(mut self, statement: &str) -> Self {
        self.bind_options.push(statement.to_owned());
        self
    }

    /// An environment variable for the server process (e.g. `KRB5_CONFIG` of a test realm).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The loopback address the server listens on.
    pub fn ip(&self) -> IpAddr {
        if self.ipv6 {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
    }
}

/// One `SRV` record as read back with dig.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SrvRr {
    pub ttl: u32,
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// As dig prints it: absolute, with the trailing dot.
    pub target: String,
}
