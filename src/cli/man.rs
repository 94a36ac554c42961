//! `kmsdns man [COMMAND] [--out-dir DIR]`: the roff man pages, generated from the clap
//! definitions by clap_mangen.
//!
//! One page per command, as git and cargo do: `kmsdns.1` (global options, the list of
//! subcommands, exit codes) and `kmsdns-<sub>.1` for each subcommand with all its options.
//! clap_mangen renders exactly one command per page and the top page already refers to
//! `kmsdns-plan(1)` and so on; one page holding every subcommand's options would need
//! hand-written roff around it and would be long to read for one command.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory};

use super::{Cli, GlobalArgs};
use crate::app;
use crate::error::{Error, Exit, Result};

#[derive(Debug, Args)]
#[command(
    after_help = "Install: kmsdns man --out-dir /usr/local/share/man/man1 (then `man kmsdns`, `man kmsdns-plan`)"
)]
pub struct ManArgs {
    /// Print the page of this subcommand (kmsdns-COMMAND.1) instead of kmsdns.1
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Option<String>,
    /// Write kmsdns.1 and kmsdns-<command>.1 for every subcommand into DIR (which must exist)
    /// and print their paths
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub fn execute(_global: &GlobalArgs, args: &ManArgs) -> Result<Exit> {
    let cmd = command();
    let mut out = std::io::stdout().lock();
    if let Some(dir) = &args.out_dir {
        for page in pages(&cmd) {
            let path = dir.join(page.get_filename());
            app::write_file(&path, &roff(&page)?, false).map_err(|e| Error::Io {
                context: format!("cannot write {}", path.display()),
                source: e,
            })?;
            writeln!(out, "{}", path.display())?;
        }
        return Ok(Exit::Success);
    }
    let page = match &args.command {
        None => page(cmd),
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => page(sub.clone()),
            None => {
                let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
                return Err(Error::Usage {
                    message: format!(
                        "no subcommand `{name}`; the subcommands are: {}",
                        names.join(", ")
                    ),
                });
            }
        },
    };
    out.write_all(&roff(&page)?)?;
    out.flush()?;
    Ok(Exit::Success)
}

/// The built command tree (subcommands named `kmsdns-<sub>`), without clap's `help`
/// subcommand, which needs no page.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The page of `cmd`, in section 1.
fn page(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).manual("kmsdns manual")
}

/// kmsdns.1 and one page per visible subcommand.
fn pages(cmd: &clap::Command) -> Vec<clap_mangen::Man> {
    let mut pages = vec![page(cmd.clone())];
    pages.extend(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| page(s.clone())),
    );
    pages
}

/// The page as roff in plain ASCII: every other character (the help texts have `→`, `×`,
/// `—`) becomes the groff escape `\[uXXXX]`, so the page reads the same whether or not the
/// formatter is told the input is UTF-8 (`groff` without `-k`, mandoc, lintian's check).
fn roff(page: &clap_mangen::Man) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    page.render(&mut raw)?;
    let text = String::from_utf8(raw).map_err(std::io::Error::other)?;
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            ascii.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    Ok(ascii.into_bytes())
}
