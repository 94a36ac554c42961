//! Configuration diagnostics: each error points at file:line:col, names the key path and
//! says how to fix it. All of them are collected and reported at once.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem found in the configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the source text.
    pub span: Range<usize>,
    /// Dotted key path, e.g. `hosts[1].name`.
    pub key: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Range<usize>, key: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            span,
            key: key.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Every problem found in one configuration file, with the text to show them against.
#[derive(Debug, thiserror::Error)]
pub struct ConfigErrors {
    pub file: PathBuf,
    pub source_text: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigErrors {
    /// A single problem not tied to a place in the file (e.g. the file cannot be read).
    pub fn whole_file(file: &Path, message: String, hint: &str) -> Self {
        ConfigErrors {
            file: file.to_path_buf(),
            source_text: String::new(),
            diagnostics: vec![Diagnostic::new(0..0, "", message).hint(hint)],
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let key = if d.key.is_empty() {
                String::new()
            } else {
                format!("{}: ", d.key)
            };
            if self.source_text.is_empty() {
                writeln!(f, "{}: error: {key}{}", self.file.display(), d.message)?;
            } else {
                let (line, col) = line_col(&self.source_text, d.span.start);
                writeln!(
                    f,
                    "{}:{line}:{col}: error: {key}{}",
                    self.file.display(),
                    d.message
                )?;
                if let Some(text) = self.source_text.lines().nth(line - 1) {
                    let width = (d.span.end.saturating_sub(d.span.start))
                        .min(text.chars().count().saturating_sub(col - 1))
                        .max(1);
                    writeln!(f, "{line:>5} | {text}")?;
                    writeln!(f, "      | {}{}", " ".repeat(col - 1), "^".repeat(width))?;
                }
            }
            if let Some(h) = &d.hint {
                writeln!(f, "      = hint: {h}")?;
            }
        }
        write!(
            f,
            "{}: {n} error{} in the configuration; nothing was sent to DNS",
            self.file.display(),
            if n == 1 { "" } else { "s" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 11), (2, 5));
    }
}
