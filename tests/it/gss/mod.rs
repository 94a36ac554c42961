//! GSS-TSIG (RFC 3645) end to end: an MIT KDC and a GSS-enabled BIND per test
//! (`harness::kerberos`), nsupdate -g as the independent client, kmsdns with gss-tsig keys.

mod harness_selftest;
