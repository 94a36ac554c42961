//! `keygen`: a new random TSIG key, and its key file written with mode 0600.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::dns::keyfile::parse_algorithm;
use crate::dns::tsig::TsigKey;
use crate::error::{Error, Result};
use crate::model::parse_key_name;

/// A new key named `name` with the algorithm named `algorithm` (e.g. `hmac-sha256`).
pub fn generate(name: &str, algorithm: &str) -> Result<TsigKey> {
    parse_key_name(name).map_err(|message| Error::Usage {
        message: format!("{message} (e.g. `kmsdns keygen kms-update`)"),
    })?;
    let algorithm = parse_algorithm(algorithm).map_err(|m| Error::Usage {
        message: format!("-a {algorithm}: {m}"),
    })?;
    TsigKey::generate(name, algorithm).map_err(|e| Error::Runtime(e.to_string()))
}

/// Creates the key file with mode 0600 (refusing to replace one unless `force`) and returns
/// its absolute path.
pub fn write_key_file(path: &Path, key: &TsigKey, force: bool) -> Result<PathBuf> {
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
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Usage {
                message: format!(
                    "cannot create {}: its directory does not exist; create it first or choose another path",
                    path.display()
                ),
            }
        } else if e.kind() == std::io::ErrorKind::AlreadyExists {
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
