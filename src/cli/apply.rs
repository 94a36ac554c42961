//! `kmsdns apply`: plan, confirm, send one signed UPDATE per zone, verify, summarise.

use std::io::{BufRead, IsTerminal, Write};

use std::path::{Path, PathBuf};

use clap::Args;

use super::GlobalArgs;
use super::net::{NetArgs, runtime};
use super::plan::make_plan;
use crate::apply::{ZoneOutcome, apply_plan, wait_for_serial};
use crate::config::Config;
use crate::error::{Error, Exit, Result};
use crate::plan::{Plan, PlanFile, SCHEMA_VERSION, ZonePlan, state_sha256};
use crate::state::{self, NetOptions};

/// Reads a saved plan and checks it still belongs to this config; the records it planned from
/// travel with it as the UPDATE prerequisites, so a zone changed since is refused by the server.
fn load_saved_plan(file: &Path, config: &Config, opts: &NetOptions) -> Result<Plan> {
    let usage = |message: String| Error::Usage { message };
    let text = std::fs::read_to_string(file).map_err(|e| Error::Io {
        context: format!("cannot read the plan {}", file.display()),
        source: e,
    })?;
    let saved: PlanFile = serde_json::from_str(&text)
        .map_err(|e| usage(format!("{} is not a kmsdns plan file: {e}", file.display())))?;
    if saved.schema != SCHEMA_VERSION {
        return Err(usage(format!(
            "{} has plan schema {}, this kmsdns reads schema {SCHEMA_VERSION}: run `kmsdns plan --out` again",
            file.display(),
            saved.schema
        )));
    }
    if saved.config_sha256 != config.sha256 {
        return Err(usage(format!(
            "the configuration {} changed since the plan {} was made; nothing was sent: run `kmsdns plan --out` again",
            config.path.display(),
            file.display()
        )));
    }
    if state_sha256(saved.zones.iter().map(|z| (&z.zone, z.rrsets.as_slice())))
        != saved.state_sha256
    {
        return Err(usage(format!(
            "the plan {} was modified after it was written (state hash mismatch); nothing was sent",
            file.display()
        )));
    }
    let rt = runtime().map_err(|e| Error::Io {
        context: "cannot start the async runtime".into(),
        source: e,
    })?;
    let (targets, failures) = rt.block_on(state::resolve_targets(config, opts));
    let mut plan = Plan::build(config, Vec::new(), failures);
    plan.state_sha256 = saved.state_sha256.clone();
    for z in saved.zones {
        let Some(target) = targets.iter().find(|t| t.zone == z.zone) else {
            return Err(Error::Runtime(format!(
                "zone {} of the plan is no longer found for this config; run `kmsdns plan` again",
                z.zone
            )));
        };
        if target.client.addr() != z.server_address {
            return Err(Error::Runtime(format!(
                "zone {} was planned against {} but its server is now {}; run `kmsdns plan` again",
                z.zone,
                z.server_address,
                target.client.addr()
            )));
        }
        plan.zones.push(ZonePlan {
            origin: target.origin(),
            rrsets: z.rrsets,
            error: z.error,
            target: target.clone(),
        });
    }
    Ok(plan)
}

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

pub fn execute(global: &GlobalArgs, args: &ApplyArgs) -> Result<Exit> {
    let config = Config::load(&global.config)?;
    let opts = args.net.options();
    let plan = match &args.plan {
        Some(file) => load_saved_plan(file, &config, &opts)?,
        None => make_plan(&config, &opts)?,
    };
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
    // A bar only on a terminal and only when there are more than a few zones.
    let progress = (std::io::stderr().is_terminal() && plan.zones.len() > 3).then(|| {
        let bar = indicatif::ProgressBar::new(plan.zones.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} zones {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let reports = rt.block_on(apply_plan(&plan, opts.concurrency, progress.as_ref()));
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    crate::report::write_apply_summary(&mut out, &reports)?;
    let mut failed = reports
        .iter()
        .filter(|r| matches!(r.outcome, ZoneOutcome::Failed(_)))
        .count();
    if args.wait {
        let resolver = state::resolver_client(&opts).ok();
        for (zp, r) in plan.zones.iter().zip(&reports) {
            let ZoneOutcome::Applied {
                serial: Some(serial),
                ..
            } = r.outcome
            else {
                continue;
            };
            let synced = rt.block_on(wait_for_serial(
                zp,
                serial,
                resolver.as_ref(),
                opts.discovered_port,
                args.wait_timeout,
            ));
            match synced {
                Ok(list) => {
                    for s in &list {
                        let state = match (s.address, s.serial) {
                            (None, _) => "no address found".to_string(),
                            (Some(a), None) => format!("{a}: no answer"),
                            (Some(a), Some(got)) => format!("{a}: serial {got}"),
                        };
                        writeln!(
                            out,
                            "  {} NS {} {} {state}",
                            r.zone,
                            s.ns,
                            if s.in_sync {
                                "in sync,"
                            } else {
                                "NOT in sync,"
                            }
                        )?;
                    }
                    if list.iter().any(|s| !s.in_sync) {
                        failed += 1;
                        writeln!(
                            out,
                            "  {}: not every name server serves serial {serial} after {:?}; check zone transfers (allow-transfer, also-notify) from the primary",
                            r.zone, args.wait_timeout
                        )?;
                    }
                }
                Err(e) => {
                    failed += 1;
                    writeln!(out, "  {}: cannot check the name servers: {e}", r.zone)?;
                }
            }
        }
    }
    Ok(if failed > 0 || plan.has_errors() {
        Exit::Failure
    } else {
        Exit::Success
    })
}
