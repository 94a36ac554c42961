//! Reading many `_vlmcs._tcp` SRV RRsets of one zone from its server (plan, settling an
//! uncertain UPDATE, the read-back after apply), always signed when the zone has a key:
//!
//! - a zone with at least [`AXFR_MIN`] owners to read is transferred whole by one signed AXFR
//!   (one TCP stream instead of a query per owner); when the server refuses the transfer (or
//!   anything else goes wrong but a timeout) the owners are queried instead, and when a managed
//!   owner is a CNAME too, so that the query reports it;
//!   A zone read with a GSS-TSIG key is never transferred (zone transfers are not signed with
//!   GSS-TSIG here, and an unsigned one must not stand in for a signed read; Active Directory
//!   serves no AXFR anyway): its owners are queried, signed;
//! - otherwise one query per owner, many in flight at once: the server's `max_inflight` bound
//!   (in the client) decides how many messages are really on the wire; [`WINDOW`] only bounds
//!   the tasks waiting for it.
//!
//! The first read that fails ends them all, and a transfer that times out is not followed by
//! queries: a dead server costs one exchange.

use crate::dns::transport::TransportError;
use crate::dns::{DnsClient, DnsError, axfr, query};
use crate::model::{Fqdn, SrvRecord};

/// Reads started at once per zone (each then waits for a slot of its server's bound).
const WINDOW: usize = 256;

/// Zones with at least this many owners to read are read by AXFR first.
pub(crate) const AXFR_MIN: usize = 64;

/// The SRV RRset at each owner, in the order of `owners`; the first error ends the reads.
pub(crate) async fn read_rrsets(
    client: &DnsClient,
    zone: &Fqdn,
    owners: Vec<Fqdn>,
) -> Result<Vec<Vec<SrvRecord>>, DnsError> {
    // AXFR is signed with HMAC keys only: a GSS-TSIG client queries each owner, signed.
    if owners.len() >= AXFR_MIN && client.gss.is_none() {
        match axfr::srv_rrsets(client, zone).await {
            Ok((srv, cnames)) if !owners.iter().any(|o| cnames.contains(o)) => {
                tracing::debug!(zone = %zone, owners = owners.len(), "read by AXFR");
                return Ok(owners
                    .iter()
                    .map(|o| srv.get(o).cloned().unwrap_or_default())
                    .collect());
            }
            Ok(_) => {
                tracing::debug!(zone = %zone, "a managed owner is a CNAME; querying each owner")
            }
            Err(e @ DnsError::Transport(TransportError::Timeout { .. })) => return Err(e),
            Err(e) => {
                tracing::debug!(zone = %zone, error = %e, "no zone transfer; querying each owner")
            }
        }
    }
    super::try_in_order(owners, WINDOW, |owner| {
        let (client, zone) = (client.clone(), zone.clone());
        async move { query::read_srv(&client, Some(&zone), &owner).await }
    })
    .await
}
