//! `plan --format markdown`: the plan as CommonMark (GitHub-flavoured tables) for a
//! pull-request comment or a CI job summary. Another reader of the plain-data [`Plan`], like
//! the text report and the JSON form; no colour, no terminal assumptions.

use std::io::{self, Write};

use crate::app::{Change, Plan, RrsetDiff, ZonePlan};

/// How many hex digits of a SHA-256 the footer shows.
const SHA_PREFIX: usize = 12;

/// `s` as one inline code span, safe in a table cell: a fence longer than any backtick run in
/// `s`, padded when `s` starts or ends with a backtick, `|` escaped (GFM splits cells on it
/// even inside code), line breaks folded into spaces.
pub fn code(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ").replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `s` as plain inline text: the characters Markdown would read as syntax escaped, line breaks
/// folded into spaces.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn prefix(sha: &str) -> &str {
    sha.get(..SHA_PREFIX).unwrap_or(sha)
}

/// The one-line summary under the heading.
fn summary(plan: &Plan) -> String {
    let t = plan.totals();
    let zones_failed = plan.zones.iter().filter(|z| z.error.is_some()).count();
    let domains_failed = plan.failed_domains.len();
    let unread = match (zones_failed, domains_failed) {
        (0, 0) => String::new(),
        (z, 0) => format!("{z} zone(s) could not be read"),
        (0, d) => format!("{d} domain(s) could not be placed"),
        (z, d) => format!("{z} zone(s) could not be read and {d} domain(s) could not be placed"),
    };
    if plan.has_changes() {
        let mut line = format!(
            "**Plan: {} to add, {} to change, {} to delete.**",
            t.add, t.change, t.delete
        );
        if !unread.is_empty() {
            line.push_str(&format!(" Errors: {unread} (see below)."));
        }
        line
    } else if plan.has_errors() {
        format!("**No changes planned**, but {unread} (see below).")
    } else if plan
        .zones
        .iter()
        .flat_map(|z| &z.rrsets)
        .any(|r| !r.ttl_kept.is_empty())
    {
        "**No changes.** KMS SRV records match the configuration, but for the TTLs kept (see the notes).".into()
    } else {
        "**No changes.** KMS SRV records match the configuration.".into()
    }
}

fn zone_header(out: &mut impl Write, z: &ZonePlan) -> io::Result<()> {
    let (o, server) = (&z.target, &z.target.server);
    writeln!(out, "### Zone {}\n", code(&o.zone.to_string()))?;
    let key = server
        .key
        .as_deref()
        .map_or("unsigned".to_string(), |k| format!("key {}", code(k)));
    let fallbacks = if server.fallbacks.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = server.fallbacks.iter().map(|c| code(&c.label)).collect();
        format!(" · then {}", list.join(", "))
    };
    writeln!(
        out,
        "Zone {} · server {} ({}){fallbacks} · {} · {key}\n",
        if o.zone_discovered {
            "discovered"
        } else {
            "configured"
        },
        code(&server.label),
        if server.discovered {
            "discovered: SOA MNAME"
        } else {
            "configured"
        },
        server.transport,
    )?;
    if let Some(f) = &z.failover {
        let skipped: Vec<String> = f
            .skipped
            .iter()
            .map(|s| format!("{} ({}: {})", code(&s.server), s.reason, text(&s.detail)))
            .collect();
        writeln!(
            out,
            "Failover: read from {}; skipped {}.\n",
            code(&f.server),
            skipped.join(", ")
        )?;
    }
    Ok(())
}

/// The change table of one zone: one row per change, in plan order.
fn change_table(out: &mut impl Write, rrsets: &[RrsetDiff]) -> io::Result<()> {
    writeln!(out, "| | Owner | Record | What differs |")?;
    writeln!(out, "|:-:|---|---|---|")?;
    for r in rrsets {
        let owner = code(&r.owner.to_string());
        for c in &r.changes {
            let (sign, record, what) = match c {
                Change::Add { record } => ("+", record, "missing: added".to_string()),
                Change::Delete { record } => ("-", record, "not in the config: deleted".into()),
                Change::Change { from, to } => {
                    ("~", to, text(&super::report::describe_change(from, to)))
                }
            };
            writeln!(
                out,
                "| {sign} | {owner} | {} | {what} |",
                code(&record.to_string())
            )?;
        }
    }
    writeln!(out)
}

