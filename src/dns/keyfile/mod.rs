//! BIND key files: `key "name" { algorithm hmac-sha256; secret "base64"; };`, as written by
//! `tsig-keygen` and `kmsdns keygen` (the `key` statement of named.conf, ARM "key Block").
//!
//! A file may hold several keys. Comments (`#`, `//`, `/* */`) and any layout of whitespace
//! and newlines are accepted; the key name may be quoted or not. Errors carry the line number
//! and never the secret.

use std::path::Path;

use data_encoding::BASE64;

use super::tsig::{KeyError, Secret, TsigKey, normalise_key_name};
use crate::config::{KeySource, KeySpec};
use crate::model::TsigAlgorithm;

/// Loads the key a `[keys.<id>]` table points at: from a BIND key file or an environment
/// variable. The secret never appears in an error or a log line.
pub fn load_key(spec: &KeySpec) -> Result<TsigKey, KeyError> {
    match &spec.source {
        KeySource::File(path) => load_from_file(spec, path),
        KeySource::Env(var) => {
            let value = match std::env::var(var) {
                Ok(v) => v,
                Err(std::env::VarError::NotPresent) => String::new(),
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(KeyError::EnvNotUnicode {
                        var: var.clone(),
                        key_id: spec.id.clone(),
                    });
                }
            };
            key_from_env_value(spec, var, &value)
        }
    }
}

fn load_from_file(spec: &KeySpec, path: &Path) -> Result<TsigKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.to_path_buf(),
        key_id: spec.id.clone(),
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
            key_id: spec.id.clone(),
            name: wanted.clone(),
            found,
        })?;
    if let Some(configured) = spec.algorithm
        && configured != key.algorithm
    {
        return Err(KeyError::AlgorithmMismatch {
            path: path.to_path_buf(),
            key_id: spec.id.clone(),
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
    spec: &KeySpec,
    var: &str,
    value: &str,
) -> Result<TsigKey, KeyError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(KeyError::EnvMissing {
            var: var.to_string(),
            key_id: spec.id.clone(),
        });
    }
    let fail = |message: String| KeyError::EnvValue {
        var: var.to_string(),
        key_id: spec.id.clone(),
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

/// One token of the named.conf grammar, with the line it starts on.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Semi,
}

struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    fn peek_byte(&self, ahead: usize) -> Option<u8> {
        self.text.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek_byte(0)?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Some(b)
    }

    /// Skips whitespace and comments; fails on an unterminated `/*`.
    fn skip_trivia(&mut self) -> Result<(), (usize, String)> {
        loop {
            match (self.peek_byte(0), self.peek_byte(1)) {
                (Some(b), _) if b.is_ascii_whitespace() => {
                    self.bump();
                }
                (Some(b'#'), _) | (Some(b'/'), Some(b'/')) => {
                    while let Some(b) = self.peek_byte(0) {
                        if b == b'\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    let start = self.line;
                    self.bump();
                    self.bump();
                    loop {
                        match (self.peek_byte(0), self.peek_byte(1)) {
                            (Some(b'*'), Some(b'/')) => {
                                self.bump();
                                self.bump();
                                break;
                            }
                            (Some(_), _) => {
                                self.bump();
                            }
                            (None, _) => {
                                return Err((
                                    start,
                                    "a `/*` comment is never closed: add `*/`".to_string(),
                                ));
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// The next token and its line, or `None` at the end of the text.
    fn next(&mut self) -> Result<Option<(usize, Token)>, (usize, String)> {
        self.skip_trivia()?;
        let line = self.line;
        let Some(b) = self.bump() else {
            return Ok(None);
        };
        let token = match b {
            b'{' => Token::Open,
            b'}' => Token::Close,
            b';' => Token::Semi,
            b'"' => {
                let mut s = Vec::new();
                loop {
                    match self.bump() {
                        Some(b'"') => break,
                        Some(b'\\') => match self.bump() {
                            Some(c) => s.push(c),
                            None => break,
                        },
                        Some(c) => s.push(c),
                        None => {
                            return Err((
                                line,
                                "a quoted string is never closed: add the closing `\"`".to_string(),
                            ));
                        }
                    }
                }
                Token::Quoted(String::from_utf8_lossy(&s).into_owned())
            }
            _ => {
                let start = self.pos - 1;
                while let Some(c) = self.peek_byte(0) {
                    if c.is_ascii_whitespace() || matches!(c, b'{' | b'}' | b';' | b'"') {
                        break;
                    }
                    self.bump();
                }
                Token::Word(String::from_utf8_lossy(&self.text[start..self.pos]).into_owned())
            }
        };
        Ok(Some((line, token)))
    }
}

fn describe(token: &Option<(usize, Token)>) -> String {
    match token {
        None => "the end of the file".to_string(),
        Some((_, Token::Word(w))) => format!("`{w}`"),
        Some((_, Token::Quoted(_))) => "a quoted string".to_string(),
        Some((_, Token::Open)) => "`{`".to_string(),
        Some((_, Token::Close)) => "`}`".to_string(),
        Some((_, Token::Semi)) => "`;`".to_string(),
    }
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
        let name = normalise_key_name(&name).map_err(|why| {
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
