//! TSIG keys and message signing (RFC 8945). Not implemented yet.
