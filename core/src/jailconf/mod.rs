//! # jail.conf: FreeBSD's configuration language
//!
//! A FreeBSD administrator's `/etc/jail.conf` is read here with the meaning
//! FreeBSD's jail(8) gives it (jail.conf(5), jaillex.l, jailparse.y,
//! config.c), extended with nested blocks and the zone parameters of
//! `param`. The work is done in four passes, one file each:
//!
//! | pass       | file        | what it does                                              |
//! |------------|-------------|-----------------------------------------------------------|
//! | lexing     | `lex.rs`    | bytes → string pieces, variables, punctuation; escapes    |
//! | parsing    | `parse.rs`  | tokens → ordered sections (blocks) of raw statements; `.include` |
//! | building   | `build.rs`  | sections → jails: wildcards, later-wins, `$var` expansion, types |
//! | selecting  | `select.rs` | command targets → jails; `depend` and parent order         |
//! | arguments  | `cmdline.rs`| `jail -c name=value ... command=...`, the legacy form, `-J` lines |
//!
//! [`Config`] is the result: the configured jails in file order, each a
//! [`Jail`] with its typed [`Params`], the file and line every parameter
//! came from, and its parameters as jail(8) keeps them (ordered, as
//! spelled) for `jail -e`. Two more things live here: [`Config::exhibit`]
//! (jail -e SEP) and [`import_rc`] (the legacy rc.conf `jail_*` variables
//! turned into jail.conf text). `.include` reads files through an
//! [`IncludeSource`]: the file system (regular files only, so a glob never
//! blocks on a FIFO or a device), or memory for tests and the fuzzer.
//!
//! ## Errors
//!
//! Nothing is half-read: any error makes the whole parse fail with every
//! message found ([`ConfError`]), each naming the file and the line:
//! `FILE line N: unterminated string`, `FILE line N: syntax error`, and for
//! errors of meaning `FILE line N: JAIL: PARAM: variable "x" not found`,
//! `... PARAM: unknown boolean value "x"`, `... PARAM: non-integer value "x"`.
//!
//! ## A broken file
//!
//! A file that does not parse is never half-used: no jail of it is
//! known, so nothing is made or changed from it. But the zones that run
//! are the engine's (the kernel's) state, not the file's, so what a tool
//! does with a broken file depends on whether its operation needs the
//! file — as on FreeBSD, where jail(8) refuses to act on any jail when
//! jail.conf does not parse, while jls(8) and the kernel's state of the
//! running jails do not read it (zones-tools `tool::ConfNeed`):
//!
//! | tool | with a file that does not parse |
//! |------|---------------------------------|
//! | `zoneadm list` (also `-v`, `-p`) | not read: the running zones, exit 0 |
//! | `zoneadm list -c` / `-i` | the zones the engine knows, each message as `zoneadm: FILE line N: ...` and a warning that configured zones are not shown, exit 1 |
//! | `zoneadm -z NAME halt`, `reboot`, `shutdown` | not read: act on the running zone |
//! | `zoneadm boot`, `ready`, `install`, `uninstall`, `verify`, `clone`, `shutdown -r` | refuse before doing anything: `zoneadm: FILE line N: ...`, exit 1 |
//! | `jail -c`, `-m`, `-r`, `-R`, `-e` | refuse before doing anything, exit 1 (jail(8)); `jail -f /dev/null -r NAME` removes a running jail without the file |
//! | `jls`, `jexec`, `zlogin`, `kstat` | never read the file |
//! | `zoned` | refuses to start (exit 1); on SIGHUP keeps the configuration in force and logs the messages |
//!
//! ## Size
//!
//! Parsing is linear in the file's size: each byte is lexed once; blocks
//! nest at most [`MAX_BLOCK_DEPTH`] (32) deep, which bounds the size of
//! the full dotted names (`a.b.c`) a nest builds; each jail finds its own
//! blocks, each statement its parameter and each `depend` its jail through
//! an index, not a rescan; a wildcard name is tried only on jails whose
//! first level it can match. A test counts the parser's steps
//! (`work`) on files four times apart in size; `cargo bench -p zones
//! --bench jailconf` gives the times.
//!
//! ## Safety
//!
//! The parser never panics and never recurses on input-controlled depth
//! (blocks are a stack and nest at most 32 deep; includes stop at 32;
//! variable chains at 200), and variable expansion is bounded in size. It
//! is fuzzed (core/fuzz) and property-tested over random bytes and random
//! token soups.

