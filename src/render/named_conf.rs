//! `render named-conf`: the BIND configuration that lets kmsdns (and nothing else) change the
//! KMS records: the TSIG key statement and, per zone, a least-privilege `update-policy`
//! (RFC 3007 secure dynamic update; BIND ARM `update-policy` rule type `name`).

use std::collections::BTreeMap;

use super::{Rendered, Section, ZoneGroup, display_domain, domain_key, header, used_keys};
use crate::model::{DesiredState, KeySource};

/// Choices of `render named-conf`.
#[derive(Clone, Debug, Default)]
pub struct NamedConfOptions {
    /// Print `allow-update { any; };` instead of the grants (the caller warns on stderr).
    pub allow_any: bool,
    /// Key id → the key statement copied verbatim from its key file (`--include-secret`).
    /// Keys not in the map are included by file name.
    pub inline_keys: BTreeMap<String, String>,
}

/// named.conf lines: the key include (or, with `inline_keys`, the key statements) and per zone an `update-policy` granting each key SRV at its `_vlmcs._tcp` names.
pub fn render(
    config: &DesiredState,
    groups: &[ZoneGroup<'_>],
    opts: &NamedConfOptions,
) -> Rendered {
    let header = header(
        "//",
        "named.conf statements: a TSIG key and least-privilege update rights for the KMS _vlmcs._tcp SRV records.",
        config,
        &[
            "put the key statement once into named.conf and merge each zone's update-policy (or",
            "allow-update) into that zone's existing statement, keeping its own type and file lines;",
            "then `named-checkconf` and `rndc reconfig`.",
        ],
    );
    let mut sections = vec![Section {
        file_name: "keys.named.conf".to_string(),
        text: key_statements(config, groups, opts),
    }];
    for g in groups {
        sections.push(Section {
            file_name: format!("{}.named.conf", g.zone.as_str()),
            text: zone_statement(config, g, opts),
        });
    }
    Rendered {
        header,
        sections,
        table_head: None,
    }
}

fn key_statements(
    config: &DesiredState,
    groups: &[ZoneGroup<'_>],
    opts: &NamedConfOptions,
) -> String {
    let mut out = String::new();
    let keys = used_keys(config, groups);
    if keys.is_empty() {
        out.push_str(
            "// No TSIG key is configured for these zones, so updates would go unsigned.\n\
             // Create one with `kmsdns keygen kms-update` (or `tsig-keygen kms-update`), name it\n\
             // in [keys.kms-update] and [defaults].key, and render again.\n",
        );
        return out;
    }
    for k in keys {
        let alg = k.algorithm.map(|a| a.name()).unwrap_or("hmac-sha256");
        if let Some(stmt) = opts.inline_keys.get(&k.id) {
            out.push_str(&format!(
                "// TSIG key {} (secret inline: keep this file readable by named only)\n{}\n",
                k.name,
                stmt.trim_end()
            ));
            continue;
        }
        match &k.source {
            KeySource::File(path) => out.push_str(&format!(
                "// TSIG key {}: its key file as kmsdns reads it. named resolves a relative path\n\
                 // against its working directory: copy the file to the BIND server (mode 0640,\n\
                 // group bind) and adjust the path there.\n\
                 include \"{}\";\n",
                k.name,
                escape(&path.display().to_string())
            )),
            KeySource::Env(var) => out.push_str(&format!(
                "// TSIG key {name}: kmsdns reads its secret from ${var}, so there is no key file to\n\
                 // include. Create the key statement with `kmsdns keygen {name}` or\n\
                 // `tsig-keygen -a {alg} {name}`, include that file here, and put the same secret into\n\
                 // ${var}:\n\
                 // key \"{name}\" {{ algorithm {alg}; secret \"...\"; }};\n",
                name = k.name,
            )),
            KeySource::Gss(g) => out.push_str(&format!(
                "// GSS-TSIG key {id} (Kerberos): no key statement. named needs its own service key,\n\
                 // DNS/<primary host>@REALM, in a keytab:\n\
                 // options {{ tkey-gssapi-keytab \"/etc/bind/dns.keytab\"; }};\n\
                 // The grants below name the client principal {who}.\n",
                id = k.id,
                who = g.principal.as_deref().unwrap_or("user@REALM"),
            )),
        }
    }
    out
}

/// One `zone` statement with the update rights for its managed domains.
pub fn zone_statement(
    config: &DesiredState,
    group: &ZoneGroup<'_>,
    opts: &NamedConfOptions,
) -> String {
    let zone = group.zone.as_str();
    let mut out = String::new();
    if group.configured {
        out.push_str(&format!("// zone {}\n", display_domain(&group.zone)));
    } else {
        out.push_str(&format!(
            "// zone not configured for {}: it is assumed to be its own zone here; if it lies in\n\
             // a parent zone, put the grant into that zone's statement instead.\n",
            display_domain(&group.zone)
        ));
    }
    out.push_str(&format!("zone \"{zone}\" {{\n"));
    out.push_str(
        "    type primary;          // keep the type and file lines of your zone statement\n",
    );
    out.push_str(&format!("    file \"{zone}.db\";\n"));
    if opts.allow_any {
        comment(
            &mut out,
            "    ",
            &[
                "WARNING (--allow-any): anyone who can reach this server can now rewrite the whole",
                "zone, not only the KMS records. Prefer the update-policy grants kmsdns renders by",
                "default.",
            ],
        );
        out.push_str("    allow-update { any; };\n");
        out.push_str("};\n");
        return out;
    }
    let mut grants = Vec::new();
    let mut notes = Vec::new();
    let mut self_publish = Vec::new();
    for d in &group.domains {
        match domain_key(config, d) {
            Some(k) => grants.push(format!("grant {} name {} SRV;", grantee(k), d.owner())),
            None => notes.push(format!(
                "    // {}: no TSIG key is configured for its server, so kmsdns sends unsigned\n    \
                 // updates, which this policy refuses; set [defaults].key or the server's key.\n",
                display_domain(&d.name)
            )),
        }
        if !d.prune {
            for r in &d.records {
                self_publish.push(format!(
                    "        // grant <key-of-{}> name {} SRV;\n",
                    r.target.as_str(),
                    d.owner()
                ));
            }
        }
    }
    comment(
        &mut out,
        "    ",
        &[
            "Least privilege: each key may change only the _vlmcs._tcp SRV records of the",
            "domains kmsdns manages. This replaces the widely given `allow-update { any; };`,",
            "with which anyone who can reach this server could rewrite the whole zone.",
        ],
    );
    for n in &notes {
        out.push_str(n);
    }
    if grants.is_empty() {
        out.push_str("    // update-policy { grant KEY name _vlmcs._tcp.<domain>. SRV; };\n");
    } else {
        out.push_str("    update-policy {\n");
        for g in &grants {
            out.push_str(&format!("        {g}\n"));
        }
        if !self_publish.is_empty() {
            comment(
                &mut out,
                "        ",
                &[
                    "Domains with prune = false: KMS hosts may publish themselves there too.",
                    "Give each such host's own key the same narrow right. Windows signs its",
                    "dynamic updates with GSS-TSIG (Kerberos) only: that needs tkey-gssapi-keytab",
                    "in options, and the key is then the host's Kerberos principal.",
                ],
            );
            for s in &self_publish {
                out.push_str(s);
            }
        }
        out.push_str("    };\n");
    }
    out.push_str("};\n");
    out
}

/// Writes `//` comment lines with an indent.
fn comment(out: &mut String, indent: &str, lines: &[&str]) {
    for l in lines {
        out.push_str(&format!("{indent}// {l}\n"));
    }
}

/// Quotes for a named.conf string.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Who a grant names: the TSIG key name, or a GSS-TSIG key's Kerberos principal.
fn grantee(k: &crate::model::KeySpec) -> String {
    match &k.source {
        KeySource::Gss(g) => g
            .principal
            .clone()
            .unwrap_or_else(|| "PRINCIPAL@REALM".to_string()),
        _ => k.name.clone(),
    }
}
