//! Command-line interface: clap derive structs and dispatch. One file per subcommand, each
//! with an `execute()` that parses flags, calls one `app` function and prints its report.

mod apply;
mod completions;
mod import;
mod keygen;
mod man;
mod markdown;
mod net;
mod plan;
mod progress;
mod render;
mod report;
mod validate;
mod verify;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Exit, Result};

#[derive(Debug, Parser)]
#[command(
    name = "kmsdns",
    version = env!("KMSDNS_VERSION"),
    about = "Keep the DNS records of Microsoft KMS activation (_vlmcs._tcp SRV) equal to a TOML file",
    long_about = None,
    after_help = "Exit codes: 0 success; 1 DNS or runtime failure; 2 changes pending (plan --detailed-exitcode); 3 usage, configuration, key file, saved plan or environment error, found before the first packet (nothing was sent). A closed stdout pipe ends quietly with 0.\n\nTime bound: one exchange with a server (a read, an UPDATE) takes at most (retries + 1) × timeout, both per server in the config (defaults: retries = 2, timeout = \"3s\", at most 60s). A server that does not answer costs a zone at most one exchange in plan and two in apply (the UPDATE and one read to settle its outcome); zones on other servers carry on meanwhile."
)]
/// The command line: global options and one subcommand.
pub struct Cli {
    /// Options every subcommand takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The configuration file
    #[arg(
        short,
        long,
        global = true,
        env = "KMSDNS_CONFIG",
        default_value = "kmsdns.toml"
    )]
    pub config: PathBuf,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG wins when set
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less log output (-q errors only, -qq nothing)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,
    /// When to use colours (NO_COLOR is honoured with auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

/// `--color`: when to use colours (`auto`: on a terminal unless NO_COLOR is set). The
/// variants carry no doc comments on purpose: clap would print them as help for each value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration file and show the SRV records it asks for
    Validate(validate::ValidateArgs),
    /// Read the live _vlmcs._tcp records and show what apply would change
    Plan(plan::PlanArgs),
    /// Send the changes as TSIG-signed RFC 2136 updates, as few per zone as fit
    Apply(apply::ApplyArgs),
    /// Print BIND, named.conf, Knot, PowerDNS, nsupdate, PowerShell or registry output for
    /// operators
    Render(render::RenderArgs),
    /// Walk the KMS activation troubleshooting ladder for each domain
    Verify(verify::VerifyArgs),
    /// Generate a TSIG key file (BIND format, mode 0600)
    Keygen(keygen::KeygenArgs),
    /// Write a kmsdns TOML that reproduces the live _vlmcs._tcp records of existing domains
    Import(import::ImportArgs),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), or write every page with --out-dir
    Man(man::ManArgs),
}

impl GlobalArgs {
    /// Sets the colour choice and the tracing subscriber (logs go to stderr).
    pub fn init_output(&self) {
        let choice = match self.color {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        let level = match (self.verbose, self.quiet) {
            (_, 1) => "error",
            (_, q) if q >= 2 => "off",
            (0, _) => "warn",
            (1, _) => "info",
            (2, _) => "debug",
            _ => "trace",
        };
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("kmsdns={level}")));
        let ansi = match self.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::IsTerminal::is_terminal(&std::io::stderr())
            }
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .without_time()
            .with_target(false)
            .try_init();
    }
}

impl Cli {
    /// Runs the subcommand on the process's runtime.
    pub async fn execute(self) -> Result<Exit> {
        match self.command {
            Command::Validate(args) => validate::execute(&self.global, &args),
            Command::Plan(args) => plan::execute(&self.global, &args).await,
            Command::Apply(args) => apply::execute(&self.global, &args).await,
            Command::Render(args) => render::execute(&self.global, &args),
            Command::Verify(args) => verify::execute(&self.global, &args).await,
            Command::Keygen(args) => keygen::execute(&self.global, &args),
            Command::Import(args) => import::execute(&self.global, &args).await,
            Command::Completions(args) => completions::execute(&self.global, &args),
            Command::Man(args) => man::execute(&self.global, &args),
        }
    }
}