mod build;
mod cmdline;
mod glob;
mod lex;
mod parse;
mod rcconf;
mod select;

pub use parse::{MAX_BLOCK_DEPTH, MAX_INCLUDE_DEPTH};
pub use rcconf::import_rc;
pub use select::{Selection, is_wildcard, wild_match};

use crate::param::Params;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// A count of the parser's elementary steps (bytes scanned, name bytes
/// built, statements merged, wildcard matches), so that tests assert that
/// the work grows linearly with the file by counting, not by timing. It
/// counts only in test builds; elsewhere it compiles to nothing.
pub(crate) mod work {
    #[cfg(test)]
    thread_local! {
        static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// Count `n` steps.
    #[inline(always)]
    pub fn add(n: usize) {
        #[cfg(test)]
        STEPS.with(|s| s.set(s.get() + n as u64));
        #[cfg(not(test))]
        let _ = n;
    }

    /// The steps counted on this thread since the last call.
    #[cfg(test)]
    pub fn take() -> u64 {
        STEPS.with(|s| s.replace(0))
    }
}

/// Where something was written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Pos {
    pub file: String,
    pub line: u32,
}

impl Pos {
    pub fn new(file: &str, line: u32) -> Pos {
        Pos {
            file: file.to_string(),
            line,
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.file, self.line)
    }
}

/// One message about a configuration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diag {
    /// Where (every message from a file has one).
    pub pos: Option<Pos>,
    /// The jail the message is about, for errors of meaning.
    pub jail: Option<String>,
    /// The message proper (`syntax error`, `path: variable "x" not found`).
    pub msg: String,
}

impl Diag {
    pub(crate) fn at(pos: Pos, msg: impl Into<String>) -> Diag {
        Diag {
            pos: Some(pos),
            jail: None,
            msg: msg.into(),
        }
    }
    pub(crate) fn jail(pos: Pos, jail: &str, msg: impl Into<String>) -> Diag {
        Diag {
            pos: Some(pos),
            jail: Some(jail.to_string()),
            msg: msg.into(),
        }
    }
    pub(crate) fn plain(msg: impl Into<String>) -> Diag {
        Diag {
            pos: None,
            jail: None,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.pos {
            write!(f, "{p}: ")?;
        }
        if let Some(j) = &self.jail {
            write!(f, "{j}: ")?;
        }
        f.write_str(&self.msg)
    }
}

/// A configuration that cannot be used: every message, in file order.
/// Displayed one message per line (the `jail` tool prefixes each with
/// `jail: `).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfError {
    pub diags: Vec<Diag>,
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diags.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfError {}

impl From<Vec<Diag>> for ConfError {
    fn from(diags: Vec<Diag>) -> ConfError {
        ConfError { diags }
    }
}

/// A parameter as jail(8) keeps it: the spelling last used, the values
/// after variable expansion, as text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// As written (`nopersist`, `allow.nomount`, `hostname`).
    pub name: String,
    /// The canonical parameter name (`persist`, `allow.mount`, `host.hostname`).
    pub key: String,
    pub values: Vec<String>,
    pub pos: Pos,
}

/// One configured jail.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Jail {
    /// The full block name (`www`, `a.b`; an all-digit name is a jid).
    pub name: String,
    /// Where its block first opens.
    pub pos: Pos,
    /// The typed parameters, by canonical name (unknown names as text).
    pub params: Params,
    /// Where each parameter of `params` was last set (canonical name).
    pub positions: BTreeMap<String, Pos>,
    /// The parameters in jail(8)'s order and spelling (for `jail -e`).
    pub entries: Vec<Entry>,
    /// Names in no parameter table: kept, shown, never enforced. The
    /// `jail` tool refuses to create a jail with one, as jail(2) would
    /// (see [`Jail::check_known`]).
    pub unknown: Vec<String>,
}

impl Jail {
    /// Parameters set for this jail that Linux does not enforce (the
    /// table's non-enforced ones, then the unknown names): to report once.
    pub fn not_enforced(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .params
            .not_enforced()
            .into_iter()
            .map(str::to_string)
            .collect();
        v.extend(self.unknown.iter().cloned());
        v
    }

    /// Refuse unknown parameter names, as jail(2) does at creation:
    /// `FILE line N: NAME: unknown parameter: x`.
    pub fn check_known(&self) -> Result<(), ConfError> {
        let diags: Vec<Diag> = self
            .unknown
            .iter()
            .map(|u| {
                let pos = self.positions.get(u).unwrap_or(&self.pos).clone();
                Diag::jail(pos, &self.name, format!("unknown parameter: {u}"))
            })
            .collect();
        if diags.is_empty() {
            Ok(())
        } else {
            Err(diags.into())
        }
    }

