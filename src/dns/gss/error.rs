//! GSS-TSIG errors, in the words that end the usual Kerberos pain: which credential, which
//! service principal, what to run (`kinit`, `keytab`, `service`), the TKEY error by name.

use std::path::PathBuf;

/// Why a GSS-TSIG context could not be made or a reply could not be trusted. Never holds a
/// ticket or key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GssError {
    #[error(
        "this kmsdns was built without GSS-TSIG support (cargo feature `gss`, Linux with MIT Kerberos), which key `{key}` needs"
    )]
    NotBuilt { key: String },
    #[error("cannot read keytab {} of key `{key}`: {reason}", path.display())]
    Keytab {
        key: String,
        path: PathBuf,
        reason: String,
    },
    #[error("key `{key}`: no Kerberos credentials for {who}: {detail}")]
    NoCredentials {
        key: String,
        who: String,
        detail: String,
    },
    #[error("key `{key}`: the Kerberos ticket of {who} has expired: {detail}")]
    Expired {
        key: String,
        who: String,
        detail: String,
    },
    #[error("key `{key}`: cannot reach a Kerberos KDC for the realm of {who}: {detail}")]
    KdcUnreachable {
        key: String,
        who: String,
        detail: String,
    },
    #[error(
        "key `{key}`: the KDC does not know the service principal {service} (tried for {server}): {detail}"
    )]
    UnknownService {
        key: String,
        service: String,
        server: String,
        detail: String,
    },
    #[error("key `{key}`: clock skew between this machine and {peer} is too great{}: {detail}", skew.map(|s| format!(" ({s} s)")).unwrap_or_default())]
    ClockSkew {
        key: String,
        peer: String,
        skew: Option<i64>,
        detail: String,
    },
    #[error("key `{key}`: GSSAPI failed while {during}: {detail}")]
    Gssapi {
        key: String,
        during: String,
        detail: String,
    },
    #[error("{server} rejected the TKEY negotiation for key `{key}` with {} ({code}): {}", tkey_error_name(*.code), tkey_error_meaning(*.code))]
    Tkey {
        key: String,
        server: String,
        code: u16,
    },
    #[error("{server} answered the TKEY query for key `{key}` with {rcode}: {why}")]
    TkeyRefused {
        key: String,
        server: String,
        rcode: String,
        why: String,
    },
    #[error("unusable TKEY reply from {server}: {reason}")]
    TkeyProtocol { server: String, reason: String },
    #[error(
        "the reply is not signed although the request was signed with GSS-TSIG key `{key}`; it is not trusted"
    )]
    Unsigned { key: String },
    #[error(
        "the reply carries our own request's MIC (an echoed request) with NOERROR, which no server sends for a success; it is not trusted"
    )]
    EchoedSuccess,
    #[error(
        "the reply's GSS-TSIG MIC does not verify (key `{key}`, checked the RFC 8945 digest and Samba's): the reply was altered or forged"
    )]
    BadMic { key: String },
    #[error(
        "the reply is signed with key name {found}, but the request used {expected}: check that the right server answered"
    )]
    KeyNameMismatch { expected: String, found: String },
    #[error("the server rejected the GSS-TSIG signature of key `{key}` with {}: {}{}", tsig_error_name(*.code), tsig_error_meaning(*.code), skew.map(|s| format!(" (its clock is {s} s off ours)")).unwrap_or_default())]
    ServerTsig {
        key: String,
        code: u16,
        /// BADTIME: the server's clock (other data) minus our time signed.
        skew: Option<i64>,
    },
    #[error("the reply signed with GSS-TSIG key `{key}` is {} s off our clock, more than its fudge of {fudge} s: check the time on this machine and the server (NTP)", skew.unsigned_abs())]
    TimeOutsideFudge { key: String, skew: i64, fudge: u16 },
    #[error("malformed DNS message: {0}")]
    Malformed(String),
}

