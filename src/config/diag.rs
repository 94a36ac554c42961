//! Configuration diagnostics: each error points at file:line:col, names the key path and
//! says how to fix it. All of them are collected and reported at once.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use annotate_snippets::renderer::{self, Style};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

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

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Every problem found in one configuration file, with the text to show them against.
#[derive(Debug, thiserror::Error)]
pub struct ConfigErrors {
    pub file: PathBuf,
    pub source_text: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// The most errors one report shows (the count of the rest follows).
const MAX_SHOWN: usize = 50;

/// A word longer than this is elided in messages (a 100,000-character name would otherwise
/// print itself several times).
const LONG_WORD: usize = 64;

/// `text` with every word (a run without spaces) longer than [`LONG_WORD`] characters cut to
/// its first 40 characters and its length.
fn elide(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let n = word.chars().count();
        if n > LONG_WORD {
            let head: String = word.chars().take(40).collect();
            out.push_str(&format!("{head}… ({n} characters)"));
        } else {
            out.push_str(word);
        }
    }
    out
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

    /// The report shown to the user: for each problem a first line
    /// `FILE:LINE:COL: error: KEY: message` (the form editors and `grep` pick up), the source
    /// with the span underlined and the hint, then a closing count line. `styled` adds ANSI
    /// colours; [`fmt::Display`] picks it the way the rest of kmsdns does (see below).
    ///
    /// The snippet is drawn by `annotate-snippets` (rustc's and cargo's renderer): it expands
    /// tabs, measures East Asian wide characters, underlines spans over several lines and
    /// shortens very long lines around the span.
    pub fn render(&self, styled: bool) -> String {
        let renderer = if styled {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let (error, bold) = if styled {
            (renderer::DEFAULT_ERROR_STYLE, Style::new().bold())
        } else {
            (Style::new(), Style::new())
        };
        let file = self.file.display();
        let mut out = String::new();
        for d in self.diagnostics.iter().take(MAX_SHOWN) {
            let key = if d.key.is_empty() {
                String::new()
            } else {
                format!("{}: ", d.key)
            };
            let span = self.clamp(&d.span);
            let place = if self.source_text.is_empty() {
                String::new()
            } else {
                let (line, col) = line_col(&self.source_text, span.start);
                format!(":{line}:{col}")
            };
            out.push_str(&format!(
                "{bold}{file}{place}: {bold:#}{error}error{error:#}{bold}: {}{}{bold:#}\n",
                elide(&key),
                elide(&d.message)
            ));
            let mut group = Group::with_level(Level::ERROR);
            if !self.source_text.is_empty() {
                group = group.element(
                    Snippet::source(self.source_text.as_str())
                        .annotation(AnnotationKind::Primary.span(span)),
                );
            }
            let hint = d.hint.as_deref().map(elide);
            if let Some(h) = &hint {
                group = group.element(Level::HELP.with_name("hint").message(h.as_str()));
            }
            if !group.is_empty() {
                out.push_str(&renderer.render(&[group]));
                out.push('\n');
            }
            out.push('\n');
        }
        let n = self.diagnostics.len();
        if n > MAX_SHOWN {
            out.push_str(&format!(
                "… and {} more error(s) not shown; fix these first\n\n",
                n - MAX_SHOWN
            ));
        }
        out.push_str(&format!(
            "{file}: {n} error{} in the configuration; nothing was sent to DNS",
            if n == 1 { "" } else { "s" }
        ));
        out
    }

    /// `span` inside the text and on character boundaries (the renderer panics otherwise). An
    /// empty span just after the final newline moves back onto the last line, which is shown.
    fn clamp(&self, span: &Range<usize>) -> Range<usize> {
        let text = self.source_text.as_str();
        let floor = |mut i: usize| {
            i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let mut start = floor(span.start);
        let mut end = floor(span.end.max(span.start));
        if end < span.end.min(text.len()) {
            // Round a cut character up so that it stays underlined.
            end += text[end..].chars().next().map_or(0, char::len_utf8);
        }
        if start == text.len() && start == end && text.ends_with('\n') {
            start = text.len() - 1;
            end = start;
        }
        start..end
    }
}

/// Colours when stderr takes them: `--color`, `NO_COLOR`, `CLICOLOR_FORCE` and whether stderr
/// is a terminal, as decided by `anstream` for every other output of kmsdns. These errors are
/// always shown on stderr; use [`ConfigErrors::render`] to choose explicitly.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let styled = matches!(
            anstream::stderr().current_choice(),
            anstream::ColorChoice::AlwaysAnsi
        );
        f.write_str(&self.render(styled))
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

    fn errors(text: &str, diagnostics: Vec<Diagnostic>) -> ConfigErrors {
        ConfigErrors {
            file: PathBuf::from("k.toml"),
            source_text: text.to_string(),
            diagnostics,
        }
    }

