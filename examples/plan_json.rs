//! Using kmsdns as a library: load a configuration, read the live `_vlmcs._tcp` records from
//! each zone's server and print the plan as JSON (the schema of `kmsdns plan --json`,
//! docs/plan.schema.json). It only reads DNS; nothing is changed.
//!
//! ```sh
//! cargo run --example plan_json -- kmsdns.toml
//! ```
//!
//! The resolver is the first `nameserver` of /etc/resolv.conf ([`NetOptions::default`]).

use std::path::PathBuf;
use std::process::ExitCode;

use kmsdns::app::{self, KeyRing, NetOptions};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: plan_json CONFIG.toml");
        return ExitCode::from(3);
    };
    let desired = match app::load_config(&path) {
        Ok(desired) => desired,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(3);
        }
    };
    // Secrets are read from the key files or environment variables the config names; a key
    // that cannot be loaded fails only the zones that need it (reported in the plan).
    let keys = KeyRing::load(&desired);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let plan = runtime.block_on(app::plan(&desired, &keys, &NetOptions::default()));
    match serde_json::to_string_pretty(&plan) {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("cannot encode the plan: {e}");
            return ExitCode::from(1);
        }
    }
    if plan.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
