//! The named.conf token grammar as key files use it: words, quoted strings, `{ } ;`, and
//! `#`, `//` and `/* */` comments. The one tokenizer for key files and for copying a key
//! statement verbatim.

/// One token of the named.conf grammar, with the line it starts on.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Semi,
}

pub(super) struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str) -> Self {
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
    pub(super) fn next(&mut self) -> Result<Option<(usize, Token)>, (usize, String)> {
        Ok(self.next_spanned()?.map(|(line, _, token)| (line, token)))
    }

    /// Like `next`, with the byte range of the token.
    #[allow(clippy::type_complexity)]
    pub(super) fn next_spanned(
        &mut self,
    ) -> Result<Option<(usize, std::ops::Range<usize>, Token)>, (usize, String)> {
        self.skip_trivia()?;
        let line = self.line;
        let start = self.pos;
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
        Ok(Some((line, start..self.pos, token)))
    }
}

pub(super) fn describe(token: &Option<(usize, Token)>) -> String {
    match token {
        None => "the end of the file".to_string(),
        // A key file holds secrets: only a word that looks like a keyword is echoed.
        Some((_, Token::Word(w)))
            if w.len() <= 24
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
        {
            format!("`{w}`")
        }
        Some((_, Token::Word(w))) => format!(
            "a word of {} characters (not shown: it may hold a secret)",
            w.chars().count()
        ),
        Some((_, Token::Quoted(_))) => "a quoted string".to_string(),
        Some((_, Token::Open)) => "`{`".to_string(),
        Some((_, Token::Close)) => "`}`".to_string(),
        Some((_, Token::Semi)) => "`;`".to_string(),
    }
}
