//! The jail.conf lexer, after FreeBSD's jaillex.l.
//!
//! The input is bytes (a file need not be UTF-8; `\NNN` and `\xHH` escapes
//! may produce any byte). The lexer hands the parser punctuation (`;` `,`
//! `=` `+=` `{` `}`), string pieces and variable references. A piece that
//! follows the previous piece with no white space between is marked `join`
//! (jaillex.l's STR1 / VAR1): the parser glues such pieces into one string,
//! which is how `10.0.0.${n}` and `"a"'b'c` become one value.
//!
//! * Bare atoms are runs of `A-Z a-z 0-9 _ ! % & ( ) - . : < > ? @ [ ] ^ `` | ~`;
//!   a lone `$`, `*`, `+`, `/` or `\` is a one-character atom.
//! * `'single'` strings keep `$` literal; `"double"` strings are split at
//!   each unescaped `$name` / `${name}` into literal pieces and variables.
//!   Both process the escapes `\a \b \f \n \r \t \v \NNN \xHH`, any other
//!   `\c` is `c`, and a backslash-newline vanishes.
//! * A byte the grammar has no use for comes back as [`Tok::Other`], which
//!   the parser reports as a syntax error.
//! * Unterminated comments, strings and `${` are reported (with the line
//!   they start on) and skipped, as jaillex.l does; lexing goes on so that
//!   every such error in a file is reported at once.
//!
//! A piece that decodes to a NUL byte ends there (the C original keeps
//! strings NUL-terminated); a file can therefore never smuggle a NUL into a
//! parameter value.

use std::collections::VecDeque;

/// One token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A string piece; `join` when it touches the previous piece.
    Str {
        text: Vec<u8>,
        join: bool,
    },
    /// A variable reference (`$name`, `${name}`); `join` as for `Str`.
    Var {
        name: Vec<u8>,
        join: bool,
    },
    PlusEq,
    Comma,
    Semi,
    Eq,
    LBrace,
    RBrace,
    /// Any other byte: a syntax error wherever it appears.
    Other(u8),
    Eof,
}

/// A token and the line it starts on.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub line: u32,
}

/// A lexical error: the line and the message (`unterminated string`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LexError {
    pub line: u32,
    pub msg: &'static str,
}

pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    /// The last thing returned was a string piece (jaillex.l's `instr`).
    instr: bool,
    pending: VecDeque<Token>,
    pub errors: Vec<LexError>,
}

