//! # One getopt for jail, jls and jexec
//!
//! FreeBSD's jail(8), jls(8) and jexec(8) read their options with libc's
//! getopt(3), and users type them that way: this is that getopt, written
//! once, so the three tools cannot drift apart. Its rules are POSIX's, as
//! FreeBSD's libc keeps them:
//!
//! - an option word is `-` followed by one or more option letters; the
//!   letters may be clustered (`-qv` is `-q -v`);
//! - a letter that takes an argument (`f:` in the option string) takes
//!   the rest of its word (`-fFILE`, `-qfFILE`) or, when nothing is left,
//!   the next word (`-f FILE`), whatever that word looks like;
//! - `--` ends the options and is consumed; the first operand ends them
//!   too and is not (no GNU permutation: `jls foo -v` has two operands);
//!   a lone `-` is an operand;
//! - an unknown letter is `illegal option -- x`, a missing argument
//!   `option requires an argument -- f`, FreeBSD's words (not glibc's
//!   `invalid option`); the tool prints them as `TOOL: message`, then its
//!   usage, and exits 1 (cli.md).
//!
//! Our tools also take a few long options (`--help`, `--version`,
//! `--libxo json`, and [`COMMON_LONGS`], the engine-finding options of
//! [`Common`] that every client tool takes, which every [`Getopt`]
//! accepts and [`set_common`] stores), spelled as getopt_long(3) spells
//! them: `--name=value` or `--name
//! value`. An unknown one is `unrecognized option '--name'`, a missing
//! value `option '--name' requires an argument`. A value given with `=` to
//! a long option that takes none is handed over and may be ignored.
//!
//! [`Getopt`] is an iterator of [`Opt`]s; the caller matches on each and
//! stops at the first [`GetoptError`]. When it ends, [`Getopt::operands`]
//! are the words left.

use crate::tool::Common;
use std::fmt;

/// One option read from the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opt {
    /// A letter, with its argument when the option string says it takes one.
    Short(char, Option<String>),
    /// A long option (its name as declared), with its value when it takes
    /// one or one was given with `=`.
    Long(&'static str, Option<String>),
}

/// A usage error, worded as FreeBSD's getopt (and getopt_long) words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetoptError {
    /// A letter not in the option string.
    Illegal(char),
    /// A letter that takes an argument, last on the command line.
    NeedsArgument(char),
    /// A long option not declared.
    UnknownLong(String),
    /// A long option that takes a value, last on the command line.
    LongNeedsArgument(&'static str),
}

impl fmt::Display for GetoptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetoptError::Illegal(c) => write!(f, "illegal option -- {c}"),
            GetoptError::NeedsArgument(c) => write!(f, "option requires an argument -- {c}"),
            GetoptError::UnknownLong(n) => write!(f, "unrecognized option '--{n}'"),
            GetoptError::LongNeedsArgument(n) => write!(f, "option '--{n}' requires an argument"),
        }
    }
}

impl std::error::Error for GetoptError {}

/// A long option: its name and whether it takes a value.
pub type LongOpt = (&'static str, bool);

/// The long options of [`Common`], accepted by every [`Getopt`] after the
/// tool's own.
pub const COMMON_LONGS: &[LongOpt] = &[
    ("socket", true),
    ("state-dir", true),
    ("cgroup-root", true),
    ("config", true),
];

/// Store one of [`COMMON_LONGS`] in `common`. Any other name is left to
/// the caller: `false`.
pub fn set_common(common: &mut Common, name: &str, value: Option<String>) -> bool {
    let v = value.unwrap_or_default();
    match name {
        "socket" => common.socket = Some(v.into()),
        "state-dir" => common.state_dir = Some(v.into()),
        "cgroup-root" => common.cgroup_root = Some(v),
        "config" => common.config = Some(v.into()),
        _ => return false,
    }
    true
}

/// The getopt state over one command line (without the program name).
pub struct Getopt<'a> {
    argv: &'a [String],
    /// FreeBSD's option string: letters, each followed by `:` when it
    /// takes an argument (`"lnu:U:"`).
    shorts: &'static str,
    longs: &'static [LongOpt],
    /// The word being read.
    next: usize,
    /// Byte offset of the next letter inside `argv[next]` (0: the word
    /// has not been started).
    at: usize,
    /// Options have ended (`--`, an operand, or an error).
    done: bool,
}

