//! All integration tests build as one test program (see ../shared/STYLE.md §10).

mod ci_recipes;
mod closed_pipe;
mod config_errors;
mod config_schema;
mod dns_engine;
mod faults;
mod harness;
mod harness_selftest;
mod import;
mod ipv6;
mod layers;
mod packaging;
mod plan_apply;
mod powerdns;
mod properties;
mod races;
mod readme;
mod relay_selftest;
mod render;
mod render_roundtrip;
mod render_servers;
mod saved_plans;
mod systemd_units;
mod tsig;
mod tsig_oracle;
mod verify_ladder;
