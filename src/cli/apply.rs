//! `kmsdns apply`: plan, confirm, send one signed UPDATE per zone, verify, summarise.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;

use super::GlobalArgs;
use super::net::{NetArgs, runtime};
use super::plan::make_plan;
use crate::apply::{ZoneOutcome, apply_plan};
use crate::config::Config;
use crate::error::{Error, Exit, Result};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply without asking (required when stdin is not a terminal, e.g. in CI)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Allow a plan that deletes every existing KMS record of a domain
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    pub net: NetArgs,
}

pub fn execute(global: &GlobalArgs, args: &ApplyArgs) -> Result<Exit> {
    let config = Config::load(&global.config)?;
    let opts = args.net.options();
    let plan = make_plan(&config, &opts)?;
    let mut out = anstream::stdout().lock();
    crate::report::write_plan(&mut out, &plan)?;
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
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage {
                message: "not applying: stdin is not a terminal; pass --yes to apply without asking (CI must opt in). Nothing was sent.".into(),
            });
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
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            writeln!(out, "Not applied. Nothing was sent.")?;
            return Ok(Exit::Success);
        }
    }
    let rt = runtime().map_err(|e| Error::Io {
        context: "cannot start the async runtime".into(),
        source: e,
    })?;
    let reports = rt.block_on(apply_plan(&plan, opts.concurrency));
    crate::report::write_apply_summary(&mut out, &reports)?;
    let failed = reports
        .iter()
        .filter(|r| matches!(r.outcome, ZoneOutcome::Failed(_)))
        .count();
    Ok(if failed > 0 || plan.has_errors() {
        Exit::Failure
    } else {
        Exit::Success
    })
}
