//! `kmsdns keygen NAME`: generate a TSIG key file.

use clap::Args;

use super::GlobalArgs;
use crate::error::{Error, Exit, Result};

#[derive(Debug, Args)]
pub struct KeygenArgs {}

pub fn execute(_global: &GlobalArgs, _args: &KeygenArgs) -> Result<Exit> {
    Err(Error::NotImplemented("keygen"))
}
