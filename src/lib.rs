//! kmsdns keeps the DNS records of Microsoft KMS activation
//! (`_vlmcs._tcp.<domain>. SRV 0 0 1688 <kms-host>.`) equal to a declarative TOML file.
//!
//! Layers (docs/design.md): `cli` → `app` (the use cases, also the library API) → `config`,
//! `plan`, `render`, `verify` (pure) and `dns` (the only module that speaks the wire); every
//! layer uses the values of `model`. The binary is a thin shell around [`run`].

pub mod app;
pub mod cli;
pub mod config;
pub mod dns;
pub mod error;
pub mod model;
pub mod plan;
pub mod render;
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
/// ended. Errors are printed to stderr here. One tokio runtime (one thread: the work is
/// I/O-bound) serves the whole process.
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
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io {
            context: "cannot start the async runtime".into(),
            source: e,
        })
        .and_then(|rt| rt.block_on(cli.execute()));
    match result {
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
