//! kmsdns keeps the DNS records of Microsoft KMS activation
//! (`_vlmcs._tcp.<domain>. SRV 0 0 1688 <kms-host>.`) equal to a declarative TOML file.
//!
//! The binary is a thin shell around [`run`]; tests and other programs drive the same code.

pub mod apply;
pub mod cli;
pub mod config;
pub mod dns;
pub mod error;
pub mod model;
pub mod plan;
pub mod render;
pub mod report;
pub mod state;
pub mod verify;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use error::{Error, Exit};

/// Entry point of the `kmsdns` binary: parse arguments, run, map the result to an exit code.
pub fn main_entry() -> ExitCode {
    run(std::env::args_os()).into()
}

/// Runs kmsdns with the given arguments (the first is the program name) and returns how it
/// ended. Errors are printed to stderr here.
pub fn run<I, T>(args: I) -> Exit
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Exit::Success
                }
                _ => Exit::Usage,
            };
        }
    };
    cli.global.init_output();
    match cli.execute() {
        Ok(exit) => exit,
        Err(e) if e.is_broken_pipe() => Exit::Success,
        Err(Error::Config(e)) => {
            eprintln!("{e}");
            Exit::Usage
        }
        Err(e) => {
            use std::io::Write;
            let mut err = anstream::stderr();
            let style = anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Red.into()));
            let _ = writeln!(err, "{style}error{style:#}: {e}");
            e.exit()
        }
    }
}
