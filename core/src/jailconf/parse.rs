//! The jail.conf grammar, after FreeBSD's jailparse.y, extended with nested
//! blocks and `.include`:
//!
//! ```text
//! file    := stmt* EOF
//! stmt    := ';'
//!          | '.include' string ';'
//!          | STR '{' stmt* '}'               a block (a jail, or a wildcard)
//!          | name ';'                        a boolean (or an empty value)
//!          | name ('=' | '+=')? value ';'    `name value;` is accepted too
//! name    := STR | VAR                       VAR defines a variable ($x = ...)
//! value   := string (',' string)*
//! string  := (STR | VAR) (STR' | VAR')*      primed: joined, no space between
//! ```
//!
//! The parser does not look at meanings: it turns the file into an ordered
//! list of [`Section`]s, each a block name (`*` for statements outside any
//! block; `a.b` for `b` nested in `a`) with its raw statements in order.
//! Statements outside any block that follow a block start a new `*`
//! section, so that file order decides which definition wins (see build).
//!
//! Blocks nest at most [`MAX_BLOCK_DEPTH`] deep (a deeper block is an
//! error naming its file and line), which bounds the size of the full
//! names and keeps the parse linear in the file's size.
//!
//! `.include` takes a literal string (no variables) that is a glob(3)
//! pattern relative to the directory of the including file; the matches
//! are read in sorted order, and their statements belong to the block the
//! `.include` stands in. Includes nest at most [`MAX_INCLUDE_DEPTH`] deep.
//! The first syntax error ends the parse; lexical errors are all collected.

use super::lex::{Lexer, Tok};
use super::{Diag, Pos};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// How deep `.include` may nest (FreeBSD's limit).
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// How deep blocks may nest (`a { b { c { } } }` is 3 deep), counted
/// across `.include`. A block's full name joins every level's name, so a
/// file nested `d` deep holds names of up to `d` times its own size; the
/// limit keeps the whole parse linear in the file's size. It costs
/// nothing that could run: a zone name holds at most
/// [`crate::zone::ZONENAME_MAX`] (64) bytes, so at most 32 levels
/// (`a.b.c...`), and Linux nests pid namespaces at most 32 deep too.
pub const MAX_BLOCK_DEPTH: usize = 32;

/// A piece of a string before variable expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Lit(Vec<u8>),
    Var(String),
}

/// One value string: pieces to concatenate once variables are known.
pub(crate) type PStr = Vec<Piece>;

/// How a statement sets its parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Set,
    Append,
}

/// One statement: `name = v1, v2;`, `name += v;`, `name;`, `$var = v;`.
#[derive(Clone, Debug)]
pub(crate) struct RawParam {
    pub name: String,
    pub var: bool,
    pub op: Op,
    pub values: Vec<PStr>,
    pub pos: Pos,
}

/// A block (or the statements outside blocks, named `*`).
#[derive(Clone, Debug)]
pub(crate) struct Section {
    pub name: String,
    pub pos: Pos,
    pub params: Vec<RawParam>,
    /// How deep the block is (1 for a top-level block; 0 for `*`
    /// statements outside any block).
    pub level: usize,
}

/// The parse of one or more files.
pub(crate) struct Parser<'s> {
    pub sections: Vec<Section>,
    pub errors: Vec<Diag>,
    pub source: &'s dyn super::IncludeSource,
    /// Set by another thread to stop the parse (zoned's reload).
    pub cancel: Option<&'s AtomicBool>,
}

/// The message of a cancelled parse.
pub(crate) const CANCELLED: &str = "reading the configuration was cancelled";

/// How many tokens pass between two looks at the cancel flag.
const CANCEL_EVERY: u32 = 4096;

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Stop;

