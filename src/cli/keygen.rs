//! `kmsdns keygen NAME`: generate a TSIG key in BIND format (as `tsig-keygen` does).
//!
//! Without `-o` the key goes to stdout, the one place kmsdns prints a secret: the user asked
//! for the key itself. With `-o FILE` it is written with mode 0600 and stdout gets the
//! named.conf and kmsdns.toml lines that use it, never the secret.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::GlobalArgs;
use crate::dns::keyfile::parse_algorithm;
use crate::dns::tsig::TsigKey;
use crate::error::{Error, Exit, Result};

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
    validate_name(&args.name)?;
    let algorithm = parse_algorithm(&args.algorithm).map_err(|m| Error::Usage {
        message: format!("-a {}: {m}", args.algorithm),
    })?;
    let key =
        TsigKey::generate(&args.name, algorithm).map_err(|e| Error::Runtime(e.to_string()))?;
    let mut out = anstream::stdout().lock();
    match &args.output {
        None => out.write_all(key.to_bind_key_file().as_bytes())?,
        Some(path) => {
            let path = write_key_file(path, &key, args.force)?;
            write_usage(&mut out, &key, &path)?;
        }
    }
    Ok(Exit::Success)
}

/// Key names: letters, digits, hyphen, underscore and dots, as DNS labels of 1–63 octets.
fn validate_name(name: &str) -> Result<()> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    let problem = if bare.is_empty() {
        Some("the key name is empty".to_string())
    } else if let Some(c) = bare
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        Some(format!(
            "the key name `{name}` contains `{c}`; use letters, digits, `-`, `_` and dots"
        ))
    } else if bare.split('.').any(|l| l.is_empty() || l.len() > 63) {
        Some(format!(
            "the key name `{name}` has an empty label or one longer than 63 characters"
        ))
    } else if bare.len() > 253 {
        Some(format!(
            "the key name `{name}` is longer than 253 characters"
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(Error::Usage {
            message: format!("{message} (e.g. `kmsdns keygen kms-update`)"),
        }),
        None => Ok(()),
    }
}

/// Creates the file with mode 0600 (refusing to replace one unless `force`) and returns its
/// absolute path.
fn write_key_file(path: &Path, key: &TsigKey, force: bool) -> Result<PathBuf> {
    let io = |context: String| move |source| Error::Io { context, source };
    if force {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => Err(io(format!("cannot replace {}", path.display()))(e))?,
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Usage {
                message: format!(
                    "{} already exists; choose another file or pass --force to replace it",
                    path.display()
                ),
            }
        } else {
            io(format!("cannot create key file {}", path.display()))(e)
        }
    })?;
    file.write_all(key.to_bind_key_file().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io(format!("cannot write key file {}", path.display())))?;
    std::path::absolute(path).map_err(io(format!("cannot resolve {}", path.display())))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["kms-update", "kms_update.example.", "a.b.c", "K1"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "a..b", "a b", "kms/update", "ä"] {
            assert!(
                matches!(validate_name(bad), Err(Error::Usage { .. })),
                "{bad}"
            );
        }
    }
}
