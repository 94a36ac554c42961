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
        // Which address answered the reads is an observation, not part of what was reviewed.
        if now.is_some_and(|f| same_but_failover(f, z)) {
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
            Some(f) if f.target != z.target => {
                let list = |t: &crate::model::ServerTarget| {
                    t.candidates()
                        .iter()
                        .map(|c| c.label.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!(
                    "its server is now {} (planned: {})",
                    list(&f.target.server),
                    list(&z.target.server)
                )
            }
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

/// Equal but for which address of the server answered the reads.
fn same_but_failover(a: &ZonePlan, b: &ZonePlan) -> bool {
    let mut a = a.clone();
    a.failover.clone_from(&b.failover);
    a == *b
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
    if !s.discovered
        && (s.address != n.address || s.fallbacks != n.fallbacks || s.transport != n.transport)
    {
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

/// Reads a saved plan file and checks it against `desired` (see `plan::saved`). Every
/// problem here is found before any packet: a usage error (exit 3).
pub fn read_saved_plan(file: &Path, desired: &DesiredState) -> Result<Plan> {
    let shown = file.display();
    let text = match std::fs::read(file) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| Error::Usage {
            message: format!(
                "{shown} is not a kmsdns plan file: it is not UTF-8 text; make it with `kmsdns plan --out FILE`; nothing was sent"
            ),
        })?,
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "there is no such file".to_string(),
                std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
                _ if file.is_dir() => "it is a directory".to_string(),
                _ => e.to_string(),
            };
            return Err(Error::Usage {
                message: format!(
                    "cannot read the plan {shown}: {why}; make it with `kmsdns plan --out FILE`; nothing was sent"
                ),
            });
        }
    };
    saved::load(&shown.to_string(), &text, desired).map_err(|e| Error::Usage {
        message: match e {
            saved::SavedPlanError::NotAPlan { file, reason } => format!(
                "{file} is not a kmsdns plan file: {}; make it with `kmsdns plan --out FILE`; nothing was sent",
                not_a_plan_words(&reason)
            ),
            e => e.to_string(),
        },
    })
}

/// serde_json's reason ("missing field `zones` at line 1 column 12") in the user's words.
fn not_a_plan_words(reason: &str) -> String {
    let (what, place) = match reason.rfind(" at line ") {
        Some(i) => (&reason[..i], reason[i + 4..].replace(" column", ", column")),
        None => (reason, String::new()),
    };
    let field = |prefix: &str| {
        what.strip_prefix(prefix)
            .and_then(|r| r.split('`').next())
            .map(str::to_string)
    };
    if let Some(f) = field("missing field `") {
        format!("it has no `{f}`")
    } else if let Some(f) = field("unknown field `") {
        format!("it has a field `{f}` that plans do not have ({place})")
    } else if let Some(v) = field("unknown variant `") {
        format!(
            "it has `{v}` where a plan has one of its own words, e.g. an action add, change or delete ({place})"
        )
    } else if what.starts_with("invalid type") || what.starts_with("invalid value") {
        // serde names Rust types ("expected struct Problem"): say only what was found.
        let found = what
            .replace("invalid type: ", "")
            .replace("invalid value: ", "");
        let found = found
            .split(", expected")
            .next()
            .unwrap_or(&found)
            .to_string();
        format!("a value has the wrong type ({place}: {found})")
    } else if what.contains("EOF") {
        "it is empty or cut short (not a whole JSON document)".to_string()
    } else {
        format!("it is not JSON ({place}: {what})")
    }
}
