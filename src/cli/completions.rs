//! `kmsdns completions SHELL`: the shell completion script, generated from the clap
//! definitions by clap_complete, on stdout.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, GlobalArgs};
use crate::error::{Exit, Result};

#[derive(Debug, Args)]
#[command(
    after_help = "Install (as root, or into the per-user directories):\n  bash: kmsdns completions bash > /usr/share/bash-completion/completions/kmsdns\n  zsh:  kmsdns completions zsh > /usr/local/share/zsh/site-functions/_kmsdns (a directory in $fpath)\n  fish: kmsdns completions fish > /usr/share/fish/vendor_completions.d/kmsdns.fish"
)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn execute(_global: &GlobalArgs, args: &CompletionsArgs) -> Result<Exit> {
    let script = script(args.shell);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(Exit::Success)
}

/// The completion script for `shell`.
fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kmsdns", &mut buf);
    buf
}
