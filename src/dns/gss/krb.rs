//! The Kerberos side of GSS-TSIG through the system's MIT GSSAPI (`libgssapi`): credentials
//! (from the credential cache, or from a client keytab into a private in-memory cache), the
//! initiator context (SPNEGO, as nsupdate and Windows use), `get_mic` and `verify_mic`, and
//! GSS major/minor statuses mapped to [`GssError`]s that say what to do.
//!
//! `libgssapi` has no `gss_acquire_cred_from`, so that one call (and the name import it needs)
//! goes through `libgssapi-sys`: it is how a client keytab is used without setting
//! `KRB5_CLIENT_KTNAME`/`KRB5CCNAME` for the whole process (changing the environment of a
//! running multi-threaded process is unsound) and without writing the ticket into the user's
//! cache.

use std::ffi::{CString, c_void};
use std::ptr;

use libgssapi::context::{ClientCtx, CtxFlags, SecurityContext};
use libgssapi::credential::Cred;
use libgssapi::error::{Error, MajorFlags};
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_SPNEGO, GSS_NT_HOSTBASED_SERVICE, GSS_NT_KRB5_PRINCIPAL};
use libgssapi_sys as sys;

use super::GssKey;
use super::error::GssError;

/// krb5 error codes (krb5.h) that the GSS minor status carries.
const KDC_ERR_C_PRINCIPAL_UNKNOWN: i32 = -1765328378;
const KDC_ERR_S_PRINCIPAL_UNKNOWN: i32 = -1765328377;
const AP_ERR_TKT_EXPIRED: i32 = -1765328352;
const AP_ERR_SKEW: i32 = -1765328347;
const CC_NOTFOUND: i32 = -1765328243;
const KDCREP_SKEW: i32 = -1765328236;
const REALM_UNKNOWN: i32 = -1765328230;
const KDC_UNREACH: i32 = -1765328228;
const KT_NOTFOUND: i32 = -1765328203;
const FCC_NOFILE: i32 = -1765328189;
const REALM_CANT_RESOLVE: i32 = -1765328164;

/// The build has GSS-TSIG.
pub fn available(_key: &str) -> Result<(), GssError> {
    Ok(())
}

/// An initiator security context and the names it was made with.
pub struct Initiator {
    ctx: ClientCtx,
    key: String,
    /// The service principal asked for, as the user would write it.
    pub service: String,
    /// The client principal (from the credential).
    pub principal: String,
}

/// Turns a GSS status into what to do about it.
fn classify(key: &GssKey, e: &Error, during: &str, service: Option<(&str, &str)>) -> GssError {
    let detail = e.to_string().trim().to_string();
    let minor = e.minor as i32;
    let who = key.who();
    let key_id = key.id.clone();
    let lower = detail.to_ascii_lowercase();
    if minor == KDC_ERR_S_PRINCIPAL_UNKNOWN
        || (service.is_some() && lower.contains("not found in kerberos database"))
    {
        let (service, server) = service.unwrap_or(("?", "?"));
        return GssError::UnknownService {
            key: key_id,
            service: service.to_string(),
            server: server.to_string(),
            detail,
        };
    }
    if minor == AP_ERR_TKT_EXPIRED
        || e.major.contains(MajorFlags::GSS_S_CREDENTIALS_EXPIRED)
        || lower.contains("expired")
    {
        return GssError::Expired {
            key: key_id,
            who,
            detail,
        };
    }
    if minor == AP_ERR_SKEW || minor == KDCREP_SKEW || lower.contains("clock skew") {
        return GssError::ClockSkew {
            key: key_id,
            peer: service.map_or("the KDC".to_string(), |(_, s)| s.to_string()),
            skew: None,
            detail,
        };
    }
    if matches!(minor, KDC_UNREACH | REALM_UNKNOWN | REALM_CANT_RESOLVE)
        || lower.contains("cannot contact any kdc")
        || lower.contains("cannot find kdc")
    {
        return GssError::KdcUnreachable {
            key: key_id,
            who,
            detail,
        };
    }
    if matches!(
        minor,
        CC_NOTFOUND | FCC_NOFILE | KT_NOTFOUND | KDC_ERR_C_PRINCIPAL_UNKNOWN
    ) || e.major.contains(MajorFlags::GSS_S_NO_CRED)
        || lower.contains("no kerberos credentials")
        || lower.contains("no credentials")
    {
        return GssError::NoCredentials {
            key: key_id,
            who,
            detail,
        };
    }
    GssError::Gssapi {
        key: key_id,
        during: during.to_string(),
        detail,
    }
}

