//! BIND key files: `key "name" { algorithm hmac-sha256; secret "base64"; };`, as written by
//! `tsig-keygen` and `kmsdns keygen` (the `key` statement of named.conf, ARM "key Block").
//!
//! A file may hold several keys. Comments (`#`, `//`, `/* */`) and any layout of whitespace
//! and newlines are accepted; the key name may be quoted or not. Errors carry the line number
//! and never the secret.

use std::path::Path;

use data_encoding::BASE64;

use super::tsig::{KeyError, Secret, TsigKey};
use crate::model::TsigAlgorithm;
use crate::model::parse_key_name;

mod lexer;

use lexer::{Lexer, Token, describe};

/// Which key to load: the config's id for it (named in errors), its TSIG name and, when the
/// config states it, its algorithm. The wire layer's own view of a key reference.
#[derive(Clone, Copy, Debug)]
pub struct KeyRef<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub algorithm: Option<TsigAlgorithm>,
}

/// Loads a key from the environment variable `var`: plain base64, or nsupdate's `-y` form.
/// The secret never appears in an error or a log line.
pub fn load_from_env(spec: &KeyRef<'_>, var: &str) -> Result<TsigKey, KeyError> {
    let value = match std::env::var(var) {
        Ok(v) => v,
        Err(std::env::VarError::NotPresent) => String::new(),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(KeyError::EnvNotUnicode {
                var: var.to_string(),
                key_id: spec.id.to_string(),
            });
        }
    };
    key_from_env_value(spec, var, &value)
}

/// Loads the key `spec.name` from a BIND key file (several keys may share the file).
pub fn load_from_file(spec: &KeyRef<'_>, path: &Path) -> Result<TsigKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.to_path_buf(),
        key_id: spec.id.to_string(),
        source,
    })?;
    warn_if_readable_by_others(path);
    let keys = parse_key_file(path, &text)?;
    let wanted = spec.name.trim_end_matches('.').to_ascii_lowercase();
    let found: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
    let key = keys
        .into_iter()
        .find(|k| k.name == wanted)
        .ok_or_else(|| KeyError::NotInFile {
            path: path.to_path_buf(),
            key_id: spec.id.to_string(),
            name: wanted.clone(),
            found,
        })?;
    if let Some(configured) = spec.algorithm
        && configured != key.algorithm
    {
        return Err(KeyError::AlgorithmMismatch {
            path: path.to_path_buf(),
            key_id: spec.id.to_string(),
            name: key.name.clone(),
            in_file: key.algorithm,
            configured,
        });
    }
    Ok(key)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                "key file {} has mode {:04o}: other users may read the TSIG secret; run `chmod 600 {}`",
                path.display(),
                mode & 0o7777,
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Interprets an environment variable's value: plain base64, or nsupdate's `-y` form
/// `[alg:]name:secret`.
pub(crate) fn key_from_env_value(
    spec: &KeyRef<'_>,
    var: &str,
    value: &str,
) -> Result<TsigKey, KeyError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(KeyError::EnvMissing {
            var: var.to_string(),
            key_id: spec.id.to_string(),
        });
    }
    let fail = |message: String| KeyError::EnvValue {
        var: var.to_string(),
        key_id: spec.id.to_string(),
        message,
    };
    // Base64 never contains ':', so its presence means the -y form.
    let parts: Vec<&str> = value.split(':').collect();
    let (alg_text, name, secret_text) = match parts.as_slice() {
        [secret] => (None, None, *secret),
        [name, secret] => (None, Some(*name), *secret),
        [alg, name, secret] => (Some(*alg), Some(*name), *secret),
        _ => {
            return Err(fail(
                "expected the base64 secret or `[alg:]name:secret`, but the value has more than two `:`"
                    .to_string(),
            ));
        }
    };
    let expected = spec.name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(name) = name {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if name != expected {
            return Err(fail(format!(
                "the value names key \"{name}\", but [keys.{}] expects \"{expected}\"; fix the name in the variable or `name` in the config",
                spec.id
            )));
        }
    }
    let from_value = alg_text
        .map(|a| parse_algorithm(a).map_err(&fail))
        .transpose()?;
    let algorithm = match (from_value, spec.algorithm) {
        (Some(v), Some(c)) if v != c => {
            return Err(fail(format!(
                "the value says {v}, but [keys.{}] says algorithm = \"{c}\"; make them agree",
                spec.id
            )));
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => TsigAlgorithm::HmacSha256,
    };
    let secret = decode_secret(secret_text).map_err(|m| fail(format!("the secret {m}")))?;
    TsigKey::new(&expected, algorithm, secret)
}