/// Notes on records the plan keeps: unmanaged members and TTLs a kept member set.
fn notes(rrsets: &[RrsetDiff]) -> Vec<String> {
    let mut notes = Vec::new();
    for r in rrsets {
        let owner = code(&r.owner.to_string());
        for k in &r.ttl_kept {
            notes.push(format!(
                "{owner}: TTL kept on {} (config ttl {}; TTL {} set by the foreign member {}; one RRset has one TTL)",
                code(&k.record.to_string()),
                k.desired_ttl,
                k.record.ttl,
                code(&k.foreign.to_string()),
            ));
        }
        let new_ttl = r.changes.iter().find_map(|c| match c {
            Change::Add { record } | Change::Change { to: record, .. } => Some(record.ttl),
            Change::Delete { .. } => None,
        });
        for u in &r.unmanaged {
            let target = code(&u.target.to_string());
            let mut note = format!(
                "{owner}: {} is unmanaged, kept because `prune = false`. If {target} is a Windows KMS host that publishes itself, set `DisableDnsPublishing=1` on it (`kmsdns render registry --disable-publishing`) or list it in the config.",
                code(&u.to_string()),
            );
            if let Some(ttl) = new_ttl.filter(|t| *t != u.ttl) {
                note.push_str(&format!(
                    " One RRset has one TTL: this change gives {target} TTL {ttl} too."
                ));
            }
            notes.push(note);
        }
    }
    notes
}

/// Writes the plan as Markdown: heading, summary, one section per zone, failed domains and a
/// footer naming the config file and the digests.
pub fn write_plan(out: &mut impl Write, plan: &Plan) -> io::Result<()> {
    writeln!(out, "## kmsdns plan\n")?;
    writeln!(out, "{}\n", summary(plan))?;
    for z in &plan.zones {
        zone_header(out, z)?;
        if let Some(p) = &z.error {
            writeln!(out, "> **Error:** {}\n>", text(&p.message))?;
            writeln!(out, "> Hint: {}\n", text(&p.hint))?;
            continue;
        }
        if z.rrsets.iter().any(|r| !r.changes.is_empty()) {
            change_table(out, &z.rrsets)?;
        }
        let up_to_date: Vec<String> = z
            .rrsets
            .iter()
            .filter(|r| r.changes.is_empty())
            .map(|r| code(&r.owner.to_string()))
            .collect();
        if !up_to_date.is_empty() {
            writeln!(out, "Up to date: {}.\n", up_to_date.join(", "))?;
        }
        let notes = notes(&z.rrsets);
        if !notes.is_empty() {
            writeln!(out, "Notes:\n")?;
            for n in notes {
                writeln!(out, "- {n}")?;
            }
            writeln!(out)?;
        }
    }
    if !plan.failed_domains.is_empty() {
        writeln!(out, "### Failed domains\n")?;
        for f in &plan.failed_domains {
            writeln!(
                out,
                "- {}: {} — hint: {}",
                code(&f.domain.to_string()),
                text(&f.problem.message),
                text(&f.problem.hint)
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "---\n")?;
    writeln!(
        out,
        "Config {} (sha256 {}) · plan\\_sha256 {} · kmsdns {}",
        code(&plan.config_file),
        code(prefix(&plan.config_sha256)),
        code(prefix(&plan.plan_sha256)),
        text(&plan.kmsdns_version),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_any_text() {
        assert_eq!(code("a.b."), "`a.b.`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a|b\nc"), "`a\\|b c`");
    }

    #[test]
    fn text_escapes_markdown_syntax() {
        assert_eq!(text("_vlmcs._tcp"), "\\_vlmcs.\\_tcp");
        assert_eq!(text("a *b* [c](d) <e>"), "a \\*b\\* \\[c\\](d) \\<e\\>");
        assert_eq!(text("x\ny"), "x y");
    }
}
