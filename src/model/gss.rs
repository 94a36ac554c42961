//! GSS-TSIG key specs (RFC 3645): where the Kerberos credential comes from and which service
//! principal to ask a ticket for. Plain data: no ticket, keytab content or secret is here.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// The TSIG algorithm name a GSS-TSIG key signs with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum GssAlgorithm {
    /// `gss-tsig` (RFC 3645), the default.
    #[default]
    GssTsig,
    /// `gss.microsoft.com`: the pre-RFC name old Windows servers and tools use (nsupdate `-o`).
    GssMicrosoft,
}

impl GssAlgorithm {
    /// Both names, the default first.
    pub const ALL: [GssAlgorithm; 2] = [GssAlgorithm::GssTsig, GssAlgorithm::GssMicrosoft];

    /// The name on the wire (without the trailing dot) and in the config.
    pub fn name(self) -> &'static str {
        match self {
            GssAlgorithm::GssTsig => "gss-tsig",
            GssAlgorithm::GssMicrosoft => "gss.microsoft.com",
        }
    }

    /// Parses a name, case-insensitively, trailing dot optional.
    pub fn from_name(s: &str) -> Option<Self> {
        let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
        Self::ALL.into_iter().find(|a| a.name() == s)
    }
}

impl fmt::Display for GssAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `[keys.<id>]` table with `type = "gss-tsig"`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GssKeySpec {
    /// The client principal (`user@REALM`, or `user` in the default realm); `None` = the
    /// credential cache's default principal (or the keytab's first).
    pub principal: Option<String>,
    /// A client keytab (path resolved against the config file's directory): kmsdns gets its
    /// own ticket from it, in memory, without touching the user's credential cache.
    pub keytab: Option<PathBuf>,
    /// The service principal to ask a ticket for, overriding `DNS@<SOA MNAME host>`:
    /// `DNS/dc1.ad.example.com` (a principal) or `DNS@dc1.ad.example.com` (host-based).
    pub service: Option<String>,
    /// The TSIG algorithm name.
    pub algorithm: GssAlgorithm,
}
