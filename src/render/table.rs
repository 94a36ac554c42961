//! `render table` (alias `zone-summary`): domain → zone → server → targets, for reviews.

use super::{Rendered, Section, ZoneGroup, display_domain, domain_server, header};
use crate::model::DesiredState;

const COLUMNS: [&str; 9] = [
    "DOMAIN", "ZONE", "SERVER", "PRUNE", "TARGET", "PRIO", "WEIGHT", "PORT", "TTL",
];

/// A table of domain → zone → server → targets, for reviews.
pub fn render(config: &DesiredState, groups: &[ZoneGroup<'_>]) -> Rendered {
    let mut header = header(
        "#",
        "KMS SRV records by zone: the _vlmcs._tcp records kmsdns keeps (for reviews).",
        config,
        &["nothing to apply; `kmsdns plan` shows what would change in DNS."],
    );
    header.push_str("# ZONE `(from SOA)`: not configured, discovered at run time from the SOA.\n");
    let tables: Vec<Vec<[String; 9]>> = groups.iter().map(|g| rows(config, g)).collect();
    let mut widths = COLUMNS.map(str::len);
    for row in tables.iter().flatten() {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let sections = groups
        .iter()
        .zip(&tables)
        .map(|(g, rows)| {
            let mut text = String::new();
            for r in rows {
                text.push_str(&line(r, &widths));
            }
            Section {
                file_name: format!("{}.txt", g.zone.as_str()),
                text,
            }
        })
        .collect();
    Rendered {
        header,
        sections,
        table_head: Some(line(&COLUMNS.map(str::to_string), &widths)),
    }
}

fn rows(config: &DesiredState, g: &ZoneGroup<'_>) -> Vec<[String; 9]> {
    let mut out = Vec::new();
    for d in &g.domains {
        let zone = match &d.zone {
            Some(z) => z.as_str().to_string(),
            None if g.configured => g.zone.as_str().to_string(),
            None => "(from SOA)".to_string(),
        };
        let server = match domain_server(config, d) {
            Some(s) => format!("{} {}", s.id, s.address_list()),
            None => "(SOA primary)".to_string(),
        };
        let prune = if d.prune { "yes" } else { "no" }.to_string();
        let first = [display_domain(&d.name), zone, server, prune];
        if d.records.is_empty() {
            let [a, b, c, e] = first;
            out.push([
                a,
                b,
                c,
                e,
                "(none)".into(),
                "".into(),
                "".into(),
                "".into(),
                "".into(),
            ]);
            continue;
        }
        for (i, r) in d.records.iter().enumerate() {
            let [a, b, c, e] = if i == 0 {
                first.clone()
            } else {
                Default::default()
            };
            out.push([
                a,
                b,
                c,
                e,
                r.target.to_string(),
                r.priority.to_string(),
                r.weight.to_string(),
                r.port.to_string(),
                r.ttl.to_string(),
            ]);
        }
    }
    out
}

fn line(cells: &[String; 9], widths: &[usize; 9]) -> String {
    let mut s = String::new();
    for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            s.push_str("  ");
        }
        let pad = w.saturating_sub(c.chars().count());
        // Numbers right-aligned.
        if i >= 5 {
            s.push_str(&" ".repeat(pad));
            s.push_str(c);
        } else {
            s.push_str(c);
            s.push_str(&" ".repeat(pad));
        }
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}
