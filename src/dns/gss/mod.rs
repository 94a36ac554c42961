//! GSS-TSIG (RFC 3645): a Kerberos security context negotiated with TKEY (RFC 2930 mode 3),
//! then every message signed with a TSIG record whose MAC is the context's MIC over the RFC
//! 8945 digest.
//!
//! - `tkey`: the TKEY query and reply, by hand (hickory-proto has no TKEY type);
//! - `krb`: credentials and the initiator context through the system GSSAPI (`libgssapi`;
//!   `stub` stands in without the `gss` feature);
//! - `verify`: checking a reply's MIC: the RFC digest, then Samba's (no request-MAC length),
//!   and recognising an echoed request (Samba/Windows error replies);
//! - here: [`GssKey`] (a validated `type = "gss-tsig"` key), [`GssSession`] (one context per
//!   server per run, shared by every zone and client of that server) and the negotiation.

mod error;
#[cfg(all(feature = "gss", target_os = "linux"))]
mod krb;
#[cfg(not(all(feature = "gss", target_os = "linux")))]
#[path = "stub.rs"]
mod krb;
pub mod tkey;
mod verify;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};

pub use error::GssError;
pub use verify::{Established, Verdict};

use super::transport::{self, Endpoint, Failure, Kind};
use super::{DnsClient, DnsError, discovery};
use crate::model::{Fqdn, GssKeySpec, Transport};

/// A `type = "gss-tsig"` key, checked when the keys are loaded: the build has GSS-TSIG and its
/// keytab (if any) can be opened.
#[derive(Debug)]
pub struct GssKey {
    pub id: String,
    pub spec: GssKeySpec,
}

