//! `kmsdns apply`: plan, confirm, send signed UPDATEs (one per zone, more when they do not fit in one), verify, summarise.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::GlobalArgs;
use super::net::NetArgs;
use crate::app::{self, KeyRing};
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
    let mut opts = args.net.options();
    let bar = super::progress::Bar::new(global);
    opts.progress = bar.callback();
    let plan = match &args.plan {
        Some(file) => app::saved::load_saved_plan(file, &desired, &keys, &opts).await,
        None => Ok(app::plan(&desired, &keys, &opts).await),
    };
    bar.finish();
    let plan = plan?;
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
    let bar = super::progress::Bar::new(global);
    let tick = bar.callback();
    let total = plan.zones.len();
    let mut done = 0;
    let reports = app::apply::apply_plan(&plan, &keys, &opts, |_| {
        done += 1;
        if let Some(t) = &tick {
            t("applying zones", done, total);
        }
    })
    .await;
    bar.finish();
    super::report::write_apply_summary(&mut out, &reports, &plan.failed_domains)?;
    let mut failed = reports.iter().filter(|r| r.outcome.failed()).count();
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
