//! Where the `[[domains]]` entries of a file start, so that a big file is parsed a few hundred
//! entries at a time instead of all at once.
//!
//! Parsing 100,000 entries into one `DeTable` holds the file's tokens, its parser events and a
//! B-tree node per entry at the same time (about 2 KiB per entry). Parsed in batches, only one
//! batch is in memory besides the validated state. That is only the same as parsing the whole
//! file when the batches cannot see each other: the file ends with its `[[domains]]` entries
//! (their own sub-tables allowed) and nothing before them names `domains`. [`domain_headers`]
//! checks the first; the caller the second. Any other layout, and any file with a TOML error,
//! is parsed whole, as before.

use toml_parser::Source;
use toml_parser::lexer::TokenKind;

/// The byte offsets of the top-level `[[domains]]` headers, when every header after the first
/// of them is another `[[domains]]` or a sub-table of one (`[domains.…]`, `[[domains.…]]`);
/// `None` for any other layout and for unbalanced brackets (a syntax error the whole-file parse
/// reports). An empty list: the file has no `[[domains]]` header.
pub(super) fn domain_headers(text: &str) -> Option<Vec<usize>> {
    let mut offsets = Vec::new();
    // Open `[` / `{` of values: newlines inside a multi-line array do not start a header.
    let mut depth: usize = 0;
    let mut line_start = true;
    // The header being read: its offset and its text without whitespace.
    let mut header: Option<(usize, String)> = None;
    for token in Source::new(text).lex() {
        let kind = token.kind();
        let span = token.span();
        if let Some((start, compact)) = &mut header {
            match kind {
                TokenKind::Newline | TokenKind::Eof => {
                    let start = *start;
                    if compact == "[[domains]]" {
                        offsets.push(start);
                    } else if !offsets.is_empty()
                        && !compact.starts_with("[domains.")
                        && !compact.starts_with("[[domains.")
                    {
                        return None;
                    }
                    header = None;
                    line_start = true;
                }
                TokenKind::Whitespace | TokenKind::Comment => {}
                _ => compact.push_str(text.get(span.start()..span.end())?),
            }
            continue;
        }
        match kind {
            TokenKind::Whitespace | TokenKind::Comment => {}
            TokenKind::Newline => line_start = depth == 0,
            TokenKind::LeftSquareBracket if line_start && depth == 0 => {
                header = Some((span.start(), "[".to_string()));
            }
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => {
                depth += 1;
                line_start = false;
            }
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.checked_sub(1)?;
                line_start = false;
            }
            TokenKind::Eof => break,
            _ => line_start = false,
        }
    }
    (depth == 0).then_some(offsets)
}

/// Byte ranges of batches of about `per_batch` entries each, from the header offsets.
pub(super) fn batches(
    offsets: &[usize],
    len: usize,
    per_batch: usize,
) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
    offsets
        .chunks(per_batch)
        .enumerate()
        .map(move |(i, chunk)| {
            let end = offsets.get((i + 1) * per_batch).copied().unwrap_or(len);
            (i * per_batch, chunk[0]..end)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_a_file_ending_with_its_domains() {
        let text = "[defaults]\nttl = 60\n[[hosts]]\nname = \"k\"\n\
                    [[domains]]\nname = \"a\"\nhosts = [\n  \"k\",\n]\n\
                    [[ domains ]] # comment\nname = \"b\"\n[[domains.hosts]]\nname = \"x\"\n\
                    [[domains]]\nname = \"[[domains]]\"\nzone = '''\n[[domains]]\n'''\n";
        let offsets = domain_headers(text).unwrap();
        let heads: Vec<&str> = offsets.iter().map(|&o| &text[o..o + 4]).collect();
        assert_eq!(heads, ["[[do", "[[ d", "[[do"]);
        assert_eq!(offsets[0], text.find("[[domains]]").unwrap());
        let b: Vec<_> = batches(&offsets, text.len(), 2).collect();
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].0, b[0].1.start), (0, offsets[0]));
        assert_eq!((b[1].0, b[1].1.clone()), (2, offsets[2]..text.len()));
    }

    #[test]
    fn other_layouts_are_parsed_whole() {
        // A table after the domains, unbalanced brackets.
        assert_eq!(
            domain_headers("[[domains]]\nname = \"a\"\n[keys.k]\n"),
            None
        );
        assert_eq!(domain_headers("[[domains]]\nhosts = [\n"), None);
        assert_eq!(domain_headers("a = ]\n"), None);
        assert_eq!(domain_headers("[defaults]\n"), Some(vec![]));
    }
}