impl<'a> Getopt<'a> {
    /// A getopt over `argv` with FreeBSD's option string `shorts` and the
    /// long options `longs` (then [`COMMON_LONGS`]).
    pub fn new(argv: &'a [String], shorts: &'static str, longs: &'static [LongOpt]) -> Self {
        Getopt {
            argv,
            shorts,
            longs,
            next: 0,
            at: 0,
            done: false,
        }
    }

    /// The words after the options (all of them once the iterator has
    /// ended; before that, those not yet read).
    pub fn operands(&self) -> &'a [String] {
        let from = if self.at > 0 {
            self.next + 1
        } else {
            self.next
        };
        &self.argv[from.min(self.argv.len())..]
    }

    /// Whether `c` is an option letter, and whether it takes an argument.
    fn short(&self, c: char) -> Option<bool> {
        if c == ':' {
            return None;
        }
        let at = self.shorts.find(c)?;
        Some(self.shorts[at + c.len_utf8()..].starts_with(':'))
    }

    fn long(&mut self, word: &str) -> Result<Opt, GetoptError> {
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (word, None),
        };
        let declared = self.longs.iter().chain(COMMON_LONGS);
        let Some(&(name, takes)) = declared.clone().find(|(n, _)| *n == name) else {
            return Err(GetoptError::UnknownLong(name.to_string()));
        };
        self.next += 1;
        if !takes || inline.is_some() {
            return Ok(Opt::Long(name, inline));
        }
        let value = self
            .argv
            .get(self.next)
            .cloned()
            .ok_or(GetoptError::LongNeedsArgument(name))?;
        self.next += 1;
        Ok(Opt::Long(name, Some(value)))
    }
}