    /// Where a parameter (any of its names) was set.
    pub fn position(&self, name: &str) -> Option<&Pos> {
        let key = build::param_key(name);
        self.positions.get(&key)
    }

    /// This jail as `jail -e SEP` prints it (one line, with its newline):
    /// every parameter but `jid`, in jail(8)'s order, `name=value` (just
    /// `name` when it has no value), list values joined with `,`, each
    /// value quoted as jail(8)'s quoted_print does.
    pub fn exhibit(&self, sep: &str) -> String {
        let mut out = String::new();
        let mut first = true;
        for e in self.entries.iter().filter(|e| e.key != "jid") {
            if !first {
                out.push_str(sep);
            }
            first = false;
            out.push_str(&e.name);
            if !e.values.is_empty() {
                out.push('=');
                for (i, v) in e.values.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    quoted_print(&mut out, v);
                }
            }
        }
        out.push('\n');
        out
    }
}

/// jail(8)'s quoted_print: an empty value or one with a `'` goes in
/// double quotes, one with a `"` in single quotes, one with a space or a
/// tab in double quotes; inside, `\` and the quote are escaped.
pub fn quoted_print(out: &mut String, s: &str) {
    let qc = if s.is_empty() || s.contains('\'') {
        Some('"')
    } else if s.contains('"') {
        Some('\'')
    } else if s.contains(' ') || s.contains('\t') {
        Some('"')
    } else {
        None
    };
    if let Some(q) = qc {
        out.push(q);
    }
    for c in s.chars() {
        if c == '\\' || Some(c) == qc {
            out.push('\\');
        }
        out.push(c);
    }
    if let Some(q) = qc {
        out.push(q);
    }
}

