//! Saved plans (`kmsdns plan --out FILE`): the one loader, used by `apply PLAN.json` and
//! `render nsupdate --plan`. Reading the file is the caller's job; this checks the text.

use super::{Plan, SCHEMA_VERSION, state_sha256};
use crate::model::DesiredState;

/// Why a saved plan cannot be used. Every case is detected before any packet is sent.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    /// The text is not a plan (not JSON, or not the plan's shape).
    #[error("{file} is not a kmsdns plan file: {reason}")]
    NotAPlan {
        /// The plan file.
        file: String,
        /// What the parser said.
        reason: String,
    },
    /// Made by a kmsdns with another plan schema.
    #[error(
        "{file} has plan schema {found}, this kmsdns reads schema {SCHEMA_VERSION}: run `kmsdns plan --out` again"
    )]
    Schema {
        /// The plan file.
        file: String,
        /// The schema the file has.
        found: u32,
    },
    /// Made from another version of the configuration file.
    #[error(
        "the configuration {config} changed since the plan {file} was made; nothing was sent: run `kmsdns plan --out` again"
    )]
    ConfigChanged {
        /// The plan file.
        file: String,
        /// The configuration file.
        config: String,
    },
    /// Edited after it was written: its digest does not match its content.
    #[error(
        "the plan file {file} was modified after it was written (its content does not match its plan_sha256); nothing was sent: run `kmsdns plan --out` again"
    )]
    Modified {
        /// The plan file.
        file: String,
    },
}

/// Parses a saved plan and checks that it was not edited (its digest over the whole canonical
/// content) and that it was made from `desired` (the same configuration text). `file` names
/// the plan in errors. Whether the live state still matches is for the caller to check, by
/// planning again and comparing.
pub fn load(file: &str, text: &str, desired: &DesiredState) -> Result<Plan, SavedPlanError> {
    #[derive(serde::Deserialize)]
    struct Header {
        schema: u32,
    }
    let not_a_plan = |e: serde_json::Error| SavedPlanError::NotAPlan {
        file: file.to_string(),
        reason: e.to_string(),
    };
    let header: Header = serde_json::from_str(text).map_err(not_a_plan)?;
    if header.schema != SCHEMA_VERSION {
        return Err(SavedPlanError::Schema {
            file: file.to_string(),
            found: header.schema,
        });
    }
    let plan: Plan = serde_json::from_str(text).map_err(not_a_plan)?;
    if plan.digest() != plan.plan_sha256 || state_sha256(&plan.zones) != plan.state_sha256 {
        return Err(SavedPlanError::Modified {
            file: file.to_string(),
        });
    }
    if plan.config_sha256 != desired.sha256 {
        return Err(SavedPlanError::ConfigChanged {
            file: file.to_string(),
            config: desired.path.display().to_string(),
        });
    }
    Ok(plan)
}
