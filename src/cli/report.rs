//! Human-readable output of plans and apply results (the JSON form is the serde form of
//! [`Plan`]): one reader of the plain data among others.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::app::{Change, Plan, ZoneOutcome, ZoneReport, ZoneSync};
use crate::model::{DomainProblem, ServerTarget, SkippedServer, SrvRecord};

fn color(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

/// What differs between two versions of a record: `ttl 60 → 3600, port 1688 → 1700`.
pub(super) fn describe_change(from: &SrvRecord, to: &SrvRecord) -> String {
    let mut parts = Vec::new();
    if from.ttl != to.ttl {
        parts.push(format!("ttl {} → {}", from.ttl, to.ttl));
    }
    if from.priority != to.priority {
        parts.push(format!("priority {} → {}", from.priority, to.priority));
    }
    if from.weight != to.weight {
        parts.push(format!("weight {} → {}", from.weight, to.weight));
    }
    if from.port != to.port {
        parts.push(format!("port {} → {}", from.port, to.port));
    }
    parts.join(", ")
}

/// `; then b (…), c (…)`: the server's further addresses, tried in order.
pub(super) fn fallbacks(server: &ServerTarget) -> String {
    if server.fallbacks.is_empty() {
        return String::new();
    }
    let list: Vec<&str> = server.fallbacks.iter().map(|c| c.label.as_str()).collect();
    format!("; then {}", list.join(", "))
}

/// `skipped a (…): timeout (no reply …); skipped b (…): unreachable (…)`.
pub(super) fn skipped_text(skipped: &[SkippedServer]) -> String {
    skipped
        .iter()
        .map(|s| format!("skipped {}: {} ({})", s.server, s.reason, s.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes the plan grouped by zone, ending with the `Plan:` / `No changes.` line.
pub fn write_plan(out: &mut impl Write, plan: &Plan) -> io::Result<()> {
    let bold = Style::new().bold();
    let (green, red, yellow, dim) = (
        color(AnsiColor::Green),
        color(AnsiColor::Red),
        color(AnsiColor::Yellow),
        Style::new().dimmed(),
    );
    for z in &plan.zones {
        let (o, server) = (&z.target, &z.target.server);
        let key = server
            .key
            .as_deref()
            .map_or("unsigned".to_string(), |k| format!("key {k}"));
        writeln!(
            out,
            "{bold}zone {}{bold:#} ({}), server {} ({}{}), {key}",
            o.zone,
            if o.zone_discovered {
                "discovered"
            } else {
                "configured"
            },
            server.label,
            if server.discovered {
                "discovered: SOA MNAME"
            } else {
                "configured"
            },
            fallbacks(server),
        )?;
        if let Some(f) = &z.failover {
            writeln!(
                out,
                "  {yellow}failover{yellow:#}: read from {}; {}",
                f.server,
                skipped_text(&f.skipped)
            )?;
        }
        if let Some(p) = &z.error {
            writeln!(
                out,
                "  {red}error{red:#}: {}\n    hint: {}",
                p.message, p.hint
            )?;
            continue;
        }
        for r in &z.rrsets {
            if r.changes.is_empty() {
                writeln!(out, "  {} {dim}(up to date){dim:#}", r.owner)?;
            } else {
                writeln!(out, "  {}", r.owner)?;
            }
            for c in &r.changes {
                match c {
                    Change::Add { record } => writeln!(out, "    {green}+ {record}{green:#}")?,
                    Change::Delete { record } => writeln!(out, "    {red}- {record}{red:#}")?,
                    Change::Change { from, to } => writeln!(
                        out,
                        "    {yellow}~ {to}{yellow:#}  ({})",
                        describe_change(from, to)
                    )?,
                }
            }
            for k in &r.ttl_kept {
                writeln!(
                    out,
                    "    {dim}= {}  (config ttl {}; TTL {} set by the foreign member {}; kept because one RRset has one TTL){dim:#}",
                    k.record, k.desired_ttl, k.record.ttl, k.foreign
                )?;
            }
            // What this plan adds sets the TTL of the whole RRset, kept members included.
            let new_ttl = r.changes.iter().find_map(|c| match c {
                Change::Add { record } | Change::Change { to: record, .. } => Some(record.ttl),
                Change::Delete { .. } => None,
            });
            for u in &r.unmanaged {
                writeln!(
                    out,
                    "    {dim}= {u}  (unmanaged: kept because prune = false){dim:#}"
                )?;
                if let Some(ttl) = new_ttl.filter(|t| *t != u.ttl) {
                    writeln!(
                        out,
                        "      note: one RRset has one TTL: this change gives {} TTL {ttl} too (BIND keeps the TTL of the record added last)",
                        u.target
                    )?;
                }
                writeln!(
                    out,
                    "      note: if {} is a Windows KMS host that publishes itself, set DisableDnsPublishing=1 on it (`kmsdns render registry --disable-publishing`) or list it in this file",
                    u.target
                )?;
            }
        }
    }
    for f in &plan.failed_domains {
        writeln!(
            out,
            "{red}error{red:#}: domain {}: {}\n  hint: {}",
            f.domain, f.problem.message, f.problem.hint
        )?;
    }
    let t = plan.totals();
    if plan.has_changes() {
        writeln!(
            out,
            "{bold}Plan: {} to add, {} to change, {} to delete.{bold:#}",
            t.add, t.change, t.delete
        )?;
    } else if plan.has_errors() {
        writeln!(
            out,
            "{bold}No changes planned, but some zones could not be read (see errors above).{bold:#}"
        )?;
    } else if plan
        .zones
        .iter()
        .flat_map(|z| &z.rrsets)
        .any(|r| !r.ttl_kept.is_empty())
    {
        writeln!(
            out,
            "{bold}No changes. KMS SRV records match the configuration, but for the TTLs kept above.{bold:#}"
        )?;
    } else {
        writeln!(
            out,
            "{bold}No changes. KMS SRV records match the configuration.{bold:#}"
        )?;
    }
    Ok(())
}

/// Writes one line per zone: applied / unchanged / failed (with the reason).
/// The Apply summary: every zone, then every domain that could not be placed in a zone
/// (`failed_domains`), so that it lists every domain of the file.
pub fn write_apply_summary(
    out: &mut impl Write,
    reports: &[ZoneReport],
    failed_domains: &[DomainProblem],
) -> io::Result<()> {
    let (green, red, yellow, dim) = (
        color(AnsiColor::Green),
        color(AnsiColor::Red),
        color(AnsiColor::Yellow),
        Style::new().dimmed(),
    );
    writeln!(out, "Apply summary:")?;
    for r in reports {
        if !r.skipped.is_empty() && !matches!(r.outcome, ZoneOutcome::Unchanged) {
            writeln!(
                out,
                "  {yellow}failover{yellow:#}   {} went to {}: {}",
                r.zone,
                r.server,
                skipped_text(&r.skipped)
            )?;
        }
        match &r.outcome {
            ZoneOutcome::Applied {
                changes,
                messages,
                serial,
                serial_before,
                notes,
            } => {
                let serial = serial_text(*serial, *serial_before, ", ");
                let messages = if *messages > 1 {
                    format!(" in {messages} UPDATE messages")
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "  {green}applied{green:#}    {} via {}: {changes} change(s){messages}, read back and verified{serial}",
                    r.zone, r.server
                )?;
                for n in notes {
                    writeln!(out, "             {yellow}warning{yellow:#}: {n}")?;
                }
            }
            ZoneOutcome::Unchanged => writeln!(
                out,
                "  {dim}unchanged{dim:#}  {} via {}: nothing sent",
                r.zone, r.server
            )?,
            ZoneOutcome::Failed(p) => writeln!(
                out,
                "  {red}failed{red:#}     {} via {}: {}\n             hint: {}",
                r.zone, r.server, p.message, p.hint
            )?,
            ZoneOutcome::Partial {
                message,
                hint,
                messages,
                rrsets,
                serial,
                serial_before,
                notes,
            } => {
                let serial = if rrsets.applied.is_empty() {
                    serial_text(*serial, None, "; ")
                } else {
                    serial_text(*serial, *serial_before, "; ")
                };
                // Nothing went in for sure: the zone failed, like a zone sent in one message.
                let what = if rrsets.applied.is_empty() && rrsets.unknown.is_empty() {
                    "failed    "
                } else {
                    "partly applied"
                };
                writeln!(
                    out,
                    "  {red}{what}{red:#} {} via {} ({messages} UPDATE messages): {message}{serial}\n             hint: {hint}",
                    r.zone, r.server
                )?;
                for n in notes {
                    writeln!(out, "             {yellow}warning{yellow:#}: {n}")?;
                }
                for (what, list) in [
                    ("went in (read back and verified)", &rrsets.applied),
                    ("did not go in", &rrsets.not_applied),
                    ("unknown whether it went in", &rrsets.unknown),
                ] {
                    writeln!(out, "             {what}: {} RRset(s)", list.len())?;
                    for owner in list {
                        writeln!(out, "               {owner}")?;
                    }
                }
            }
        }
    }
    for f in failed_domains {
        writeln!(
            out,
            "  {red}failed{red:#}     domain {}: {}; nothing sent\n             hint: {}",
            f.domain, f.problem.message, f.problem.hint
        )?;
    }
    Ok(())
}

/// `, zone serial now N (read back)` — or, when records went in but the serial did not move
/// (Active Directory), that it did not and that the records were read back instead.
fn serial_text(serial: Option<u32>, before: Option<u32>, lead: &str) -> String {
    match (serial, before) {
        (Some(s), Some(b)) if s == b => format!(
            "{lead}zone serial unchanged at {s} (this server does not bump serials on updates, as Active Directory doesn't); the records were read back"
        ),
        (Some(s), _) => format!("{lead}zone serial now {s} (read back)"),
        (None, _) => String::new(),
    }
}

/// Writes what `--wait` found for each applied zone.
pub fn write_wait(
    out: &mut impl Write,
    synced: &[ZoneSync],
    limit: std::time::Duration,
) -> io::Result<()> {
    for z in synced {
        match &z.servers {
            Ok(list) => {
                for s in list {
                    let state = match (s.address, s.serial) {
                        (None, _) => "no address found".to_string(),
                        (Some(a), _) if z.by_records => match &s.behind_at {
                            Some(owner) => format!("{a}: {owner} is not as applied yet"),
                            None if s.in_sync => format!("{a}: serves the applied records"),
                            None => format!("{a}: no answer"),
                        },
                        (Some(a), None) => format!("{a}: no answer"),
                        (Some(a), Some(got)) => format!("{a}: serial {got}"),
                    };
                    let sync = if s.in_sync {
                        "in sync,"
                    } else {
                        "NOT in sync,"
                    };
                    writeln!(out, "  {} NS {} {sync} {state}", z.zone, s.ns)?;
                }
                if !z.ok() && z.by_records {
                    writeln!(
                        out,
                        "  {}: not every name server serves the applied records after {limit:?} (the serial stays {}: compared record sets); check replication between the domain controllers",
                        z.zone, z.serial
                    )?;
                } else if !z.ok() {
                    writeln!(
                        out,
                        "  {}: not every name server serves serial {} after {limit:?}; check zone transfers (allow-transfer, also-notify) from the primary",
                        z.zone, z.serial
                    )?;
                }
            }
            Err(e) => writeln!(
                out,
                "  {}: cannot check the name servers: {}",
                z.zone, e.message
            )?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn serial_text_says_when_the_serial_did_not_move() {
        use super::serial_text;
        assert_eq!(
            serial_text(Some(7), Some(6), ", "),
            ", zone serial now 7 (read back)"
        );
        assert_eq!(
            serial_text(Some(7), None, "; "),
            "; zone serial now 7 (read back)"
        );
        assert_eq!(serial_text(None, Some(6), ", "), "");
        let same = serial_text(Some(1), Some(1), ", ");
        assert!(same.starts_with(", zone serial unchanged at 1 (this server does not bump serials on updates, as Active Directory doesn't); the records were read back"), "{same}");
    }
}
