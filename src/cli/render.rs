//! `kmsdns render FORMAT`: operator outputs.

use clap::Args;

use super::GlobalArgs;
use crate::error::{Error, Exit, Result};

#[derive(Debug, Args)]
pub struct RenderArgs {}

pub fn execute(_global: &GlobalArgs, _args: &RenderArgs) -> Result<Exit> {
    Err(Error::NotImplemented("render"))
}
