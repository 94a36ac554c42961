//! `kmsdns::config::from_str`: any text gives a state or errors, never a panic; every error
//! renders (plain and styled, through annotate-snippets) with valid line/column positions.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match kmsdns::config::from_str(Path::new("/fuzz/kmsdns.toml"), text) {
        Ok(state) => {
            let _ = format!("{state:?}");
        }
        Err(errors) => {
            let _ = errors.to_string();
            let _ = errors.render(true);
            for d in &errors.diagnostics {
                let _ = kmsdns::config::line_col(text, d.span.start);
                let _ = kmsdns::config::line_col(text, d.span.end);
            }
        }
    }
});
