//! DNS-layer errors. Each says which server, zone and key it concerns and what to check.

use hickory_proto::op::ResponseCode;

use super::transport::TransportError;
use super::tsig::TsigError;
use crate::model::{Fqdn, Problem, SkipReason};

/// What was being done when a server answered with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Reading the `_vlmcs._tcp` SRV RRset from the zone's primary.
    ReadState,
    /// An RFC 2136 UPDATE.
    Update,
}

/// Context carried into error messages.
#[derive(Clone, Debug)]
pub struct Context {
    /// Server as the user knows it, e.g. `primary (127.0.0.1:53)`.
    pub server: String,
    pub zone: Option<Fqdn>,
    pub name: Option<Fqdn>,
    pub key: Option<String>,
    pub op: Operation,
}

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("{0}")]
    Transport(#[from] TransportError),
    #[error("TSIG with {server}: {source}")]
    Tsig {
        server: String,
        #[source]
        source: TsigError,
    },
    #[error("{message}")]
    Rcode {
        rcode: ResponseCode,
        message: String,
        hint: String,
    },
    #[error("{server} is not authoritative for {name} (the reply has no AA bit)")]
    NotAuthoritative { server: String, name: Fqdn },
    #[error("unusable reply from {server}: {reason}")]
    BadReply { server: String, reason: String },
    /// The request could not be built or signed: nothing was sent.
    #[error("cannot send to {server}: {reason}")]
    Encode { server: String, reason: String },
    #[error("cannot find the zone of {name}: {reason}")]
    Discovery { name: Fqdn, reason: String },
    #[error("GSS-TSIG with {server}: {source}")]
    Gss {
        server: String,
        #[source]
        source: Box<super::gss::GssError>,
    },
    /// A message that cannot be made small enough to send: nothing was sent.
    #[error("{what}")]
    TooLarge { what: String, hint: String },
    /// A request kmsdns will not make (e.g. an AXFR that could not be signed): nothing was
    /// sent.
    #[error("{what}")]
    Unsupported { what: String, hint: String },
}

impl DnsError {
    /// Why nothing answered, when nothing did: the address could not be reached or gave no
    /// reply within its tries. `None` for every answer (an RCODE, a verdict, even a reply
    /// that fails verification): failover moves on only after silence.
    pub fn unanswered(&self) -> Option<SkipReason> {
        match self {
            DnsError::Transport(TransportError::Timeout { .. }) => Some(SkipReason::Timeout),
            DnsError::Transport(TransportError::Io { .. }) => Some(SkipReason::Unreachable),
            _ => None,
        }
    }

    /// A timeout at `server` after one try over UDP, for tests of what uses [`DnsError`].
    #[cfg(test)]
    pub(crate) fn test_timeout(server: std::net::SocketAddr) -> DnsError {
        DnsError::Transport(TransportError::Timeout {
            server,
            proto: super::transport::Proto::Udp,
            tries: 1,
            timeout: std::time::Duration::from_millis(100),
        })
    }

    /// A refused connection to `server`, for tests.
    #[cfg(test)]
    pub(crate) fn test_unreachable(server: std::net::SocketAddr) -> DnsError {
        DnsError::Transport(TransportError::Io {
            server,
            proto: super::transport::Proto::Udp,
            sent: false,
            source: std::io::ErrorKind::ConnectionRefused.into(),
        })
    }

    /// A verified REFUSED answer, for tests.
    #[cfg(test)]
    pub(crate) fn test_refused() -> DnsError {
        DnsError::Rcode {
            rcode: ResponseCode::Refused,
            message: "refused".into(),
            hint: String::new(),
        }
    }

    /// What the user should check or do.
    pub fn hint(&self) -> String {
        match self {
            DnsError::Transport(t) => t.hint().to_string(),
            DnsError::Tsig { source, .. } => tsig_hint(source),
            DnsError::Rcode { hint, .. } => hint.clone(),
            DnsError::NotAuthoritative { .. } => "point `server` at the zone's primary (the SOA MNAME), or set `zone` so discovery finds the right one".to_string(),
            DnsError::BadReply { .. } => "check that the address is a DNS server; if it is, this is a bug worth reporting".to_string(),
            DnsError::Encode { .. } => "check the key's name, algorithm and secret; if they are right, this is a bug worth reporting".to_string(),
            DnsError::TooLarge { hint, .. } | DnsError::Unsupported { hint, .. } => hint.clone(),
            DnsError::Discovery { name, .. } => format!("set zone = \"…\" and server = \"…\" for {} in the config, or pass --resolver ADDR", name.as_str()),
            DnsError::Gss { source, .. } => source.hint(),
        }
    }

    /// True when nothing can have reached the server: the message could not be built or
    /// signed, or the GSS-TSIG context could not be made.
    pub fn nothing_sent(&self) -> bool {
        match self {
            DnsError::Encode { .. } | DnsError::TooLarge { .. } | DnsError::Unsupported { .. } => {
                true
            }
            DnsError::Gss { source, .. } => source.before_sending(),
            _ => false,
        }
    }

    /// True when the error means the records changed since they were read.
    pub fn is_stale_state(&self) -> bool {
        matches!(self, DnsError::Rcode { rcode, .. } if matches!(rcode, ResponseCode::YXRRSet | ResponseCode::NXRRSet | ResponseCode::YXDomain | ResponseCode::NXDomain))
    }
}