impl Parser<'_> {
    /// Parse `src`, named `file` in messages, whose includes are relative
    /// to `dir`. `base` is the section the statements belong to (`None`:
    /// outside any block).
    pub fn parse_source(
        &mut self,
        src: &[u8],
        file: &str,
        dir: &Path,
        base: Option<usize>,
        depth: usize,
    ) {
        let start = self.errors.len();
        let mut lx = Lexer::new(src);
        let _ = self.statements(&mut lx, file, dir, base, depth);
        // The parse stops at its first error, so every lexical error of
        // this file lies before whatever the parse reported: list it first.
        let lexical: Vec<Diag> = lx
            .errors
            .drain(..)
            .map(|e| Diag::at(Pos::new(file, e.line), e.msg))
            .collect();
        self.errors.splice(start..start, lexical);
    }

    fn syntax(&mut self, file: &str, line: u32) -> Stop {
        self.errors
            .push(Diag::at(Pos::new(file, line), "syntax error"));
        Stop
    }

    /// The section for statements outside any block.
    fn global_section(&mut self, pos: &Pos) -> usize {
        if let Some(last) = self.sections.last()
            && last.name == "*"
        {
            return self.sections.len() - 1;
        }
        self.sections.push(Section {
            name: "*".to_string(),
            pos: pos.clone(),
            params: Vec::new(),
            level: 0,
        });
        self.sections.len() - 1
    }

    fn statements(
        &mut self,
        lx: &mut Lexer,
        file: &str,
        dir: &Path,
        base: Option<usize>,
        depth: usize,
    ) -> Result<(), Stop> {
        // The open blocks of this file (section indices).
        let mut stack: Vec<usize> = Vec::new();
        let mut until_look = CANCEL_EVERY;
        loop {
            until_look -= 1;
            if until_look == 0 {
                until_look = CANCEL_EVERY;
                if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    self.errors.push(Diag::plain(CANCELLED));
                    return Err(Stop);
                }
            }
            let t = lx.next_token();
            let current = stack.last().copied().or(base);
            match t.tok {
                Tok::Eof => {
                    if !stack.is_empty() {
                        return Err(self.syntax(file, t.line));
                    }
                    return Ok(());
                }
                Tok::Semi => {}
                Tok::RBrace => {
                    if stack.pop().is_none() {
                        return Err(self.syntax(file, t.line));
                    }
                }
                Tok::Str { join: false, .. } | Tok::Var { join: false, .. } => {
                    let (name, var) = match &t.tok {
                        Tok::Str { text, .. } => (lossy(text), false),
                        Tok::Var { name, .. } => (lossy(name), true),
                        _ => unreachable!(),
                    };
                    let (mut name, var) = (name, var);
                    let pos = Pos::new(file, t.line);
                    // A block name may be written in joined pieces
                    // (`foo.*` is `foo.` and `*`); nothing else may.
                    let mut joined = false;
                    let after = loop {
                        let t = lx.next_token();
                        match t.tok {
                            Tok::Str { text, join: true } if !var => {
                                name.push_str(&lossy(&text));
                                joined = true;
                            }
                            _ => break t,
                        }
                    };
                    if joined && after.tok != Tok::LBrace {
                        return Err(self.syntax(file, after.line));
                    }
                    match after.tok {
                        Tok::LBrace if !var => {
                            let level = current.map_or(0, |c| self.sections[c].level) + 1;
                            if level > MAX_BLOCK_DEPTH {
                                self.errors.push(Diag::at(
                                    pos,
                                    format!(
                                        "blocks nested too deeply (at most {MAX_BLOCK_DEPTH} levels)"
                                    ),
                                ));
                                return Err(Stop);
                            }
                            let full = match current {
                                Some(c) => format!("{}.{}", self.sections[c].name, name),
                                None => name,
                            };
                            super::work::add(full.len());
                            self.sections.push(Section {
                                name: full,
                                pos,
                                params: Vec::new(),
                                level,
                            });
                            stack.push(self.sections.len() - 1);
                            continue;
                        }
                        Tok::Semi => {
                            self.add(current, name, var, Op::Set, Vec::new(), pos);
                            continue;
                        }
                        _ => {}
                    }
                    let (op, first) = match after.tok {
                        Tok::Eq => (Op::Set, lx.next_token()),
                        Tok::PlusEq => (Op::Append, lx.next_token()),
                        _ => (Op::Set, after),
                    };
                    // value := string (',' string)*
                    let mut values = Vec::new();
                    let mut tok = first;
                    loop {
                        let mut pieces: PStr = Vec::new();
                        match tok.tok {
                            Tok::Str { text, join: false } => pieces.push(Piece::Lit(text)),
                            Tok::Var { name, join: false } => pieces.push(Piece::Var(lossy(&name))),
                            _ => return Err(self.syntax(file, tok.line)),
                        }
                        let after_string = loop {
                            let t = lx.next_token();
                            match t.tok {
                                Tok::Str { text, join: true } => pieces.push(Piece::Lit(text)),
                                Tok::Var { name, join: true } => {
                                    pieces.push(Piece::Var(lossy(&name)))
                                }
                                _ => break t,
                            }
                        };
                        values.push(pieces);
                        match after_string.tok {
                            Tok::Comma => tok = lx.next_token(),
                            Tok::Semi => break,
                            _ => return Err(self.syntax(file, after_string.line)),
                        }
                    }
                    if name == ".include" && !var {
                        self.include(file, dir, current, depth, &values, pos)?;
                    } else {
                        self.add(current, name, var, op, values, pos);
                    }
                }
                _ => return Err(self.syntax(file, t.line)),
            }
        }
    }

    fn add(
        &mut self,
        current: Option<usize>,
        name: String,
        var: bool,
        op: Op,
        values: Vec<PStr>,
        pos: Pos,
    ) {
        let idx = match current {
            Some(i) => i,
            None => self.global_section(&pos),
        };
        self.sections[idx].params.push(RawParam {
            name,
            var,
            op,
            values,
            pos,
        });
    }

    fn include(
        &mut self,
        file: &str,
        dir: &Path,
        current: Option<usize>,
        depth: usize,
        values: &[PStr],
        pos: Pos,
    ) -> Result<(), Stop> {
        let [pattern] = values else {
            return Err(self.syntax(file, pos.line));
        };
        let mut text = Vec::new();
        for p in pattern {
            match p {
                Piece::Lit(l) => text.extend_from_slice(l),
                Piece::Var(_) => {
                    self.errors.push(Diag::at(
                        pos,
                        ".include: variables are not allowed in the file name",
                    ));
                    return Err(Stop);
                }
            }
        }
        if depth + 1 > MAX_INCLUDE_DEPTH {
            self.errors
                .push(Diag::at(pos, ".include: too many nested includes"));
            return Err(Stop);
        }
        let pattern = lossy(&text);
        let full = if Path::new(&pattern).is_absolute() {
            PathBuf::from(&pattern)
        } else {
            dir.join(&pattern)
        };
        let paths = match self.source.glob(&full) {
            Ok(p) => p,
            Err(e) => {
                self.errors.push(Diag::at(
                    pos,
                    format!("{}: {}", full.display(), super::io_msg(&e)),
                ));
                return Err(Stop);
            }
        };
        for p in paths {
            let shown = p.display().to_string();
            let src = match self.source.read(&p) {
                Ok(s) => s,
                Err(e) => {
                    self.errors
                        .push(Diag::at(pos, format!("{shown}: {}", super::io_msg(&e))));
                    return Err(Stop);
                }
            };
            let sub = p
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let before = self.errors.len();
            self.parse_source(&src, &shown, &sub, current, depth + 1);
            if self.errors.len() > before {
                return Err(Stop);
            }
        }
        Ok(())
    }
}
