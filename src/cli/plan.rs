//! `kmsdns plan`: read the live records, diff them against the file, print what would change.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::GlobalArgs;
use super::net::NetArgs;
use crate::app::{self, KeyRing};
use crate::error::{Error, Exit, Result};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Output format: text (for a terminal), json (schema 1, see README) or markdown (for a
    /// pull-request comment or a CI job summary)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print the plan as JSON: the same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Exit 0 when there are no changes, 2 when changes are pending, 1 on errors
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also write the plan (JSON, with hashes of the config and of the state read) to FILE,
    /// for a later `kmsdns apply FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub net: NetArgs,
}

/// What `plan` prints on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
    Markdown,
}

pub async fn execute(global: &GlobalArgs, args: &PlanArgs) -> Result<Exit> {
    let desired = app::load_config(&global.config)?;
    let keys = KeyRing::load_used(&desired)?;
    let bar = super::progress::Bar::new(global);
    let mut opts = args.net.options();
    opts.progress = bar.callback();
    let plan = app::plan(&desired, &keys, &opts).await;
    bar.finish();
    if let Some(path) = &args.out {
        let json = serde_json::to_string_pretty(&plan)
            .map_err(|e| Error::Runtime(format!("cannot encode the plan: {e}")))?;
        app::write_file(path, (json + "\n").as_bytes(), false).map_err(|e| Error::Io {
            context: format!("cannot write the plan to {}", path.display()),
            source: e,
        })?;
        tracing::info!(file = %path.display(), "plan saved");
    }
    let mut out = anstream::stdout().lock();
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &plan).map_err(Error::json_output)?;
            writeln!(out)?;
        }
        Format::Markdown => super::markdown::write_plan(&mut out, &plan)?,
        Format::Text => super::report::write_plan(&mut out, &plan)?,
    }
    Ok(if plan.has_errors() {
        Exit::Failure
    } else if args.detailed_exitcode && plan.has_changes() {
        Exit::ChangesPending
    } else {
        Exit::Success
    })
}
