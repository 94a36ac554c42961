//! `kmsdns verify`: the activation troubleshooting ladder for every domain.

use std::io::Write;
use std::time::Duration;

use clap::Args;

use super::GlobalArgs;
use super::net::NetArgs;
use crate::app::{self, DomainSpec, ResolvConf, VerifyOptions, VerifyReport};
use crate::error::{Error, Exit, Result};
use crate::model::Fqdn;

#[derive(Debug, Args)]
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
    /// Print the report as JSON
    #[arg(long)]
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
    };
    let report = app::verify::verify(&specs, &opts).await;
    let mut out = anstream::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(|e| Error::Runtime(format!("cannot write JSON: {e}")))?;
        writeln!(out)?;
    } else {
        write_report(&mut out, &report)?;
    }
    Ok(if report.ok {
        Exit::Success
    } else {
        Exit::Failure
    })
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
