//! Shared fixtures of the fuzz targets: one configuration, one key, one clock.

use std::path::Path;
use std::sync::OnceLock;

use kmsdns::dns::tsig::{Secret, TsigKey};
use kmsdns::model::{DesiredState, TsigAlgorithm};

/// A fixed "now" for the TSIG targets (seconds since the epoch).
pub const NOW: u64 = 1_700_000_000;

/// The configuration the saved plans are checked against (the repository's example).
pub const CONFIG_TEXT: &str = include_str!("../../config.example.toml");

/// The desired state of [`CONFIG_TEXT`], parsed once.
pub fn desired() -> &'static DesiredState {
    static D: OnceLock<DesiredState> = OnceLock::new();
    D.get_or_init(|| {
        kmsdns::config::from_str(Path::new("/fuzz/kmsdns.toml"), CONFIG_TEXT)
            .expect("config.example.toml is valid")
    })
}

/// A fixed key per algorithm, named `kms-update`, with a secret of the output length.
pub fn key(alg: TsigAlgorithm) -> TsigKey {
    let secret: Vec<u8> = (0..alg.output_len() as u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
    TsigKey::new("kms-update", alg, Secret::new(secret)).expect("valid key name")
}

/// The algorithm a selector byte picks.
pub fn algorithm(selector: u8) -> TsigAlgorithm {
    TsigAlgorithm::ALL[selector as usize % TsigAlgorithm::ALL.len()]
}