fn is_atom(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_!%&()-.:<>?@[]^`|~".contains(&b)
}

fn is_octal(b: u8) -> bool {
    (b'0'..=b'7').contains(&b)
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Decode the escapes of a piece, as text2lval does. A decoded NUL ends
/// the piece.
pub(crate) fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&c) = raw.get(i) else {
            // A trailing backslash reads the terminating NUL in C.
            out.push(0);
            break;
        };
        i += 1;
        match c {
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(&d) if is_octal(d) => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'\n' => {}
            b'x' => {
                let mut v = 0u8;
                for _ in 0..2 {
                    match raw.get(i).and_then(|&d| hex_val(d)) {
                        Some(d) => {
                            v = v.wrapping_mul(16).wrapping_add(d);
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(v);
            }
            other => out.push(other),
        }
    }
    if let Some(n) = out.iter().position(|&b| b == 0) {
        out.truncate(n);
    }
    out
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a [u8]) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            line: 1,
            instr: false,
            pending: VecDeque::new(),
            errors: Vec::new(),
        }
    }

    fn peek_at(&self, i: usize) -> Option<u8> {
        self.src.get(i).copied()
    }

    fn count_lines(&mut self, from: usize, to: usize) {
        let n = self.src[from..to].iter().filter(|&&b| b == b'\n').count();
        self.line = self.line.saturating_add(n as u32);
    }

    fn error(&mut self, line: u32, msg: &'static str) {
        self.errors.push(LexError { line, msg });
    }

    fn piece(&mut self, text: Vec<u8>, line: u32) -> Token {
        let join = self.instr;
        self.instr = true;
        Token {
            tok: Tok::Str { text, join },
            line,
        }
    }

    fn var(&mut self, name: Vec<u8>, line: u32) -> Token {
        let join = self.instr;
        self.instr = true;
        Token {
            tok: Tok::Var { name, join },
            line,
        }
    }

    fn punct(&mut self, tok: Tok, len: usize) -> Token {
        self.instr = false;
        self.pos += len;
        Token {
            tok,
            line: self.line,
        }
    }

    /// Scan a quoted string that opens at `self.pos`; the index of the
    /// closing quote, if there is one. (A failed scan reaches the end of
    /// the file, but it cannot repeat: no later opener of the same quote
    /// can be reached unescaped, so the lexer stays linear.)
    fn find_close(&self, quote: u8) -> Option<usize> {
        let mut i = self.pos + 1;
        while i < self.src.len() {
            match self.src[i] {
                b'\\' => i += 2,
                b if b == quote => break,
                _ => i += 1,
            }
        }
        super::work::add(i - self.pos);
        (i < self.src.len()).then_some(i)
    }

    /// An unterminated quote: report it and skip to the end of its line
    /// (an escaped newline stops the skip too, as in jaillex.l).
    fn unterminated_string(&mut self) {
        let line = self.line;
        self.error(line, "unterminated string");
        let mut i = self.pos + 1;
        while i < self.src.len() && self.src[i] != b'\n' {
            if self.src[i] == b'\\' {
                if self.peek_at(i + 1).is_some_and(|b| b != b'\n') {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        self.pos = i.min(self.src.len());
    }

    /// `${...}` starting at `start` (the `$`), ending before `end`.
    /// `Ok(index of '}')` or `Err(index where the scan failed)`.
    fn scan_braced(&self, start: usize, end: usize, in_dq: bool) -> Result<usize, usize> {
        let mut i = start + 2;
        while i < end {
            match self.src[i] {
                b'}' => return Ok(i),
                b'\\' if i + 1 < end => i += 2,
                b'\n' | b'{' => return Err(i),
                b'"' if in_dq => return Err(i),
                _ => i += 1,
            }
        }
        Err(end.min(self.src.len()))
    }

    /// The next token.
    pub fn next_token(&mut self) -> Token {
        super::work::add(1);
        loop {
            if let Some(t) = self.pending.pop_front() {
                return t;
            }
            let Some(c) = self.peek_at(self.pos) else {
                return Token {
                    tok: Tok::Eof,
                    line: self.line,
                };
            };
            let next = self.peek_at(self.pos + 1);
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    if c == b'\n' {
                        self.line = self.line.saturating_add(1);
                    }
                    self.pos += 1;
                    self.instr = false;
                }
                b'#' => self.skip_line_comment(),
                b'/' if next == Some(b'/') => self.skip_line_comment(),
                b'/' if next == Some(b'*') => {
                    self.instr = false;
                    let body = self.pos + 2;
                    match self.src[body..].windows(2).position(|w| w == b"*/") {
                        Some(off) => {
                            let end = body + off + 2;
                            self.count_lines(self.pos, end);
                            self.pos = end;
                        }
                        None => {
                            let line = self.line;
                            self.error(line, "unterminated comment");
                            let len = self.src.len();
                            self.count_lines(self.pos, len);
                            self.pos = len;
                        }
                    }
                }
                b'+' if next == Some(b'=') => return self.punct(Tok::PlusEq, 2),
                b',' => return self.punct(Tok::Comma, 1),
                b';' => return self.punct(Tok::Semi, 1),
                b'=' => return self.punct(Tok::Eq, 1),
                b'{' => return self.punct(Tok::LBrace, 1),
                b'}' => return self.punct(Tok::RBrace, 1),
                b'\\' => return self.escape_piece(),
                b'$' => {
                    if let Some(t) = self.normal_var() {
                        return t;
                    }
                }
                b'*' | b'+' | b'/' => {
                    self.pos += 1;
                    let line = self.line;
                    return self.piece(vec![c], line);
                }
                b'\'' => match self.find_close(b'\'') {
                    Some(end) => {
                        let line = self.line;
                        let text = unescape(&self.src[self.pos + 1..end]);
                        self.count_lines(self.pos, end);
                        self.pos = end + 1;
                        return self.piece(text, line);
                    }
                    None => self.unterminated_string(),
                },
                b'"' => match self.find_close(b'"') {
                    Some(end) => {
                        self.double_quoted(end);
                    }
                    None => self.unterminated_string(),
                },
                _ if is_atom(c) => {
                    let start = self.pos;
                    while self.peek_at(self.pos).is_some_and(is_atom) {
                        self.pos += 1;
                    }
                    let line = self.line;
                    return self.piece(self.src[start..self.pos].to_vec(), line);
                }
                _ => {
                    self.pos += 1;
                    return Token {
                        tok: Tok::Other(c),
                        line: self.line,
                    };
                }
            }
        }
    }

    fn skip_line_comment(&mut self) {
        self.instr = false;
        while self.peek_at(self.pos).is_some_and(|b| b != b'\n') {
            self.pos += 1;
        }
    }

    /// `\` outside quotes: one escape sequence as a piece.
    fn escape_piece(&mut self) -> Token {
        let start = self.pos;
        let line = self.line;
        let mut i = start + 1;
        match self.peek_at(i) {
            None => {}
            Some(b) if is_octal(b) => {
                i += 1;
                while i < start + 4 && self.peek_at(i).is_some_and(is_octal) {
                    i += 1;
                }
            }
            Some(b'x') if self.peek_at(i + 1).and_then(hex_val).is_some() => {
                i += 2;
                if self.peek_at(i).and_then(hex_val).is_some() {
                    i += 1;
                }
            }
            Some(_) => i += 1,
        }
        let text = unescape(&self.src[start..i]);
        self.count_lines(start, i);
        self.pos = i;
        self.piece(text, line)
    }

    /// `$` outside quotes: a variable, a lone `$` atom, or (for an
    /// unterminated `${`) nothing but an error.
    fn normal_var(&mut self) -> Option<Token> {
        let start = self.pos;
        let line = self.line;
        match self.peek_at(start + 1) {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
                let mut i = start + 1;
                while self
                    .peek_at(i)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    i += 1;
                }
                self.pos = i;
                Some(self.var(self.src[start + 1..i].to_vec(), line))
            }
            Some(b'{') => match self.scan_braced(start, self.src.len(), false) {
                Ok(close) => {
                    let name = unescape(&self.src[start + 2..close]);
                    self.count_lines(start, close);
                    self.pos = close + 1;
                    Some(self.var(name, line))
                }
                Err(stop) => {
                    self.error(line, "unterminated variable");
                    self.count_lines(start, stop);
                    self.pos = stop;
                    None
                }
            },
            _ => {
                self.pos += 1;
                Some(self.piece(b"$".to_vec(), line))
            }
        }
    }

    /// A double-quoted string whose closing quote is at `end`: queue its
    /// literal pieces and variables.
    fn double_quoted(&mut self, end: usize) {
        let mut i = self.pos + 1;
        let mut lit: Vec<u8> = Vec::new();
        let mut lit_line = self.line;
        let mut first = true;
        let mut line = self.line;
        while i < end {
            match self.src[i] {
                b'\\' => {
                    // Keep the escape for unescape(); it may span a newline.
                    lit.push(b'\\');
                    if i + 1 < end {
                        if self.src[i + 1] == b'\n' {
                            line += 1;
                        }
                        lit.push(self.src[i + 1]);
                    }
                    i += 2;
                }
                b'$' => {
                    let nb = self.src.get(i + 1).copied();
                    let var_end: Option<(Vec<u8>, usize)> = match nb {
                        Some(b) if i + 1 < end && (b.is_ascii_alphabetic() || b == b'_') => {
                            let mut j = i + 1;
                            while j < end
                                && (self.src[j].is_ascii_alphanumeric() || self.src[j] == b'_')
                            {
                                j += 1;
                            }
                            Some((self.src[i + 1..j].to_vec(), j))
                        }
                        Some(b'{') if i + 1 < end => match self.scan_braced(i, end, true) {
                            Ok(close) => Some((unescape(&self.src[i + 2..close]), close + 1)),
                            Err(stop) => {
                                self.error(line, "unterminated variable");
                                line += self.src[i..stop].iter().filter(|&&b| b == b'\n').count()
                                    as u32;
                                // The partial `${...` is dropped.
                                i = stop;
                                continue;
                            }
                        },
                        _ => None,
                    };
                    match var_end {
                        Some((name, j)) => {
                            if first || !lit.is_empty() {
                                let t = self.piece(unescape(&lit), lit_line);
                                self.pending.push_back(t);
                                first = false;
                                lit.clear();
                            }
                            let t = self.var(name, line);
                            self.pending.push_back(t);
                            line += self.src[i..j].iter().filter(|&&b| b == b'\n').count() as u32;
                            lit_line = line;
                            i = j;
                        }
                        None => {
                            lit.push(b'$');
                            i += 1;
                        }
                    }
                }
                b => {
                    if b == b'\n' {
                        line += 1;
                    }
                    lit.push(b);
                    i += 1;
                }
            }
        }
        if first || !lit.is_empty() {
            let t = self.piece(unescape(&lit), lit_line);
            self.pending.push_back(t);
        }
        self.count_lines(self.pos, end);
        self.pos = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let mut lx = Lexer::new(src.as_bytes());
        let mut out = Vec::new();
        loop {
            let t = lx.next_token();
            if t.tok == Tok::Eof {
                break;
            }
            out.push(t.tok);
        }
        out
    }

    fn s(t: &str, join: bool) -> Tok {
        Tok::Str {
            text: t.as_bytes().to_vec(),
            join,
        }
    }
    fn v(t: &str, join: bool) -> Tok {
        Tok::Var {
            name: t.as_bytes().to_vec(),
            join,
        }
    }

    #[test]
    fn adjacent_pieces_are_marked_join() {
        assert_eq!(
            toks("10.0.0.${n}x 'a'\"b\""),
            vec![
                s("10.0.0.", false),
                v("n", true),
                s("x", true),
                s("a", false),
                s("b", true)
            ]
        );
    }

    #[test]
    fn double_quotes_split_at_variables_single_quotes_do_not() {
        assert_eq!(
            toks("\"/j/$name/x\" '$name'"),
            vec![
                s("/j/", false),
                v("name", true),
                s("/x", true),
                s("$name", false)
            ]
        );
        assert_eq!(toks("\"$a\""), vec![s("", false), v("a", true)]);
        assert_eq!(toks("\"a\\$b\""), vec![s("a$b", false)]);
        assert_eq!(toks("\"a$ b\""), vec![s("a$ b", false)]);
    }

    #[test]
    fn escapes_decode_as_text2lval() {
        assert_eq!(
            unescape(b"\\a\\b\\f\\n\\r\\t\\v"),
            b"\x07\x08\x0c\n\r\t\x0b"
        );
        assert_eq!(unescape(b"\\101\\x41\\x4a\\q"), b"AAJq");
        assert_eq!(unescape(b"a\\\nb"), b"ab");
        assert_eq!(unescape(b"a\\0b"), b"a");
        assert_eq!(
            toks("a\\\nb"),
            vec![s("a", false), s("", true), s("b", true)]
        );
    }

    #[test]
    fn comments_of_three_kinds_are_white_space() {
        assert_eq!(
            toks("a # x\nb // y\nc /* z\n */ d"),
            vec![s("a", false), s("b", false), s("c", false), s("d", false)]
        );
    }

    #[test]
    fn punctuation_and_other_bytes() {
        assert_eq!(
            toks("a+=b,c;{}=\x01"),
            vec![
                s("a", false),
                Tok::PlusEq,
                s("b", false),
                Tok::Comma,
                s("c", false),
                Tok::Semi,
                Tok::LBrace,
                Tok::RBrace,
                Tok::Eq,
                Tok::Other(1)
            ]
        );
        assert_eq!(toks("*.x"), vec![s("*", false), s(".x", true)]);
    }

    #[test]
    fn unterminated_things_are_reported_with_their_line() {
        let mut lx = Lexer::new(b"a;\n\"abc\nb;\n/* x");
        while lx.next_token().tok != Tok::Eof {}
        assert_eq!(
            lx.errors,
            vec![
                LexError {
                    line: 2,
                    msg: "unterminated string"
                },
                LexError {
                    line: 4,
                    msg: "unterminated comment"
                }
            ]
        );
        let mut lx = Lexer::new(b"x = ${abc\n;");
        while lx.next_token().tok != Tok::Eof {}
        assert_eq!(lx.errors[0].msg, "unterminated variable");
    }

    #[test]
    fn lines_are_counted_through_strings_and_comments() {
        let mut lx = Lexer::new(b"/*\n\n*/ 'a\nb' \"c\nd\" e");
        let mut lines = Vec::new();
        loop {
            let t = lx.next_token();
            if t.tok == Tok::Eof {
                break;
            }
            lines.push(t.line);
        }
        assert_eq!(lines, vec![3, 4, 5]);
    }
}
