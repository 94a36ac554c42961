//! All integration tests build as one test program (see ../shared/STYLE.md §10).

mod config_errors;
mod dns_engine;
mod faults;
mod harness;
mod harness_selftest;
mod ipv6;
mod layers;
mod packaging;
mod plan_apply;
mod powerdns;
mod races;
mod relay_selftest;
mod render;
mod render_roundtrip;
mod render_servers;
mod saved_plans;
mod tsig;
mod tsig_oracle;
mod verify_ladder;