/// Acquires the initiator credential of `key`: from its keytab into a private MEMORY cache,
/// or from the credential cache (KRB5CCNAME / the default).
fn acquire(key: &GssKey) -> Result<Cred, GssError> {
    let raw_err = |major: u32, minor: u32| Error {
        major: MajorFlags::from_bits_retain(major),
        minor,
    };
    let mut strings: Vec<(CString, CString)> = Vec::new();
    if let Some(path) = &key.spec.keytab {
        let kt =
            CString::new(format!("FILE:{}", path.display())).map_err(|_| GssError::Keytab {
                key: key.id.clone(),
                path: path.clone(),
                reason: "the path contains a NUL byte".into(),
            })?;
        let cache = CString::new(format!("MEMORY:kmsdns-{}-{}", std::process::id(), key.id))
            .expect("no NUL");
        strings.push((CString::new("client_keytab").expect("no NUL"), kt));
        strings.push((CString::new("ccache").expect("no NUL"), cache));
    }
    let mut elements: Vec<sys::gss_key_value_element_desc> = strings
        .iter()
        .map(|(k, v)| sys::gss_key_value_element_desc {
            key: k.as_ptr(),
            value: v.as_ptr(),
        })
        .collect();
    let store = sys::gss_key_value_set_desc {
        count: elements.len() as u32,
        elements: elements.as_mut_ptr(),
    };
    let mut minor: u32 = 0;
    let mut name: sys::gss_name_t = ptr::null_mut();
    if let Some(p) = &key.spec.principal {
        let mut buf = sys::gss_buffer_desc {
            length: p.len(),
            value: p.as_ptr() as *mut c_void,
        };
        let mut oid = sys::gss_OID_desc {
            length: GSS_NT_KRB5_PRINCIPAL.len() as u32,
            elements: GSS_NT_KRB5_PRINCIPAL.as_ptr() as *mut c_void,
        };
        // SAFETY: buf and oid point at live data for the call; name is released below.
        let major = unsafe { sys::gss_import_name(&mut minor, &mut buf, &mut oid, &mut name) };
        if major != 0 {
            return Err(classify(
                key,
                &raw_err(major, minor),
                "reading the principal name",
                None,
            ));
        }
    }
    let mut cred: sys::gss_cred_id_t = ptr::null_mut();
    // SAFETY: every pointer is valid for the call (store and its strings outlive it); a null
    // name means the default principal; the returned cred is owned by `Cred`.
    let major = unsafe {
        sys::gss_acquire_cred_from(
            &mut minor,
            name,
            sys::_GSS_C_INDEFINITE,
            ptr::null_mut(),
            sys::GSS_C_INITIATE as i32,
            &store,
            &mut cred,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if !name.is_null() {
        let mut m = 0;
        // SAFETY: name came from gss_import_name.
        unsafe { sys::gss_release_name(&mut m, &mut name) };
    }
    if major != 0 {
        return Err(classify(
            key,
            &raw_err(major, minor),
            "getting Kerberos credentials",
            None,
        ));
    }
    // SAFETY: a credential gss_acquire_cred_from just returned; Cred releases it.
    Ok(unsafe { Cred::from_c(cred) })
}

impl Initiator {
    /// Acquires the credential and starts a context for `service` (`DNS@host` host-based, or
    /// `DNS/host[@REALM]` a principal). Blocking: may talk to the KDC.
    pub fn new(key: &GssKey, service: &str, server: &str) -> Result<Initiator, GssError> {
        let cred = acquire(key)?;
        let principal = cred
            .name()
            .ok()
            .and_then(|n| n.display_name().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|| key.who());
        if let Ok(life) = cred.lifetime()
            && life.as_secs() == 0
        {
            return Err(GssError::Expired {
                key: key.id.clone(),
                who: principal,
                detail: "the credential's lifetime is over".into(),
            });
        }
        let kind = if service.contains('/') {
            &GSS_NT_KRB5_PRINCIPAL
        } else {
            &GSS_NT_HOSTBASED_SERVICE
        };
        let target = Name::new(service.as_bytes(), Some(*kind))
            .map_err(|e| classify(key, &e, "reading the service name", Some((service, server))))?;
        let flags = CtxFlags::GSS_C_MUTUAL_FLAG | CtxFlags::GSS_C_INTEG_FLAG;
        Ok(Initiator {
            ctx: ClientCtx::new(Some(cred), target, flags, Some(GSS_MECH_SPNEGO)),
            key: key.id.clone(),
            service: service.to_string(),
            principal,
        })
    }

    /// One step: the token for the server, or `None` when the context is complete.
    pub fn step(
        &mut self,
        key: &GssKey,
        token: Option<&[u8]>,
        server: &str,
    ) -> Result<Option<Vec<u8>>, GssError> {
        let service = self.service.clone();
        self.ctx
            .step(token, None)
            .map(|t| t.map(|b| b.to_vec()))
            .map_err(|e| {
                classify(
                    key,
                    &e,
                    "negotiating the security context",
                    Some((&service, server)),
                )
            })
    }

    /// The context is established.
    pub fn is_complete(&self) -> bool {
        self.ctx.is_complete()
    }

    /// `gss_get_mic` over `digest`.
    pub fn get_mic(&mut self, digest: &[u8]) -> Result<Vec<u8>, GssError> {
        self.ctx
            .get_mic(digest)
            .map(|b| b.to_vec())
            .map_err(|e| GssError::Gssapi {
                key: self.key.clone(),
                during: "signing a message".into(),
                detail: e.to_string(),
            })
    }

    /// `gss_verify_mic` of `mic` over `digest`.
    ///
    /// A MIC that verifies but arrives out of sequence (GSS_S_UNSEQ_TOKEN, GSS_S_GAP_TOKEN,
    /// GSS_S_OLD_TOKEN: supplementary bits beside a complete status) is good: concurrent reads
    /// get their replies in any order, and the krb5 mechanism numbers the server's MICs in
    /// the order it made them. A duplicate (a replayed reply) and any routine error are not.
    pub fn verify_mic(&mut self, digest: &[u8], mic: &[u8]) -> bool {
        use libgssapi::error::MajorFlags;
        match self.ctx.verify_mic(digest, mic) {
            Ok(()) => true,
            Err(e) => {
                let order = MajorFlags::GSS_S_UNSEQ_TOKEN
                    | MajorFlags::GSS_S_GAP_TOKEN
                    | MajorFlags::GSS_S_OLD_TOKEN;
                let ok = !e.major.is_empty() && order.contains(e.major);
                if ok {
                    tracing::debug!(status = ?e.major, "a reply's MIC verifies; it came out of sequence");
                } else {
                    tracing::debug!(status = ?e.major, minor = e.minor, "gss_verify_mic: {e}");
                }
                ok
            }
        }
    }
}