/// An I/O error as err(3) prints it: the C library's text, without
/// Rust's "(os error N)".
pub fn io_msg(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

/// Where `.include` finds its files: the file system ([`FileSystem`]),
/// or anything else (tests and the fuzzer use [`MemSource`], so that a
/// pattern such as `/*/*/*` never walks the real disk).
pub trait IncludeSource {
    /// The files a glob pattern names, sorted. A pattern without
    /// wildcards must name an existing file; one with wildcards may match
    /// nothing.
    fn glob(&self, pattern: &Path) -> std::io::Result<Vec<PathBuf>>;
    /// A file's bytes.
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
}

/// The real file system (regular files only).
#[derive(Clone, Copy, Debug, Default)]
pub struct FileSystem;

impl IncludeSource for FileSystem {
    fn glob(&self, pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
        glob::glob(pattern)
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// Files held in memory, by absolute path.
#[derive(Clone, Debug, Default)]
pub struct MemSource(pub BTreeMap<PathBuf, Vec<u8>>);

impl IncludeSource for MemSource {
    fn glob(&self, pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
        use std::os::unix::ffi::OsStrExt;
        let wild = pattern
            .as_os_str()
            .as_bytes()
            .iter()
            .any(|b| matches!(b, b'*' | b'?' | b'['));
        let found: Vec<PathBuf> = self
            .0
            .keys()
            .filter(|k| glob::path_match(pattern, k))
            .cloned()
            .collect();
        if found.is_empty() && !wild {
            return Err(std::io::ErrorKind::NotFound.into());
        }
        Ok(found)
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::ErrorKind::NotFound.into())
    }
}

/// The configured jails.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// Non-wildcard jails, in the order their blocks first appear.
    pub jails: Vec<Jail>,
}

/// The default configuration files: `/etc/jail.conf`, then
/// `/etc/jail.conf.d/*.conf`.
pub const DEFAULT_CONF: &str = "/etc/jail.conf";
pub const DEFAULT_CONF_DIR: &str = "/etc/jail.conf.d";

impl Config {
    /// Parse text. `file` names it in messages (`STDIN` for `-`);
    /// `.include` patterns are relative to `dir`.
    pub fn parse_bytes(src: &[u8], file: &str, dir: &Path) -> Result<Config, ConfError> {
        Self::parse_with(src, file, dir, &FileSystem)
    }

    /// [`Config::parse_bytes`] with includes read from `source`.
    pub fn parse_with(
        src: &[u8],
        file: &str,
        dir: &Path,
        source: &dyn IncludeSource,
    ) -> Result<Config, ConfError> {
        let mut p = parse::Parser {
            sections: Vec::new(),
            errors: Vec::new(),
            source,
            cancel: None,
        };
        p.parse_source(src, file, dir, None, 0);
        Self::finish(p)
    }

    /// Parse text with includes relative to the current directory.
    pub fn parse_str(src: &str, file: &str) -> Result<Config, ConfError> {
        Self::parse_bytes(src.as_bytes(), file, Path::new("."))
    }

    /// Parse one file (`-` is standard input, named `STDIN`).
    pub fn parse_file(path: &Path) -> Result<Config, ConfError> {
        Self::parse_files(&[path.to_path_buf()])
    }

    /// Parse several files as one configuration, in order (as if each
    /// were included by the one before).
    pub fn parse_files(paths: &[PathBuf]) -> Result<Config, ConfError> {
        Self::parse_files_cancellable(paths, None)
    }

    /// [`Config::parse_files`] that stops soon after `cancel` is set (from
    /// another thread), failing with `reading the configuration was
    /// cancelled`: a long parse need not run to its end when its result
    /// is no longer wanted.
    pub fn parse_files_cancellable(
        paths: &[PathBuf],
        cancel: Option<&AtomicBool>,
    ) -> Result<Config, ConfError> {
        let mut p = parse::Parser {
            sections: Vec::new(),
            errors: Vec::new(),
            source: &FileSystem,
            cancel,
        };
        for path in paths {
            let (src, shown) = if path.as_os_str() == "-" {
                let mut buf = Vec::new();
                use std::io::Read;
                if let Err(e) = std::io::stdin().read_to_end(&mut buf) {
                    return Err(vec![Diag::plain(format!("STDIN: {}", io_msg(&e)))].into());
                }
                (buf, "STDIN".to_string())
            } else {
                match std::fs::read(path) {
                    Ok(b) => (b, path.display().to_string()),
                    Err(e) => {
                        return Err(vec![Diag::plain(format!(
                            "{}: {}",
                            path.display(),
                            io_msg(&e)
                        ))]
                        .into());
                    }
                }
            };
            let dir = if path.as_os_str() == "-" {
                PathBuf::from(".")
            } else {
                path.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            };
            p.parse_source(&src, &shown, &dir, None, 0);
            if !p.errors.is_empty() {
                break;
            }
        }
        Self::finish(p)
    }

    /// The default configuration: `/etc/jail.conf` (if it exists) and
    /// `/etc/jail.conf.d/*.conf`. Neither existing is an empty
    /// configuration.
    pub fn load_default() -> Result<Config, ConfError> {
        Self::load_from(Path::new(DEFAULT_CONF), Path::new(DEFAULT_CONF_DIR))
    }

    /// [`Config::load_default`] with other places (for tests).
    pub fn load_from(conf: &Path, dir: &Path) -> Result<Config, ConfError> {
        Self::load_from_cancellable(conf, dir, None)
    }

    /// [`Config::load_from`] with a cancel flag
    /// ([`Config::parse_files_cancellable`]).
    pub fn load_from_cancellable(
        conf: &Path,
        dir: &Path,
        cancel: Option<&AtomicBool>,
    ) -> Result<Config, ConfError> {
        let mut files = Vec::new();
        if conf.exists() {
            files.push(conf.to_path_buf());
        }
        if let Ok(more) = glob::glob(&dir.join("*.conf")) {
            files.extend(more);
        }
        Self::parse_files_cancellable(&files, cancel)
    }

    fn finish(p: parse::Parser) -> Result<Config, ConfError> {
        if !p.errors.is_empty() {
            return Err(p.errors.into());
        }
        if p.cancel
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
        {
            return Err(vec![Diag::plain(parse::CANCELLED)].into());
        }
        let jails = build::build(&p.sections, p.cancel).map_err(ConfError::from)?;
        let cfg = Config { jails };
        let dep = cfg.check_dependencies();
        if !dep.is_empty() {
            return Err(dep.into());
        }
        Ok(cfg)
    }

    /// The jail of this name (or jid).
    pub fn get(&self, name: &str) -> Option<&Jail> {
        self.find(name).map(|i| &self.jails[i])
    }

    /// `jail -e SEP`: every configured non-wildcard jail, one line each.
    pub fn exhibit(&self, sep: &str) -> String {
        self.jails.iter().map(|j| j.exhibit(sep)).collect()
    }
}

#[cfg(test)]
mod tests;