impl GssKey {
    pub fn new(id: &str, spec: GssKeySpec) -> Result<GssKey, GssError> {
        krb::available(id)?;
        if let Some(path) = &spec.keytab {
            std::fs::File::open(path).map_err(|e| GssError::Keytab {
                key: id.to_string(),
                path: path.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(GssKey {
            id: id.to_string(),
            spec,
        })
    }

    /// The client principal as configured, for messages.
    pub fn who(&self) -> String {
        self.spec
            .principal
            .clone()
            .unwrap_or_else(|| match &self.spec.keytab {
                Some(k) => format!("the first principal of {}", k.display()),
                None => "the credential cache's principal".to_string(),
            })
    }
}

/// The GSS-TSIG context with one server, made on first use and reused for every zone.
pub struct GssSession {
    pub key: Arc<GssKey>,
    /// The context, or why it could not be made (not tried again in this run: every zone of
    /// the server gets the same answer without asking the KDC again).
    state: tokio::sync::Mutex<Option<Result<Arc<Established>, GssError>>>,
    principal: Mutex<Option<String>>,
    /// One signed message in flight per context: held from signing a request until its reply
    /// is checked. With several at once BIND 9.18 rejected some of our MICs (BADSIG) and
    /// signed some replies with MICs that do not verify (about 1 run in 4 of 70 concurrent
    /// reads); one at a time, as nsupdate does, none did.
    pub turn: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for GssSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl GssSession {
    pub fn new(key: Arc<GssKey>) -> GssSession {
        GssSession {
            key,
            state: tokio::sync::Mutex::new(None),
            principal: Mutex::new(None),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// The client principal: the credential's once known, else as configured.
    pub fn principal(&self) -> String {
        self.principal
            .lock()
            .expect("principal lock")
            .clone()
            .unwrap_or_else(|| self.key.who())
    }

    /// How errors name the key: `gss-tsig key `ad` (principal admin@REALM)`.
    pub fn label(&self) -> String {
        format!(
            "gss-tsig key `{}` (principal {})",
            self.key.id,
            self.principal()
        )
    }

    /// The established context, negotiating it with the server of `endpoint` first if this
    /// is the first message to it. `qname` (the message's question or zone) finds the SOA
    /// MNAME, whose host names the service principal `DNS@host` unless `service` is set.
    pub async fn established(
        &self,
        endpoint: &Endpoint,
        server: &str,
        qname: &str,
    ) -> Result<Arc<Established>, DnsError> {
        let mut state = self.state.lock().await;
        let gss = |source| DnsError::Gss {
            server: server.to_string(),
            source: Box::new(source),
        };
        match state.as_ref() {
            Some(Ok(est)) => return Ok(est.clone()),
            Some(Err(e)) => return Err(gss(e.clone())),
            None => {}
        }
        let (service, host) = match &self.key.spec.service {
            Some(s) => (s.clone(), service_host(s)),
            None => {
                let mname = self.mname(endpoint, server, qname).await?;
                let host = mname.as_str().to_string();
                (format!("DNS@{host}"), host)
            }
        };
        tracing::debug!(server, service, key = %self.key.id, "negotiating a GSS-TSIG context");
        let est = match negotiate(self.key.clone(), endpoint, server, &service, &host).await {
            Ok(est) => est,
            Err(DnsError::Gss { source, .. }) => {
                *state = Some(Err((*source).clone()));
                return Err(gss(*source));
            }
            // A transport failure: another zone may try again.
            Err(other) => return Err(other),
        };
        *self.principal.lock().expect("principal lock") = Some(est.principal.clone());
        let est = Arc::new(est);
        *state = Some(Ok(est.clone()));
        Ok(est)
    }

    /// The SOA MNAME for `qname`, read unsigned from the server itself.
    async fn mname(
        &self,
        endpoint: &Endpoint,
        server: &str,
        qname: &str,
    ) -> Result<Fqdn, DnsError> {
        let labels: Vec<&str> = qname
            .trim_end_matches('.')
            .split('.')
            .skip_while(|l| l.starts_with('_'))
            .collect();
        let name = Fqdn::parse_domain(&labels.join(".")).map_err(|e| DnsError::Encode {
            server: server.to_string(),
            reason: format!("cannot find the primary for `{qname}`: {e}"),
        })?;
        let probe = DnsClient::unsigned(endpoint.addr, server, endpoint.timeout, endpoint.tries);
        Ok(discovery::find_zone(&probe, &name).await?.mname)
    }
}

/// The host part of a configured service: `DNS/host@REALM` or `DNS@host`.
fn service_host(service: &str) -> String {
    let rest = service.split_once(['/', '@']).map_or(service, |(_, r)| r);
    rest.split('@').next().unwrap_or(rest).to_string()
}

/// A fresh TKEY key name: `<random>.sig-<host>` (as nsupdate names them).
fn key_name(host: &str) -> String {
    let mut b = [0u8; 6];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .expect("the system random generator works");
    let first = host.split('.').next().unwrap_or("server");
    let rest = host.split_once('.').map_or("", |(_, r)| r);
    let tail = if rest.is_empty() {
        format!("sig-{first}")
    } else {
        format!("sig-{first}.{rest}")
    };
    format!("{}.{tail}", data_encoding::HEXLOWER.encode(&b)).to_ascii_lowercase()
}

/// Runs `f` on the blocking pool: GSSAPI calls may talk to the KDC synchronously.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("GSSAPI call does not panic")
}

/// The TKEY loop over TCP: send the client token, feed the server's token back, until the
/// context is complete; then check the server's signature on the last reply.
async fn negotiate(
    key: Arc<GssKey>,
    endpoint: &Endpoint,
    server: &str,
    service: &str,
    host: &str,
) -> Result<Established, DnsError> {
    let gss = |source| DnsError::Gss {
        server: server.to_string(),
        source: Box::new(source),
    };
    let (k, s, srv) = (key.clone(), service.to_string(), server.to_string());
    let mut init = blocking(move || {
        let mut init = krb::Initiator::new(&k, &s, &srv)?;
        let token = init.step(&k, None, &srv)?;
        Ok::<_, GssError>((init, token))
    })
    .await
    .map_err(gss)?;
    let name = key_name(host);
    let algorithm = key.spec.algorithm;
    let mut tcp = endpoint.clone();
    tcp.transport = Transport::Tcp;
    let mut last_reply = Vec::new();
    let mut rounds = 0;
    while let Some(token) = init.1.take() {
        rounds += 1;
        if rounds > 8 {
            return Err(gss(GssError::TkeyProtocol {
                server: server.to_string(),
                reason: "the negotiation did not finish within 8 rounds".into(),
            }));
        }
        let id = super::client::random_id();
        let query = tkey::build_query(
            id,
            &name,
            algorithm.name(),
            &token,
            crate::dns::tsig::unix_now(),
        )
        .map_err(|reason| {
            gss(GssError::TkeyProtocol {
                server: server.to_string(),
                reason,
            })
        })?;
        let check = |bytes: &[u8]| -> Result<(Vec<u8>, tkey::TkeyReply), String> {
            let r = tkey::parse_reply(bytes, &name)?;
            if r.id != id || !r.is_response {
                return Err("the reply does not answer our TKEY query".into());
            }
            Ok((bytes.to_vec(), r))
        };
        let reply = match transport::exchange(&tcp, &query, Kind::Query, check).await {
            Ok(r) => r.value,
            Err(Failure::Transport(t)) => return Err(t.into()),
            Err(Failure::Rejected { last, .. }) => {
                return Err(gss(GssError::TkeyProtocol {
                    server: server.to_string(),
                    reason: last,
                }));
            }
        };
        let (bytes, parsed) = reply;
        // The TKEY error names the problem best, whatever the RCODE.
        if let Some(t) = parsed.tkey.as_ref().filter(|t| t.error != 0) {
            return Err(gss(GssError::Tkey {
                key: key.id.clone(),
                server: server.to_string(),
                code: t.error,
            }));
        }
        if parsed.rcode != 0 {
            let rcode = hickory_proto::op::ResponseCode::from(0, parsed.rcode);
            return Err(gss(GssError::TkeyRefused {
                key: key.id.clone(),
                server: server.to_string(),
                rcode: super::error::rcode_name(rcode),
                why: "the server does not take GSS-TSIG key negotiation (TKEY) here".into(),
            }));
        }
        let Some(t) = parsed.tkey else {
            return Err(gss(GssError::TkeyProtocol {
                server: server.to_string(),
                reason: "the reply has no TKEY record for our key name".into(),
            }));
        };
        last_reply = bytes;
        if init.0.is_complete() && t.key.is_empty() {
            break;
        }
        let (k, srv) = (key.clone(), server.to_string());
        let (mut i, _) = init;
        init = blocking(move || {
            let next = i.step(&k, Some(&t.key), &srv)?;
            Ok::<_, GssError>((i, next))
        })
        .await
        .map_err(gss)?;
    }
    if !init.0.is_complete() {
        return Err(gss(GssError::TkeyProtocol {
            server: server.to_string(),
            reason: "the server ended the negotiation before the context was complete".into(),
        }));
    }
    let est = Established::new(key.id.clone(), name, algorithm, init.0).map_err(gss)?;
    est.check_tkey_reply(&last_reply, server).map_err(gss)?;
    tracing::debug!(server, key_name = %est.key_name, principal = %est.principal, service = %est.service, rounds, "GSS-TSIG context established");
    Ok(est)
}

/// An error RCODE to an UPDATE signed with GSS-TSIG, said in Kerberos terms: the principal
/// that was refused and the grant it needs (BIND's update-policy line; in Active Directory,
/// write access on the `_vlmcs._tcp` node itself, which Samba/AD deny with SERVFAIL). `nodes`
/// are the owner names the UPDATE changes.
pub fn explain_refusal(
    client: &DnsClient,
    zone: &Fqdn,
    nodes: &[String],
    err: DnsError,
) -> DnsError {
    use hickory_proto::op::ResponseCode;
    let Some(g) = &client.gss else {
        return err;
    };
    let DnsError::Rcode { rcode, .. } = &err else {
        return err;
    };
    let rcode = *rcode;
    let principal = g.principal();
    let server = &client.label;
    let zone = zone.as_str();
    let what = match nodes {
        [] => format!("zone {zone}"),
        [one] => format!("zone {zone} (node {one})"),
        [first, rest @ ..] => format!("zone {zone} (nodes {first} and {} more)", rest.len()),
    };
    let ad = ad_grant_hint(&principal, zone, nodes);
    let (message, hint) = match rcode {
        ResponseCode::Refused | ResponseCode::NotAuth => (
            format!(
                "{server} refused the update of {what} by Kerberos principal {principal} (gss-tsig key `{}`) ({})",
                g.key.id,
                super::error::rcode_name(rcode)
            ),
            format!(
                "BIND: grant {principal} the SRV records at _vlmcs._tcp.<domain>: update-policy {{ grant {principal} name _vlmcs._tcp.<domain>. SRV; }}; in zone {zone}. {ad}"
            ),
        ),
        ResponseCode::ServFail => (
            format!(
                "{server} failed the update of {what} by Kerberos principal {principal} (gss-tsig key `{}`) with SERVFAIL: Samba and Active Directory answer SERVFAIL when the node's ACL denies the principal (the node exists and belongs to another account)",
                g.key.id
            ),
            format!("{ad}; if the grant is in place, check the server's log"),
        ),
        _ => return err,
    };
    DnsError::Rcode {
        rcode,
        message,
        hint,
    }
}

/// The Active Directory side of a denied update: whose the node is, what the principal needs
/// and the three ways to grant it (README "Microsoft DNS / Active Directory").
fn ad_grant_hint(principal: &str, zone: &str, nodes: &[String]) -> String {
    let zone = zone.trim_end_matches('.');
    let user = principal.split('@').next().unwrap_or(principal);
    let dn = |node: &str| {
        let node = node.trim_end_matches('.');
        let relative = node
            .strip_suffix(&format!(".{zone}"))
            .unwrap_or("_vlmcs._tcp.<domain label>");
        let base: Vec<String> = zone.split('.').map(|l| format!("DC={l}")).collect();
        format!(
            "DC={relative},DC={zone},CN=MicrosoftDNS,DC=DomainDnsZones,{}",
            base.join(",")
        )
    };
    let example = dn(nodes.first().map_or("", String::as_str));
    format!(
        "in Active Directory a _vlmcs._tcp node belongs to the account that created it (here likely another account, often the first KMS host's computer account), and only its owner and administrators may change it: {principal} needs write access (Read/Write Property) on that node itself, not on the zone. A DNS administrator grants it on each node: `kmsdns render powershell -c CONFIG > kms-dns.ps1`, then on Windows `.\\kms-dns.ps1 -DnsServer <dc> -KmsdnsAccount '<DOMAIN>\\{user}'`; or by hand `dsacls \"{example}\" /G \"<DOMAIN>\\{user}:RPWP\"` (the DN's last part is your AD domain's); on a Samba DC `samba-tool dsacl set --objectdn=\"{example}\" --sddl=\"(A;;RPWP;;;<SID of {user}>)\"`"
    )
}
