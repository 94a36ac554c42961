//! kmsdns itself against a real Active Directory domain controller (Samba 4, in the network
//! namespace of [`SambaDc::shared`]) with a gss-tsig key from the `kmsdns` account's keytab:
//! plan → apply → plan → verify, a node another account owns, an echoed error reply, and a
//! serial that never moves. Samba's quirks (replies signed over a digest without the request
//! MAC's length, error replies that echo the request, no AXFR, no serial bumps) are facts of
//! `samba_selftest`; here kmsdns has to live with them.

mod echoed;
mod end_to_end;
mod owned;
mod serial;

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::harness::samba::{SambaDc, ZONE};

/// A config with server `dc` (the DC), key `ad` (gss-tsig, `user`'s keytab), host
/// `hosts` and one `[[domains]]` entry per domain, all in the AD zone.
pub fn config(dc: &SambaDc, dir: &Path, user: &str, hosts: &[&str], domains: &[&str]) -> PathBuf {
    let mut text = format!(
        "{}\n{}",
        dc.server_toml("dc", "ad"),
        dc.gss_key_toml("ad", user)
    );
    for h in hosts {
        text.push_str(&format!("\n[[hosts]]\nname = \"{h}\"\n"));
    }
    for d in domains {
        text.push_str(&format!(
            "\n[[domains]]\nname = \"{d}\"\nzone = \"{ZONE}\"\nserver = \"dc\"\n"
        ));
    }
    crate::harness::cli::write_config(dir, &text)
}

/// kmsdns `args` in the DC's namespace (no ticket: the keytab in the config gives one).
pub fn run(dc: &SambaDc, cfg: &Path, args: &[&str]) -> Output {
    dc.kmsdns()
        .args(args)
        .arg("-c")
        .arg(cfg)
        .output()
        .expect("run kmsdns")
}

/// stdout and stderr of a run.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The SRV targets at `owner`, as dig shows them.
pub fn targets(dc: &SambaDc, owner: &str) -> Vec<String> {
    dc.srv_records(owner)
        .into_iter()
        .map(|rr| rr.target)
        .collect()
}