    /// The display column where `needle` starts in `line` (tab stops of 4, wide characters 2).
    fn display_col(line: &str, needle: &str) -> usize {
        let mut col = 0;
        for c in line[..line.find(needle).unwrap()].chars() {
            col = match c {
                '\t' => col / 4 * 4 + 4,
                '日' | '本' => col + 2,
                _ => col + 1,
            };
        }
        col
    }

    #[test]
    fn first_line_source_caret_hint_and_count() {
        let text = "[defaults]\ntll = 60\n";
        let d = Diagnostic::new(11..14, "defaults.tll", "unknown key `tll`")
            .hint("did you mean `ttl`?");
        assert_eq!(
            errors(text, vec![d]).render(false),
            "k.toml:2:1: error: defaults.tll: unknown key `tll`\n\
             \x20 |\n\
             2 | tll = 60\n\
             \x20 | ^^^\n\
             \x20 |\n\
             \x20 = hint: did you mean `ttl`?\n\
             \n\
             k.toml: 1 error in the configuration; nothing was sent to DNS"
        );
    }

    #[test]
    fn caret_under_the_span_after_tabs_and_wide_characters() {
        let text = "\tsuffixes\t= [\"日本.example\", \"Zürich_1.example\"]\t# café\n";
        let start = text.find("\"Zürich").unwrap();
        let span = start..start + "\"Zürich_1.example\"".len();
        let out = errors(text, vec![Diagnostic::new(span, "suffixes[1]", "bad")]).render(false);
        // Columns count characters, a tab as one: what editors jump to.
        assert!(
            out.starts_with("k.toml:1:28: error: suffixes[1]: bad\n"),
            "{out}"
        );
        let lines: Vec<&str> = out.lines().collect();
        let (source, carets) = (lines[2], lines[3]);
        assert!(!source.contains('\t'), "tabs are expanded: {out}");
        assert_eq!(
            display_col(source, "\"Zürich"),
            display_col(carets, "^"),
            "{out}"
        );
        assert_eq!(
            carets.matches('^').count(),
            18,
            "one caret a character: {out}"
        );
    }

    #[test]
    fn span_over_several_lines_marks_each() {
        let text = "a = 1\nhosts = [\n  \"x\",\n  \"y\",\n]\n";
        let start = text.find('[').unwrap();
        let span = start..text.rfind(']').unwrap() + 1;
        let out = errors(text, vec![Diagnostic::new(span, "hosts", "mixed TTLs")]).render(false);
        assert!(
            out.starts_with("k.toml:2:9: error: hosts: mixed TTLs\n"),
            "{out}"
        );
        for n in 2..=5 {
            assert!(out.contains(&format!("\n{n} |")), "line {n} shown: {out}");
        }
        assert!(!out.contains("a = 1"), "{out}");
    }

    #[test]
    fn very_long_line_is_shortened_around_the_span() {
        let text = format!("hosts = [{}\"bad\"]\n", "\"kms.example.com\", ".repeat(20));
        let start = text.find("\"bad").unwrap();
        let out = errors(
            &text,
            vec![Diagnostic::new(start..start + 5, "hosts[20]", "unknown")],
        )
        .render(false);
        assert!(
            out.starts_with("k.toml:1:390: error: hosts[20]: unknown\n"),
            "{out}"
        );
        assert!(out.lines().all(|l| l.chars().count() <= 140), "{out}");
        assert!(out.contains("\"bad\"]"), "{out}");
    }

    #[test]
    fn spans_out_of_range_or_inside_a_character_do_not_panic() {
        let text = "a = \"é\"\n";
        for span in [
            0..100,
            100..200,
            5..6,
            6..6,
            9..9,
            Range { start: 3, end: 1 },
        ] {
            let out = errors(text, vec![Diagnostic::new(span.clone(), "a", "m")]).render(false);
            assert!(out.contains("error: a: m"), "{span:?}: {out}");
        }
        // An empty span after the final newline is shown on the last line.
        let out = errors(text, vec![Diagnostic::new(9..9, "a", "m")]).render(false);
        assert!(out.starts_with("k.toml:1:8: error: a: m\n"), "{out}");
        assert!(out.contains("1 | a = \"é\""), "{out}");
    }

    #[test]
    fn whole_file_error_has_no_position() {
        let e = ConfigErrors::whole_file(Path::new("k.toml"), "cannot read".into(), "pass -c");
        assert_eq!(
            e.render(false),
            "k.toml: error: cannot read\n = hint: pass -c\n\n\
             k.toml: 1 error in the configuration; nothing was sent to DNS"
        );
    }

    #[test]
    fn colours_only_when_asked() {
        let e = errors("a = 1\n", vec![Diagnostic::new(4..5, "a", "m").hint("h")]);
        assert!(!e.render(false).contains('\x1b'));
        let styled = e.render(true);
        assert!(styled.contains("\x1b["), "{styled:?}");
        assert!(styled.contains("error"), "{styled:?}");
    }
}
