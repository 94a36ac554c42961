//! `kmsdns apply`: plan, confirm, send one signed UPDATE per zone, verify, summarise.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::GlobalArgs;
use super::net::NetArgs;
use crate::app::{self, KeyRing, ZoneOutcome};
use crate::error::{Error, Exit, Result};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `kmsdns plan --out FILE`: apply exactly that (it is rejected when the
    /// config or the records changed since)
    #[arg(value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,
    /// Apply without asking (required when stdin is not a terminal, e.g. in CI)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Allow a plan that deletes every existing KMS record of a domain
    #[arg(long)]
    pub allow_empty: bool,
    /// After applying, wait until every NS of each changed zone serves the new SOA serial
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits per zone
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub wait_timeout: std::time::Duration,
    #[command(flatten)]
    pub net: NetArgs,
}

pub async fn execute(global: &GlobalArgs, args: &ApplyArgs) -> Result<Exit> {
    let desired = app::load_config(&global.config)?;
    let keys = KeyRing::load_used(&desired)?;
    // Without --yes there must be someone to ask: found out before the first packet.
    if !args.yes && !std::io::stdin().is_terminal() {
        return Err(not_interactive());
    }
    let opts = args.net.options();
    let plan = match &args.plan {
        Some(file) => app::saved::load_saved_plan(file, &desired, &keys, &opts).await?,
        None => app::plan(&desired, &keys, &opts).await,
    };
    let mut out = anstream::stdout().lock();
    super::report::write_plan(&mut out, &plan)?;
    if !plan.has_changes() {
        return Ok(if plan.has_errors() {
            Exit::Failure
        } else {
            Exit::Success
        });
    }
    let emptied = plan.removes_all_records();
    if !emptied.is_empty() && !args.allow_empty {
        let names: Vec<String> = emptied.iter().map(|r| r.owner.to_string()).collect();
        return Err(Error::Usage {
            message: format!(
                "refusing to apply: this plan deletes every record that exists now at {}; check the host names in the config, or pass --allow-empty if that is intended. Nothing was sent.",
                names.join(", ")
            ),
        });
    }
    if !args.yes && !confirm(&mut out)? {
        writeln!(out, "Not applied. Nothing was sent.")?;
        return Ok(Exit::Success);
    }
    // A bar only on a terminal and only when there are more than a few zones.
    let progress = (std::io::stderr().is_terminal() && plan.zones.len() > 3).then(|| {
        let bar = indicatif::ProgressBar::new(plan.zones.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} zones {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let reports = app::apply::apply_plan(&plan, &keys, &opts, |r| {
        if let Some(p) = &progress {
            p.set_message(r.zone.to_string());
            p.inc(1);
        }
    })
    .await;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    super::report::write_apply_summary(&mut out, &reports, &plan.failed_domains)?;
    let mut failed = reports
        .iter()
        .filter(|r| matches!(r.outcome, ZoneOutcome::Failed(_)))
        .count();
    if args.wait {
        let synced =
            app::wait::wait_for_serials(&plan, &reports, &keys, &opts, args.wait_timeout).await;
        super::report::write_wait(&mut out, &synced, args.wait_timeout)?;
        failed += synced.iter().filter(|s| !s.ok()).count();
    }
    Ok(if failed > 0 || plan.has_errors() {
        Exit::Failure
    } else {
        Exit::Success
    })
}

/// Asks on the terminal; without one, refuses (CI must pass --yes).
fn confirm(out: &mut impl Write) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(not_interactive());
    }
    write!(out, "Apply these changes? [y/N] ")?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Io {
            context: "cannot read the answer".into(),
            source: e,
        })?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

fn not_interactive() -> Error {
    Error::Usage {
        message: "not applying: stdin is not a terminal; pass --yes to apply without asking (CI must opt in). Nothing was sent.".into(),
    }
}
