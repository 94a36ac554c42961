//! `kmsdns verify`: the activation troubleshooting ladder for every domain.

use std::io::Write;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::GlobalArgs;
use super::net::NetArgs;
use crate::app::verify::{nagios, prometheus};
use crate::app::{self, DomainSpec, ResolvConf, VerifyOptions, VerifyReport};
use crate::error::{Error, Exit, Result};
use crate::model::Fqdn;

/// How the report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The ladder for people, with fixes and workarounds
    Text,
    /// The report as JSON (schema 1)
    Json,
    /// A monitoring plugin (Nagios, Icinga, Naemon): status line, perfdata, exit 0/1/2/3
    Nagios,
    /// Prometheus text format 0.0.4 for node_exporter's textfile collector
    Prometheus,
}

const AFTER_HELP: &str = "\
Exit codes: text, json and prometheus: 0 every check passed, 1 a check failed, 3 usage or
config error. nagios follows the monitoring-plugins contract instead: 0 OK, 1 WARNING
(ns-out-of-sync, suffix-not-covered), 2 CRITICAL (srv-missing, srv-wrong, name-resolution,
port-blocked, dns-unreachable past the resolver rung), 3 UNKNOWN (the resolver does not answer,
or verify cannot run: bad config, no resolver, bad arguments). See README, verify: Monitoring.";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct VerifyArgs {
    /// Check this domain without a config (what clients would find); repeatable
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// A DNS suffix clients search (repeatable); overrides client_suffixes and resolv.conf
    #[arg(long = "suffix", value_name = "SUFFIX")]
    pub suffixes: Vec<String>,
    /// Skip the TCP connection test to the KMS hosts
    #[arg(long)]
    pub no_connect: bool,
    /// TCP connect timeout
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// Output format (nagios: exit codes follow the monitoring-plugins contract)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print the report as JSON (same as --format json)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    #[command(flatten)]
    pub net: NetArgs,
}

fn parse_names(flag: &str, values: &[String]) -> Result<Vec<Fqdn>> {
    values
        .iter()
        .map(|d| {
            Fqdn::parse_domain(d).map_err(|e| Error::Usage {
                message: format!("{flag} {d}: {e}"),
            })
        })
        .collect()
}

pub async fn execute(global: &GlobalArgs, args: &VerifyArgs) -> Result<Exit> {
    let format = if args.json { Format::Json } else { args.format };
    let report = match run(global, args).await {
        Ok(report) => report,
        Err(e) if format == Format::Nagios => {
            // A verify that cannot run at all: UNKNOWN, with the whole error on stderr.
            let mut out = anstream::stdout().lock();
            out.write_all(nagios::unknown_line(&e.to_string()).as_bytes())?;
            out.flush()?;
            eprintln!("{e}");
            return Ok(Exit::Usage);
        }
        Err(e) => return Err(e),
    };
    let mut out = anstream::stdout().lock();
    match format {
        Format::Text => write_report(&mut out, &report)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(Error::json_output)?;
            writeln!(out)?;
        }
        Format::Prometheus => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            out.write_all(prometheus::render(&report, now).as_bytes())?;
        }
        Format::Nagios => {
            let (text, state) = nagios::render(&report);
            out.write_all(text.as_bytes())?;
            out.flush()?;
            // The plugin contract's codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
            return Ok(match state.code() {
                0 => Exit::Success,
                1 => Exit::Failure,
                2 => Exit::ChangesPending,
                _ => Exit::Usage,
            });
        }
    }
    out.flush()?;
    Ok(if report.ok {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// Loads what to verify and walks the ladder.
async fn run(global: &GlobalArgs, args: &VerifyArgs) -> Result<VerifyReport> {
    let resolv = ResolvConf::system().unwrap_or_default();
    let (specs, suffixes) = if args.domains.is_empty() {
        let desired = app::load_config(&global.config)?;
        let suffixes = if desired.client_suffixes.is_empty() {
            resolv.search.clone()
        } else {
            desired.client_suffixes.clone()
        };
        (app::verify::specs(&desired), suffixes)
    } else {
        let specs = parse_names("--domain", &args.domains)?
            .into_iter()
            .map(|name| DomainSpec {
                name,
                desired: None,
                primary: None,
                prune: true,
            })
            .collect();
        (specs, resolv.search.clone())
    };
    let suffixes = if args.suffixes.is_empty() {
        suffixes
    } else {
        parse_names("--suffix", &args.suffixes)?
    };
    let resolver = args
        .net
        .resolver
        .or_else(|| resolv.nameservers.first().copied())
        .ok_or_else(|| Error::Usage {
            message: "no resolver: /etc/resolv.conf lists no nameserver; pass --resolver IP[:PORT]"
                .into(),
        })?;
    let opts = VerifyOptions {
        resolver,
        connect: !args.no_connect,
        connect_timeout: args.connect_timeout,
        ns_port: args.net.server_port,
        suffixes,
        parallel: args.net.parallel,
    };
    let bar = super::progress::Bar::new(global);
    let report = app::verify::verify(&specs, &opts, bar.callback()).await;
    bar.finish();
    Ok(report)
}

fn write_report(out: &mut impl Write, report: &VerifyReport) -> std::io::Result<()> {
    let green = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Green.into()));
    let red = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Red.into()));
    let blue = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Blue.into()));
    let bold = anstyle::Style::new().bold();
    writeln!(out, "resolver: {}", report.resolver)?;
    for d in &report.domains {
        writeln!(out, "{bold}{}{bold:#}", d.domain)?;
        for c in &d.checks {
            if c.ok {
                writeln!(out, "  {green}✓{green:#} {:<13} {}", c.rung, c.detail)?;
            } else {
                let class = c.class.map(|k| k.label()).unwrap_or("failure");
                writeln!(out, "  {red}✗{red:#} {:<13} [{class}] {}", c.rung, c.detail)?;
                if let Some(fix) = &c.fix {
                    writeln!(out, "    fix: {fix}")?;
                }
            }
            for i in &c.info {
                writeln!(out, "  {blue}ℹ{blue:#} {:<13} {}", c.rung, i.detail)?;
                if let Some(hint) = &i.hint {
                    writeln!(out, "    note: {hint}")?;
                }
            }
        }
        if !d.workaround.is_empty() {
            writeln!(out, "  client-side workaround:")?;
            for w in &d.workaround {
                writeln!(out, "    - {w}")?;
            }
        }
    }
    if !report.suffixes.is_empty() {
        writeln!(out, "{bold}client suffixes{bold:#}")?;
        for c in &report.suffixes {
            let mark = if c.ok {
                format!("{green}✓{green:#}")
            } else {
                format!("{red}✗{red:#}")
            };
            writeln!(out, "  {mark} {}", c.detail)?;
            if let Some(fix) = &c.fix {
                writeln!(out, "    fix: {fix}")?;
            }
        }
    }
    if report.ok {
        writeln!(out, "{green}All checks passed.{green:#}")
    } else {
        let failed = report
            .domains
            .iter()
            .flat_map(|d| &d.checks)
            .chain(&report.suffixes)
            .filter(|c| !c.ok)
            .count();
        writeln!(out, "{red}{failed} check(s) failed.{red:#}")
    }
}
