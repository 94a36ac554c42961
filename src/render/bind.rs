//! `render bind`: zone-file lines (RFC 1035 §5 master file format) for each zone.
//!
//! Owners are relative to an explicit `$ORIGIN`, every record carries its TTL and targets are
//! absolute, so the lines mean the same wherever they are appended.

use super::{Rendered, Section, ZoneGroup, display_domain, header, relative_owner};
use crate::model::DesiredState;

/// Zone-file lines per zone: `$ORIGIN`, relative owners, explicit TTLs, absolute targets.
pub fn render(config: &DesiredState, groups: &[ZoneGroup<'_>]) -> Rendered {
    let header = header(
        ";",
        "BIND zone-file lines: the _vlmcs._tcp SRV records of the KMS hosts (Microsoft KMS activation).",
        config,
        &[
            "append each zone's lines to that zone's file, raise the SOA serial, check with",
            "`named-checkzone ZONE FILE`, then `rndc reload ZONE`. For a zone that takes dynamic",
            "updates use `kmsdns render nsupdate` (or `rndc freeze ZONE` / `rndc thaw ZONE` around",
            "the edit). $ORIGIN stays in effect after these lines: keep them at the end of the file.",
        ],
    );
    let sections = groups
        .iter()
        .map(|g| Section {
            file_name: format!("{}.zone", g.zone.as_str()),
            text: zone_lines(g),
        })
        .collect();
    Rendered {
        header,
        sections,
        table_head: None,
    }
}

/// The lines for one zone.
pub fn zone_lines(group: &ZoneGroup<'_>) -> String {
    let mut out = String::new();
    if group.configured {
        out.push_str(&format!("; zone {}\n", display_domain(&group.zone)));
    } else {
        out.push_str(&format!(
            "; zone not configured for {}: these lines go in the zone that contains it;\n\
             ; the $ORIGIN line makes them correct there.\n",
            display_domain(&group.zone)
        ));
    }
    out.push_str(&format!("$ORIGIN {}\n", group.zone));
    for d in &group.domains {
        let owner = relative_owner(d, &group.zone);
        out.push_str(&format!("; {}", display_domain(&d.name)));
        if d.records.is_empty() {
            out.push_str(": no KMS records (delete any _vlmcs._tcp SRV records here)\n");
            continue;
        }
        if d.prune {
            out.push_str(": the complete RRset\n");
        } else {
            out.push_str(": prune = false, keep other SRV records at this name\n");
        }
        for r in &d.records {
            out.push_str(&format!("{owner} {} IN SRV {}\n", r.ttl, r.rdata()));
        }
    }
    out
}
