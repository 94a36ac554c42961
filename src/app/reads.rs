//! Reading many `_vlmcs._tcp` SRV RRsets of one zone from its server: one signed query per
//! owner, many in flight at once. The server's `max_inflight` bound (in the client) decides how
//! many messages are really on the wire; [`WINDOW`] only bounds the tasks waiting for it.

use crate::dns::{DnsClient, DnsError, query};
use crate::model::{Fqdn, SrvRecord};

/// Reads started at once per zone (each then waits for a slot of its server's bound).
const WINDOW: usize = 256;

/// The SRV RRset at each owner, in the order of `owners`.
pub(crate) async fn read_rrsets(
    client: &DnsClient,
    zone: &Fqdn,
    owners: Vec<Fqdn>,
) -> Vec<Result<Vec<SrvRecord>, DnsError>> {
    super::in_order(
        owners,
        WINDOW,
        |owner| {
            let (client, zone) = (client.clone(), zone.clone());
            async move { query::read_srv(&client, Some(&zone), &owner).await }
        },
        |_| {},
    )
    .await
}
