//! `render knot`: the Knot DNS configuration that lets kmsdns (and nothing else) change the
//! KMS records: the TSIG `key:` items and, per zone, an `acl:` item per key restricted to
//! `update-type: SRV` at exactly the `_vlmcs._tcp.<domain>.` names (Knot 3.1+
//! `update-owner: name`, `update-owner-match: equal`), plus the zone's `acl:` reference.
//!
//! Knot keeps TSIG secrets in its own configuration, and renderers never read secrets: the
//! `secret:` line is a placeholder that is not valid base64, so `knotc conf-check` rejects the
//! file until the real secret is pasted in.

use super::{
    KeyGrant, Rendered, Section, ZoneGroup, display_domain, header, used_keys, zone_grants_hmac,
};
use crate::model::{DesiredState, KeySource, KeySpec};

/// Knot DNS configuration: the `key:` items (secret as a placeholder) and per zone the `acl:` items that allow exactly the SRV updates kmsdns makes.
pub fn render(config: &DesiredState, groups: &[ZoneGroup<'_>]) -> Rendered {
    let header = header(
        "#",
        "Knot DNS configuration: TSIG keys and per-zone ACLs that let each key change only the KMS _vlmcs._tcp SRV records.",
        config,
        &[
            "paste each key's secret over its placeholder and put the key items into knot.conf;",
            "add the acl items, and add each zone's acl ids to that zone's existing item (Knot",
            "refuses a second item for the same domain); then `knotc conf-check` and `knotc reload`.",
        ],
    );
    let mut sections = vec![Section {
        file_name: "keys.knot.conf".to_string(),
        text: key_items(config, groups),
    }];
    for g in groups {
        sections.push(Section {
            file_name: format!("{}.knot.conf", g.zone.as_str()),
            text: zone_items(config, g),
        });
    }
    Rendered {
        header,
        sections,
        table_head: None,
    }
}

/// The placeholder written instead of a key's secret (not base64: `-` is outside its alphabet).
pub fn secret_placeholder(key: &KeySpec) -> String {
    format!("SECRET-OF-{}", key.name)
}

/// The `acl` id of one key's grant in one zone.
pub fn acl_id(grant: &KeyGrant<'_>, group: &ZoneGroup<'_>) -> String {
    format!("kmsdns-{}-{}", grant.key.name, group.zone.as_str())
}

fn key_items(config: &DesiredState, groups: &[ZoneGroup<'_>]) -> String {
    let keys = used_keys(config, groups);
    if keys.is_empty() {
        return "# No TSIG key is configured for these zones, so kmsdns would send unsigned\n\
                # updates, which no ACL below allows. Create one with `kmsdns keygen kms-update`,\n\
                # name it in [keys.kms-update] and [defaults].key, and render again.\n"
            .to_string();
    }
    let mut out = String::from("key:\n");
    for k in keys {
        let source = match &k.source {
            KeySource::File(path) => format!(
                "the base64 secret of {} (its `secret \"...\";` line)",
                path.display()
            ),
            KeySource::Env(var) => {
                format!("the base64 secret kmsdns reads from ${var} (without any `alg:name:`)")
            }
            KeySource::Gss(_) => {
                out.push_str(&format!(
                    "  # key {}: GSS-TSIG (Kerberos), which Knot does not support; use an HMAC key.\n",
                    k.id
                ));
                continue;
            }
        };
        out.push_str(&format!(
            "  # TSIG key {}: Knot needs its own copy of the secret. Replace the placeholder\n\
             \x20 # with {source}.\n\
             \x20 # Keep knot.conf readable by knotd only.\n",
            k.name
        ));
        let alg = match k.algorithm {
            Some(a) => a.name(),
            None => {
                out.push_str(&format!(
                    "  # hmac-sha256 is assumed: it must be the algorithm of the key file (set\n\
                     \x20 # algorithm in [keys.{}] to render it from the config).\n",
                    k.id
                ));
                "hmac-sha256"
            }
        };
        out.push_str(&format!(
            "  - id: {}\n    algorithm: {alg}\n    secret: {}\n",
            k.name,
            secret_placeholder(k)
        ));
    }
    out
}

/// One zone's `acl:` items and the `zone:` item that names them.
pub fn zone_items(config: &DesiredState, group: &ZoneGroup<'_>) -> String {
    let mut out = String::new();
    if group.configured {
        out.push_str(&format!("# zone {}\n", display_domain(&group.zone)));
    } else {
        out.push_str(&format!(
            "# zone not configured for {}: it is assumed to be its own zone here; if it lies in\n\
             # a parent zone, add the acl to that zone's item instead.\n",
            display_domain(&group.zone)
        ));
    }
    let (grants, unsigned) = zone_grants_hmac(config, group);
    for d in unsigned {
        out.push_str(&format!(
            "# {}: no TSIG key is configured for its server, so kmsdns sends unsigned updates,\n\
             # which these ACLs refuse; set [defaults].key or the server's key.\n",
            display_domain(&d.name)
        ));
    }
    if group.domains.iter().any(|d| !d.prune) {
        out.push_str(
            "# prune = false here: Windows KMS hosts sign their own updates with GSS-TSIG, which\n\
             # Knot does not support, so they cannot publish themselves; list them in the TOML.\n",
        );
    }
    if grants.is_empty() {
        return out;
    }
    out.push_str(
        "acl:\n  # Least privilege: each key may change only the SRV records at exactly these\n  \
         # names. Give the key no other update rule in this zone: a broader one would allow more.\n",
    );
    let mut ids = Vec::new();
    for g in &grants {
        let id = acl_id(g, group);
        let owners: Vec<String> = g.owners.iter().map(|o| o.to_string()).collect();
        out.push_str(&format!(
            "  - id: {id}\n    key: {}\n    action: update\n    update-type: SRV\n    \
             update-owner: name\n    update-owner-match: equal\n    update-owner-name: [{}]\n",
            g.key.name,
            owners.join(", ")
        ));
        ids.push(id);
    }
    out.push_str(&format!(
        "zone:\n  - domain: {}\n    # keep the storage, file and template lines of your zone item; add these\n    \
         # ids to its acl list\n    acl: [{}]\n",
        group.zone,
        ids.join(", ")
    ));
    out
}
