//! `render pdns`: what PowerDNS Authoritative needs to let kmsdns (and nothing else) change the
//! KMS records: a Lua update policy (`lua-dnsupdate-policy-script`) that allows each TSIG key
//! only the SRV records at the `_vlmcs._tcp.<domain>.` names of its domains, and the pdnsutil
//! commands for the keys and the per-zone metadata (TSIG-ALLOW-DNSUPDATE, SOA-EDIT-DNSUPDATE).
//!
//! Metadata alone cannot restrict record types: TSIG-ALLOW-DNSUPDATE lets a key change any
//! record of the zone. With a Lua policy PowerDNS skips the ALLOW-DNSUPDATE-FROM and
//! TSIG-ALLOW-DNSUPDATE checks, so the script checks the key itself. The policy is one file
//! for the whole server, so it lists every rendered zone. PowerDNS decides each record of an
//! UPDATE on its own and answers NOERROR while skipping refused records; kmsdns reads every
//! change back, so a refusal shows up as a failed zone.
//!
//! Two sections with their own headers: `update-policy.lua` and `pdnsutil.sh`. Renderers
//! never read secrets: `import-tsig-key` carries a placeholder.

use super::{Rendered, Section, ZoneGroup, display_domain, header, used_keys, zone_grants_hmac};
use crate::model::{DesiredState, KeySource, KeySpec};

/// Where the apply lines suggest saving the script.
pub const POLICY_PATH: &str = "/etc/powerdns/kmsdns-update-policy.lua";

