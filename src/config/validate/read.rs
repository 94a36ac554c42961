//! Reading the file into the checks: a big file that ends with its `[[domains]]` entries a
//! batch at a time (see `split.rs`), any other file whole, with its TOML syntax errors.

use std::path::Path;

use toml::de::DeTable;

use super::{Diagnostic, Diags, KeySources, Outcome, Validator, get, schema, split};

/// Entries parsed at once when a file is read in batches (see `split.rs`).
const BATCH: usize = 256;

/// Checks a file that ends with its `[[domains]]` entries a batch at a time; `None` for any
/// other layout and for a file with a TOML syntax error: [`whole`] checks those.
pub(super) fn fast(path: &Path, text: &str) -> Option<Outcome> {
    let offsets = split::domain_headers(text)?;
    let head_end = offsets.first().copied().unwrap_or(text.len());
    let head = DeTable::parse(&text[..head_end]).ok()?;
    if !offsets.is_empty() && get(head.get_ref(), "domains").is_some() {
        return None;
    }
    let mut v = Validator::new(path, Diags::new());
    schema::scan(head.get_ref(), 0, &mut v.diags);
    let state = v.build(path, head.get_ref(), |v, acc| {
        for (first, range) in split::batches(&offsets, text.len(), BATCH) {
            let doc = DeTable::parse(&text[range.clone()]).ok()?;
            let diags = v.diags.len();
            schema::scan(doc.get_ref(), first, &mut v.diags);
            v.domains_in(doc.get_ref(), first, acc);
            // Spans of the batch are from its start; those of the file from the file's.
            for d in &mut v.diags[diags..] {
                d.span = d.span.start + range.start..d.span.end + range.start;
            }
        }
        Some(())
    })?;
    Some(v.finish(Some(state)))
}

/// Checks the file parsed whole: any layout, and the TOML syntax errors.
pub(super) fn whole(path: &Path, text: &str) -> Outcome {
    let mut diags = Diags::new();
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(_) => {
            let (_, errors) = DeTable::parse_recoverable(text);
            for e in errors {
                let span = e.span().unwrap_or(0..0);
                let mut message = e.message().trim().to_string();
                let mut key = String::new();
                let mut hint =
                    "fix the TOML syntax (quotes around strings, `key = value`, [table] headers)"
                        .to_string();
                if message == "duplicate key"
                    && let Some(k) = text.get(span.clone())
                {
                    key = k.to_string();
                    let header = text[..span.start].ends_with('[');
                    if header {
                        message = format!("`[{k}]` appears twice");
                        hint = format!(
                            "merge the two [{k}] tables into one; each [table] may appear once (only lists like [[hosts]] repeat, with double brackets)"
                        );
                    } else {
                        message = format!("duplicate key `{k}`: it is already set in this table");
                        hint = format!(
                            "keep one `{k} = …` per table; for another entry start a new [[table]] header above it"
                        );
                    }
                }
                diags
                    .push(Diagnostic::new(span, key, format!("TOML syntax: {message}")).hint(hint));
            }
            return Outcome {
                state: None,
                diags,
                key_sources: KeySources::new(),
            };
        }
    };
    schema::scan(doc.get_ref(), 0, &mut diags);
    let mut v = Validator::new(path, diags);
    let config = v.build(path, doc.get_ref(), |_, _| Some(()));
    v.finish(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 700 entries (three batches) with mistakes in each batch and across batches: read in
    /// batches, the file gives the same errors, at the same places, as read whole.
    /// A file of 700 entries (three batches), with a mistake in each batch and one across
    /// batches when `bad`.
    fn estate(bad: bool) -> String {
        let mut text = String::from(
            "[defaults]\nttl = 60\n[servers.lab]\naddress = \"127.0.0.1\"\n\
             [[hosts]]\nname = \"kms1.example.com\"\n[[hosts]]\nname = \"kms2.example.com\"\n",
        );
        for i in 0..700 {
            let name = if bad && i == 400 { 10 } else { i };
            text.push_str(&format!("[[domains]]\nname = \"d{name}.example\"\n"));
            match i {
                _ if !bad => text.push_str("server = \"lab\"\n"),
                3 => text.push_str("server = \"lbb\"\n"),
                300 => text.push_str("zoen = \"x.example\"\n"),
                520 => text.push_str("hosts = [{ name = \"kms1.example.com\", port = 0 }]\n"),
                530 => text.push_str("server = \"lab2\"\n"),
                600 => text.push_str("hosts = [\n  \"kms3.example.com\",\n]\n"),
                _ => text.push_str("server = \"lab\"\n"),
            }
        }
        text
    }

    /// Read in batches, a file gives the same errors, at the same places, and the same state
    /// as read whole.
    #[test]
    fn batches_report_what_the_whole_file_reports() {
        let path = Path::new("k.toml");
        let text = estate(true);
        let fast = fast(path, &text).expect("this layout is read in batches");
        let whole = whole(path, &text);
        assert_eq!(fast.diags.len(), 6, "{:#?}", fast.diags);
        assert_eq!(fast.diags, whole.diags);
        assert_eq!(fast.state, whole.state);
        assert_eq!(fast.state.map(|s| s.domains.len()), Some(699));

        let valid = estate(false);
        let fast = super::fast(path, &valid).expect("read in batches");
        assert!(fast.diags.is_empty(), "{:#?}", fast.diags);
        assert_eq!(fast.state.as_ref().map(|s| s.domains.len()), Some(700));
        assert_eq!(fast.state, super::whole(path, &valid).state);
        // Tables after the domains: read whole.
        assert!(super::fast(path, &format!("{valid}[keys.k]\nfile = \"k\"\n")).is_none());
    }
}
