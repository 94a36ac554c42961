//! Top-level errors and the exit-code contract (documented in README.md).
#![warn(missing_docs)]

use std::process::ExitCode;

use crate::config::ConfigErrors;

/// How `kmsdns` ends. The numbers are part of the CLI contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: success (for `plan --detailed-exitcode`: no changes).
    Success,
    /// 1: DNS or runtime failure (a server refused, a timeout, a failed zone).
    Failure,
    /// 2: `plan --detailed-exitcode` only: changes are pending.
    ChangesPending,
    /// 3: usage or configuration error; nothing was sent to DNS.
    Usage,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::ChangesPending => 2,
            Exit::Usage => 3,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// An error that ends a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file is invalid: every error, with file:line:col (exit 3).
    #[error("{0}")]
    Config(#[from] Box<ConfigErrors>),
    /// Bad flags or a refused operation; nothing was sent (exit 3).
    #[error("{message}")]
    Usage {
        /// What was wrong and what to do.
        message: String,
    },
    /// A DNS or runtime failure, already worded for the user (exit 1).
    #[error("{0}")]
    Runtime(String),
    /// An I/O error on a file or a resource (exit 1).
    #[error("{context}: {source}")]
    Io {
        /// What was being done ("cannot read plan.json").
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Writing to stdout failed; a closed pipe (`kmsdns plan | head`) is not an error.
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
}

impl From<ConfigErrors> for Error {
    fn from(e: ConfigErrors) -> Self {
        Error::Config(Box::new(e))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Output(e)
    }
}

impl Error {
    /// A failure to write JSON to stdout: an I/O error (a closed pipe among them) is an
    /// output error; anything else is a runtime error.
    pub fn json_output(e: serde_json::Error) -> Error {
        if e.is_io() {
            Error::Output(std::io::Error::from(e))
        } else {
            Error::Runtime(format!("cannot write JSON: {e}"))
        }
    }

    /// The exit code this error ends the process with.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Config(_) | Error::Usage { .. } => Exit::Usage,
            Error::Runtime(_) | Error::Io { .. } | Error::Output(_) => Exit::Failure,
        }
    }

    /// True for a write to a closed pipe, which ends the program quietly with success.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// The result type of `app` and `cli`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
