//! Saved plans in `apply PLAN.json`: what was reviewed is what is applied (Terraform's rule).

use std::path::Path;

use super::NetOptions;
use super::keys::KeyRing;
use crate::error::{Error, Result};
use crate::model::{DesiredState, Problem};
use crate::plan::{Plan, ZonePlan, saved};

/// Reads a saved plan (`plan --out FILE`) and checks it: not edited, made from this very
/// configuration (both exit 3 before any packet), and still what a plan made now would be.
/// What was reviewed is what is applied: a zone whose live state, server or key changed since
/// is marked stale (not sent, reported, exit 1); the zones that are identical go ahead.
pub async fn load_saved_plan(
    file: &Path,
    desired: &DesiredState,
    keys: &KeyRing,
    opts: &NetOptions,
) -> Result<Plan> {
    let mut plan = read_saved_plan(file, desired)?;
    let fresh = super::plan(desired, keys, opts).await;
    for z in &mut plan.zones {
        if z.error.is_some() {
            continue;
        }
        let now = fresh.zones.iter().find(|f| f.target.zone == z.target.zone);
        if now == Some(&*z) {
            continue;
        }
        if let Some(f) = now
            && let Some(what) = edited(z, f)
        {
            return Err(Error::Usage {
                message: format!(
                    "the plan file {} was modified after it was written: {what} is not what this configuration asks for; nothing was sent: run `kmsdns plan --out` again",
                    file.display()
                ),
            });
        }
        let why = match now {
            None => "it is no longer found for this configuration".to_string(),
            Some(f) if f.target != z.target => format!(
                "its server is now {} (planned: {})",
                f.target.server.label, z.target.server.label
            ),
            Some(f) if f.error.is_some() => format!(
                "it cannot be read now: {}",
                f.error.as_ref().map_or("", |e| e.message.as_str())
            ),
            Some(_) => "its records are not what they were when it was planned".to_string(),
        };
        z.error = Some(Problem {
            message: format!(
                "stale plan: zone {} changed since it was planned ({why}); nothing was sent to it",
                z.target.zone
            ),
            hint: "run `kmsdns plan` again, review, then apply".into(),
        });
    }
    Ok(plan)
}

/// What a saved zone plan says that the configuration alone decides, and that differs from a
/// plan made now: only an edit can do that (the configuration is the same, its digest says
/// so). `None` when the differences can come from the live state.
fn edited(saved: &ZonePlan, now: &ZonePlan) -> Option<String> {
    let (s, n) = (&saved.target.server, &now.target.server);
    let zone = &saved.target.zone;
    if s.key != n.key {
        return Some(format!("the key of zone {zone}"));
    }
    if !s.discovered && (s.address != n.address || s.transport != n.transport) {
        return Some(format!("the server of zone {zone}"));
    }
    let same_state = saved.rrsets.len() == now.rrsets.len()
        && saved
            .rrsets
            .iter()
            .zip(&now.rrsets)
            .all(|(a, b)| a.owner == b.owner && a.current == b.current);
    if same_state && saved.rrsets != now.rrsets {
        return Some(format!("the records to write in zone {zone}"));
    }
    None
}

/// Reads a saved plan file and checks it against `desired` (see `plan::saved`).
pub fn read_saved_plan(file: &Path, desired: &DesiredState) -> Result<Plan> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::Io {
        context: format!("cannot read the plan {}", file.display()),
        source: e,
    })?;
    saved::load(&file.display().to_string(), &text, desired).map_err(|e| Error::Usage {
        message: e.to_string(),
    })
}