/// The mnemonic of an RCODE as RFCs and dig write it (NOERROR, REFUSED, NOTAUTH, YXRRSET…).
pub fn rcode_name(rc: ResponseCode) -> String {
    let name = match rc {
        ResponseCode::NoError => "NOERROR",
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NXDomain => "NXDOMAIN",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::YXDomain => "YXDOMAIN",
        ResponseCode::YXRRSet => "YXRRSET",
        ResponseCode::NXRRSet => "NXRRSET",
        ResponseCode::NotAuth => "NOTAUTH",
        ResponseCode::NotZone => "NOTZONE",
        other => return format!("RCODE {}", u16::from(other)),
    };
    name.to_string()
}

impl From<&DnsError> for Problem {
    fn from(e: &DnsError) -> Self {
        Problem {
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

/// Maps an error RCODE of a reply to an error that names server, zone and key.
pub fn rcode_error(rcode: ResponseCode, ctx: &Context) -> DnsError {
    let server = &ctx.server;
    let zone = ctx
        .zone
        .as_ref()
        .map_or("the zone".to_string(), |z| z.as_str().to_string());
    let key = ctx.key.as_deref().unwrap_or("(no key: unsigned)");
    let name = ctx
        .name
        .as_ref()
        .map_or_else(|| zone.clone(), |n| n.as_str().to_string());
    let (message, hint) = match (ctx.op, rcode) {
        (Operation::Update, ResponseCode::Refused) => (
            format!("{server} refused key {key} for zone {zone} (REFUSED)"),
            format!(
                "check the server's update policy for zone {zone}: it must grant key {key} the names _vlmcs._tcp.<domain>. type SRV (BIND: update-policy, `kmsdns render named-conf`; PowerDNS: TSIG-ALLOW-DNSUPDATE and the Lua policy, `kmsdns render pdns`). PowerDNS also answers REFUSED when the signature does not verify: compare the secret of key {key} with the server's"
            ),
        ),
        (Operation::Update, ResponseCode::NotAuth) => (
            format!("{server} is not authoritative for zone {zone}, or does not accept key {key} for it (NOTAUTH)"),
            format!("send updates to the zone's primary (SOA MNAME) and check that key {key} is allowed to update {zone}; if this is the primary, compare the secret of key {key} with the server's"),
        ),
        (Operation::Update, ResponseCode::NotZone) => (
            format!("{zone} is not a zone on {server}: a name in the update is outside it (NOTZONE)"),
            format!("set zone = \"…\" for the domain to the zone that really contains {name}, or remove `zone` to discover it"),
        ),
        (
            Operation::Update,
            ResponseCode::YXRRSet | ResponseCode::NXRRSet | ResponseCode::YXDomain | ResponseCode::NXDomain,
        ) => (
            format!("records in zone {zone} were changed by another writer since they were read: the prerequisites failed ({}) and the server wrote nothing", rcode_name(rcode)),
            "run `kmsdns plan` again to see the current state, then apply".to_string(),
        ),
        (Operation::Update, ResponseCode::NotImp) => (
            format!("{server} does not implement dynamic update (NOTIMP)"),
            "use `kmsdns render bind` or `render powershell` and apply the records by hand".to_string(),
        ),
        (Operation::ReadState, ResponseCode::Refused) => (
            format!("{server} refused the query for {name} (REFUSED)"),
            format!("check that {server} serves zone {zone} and that allow-query lets this machine ask"),
        ),
        (_, ResponseCode::ServFail) => (
            format!("{server} failed to answer for {name} (SERVFAIL)"),
            format!("check the server's log: zone {zone} may not be loaded, or its journal not writable"),
        ),
        (_, ResponseCode::FormErr) => (
            format!("{server} could not parse the message for {name} (FORMERR)"),
            "check that the address is a DNS server that supports this operation; otherwise report a kmsdns bug".to_string(),
        ),
        (_, rc) => (
            format!("{server} answered {} for {name}", rcode_name(rc)),
            "check the server's log for the reason".to_string(),
        ),
    };
    DnsError::Rcode {
        rcode,
        message,
        hint,
    }
}

/// What to check for each TSIG failure.
fn tsig_hint(e: &TsigError) -> String {
    use super::tsig::{BADKEY, BADSIG, BADTIME, BADTRUNC};
    match e {
        TsigError::ServerError {
            code: BADSIG, key, ..
        }
        | TsigError::BadMac { key } => format!(
            "compare the secret of key {key} here with the server's (named.conf `key` statement or included key file)"
        ),
        TsigError::ServerError {
            code: BADKEY,
            key,
            algorithm,
            ..
        } => format!(
            "the server needs `key \"{key}\" {{ algorithm {algorithm}; secret \"…\"; }};` (kmsdns keygen prints it) and a grant for it: BIND update-policy; Knot answers BADKEY also when its ACL refuses the update, so check the acl's update-type: SRV, update-owner: name, update-owner-name: _vlmcs._tcp and update-owner-match: equal (`kmsdns render knot`)"
        ),
        TsigError::ServerError { code: BADTIME, .. } | TsigError::TimeOutsideFudge { .. } => {
            "synchronise the clocks of this machine and the server (NTP)".to_string()
        }
        TsigError::ServerError { code: BADTRUNC, .. } | TsigError::MacTooShort { .. } => {
            "use full-length MACs on both sides".to_string()
        }
        TsigError::UnsignedError { key, .. } => format!(
            "compare the secret and algorithm of key {key} here with the server's (BIND: the named.conf key statement; PowerDNS: pdnsutil list-tsig-keys; Knot: the key section), and check that the server has the key at all"
        ),
        TsigError::Unsigned { key } => format!(
            "check that the server knows key {key} and has the same secret (a server that cannot verify a request may answer unsigned), and that no middlebox strips TSIG records"
        ),
        _ => "check the key name, algorithm and secret on both sides".to_string(),
    }
}
