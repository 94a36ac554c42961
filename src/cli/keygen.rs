//! `kmsdns keygen NAME`: generate a TSIG key in BIND format (as `tsig-keygen` does).
//!
//! Without `-o` the key goes to stdout, the one place kmsdns prints a secret: the user asked
//! for the key itself. With `-o FILE` it is written with mode 0600 and stdout gets the
//! named.conf and kmsdns.toml lines that use it, never the secret.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::GlobalArgs;
use crate::app::{self, TsigKey};
use crate::error::{Exit, Result};

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key name, as named.conf and the TSIG record will carry it (e.g. kms-update)
    pub name: String,
    /// The HMAC algorithm: hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha1 (legacy)
    #[arg(short, long, default_value = "hmac-sha256")]
    pub algorithm: String,
    /// Write the key to this file (mode 0600) instead of stdout
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists
    #[arg(long, requires = "output")]
    pub force: bool,
}

pub fn execute(_global: &GlobalArgs, args: &KeygenArgs) -> Result<Exit> {
    let key = app::keygen::generate(&args.name, &args.algorithm)?;
    let mut out = anstream::stdout().lock();
    match &args.output {
        None => out.write_all(key.to_bind_key_file().as_bytes())?,
        Some(path) => {
            let path = app::keygen::write_key_file(path, &key, args.force)?;
            write_usage(&mut out, &key, &path)?;
        }
    }
    Ok(Exit::Success)
}

/// The named.conf and kmsdns.toml lines that use the key file. No secret here.
fn write_usage(out: &mut impl Write, key: &TsigKey, path: &Path) -> std::io::Result<()> {
    let shown = path.display();
    let name = &key.name;
    let toml_id = if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        name.clone()
    } else {
        format!("\"{name}\"")
    };
    writeln!(out, "Wrote TSIG key {key} to {shown} (mode 0600).")?;
    writeln!(out)?;
    writeln!(
        out,
        "# named.conf: load the key and let it change only the KMS SRV records"
    )?;
    writeln!(out, "include \"{shown}\";")?;
    writeln!(out, "zone \"example.com\" {{")?;
    writeln!(
        out,
        "    # ... type primary; file ...; one grant per KMS domain in this zone"
    )?;
    writeln!(out, "    update-policy {{")?;
    writeln!(
        out,
        "        grant {name} name _vlmcs._tcp.example.com. SRV;"
    )?;
    writeln!(out, "    }};")?;
    writeln!(out, "}};")?;
    writeln!(out)?;
    writeln!(out, "# kmsdns.toml")?;
    writeln!(out, "[keys.{toml_id}]")?;
    writeln!(out, "file = \"{shown}\"")?;
    Ok(())
}