/// PowerDNS: `update-policy.lua` for `lua-dnsupdate-policy-script` and `pdnsutil.sh` with the key import and per-zone metadata.
pub fn render(config: &DesiredState, groups: &[ZoneGroup<'_>]) -> Rendered {
    let lua_header = header(
        "--",
        "PowerDNS lua-dnsupdate-policy-script: each TSIG key may change only the KMS _vlmcs._tcp SRV records.",
        config,
        &[
            &format!("save as {POLICY_PATH}; in pdns.conf set"),
            &format!("dnsupdate=yes and lua-dnsupdate-policy-script={POLICY_PATH};"),
            "run pdnsutil.sh, then restart pdns.",
        ],
    );
    let sh_header = header(
        "#",
        "pdnsutil commands for the KMS records: TSIG keys and per-zone update metadata.",
        config,
        &[
            "replace each secret placeholder, then run these lines on the PowerDNS primary",
            "(pdnsutil writes to the backend pdns.conf names), next to update-policy.lua.",
        ],
    );
    Rendered {
        header: String::new(),
        sections: vec![
            Section {
                file_name: "update-policy.lua".to_string(),
                text: format!("{lua_header}\n{}", policy_script(config, groups)),
            },
            Section {
                file_name: "pdnsutil.sh".to_string(),
                text: format!("{sh_header}\n{}", pdnsutil_commands(config, groups)),
            },
        ],
        table_head: None,
    }
}

/// The placeholder written instead of a key's secret (not base64: `-` is outside its alphabet).
pub fn secret_placeholder(key: &KeySpec) -> String {
    format!("SECRET-OF-{}", key.name)
}

/// The Lua policy for every rendered zone.
pub fn policy_script(config: &DesiredState, groups: &[ZoneGroup<'_>]) -> String {
    let mut out = String::from(
        "-- PowerDNS calls updatepolicy() once per record of an UPDATE; false skips that record\n\
         -- (the UPDATE still answers NOERROR). With this script PowerDNS no longer checks\n\
         -- ALLOW-DNSUPDATE-FROM or TSIG-ALLOW-DNSUPDATE: the key is checked here. Like BIND's\n\
         -- update-policy grants it checks the key, not the source address. This is the server's\n\
         -- only update policy: a zone missing below takes no updates at all.\n\
         --\n\
         -- To accept updates only from some addresses as well, define\n\
         --   local from = newNMG(); from:addMask(\"192.0.2.0/24\")\n\
         -- and begin updatepolicy() with\n\
         --   if not from:match(input:getRemote()) then return false end\n\
         --\n\
         -- zone, TSIG key, and the owner names (exact) where that key may change SRV records\n\
         local grants = {\n",
    );
    for g in groups {
        out.push_str(&format!("  -- zone {}", display_domain(&g.zone)));
        if !g.configured {
            out.push_str(" (not configured: assumed to be its own zone; if it lies in a parent zone, use that zone's name)");
        }
        out.push('\n');
        let (grants, unsigned) = zone_grants_hmac(config, g);
        for d in unsigned {
            out.push_str(&format!(
                "  -- {}: no TSIG key is configured for its server, so kmsdns sends unsigned\n  \
                 -- updates, which this policy refuses; set [defaults].key or the server's key.\n",
                display_domain(&d.name)
            ));
        }
        for k in &grants {
            out.push_str(&format!(
                "  {{ zone = {}, key = {}, owners = {{\n",
                lua_str(&g.zone.to_string()),
                lua_str(&format!("{}.", k.key.name.trim_end_matches('.')))
            ));
            for o in &k.owners {
                out.push_str(&format!("    {},\n", lua_str(&o.to_string())));
            }
            out.push_str("  } },\n");
        }
    }
    out.push_str(
        "}\n\
         \n\
         function updatepolicy(input)\n  \
           if input:getQType() ~= pdns.SRV then return false end\n  \
           for _, grant in ipairs(grants) do\n    \
             -- DNSName:equal compares names case-insensitively; an unsigned update has an\n    \
             -- empty TSIG name, which equals no key.\n    \
             if input:getZoneName():equal(grant.zone) and input:getTsigName():equal(grant.key) then\n      \
               for _, owner in ipairs(grant.owners) do\n        \
                 if input:getQName():equal(owner) then return true end\n      \
               end\n    \
             end\n  \
           end\n  \
           return false\n\
         end\n",
    );
    out
}

/// `pdnsutil import-tsig-key` per key (placeholder secret) and `set-meta` per zone.
pub fn pdnsutil_commands(config: &DesiredState, groups: &[ZoneGroup<'_>]) -> String {
    let mut out = String::from("# pdns.conf on the primary:\n#   dnsupdate=yes\n");
    out.push_str(&format!("#   lua-dnsupdate-policy-script={POLICY_PATH}\n"));
    let keys = used_keys(config, groups);
    if keys.is_empty() {
        out.push_str(
            "\n# No TSIG key is configured for these zones, so kmsdns would send unsigned\n\
             # updates, which the policy refuses. Create one with `kmsdns keygen kms-update`,\n\
             # name it in [keys.kms-update] and [defaults].key, and render again.\n",
        );
    }
    for k in &keys {
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
                    "\n# key {}: GSS-TSIG (Kerberos), which PowerDNS does not support for updates;\n# use an HMAC key.\n",
                    k.id
                ));
                continue;
            }
        };
        out.push_str(&format!(
            "\n# TSIG key {}: PowerDNS keeps its own copy. Replace the placeholder with\n# {source}.\n",
            k.name
        ));
        let alg = match k.algorithm {
            Some(a) => a.name(),
            None => {
                out.push_str(&format!(
                    "# hmac-sha256 is assumed: it must be the algorithm of the key file (set\n\
                     # algorithm in [keys.{}] to render it from the config).\n",
                    k.id
                ));
                "hmac-sha256"
            }
        };
        out.push_str(&format!(
            "pdnsutil import-tsig-key {} {alg} {}\n",
            sh_word(&k.name),
            secret_placeholder(k)
        ));
    }
    out.push_str(
        "\n# Per zone: TSIG-ALLOW-DNSUPDATE names the zone's keys. PowerDNS does not check it while\n\
         # the Lua policy is set; without the policy these keys could change any record of the\n\
         # zone (and no other key could). SOA-EDIT-DNSUPDATE INCREASE raises the serial by one per\n\
         # update (by default it jumps to a YYYYMMDDnn date).\n",
    );
    for g in groups {
        let zone = sh_word(g.zone.as_str());
        out.push_str(&format!("# zone {}\n", display_domain(&g.zone)));
        let (grants, _) = zone_grants_hmac(config, g);
        if !grants.is_empty() {
            let names: Vec<String> = grants.iter().map(|k| sh_word(&k.key.name)).collect();
            out.push_str(&format!(
                "pdnsutil set-meta {zone} TSIG-ALLOW-DNSUPDATE {}\n",
                names.join(" ")
            ));
        }
        out.push_str(&format!(
            "pdnsutil set-meta {zone} SOA-EDIT-DNSUPDATE INCREASE\n"
        ));
    }
    out
}

/// A Lua string literal.
fn lua_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `s` as one shell word: bare when it is made of safe characters, else single-quoted.
fn sh_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':'));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