impl GssError {
    /// What the user should do.
    pub fn hint(&self) -> String {
        match self {
            GssError::NotBuilt { .. } => "install a kmsdns built with the default features on Linux (the Debian package is), or use an HMAC TSIG key".into(),
            GssError::Keytab { key, .. } => format!("fix `keytab` in [keys.{key}] (a path relative to the config file), make the file readable by this user (mode 0600), or remove `keytab` to use the credential cache"),
            GssError::NoCredentials { key, who, .. } => format!("run `kinit {}` (or set KRB5CCNAME to a cache holding its ticket), or set keytab = \"….keytab\" in [keys.{key}] so kmsdns gets its own ticket", kinit_arg(who)),
            GssError::Expired { key, who, .. } => format!("renew the ticket with `kinit {}`, or set keytab = \"….keytab\" in [keys.{key}] so kmsdns gets a fresh ticket on each run", kinit_arg(who)),
            GssError::KdcUnreachable { .. } => "check the realm's `kdc =` lines in krb5.conf (KRB5_CONFIG), that DNS finds _kerberos._udp/_tcp SRV records if they are used, and that port 88 is reachable".into(),
            GssError::UnknownService { key, .. } => format!("the server's keytab must hold this principal (BIND: tkey-gssapi-keytab with DNS/<primary host>; AD: the DC's DNS/<dc fqdn> SPN); when the SOA MNAME is not the name the server's key is under, set service = \"DNS/dc1.ad.example.com\" in [keys.{key}]"),
            GssError::ClockSkew { .. } => "synchronise the clocks of this machine, the KDC and the DNS server (NTP); Kerberos allows 5 minutes by default".into(),
            GssError::Gssapi { .. } => "check the Kerberos configuration (KRB5_CONFIG, the realm, the ticket with `klist`); run with RUST_LOG=debug for the GSSAPI status".into(),
            GssError::Tkey { key, code, .. } => match *code {
                17 => format!("the server cannot accept the ticket: its service keytab is stale or lacks the key (BIND: tkey-gssapi-keytab; AD: the DC's SPN and key version); or point `service` in [keys.{key}] at the principal in its keytab"),
                18 => "synchronise the clocks of this machine and the server (NTP)".into(),
                20 => "a key name clash: run again (kmsdns picks a fresh random key name each run)".into(),
                _ => "check the server's log for the reason".into(),
            },
            GssError::TkeyRefused { .. } => "the server must accept GSS-TSIG: BIND needs `tkey-gssapi-keytab` (or tkey-gssapi-credential); Knot and PowerDNS do not support GSS-TSIG".into(),
            GssError::TkeyProtocol { .. } => "check that the address is the zone's primary and that it supports GSS-TSIG (RFC 3645)".into(),
            GssError::Unsigned { .. } | GssError::EchoedSuccess | GssError::BadMic { .. } | GssError::KeyNameMismatch { .. } => "something on the path may alter replies; kmsdns reads the records back to settle what happened".into(),
            GssError::ServerTsig { code: 18, .. } => "synchronise the clocks of this machine and the server (NTP)".into(),
            GssError::ServerTsig { key, .. } => format!("the server's GSS-TSIG context expired or was lost (e.g. after a restart): run again; if it persists, check the server's keytab and the grant for the principal of key `{key}`"),
            GssError::TimeOutsideFudge { .. } => "synchronise the clocks of this machine and the server (NTP)".into(),
            GssError::Malformed(_) => "this is a bug worth reporting, with RUST_LOG=debug output".into(),
        }
    }

    /// True when the error came before any UPDATE left: making the context failed.
    pub fn before_sending(&self) -> bool {
        !matches!(
            self,
            GssError::Unsigned { .. }
                | GssError::EchoedSuccess
                | GssError::BadMic { .. }
                | GssError::KeyNameMismatch { .. }
                | GssError::ServerTsig { .. }
                | GssError::TimeOutsideFudge { .. }
                | GssError::Malformed(_)
        )
    }
}

/// `who` as kinit's argument: a principal, or a placeholder when none is configured.
fn kinit_arg(who: &str) -> &str {
    if who.contains(' ') { "PRINCIPAL" } else { who }
}

/// The TKEY error name (RFC 2930 §2.6, RFC 8945 §5.3.2 codes).
pub fn tkey_error_name(code: u16) -> String {
    match code {
        16 => "BADSIG".into(),
        17 => "BADKEY".into(),
        18 => "BADTIME".into(),
        19 => "BADMODE".into(),
        20 => "BADNAME".into(),
        21 => "BADALG".into(),
        other => format!("TKEY error {other}"),
    }
}

fn tkey_error_meaning(code: u16) -> &'static str {
    match code {
        16 => "the server could not verify our token",
        17 => {
            "the server could not accept our Kerberos token (a stale or missing service key in its keytab, or a ticket for another principal)"
        }
        18 => "the times of the TKEY query are outside the server's window",
        19 => "the server does not support GSS-API key negotiation (mode 3)",
        20 => "the key name is already in use on the server",
        21 => "the server does not support the algorithm",
        _ => "see the server's log",
    }
}

fn tsig_error_name(code: u16) -> String {
    tkey_error_name(code)
}

fn tsig_error_meaning(code: u16) -> &'static str {
    match code {
        16 => "it could not verify our MIC",
        17 => "it does not know the negotiated key (context expired, or the server restarted)",
        18 => "the time signed is outside its fudge window: check the clocks (NTP)",
        _ => "see the server's log",
    }
}
