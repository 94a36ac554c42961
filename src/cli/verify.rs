//! `kmsdns verify`: the activation troubleshooting ladder for every domain.

use std::io::Write;
use std::time::Duration;

use clap::Args;

use super::GlobalArgs;
use super::net::runtime;
use crate::config::Config;
use crate::dns::resolv::{ResolvConf, parse_resolver};
use crate::error::{Error, Exit, Result};
use crate::model::Fqdn;
use crate::verify::{DomainSpec, VerifyOptions, VerifyReport, specs_from_config, verify};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Check this domain without a config (what clients would find); repeatable
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// A DNS suffix clients search (repeatable); overrides client_suffixes and resolv.conf
    #[arg(long = "suffix", value_name = "SUFFIX")]
    pub suffixes: Vec<String>,
    /// The resolver clients use, IP[:PORT] (default: first nameserver in /etc/resolv.conf)
    #[arg(long, value_name = "ADDR", value_parser = parse_resolver)]
    pub resolver: Option<std::net::SocketAddr>,
    /// Port to ask the zone's name servers on (default 53)
    #[arg(long, value_name = "PORT", default_value_t = 53)]
    pub server_port: u16,
    /// Skip the TCP connection test to the KMS hosts
    #[arg(long)]
    pub no_connect: bool,
    /// TCP connect timeout
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn execute(global: &GlobalArgs, args: &VerifyArgs) -> Result<Exit> {
    let resolv = ResolvConf::system().unwrap_or_default();
    let (specs, suffixes) = if args.domains.is_empty() {
        let config = Config::load(&global.config)?;
        let suffixes = if config.client_suffixes.is_empty() {
            resolv.search.clone()
        } else {
            config.client_suffixes.clone()
        };
        (specs_from_config(&config), suffixes)
    } else {
        let mut specs = Vec::new();
        for d in &args.domains {
            let name = Fqdn::parse_domain(d).map_err(|e| Error::Usage {
                message: format!("--domain {d}: {e}"),
            })?;
            specs.push(DomainSpec {
                name,
                desired: None,
                primary: None,
            });
        }
        (specs, resolv.search.clone())
    };
    let suffixes = if args.suffixes.is_empty() {
        suffixes
    } else {
        let mut list = Vec::new();
        for s in &args.suffixes {
            list.push(Fqdn::parse_domain(s).map_err(|e| Error::Usage {
                message: format!("--suffix {s}: {e}"),
            })?);
        }
        list
    };
    let resolver = args
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
        ns_port: args.server_port,
        suffixes,
    };
    let rt = runtime().map_err(|e| Error::Io {
        context: "cannot start the async runtime".into(),
        source: e,
    })?;
    let report = rt.block_on(verify(&specs, &opts));
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