impl Iterator for Getopt<'_> {
    type Item = Result<Opt, GetoptError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let argv = self.argv;
        if self.at == 0 {
            let word = argv.get(self.next)?;
            if word == "--" {
                self.next += 1;
                self.done = true;
                return None;
            }
            if let Some(long) = word.strip_prefix("--") {
                let got = self.long(long);
                self.done = got.is_err();
                return Some(got);
            }
            if word.len() < 2 || !word.starts_with('-') {
                self.done = true;
                return None;
            }
            self.at = 1;
        }
        let word = &argv[self.next];
        let c = word[self.at..].chars().next()?;
        self.at += c.len_utf8();
        let rest = &word[self.at..];
        let finish_word = |g: &mut Self| {
            g.next += 1;
            g.at = 0;
        };
        let got = match self.short(c) {
            None => Err(GetoptError::Illegal(c)),
            Some(false) => {
                if rest.is_empty() {
                    finish_word(self);
                }
                Ok(Opt::Short(c, None))
            }
            Some(true) if !rest.is_empty() => {
                let v = rest.to_string();
                finish_word(self);
                Ok(Opt::Short(c, Some(v)))
            }
            Some(true) => {
                finish_word(self);
                match argv.get(self.next) {
                    Some(v) => {
                        self.next += 1;
                        Ok(Opt::Short(c, Some(v.clone())))
                    }
                    None => Err(GetoptError::NeedsArgument(c)),
                }
            }
        };
        self.done = got.is_err();
        Some(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONGS: &[LongOpt] = &[("help", false)];

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    /// Every option, then the operands (or the error that stopped it).
    fn run(words: &[&str]) -> (Vec<Opt>, Result<Vec<String>, GetoptError>) {
        let v = argv(words);
        let mut g = Getopt::new(&v, "qvf:j:", LONGS);
        let mut opts = Vec::new();
        for o in g.by_ref() {
            match o {
                Ok(o) => opts.push(o),
                Err(e) => return (opts, Err(e)),
            }
        }
        (opts, Ok(g.operands().to_vec()))
    }

    fn s(c: char, v: Option<&str>) -> Opt {
        Opt::Short(c, v.map(str::to_string))
    }

    #[test]
    fn clustered_flags_are_read_one_letter_at_a_time() {
        let (o, rest) = run(&["-qv", "-v", "x"]);
        assert_eq!(o, vec![s('q', None), s('v', None), s('v', None)]);
        assert_eq!(rest.unwrap(), argv(&["x"]));
    }

    #[test]
    fn an_argument_is_the_rest_of_the_word_or_the_next_word() {
        let (o, rest) = run(&["-fFILE", "-qf", "-v", "-j", "--", "op"]);
        assert_eq!(
            o,
            vec![
                s('f', Some("FILE")),
                s('q', None),
                s('f', Some("-v")),
                s('j', Some("--")),
            ]
        );
        assert_eq!(rest.unwrap(), argv(&["op"]));
        let (o, _) = run(&["-vfq"]);
        assert_eq!(o, vec![s('v', None), s('f', Some("q"))]);
    }

    #[test]
    fn double_dash_ends_the_options_and_is_consumed() {
        let (o, rest) = run(&["-q", "--", "-v", "--"]);
        assert_eq!(o, vec![s('q', None)]);
        assert_eq!(rest.unwrap(), argv(&["-v", "--"]));
    }

    #[test]
    fn the_first_operand_ends_the_options_without_permutation() {
        let (o, rest) = run(&["-q", "name", "-v"]);
        assert_eq!(o, vec![s('q', None)]);
        assert_eq!(rest.unwrap(), argv(&["name", "-v"]));
    }

    #[test]
    fn a_lone_dash_is_an_operand() {
        let (o, rest) = run(&["-v", "-", "-q"]);
        assert_eq!(o, vec![s('v', None)]);
        assert_eq!(rest.unwrap(), argv(&["-", "-q"]));
    }

    #[test]
    fn a_missing_argument_is_refused_in_freebsds_words() {
        let (o, rest) = run(&["-q", "-f"]);
        assert_eq!(o, vec![s('q', None)]);
        let e = rest.unwrap_err();
        assert_eq!(e, GetoptError::NeedsArgument('f'));
        assert_eq!(e.to_string(), "option requires an argument -- f");
        let (_, rest) = run(&["-vj"]);
        assert_eq!(rest.unwrap_err(), GetoptError::NeedsArgument('j'));
    }

    #[test]
    fn an_unknown_letter_is_an_illegal_option() {
        let (o, rest) = run(&["-qxv"]);
        assert_eq!(o, vec![s('q', None)]);
        let e = rest.unwrap_err();
        assert_eq!(e.to_string(), "illegal option -- x");
        // ':' only marks arguments in the option string; it is no option.
        assert_eq!(run(&["-:"]).1.unwrap_err(), GetoptError::Illegal(':'));
        // A letter outside ASCII is named whole.
        assert_eq!(
            run(&["-é"]).1.unwrap_err().to_string(),
            "illegal option -- é"
        );
    }

    #[test]
    fn long_options_take_values_attached_or_separate() {
        let (o, rest) = run(&["--socket=/a", "--socket", "/b", "--help", "-q", "op"]);
        let l = |n, v: Option<&str>| Opt::Long(n, v.map(str::to_string));
        assert_eq!(
            o,
            vec![
                l("socket", Some("/a")),
                l("socket", Some("/b")),
                l("help", None),
                s('q', None),
            ]
        );
        assert_eq!(rest.unwrap(), argv(&["op"]));
    }

    #[test]
    fn long_option_errors_are_worded_as_getopt_long() {
        let e = run(&["--frob=1"]).1.unwrap_err();
        assert_eq!(e.to_string(), "unrecognized option '--frob'");
        let e = run(&["--socket"]).1.unwrap_err();
        assert_eq!(e.to_string(), "option '--socket' requires an argument");
    }

    #[test]
    fn operands_before_the_end_are_the_words_not_yet_read() {
        let v = argv(&["-qv", "a"]);
        let mut g = Getopt::new(&v, "qv", &[]);
        assert_eq!(g.next(), Some(Ok(s('q', None))));
        // Mid-cluster: the cluster's word is not an operand.
        assert_eq!(g.operands(), &argv(&["a"])[..]);
        assert_eq!(g.next(), Some(Ok(s('v', None))));
        assert_eq!(g.next(), None);
        assert_eq!(g.operands(), &argv(&["a"])[..]);
        assert_eq!(g.next(), None);
    }

    #[test]
    fn the_common_long_options_are_stored_in_common() {
        let mut c = Common::default();
        assert!(set_common(&mut c, "state-dir", Some("/s".into())));
        assert!(set_common(&mut c, "cgroup-root", Some("/z".into())));
        assert!(!set_common(&mut c, "help", None));
        assert_eq!(c.state_dir.as_deref(), Some(std::path::Path::new("/s")));
        assert_eq!(c.cgroup_root.as_deref(), Some("/z"));
    }

    #[test]
    fn an_empty_command_line_has_no_options_and_no_operands() {
        let (o, rest) = run(&[]);
        assert!(o.is_empty());
        assert!(rest.unwrap().is_empty());
    }
}