/// Parses every `key` statement of a BIND key file. `path` only names the file in errors.
pub fn parse_key_file(path: &Path, text: &str) -> Result<Vec<TsigKey>, KeyError> {
    let syntax = |line: usize, message: String| KeyError::Syntax {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut lexer = Lexer::new(text);
    let mut next = move || lexer.next().map_err(|(line, m)| syntax(line, m));
    let mut keys: Vec<TsigKey> = Vec::new();
    // Line of the last token seen, for errors at the end of the file.
    let mut last_line = 1;
    loop {
        let statement = next()?;
        let (line, word) = match statement {
            None => break,
            Some((line, Token::Word(ref w))) if w.eq_ignore_ascii_case("key") => (line, w.clone()),
            other => {
                let line = other.as_ref().map_or(last_line, |t| t.0);
                return Err(syntax(
                    line,
                    format!(
                        "expected a `key \"name\" {{ … }};` statement, found {}; a key file holds only key statements",
                        describe(&other)
                    ),
                ));
            }
        };
        debug_assert_eq!(word.to_ascii_lowercase(), "key");
        let name = match next()? {
            Some((_, Token::Word(n) | Token::Quoted(n))) => n,
            other => {
                return Err(syntax(
                    other.as_ref().map_or(line, |t| t.0),
                    format!(
                        "expected the key name after `key`, found {}",
                        describe(&other)
                    ),
                ));
            }
        };
        let name_line = line;
        let name = parse_key_name(&name).map_err(|why| {
            syntax(
                name_line,
                format!("key name `{name}` is not a valid DNS name: {why}"),
            )
        })?;
        match next()? {
            Some((_, Token::Open)) => {}
            other => {
                return Err(syntax(
                    other.as_ref().map_or(line, |t| t.0),
                    format!(
                        "expected `{{` after `key \"{name}\"`, found {}",
                        describe(&other)
                    ),
                ));
            }
        }
        let mut algorithm: Option<TsigAlgorithm> = None;
        let mut secret: Option<Secret> = None;
        loop {
            let clause = next()?;
            let (cline, field) = match clause {
                Some((l, Token::Close)) => {
                    last_line = l;
                    break;
                }
                Some((l, Token::Word(w))) => (l, w.to_ascii_lowercase()),
                other => {
                    return Err(syntax(
                        other.as_ref().map_or(line, |t| t.0),
                        format!(
                            "expected `algorithm`, `secret` or `}}` in key \"{name}\", found {}",
                            describe(&other)
                        ),
                    ));
                }
            };
            let value = match next()? {
                Some((_, Token::Word(v) | Token::Quoted(v))) => v,
                other => {
                    return Err(syntax(
                        other.as_ref().map_or(cline, |t| t.0),
                        format!(
                            "expected a value after `{field}`, found {}",
                            describe(&other)
                        ),
                    ));
                }
            };
            match field.as_str() {
                "algorithm" => {
                    algorithm = Some(parse_algorithm(&value).map_err(|m| syntax(cline, m))?);
                }
                "secret" => {
                    // The value is never echoed: it is (part of) the secret.
                    secret =
                        Some(decode_secret(&value).map_err(|m| {
                            syntax(cline, format!("the secret of key \"{name}\" {m}"))
                        })?);
                }
                other => {
                    return Err(syntax(
                        cline,
                        format!(
                            "unknown clause `{other}` in key \"{name}\"; a key holds only `algorithm` and `secret`"
                        ),
                    ));
                }
            }
            match next()? {
                Some((_, Token::Semi)) => {}
                other => {
                    return Err(syntax(
                        other.as_ref().map_or(cline, |t| t.0),
                        format!(
                            "expected `;` after the `{field}` clause of key \"{name}\", found {}",
                            describe(&other)
                        ),
                    ));
                }
            }
        }
        match next()? {
            Some((_, Token::Semi)) => {}
            other => {
                return Err(syntax(
                    other.as_ref().map_or(last_line, |t| t.0),
                    format!(
                        "expected `;` after the closing `}}` of key \"{name}\", found {}",
                        describe(&other)
                    ),
                ));
            }
        }
        let algorithm = algorithm.ok_or_else(|| {
            syntax(
                line,
                format!(
                    "key \"{name}\" has no `algorithm` clause: add e.g. `algorithm hmac-sha256;` (valid: {})",
                    TsigAlgorithm::valid_list()
                ),
            )
        })?;
        let secret = secret.ok_or_else(|| {
            syntax(
                line,
                format!("key \"{name}\" has no `secret` clause: add `secret \"<base64>\";`"),
            )
        })?;
        if keys.iter().any(|k| k.name == name) {
            return Err(syntax(
                line,
                format!("key \"{name}\" is defined twice: remove one of the statements"),
            ));
        }
        keys.push(TsigKey {
            name,
            algorithm,
            secret,
        });
    }
    if keys.is_empty() {
        return Err(syntax(
            1,
            "the file holds no `key` statement: generate one with `kmsdns keygen NAME -o FILE` or `tsig-keygen`"
                .to_string(),
        ));
    }
    Ok(keys)
}

/// Finds the `key "NAME" { … };` statement for `name` in a BIND key file's text and returns
/// it verbatim (for `render named-conf --include-secret`). Comments and quoted strings are
/// skipped with the same lexer that reads key files.
pub fn extract_key_statement(text: &str, name: &str) -> Option<String> {
    let want = name.trim_end_matches('.').to_ascii_lowercase();
    let mut lexer = Lexer::new(text);
    let mut tokens = Vec::new();
    while let Ok(Some((_, span, token))) = lexer.next_spanned() {
        tokens.push((span, token));
    }
    let matches_name = |t: &Token| match t {
        Token::Word(n) | Token::Quoted(n) => n.trim_end_matches('.').eq_ignore_ascii_case(&want),
        _ => false,
    };
    for (i, (span, token)) in tokens.iter().enumerate() {
        let is_key = matches!(token, Token::Word(w) if w.eq_ignore_ascii_case("key"));
        if !(is_key
            && tokens.get(i + 1).is_some_and(|(_, t)| matches_name(t))
            && tokens.get(i + 2).is_some_and(|(_, t)| *t == Token::Open))
        {
            continue;
        }
        let mut depth = 0usize;
        for (end, t) in &tokens[i + 2..] {
            match t {
                Token::Open => depth += 1,
                Token::Close => depth = depth.saturating_sub(1),
                Token::Semi if depth == 0 => return Some(text[span.start..end.end].to_string()),
                _ => {}
            }
        }
        return None;
    }
    None
}

/// Parses an algorithm name; hmac-md5 and unknown names get a message that lists the valid ones.
pub(crate) fn parse_algorithm(value: &str) -> Result<TsigAlgorithm, String> {
    if let Some(a) = TsigAlgorithm::from_name(value) {
        return Ok(a);
    }
    let lower = value.trim().trim_end_matches('.').to_ascii_lowercase();
    if lower == "hmac-md5" || lower == "hmac-md5.sig-alg.reg.int" {
        Err(format!(
            "algorithm hmac-md5 is not supported (it is broken): generate a new key with `kmsdns keygen NAME -a hmac-sha256`; valid: {}",
            TsigAlgorithm::valid_list()
        ))
    } else {
        Err(format!(
            "unknown TSIG algorithm `{value}`; valid: {}",
            TsigAlgorithm::valid_list()
        ))
    }
}

/// Decodes a base64 secret (whitespace inside is ignored). The error text never contains the
/// input; it completes a sentence starting with "the secret …".
pub(crate) fn decode_secret(value: &str) -> Result<Secret, String> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err("is empty: paste the base64 secret from the server's key".to_string());
    }
    let bytes = BASE64.decode(compact.as_bytes()).map_err(|e| {
        format!(
            "is not valid base64 (error at character {}): copy it again from the server's key file",
            e.position + 1
        )
    })?;
    Ok(Secret::new(bytes))
}

/// The key in `tsig-keygen` format: `key "name" {\n\talgorithm …;\n\tsecret "…";\n};\n`.
pub fn to_bind_key_file(key: &TsigKey) -> String {
    format!(
        "key \"{}\" {{\n\talgorithm {};\n\tsecret \"{}\";\n}};\n",
        key.name,
        key.algorithm.name(),
        BASE64.encode(key.secret.expose())
    )
}

#[cfg(test)]
mod tests;
