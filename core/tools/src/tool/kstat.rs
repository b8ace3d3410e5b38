//! # kstat(1M)'s command line
//!
//! `kstat [-Cjlpq] [-T d|u] [-c class] [-m module] [-i instance] [-n name]
//! [-s statistic] [module:instance:name:statistic ...] [interval [count]]`,
//! parsed with the tools' one getopt ([`super::getopt`]) as illumos'
//! getopt loop does: single-letter options, clustered
//! or not, `-mVALUE` or `-m VALUE`, options end at the first operand or
//! `--`. `-C` and `-l` imply the parseable form; `-q` with any of
//! `-C -l -p -j` is a usage error ("-q and -lpj are mutually
//! exclusive"). Every usage error prints `kstat: what was wrong`, then
//! illumos' `Usage:` block, and exits 2; `-h`, `-?` and `--help` print the
//! block on standard output and exit 0. The long options every client
//! tool takes (`--socket`, `--state-dir`, `--cgroup-root`, `--config`)
//! and `--version` are accepted too.
//!
//! `-T u` prints the time in seconds since the epoch before each report,
//! `-T d` the date as date(1) prints it in the C locale
//! (`%a %b %e %H:%M:%S %Z %Y`). What is printed is the kstat format module's
//! ([`crate::kstat::format`]); the bin only loops over reports.

use super::Common;
use super::getopt::{Getopt, Opt, set_common};
use crate::kstat::format::Style;

/// illumos' usage block, with the options every client tool takes.
pub const USAGE: &str = "\
Usage:
kstat [ -Cjlpq ] [ -T d|u ] [ -c class ]
      [ -m module ] [ -i instance ] [ -n name ] [ -s statistic ]
      [ interval [ count ] ]
kstat [ -Cjlpq ] [ -T d|u ] [ -c class ]
      [ module[:instance[:name[:statistic]]] ... ]
      [ interval [ count ] ]
      [ --socket PATH ] [ --state-dir DIR ] [ --cgroup-root ROOT ] [ --config FILE ]";

/// `-T`: what to print before each report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timestamp {
    #[default]
    None,
    /// `-T u`: seconds since the epoch.
    Unix,
    /// `-T d`: the date, as date(1).
    Date,
}

/// A parsed kstat command line.
#[derive(Clone, Debug, Default)]
pub struct Args {
    pub style: Option<Style>,
    pub quiet: bool,
    pub timestamp: Timestamp,
    pub class: Option<String>,
    pub module: Option<String>,
    pub instance: Option<String>,
    pub name: Option<String>,
    pub statistic: Option<String>,
    pub operands: Vec<String>,
    pub common: Common,
}

impl Args {
    /// The output style (the human blocks when no option chose one).
    pub fn style(&self) -> Style {
        self.style.unwrap_or(Style::Human)
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Args>),
    Help,
    Version,
}

/// Parse kstat's arguments (without the program name). `Err` is a usage
/// error's message.
pub fn parse(argv: &[String]) -> Result<Parsed, String> {
    let mut a = Args::default();
    let (mut json, mut parse, mut colon, mut list) = (false, false, false, false);
    let mut g = Getopt::new(
        argv,
        "h?CjlpqT:c:m:i:n:s:",
        &[("help", false), ("version", false)],
    );
    for opt in g.by_ref() {
        match opt.map_err(|e| e.to_string())? {
            Opt::Long("help", _) | Opt::Short('h' | '?', _) => return Ok(Parsed::Help),
            Opt::Long("version", _) => return Ok(Parsed::Version),
            Opt::Long(k, v) => {
                set_common(&mut a.common, k, v);
            }
            Opt::Short('C', _) => colon = true,
            Opt::Short('j', _) => json = true,
            Opt::Short('l', _) => list = true,
            Opt::Short('p', _) => parse = true,
            Opt::Short('q', _) => a.quiet = true,
            Opt::Short(c, v) => {
                let v = v.unwrap_or_default();
                match c {
                    'T' => {
                        a.timestamp = match v.chars().next() {
                            Some('u') => Timestamp::Unix,
                            Some('d') => Timestamp::Date,
                            _ => return Err(format!("-T {v}: expected d or u")),
                        }
                    }
                    'c' => a.class = Some(v),
                    'm' => a.module = Some(v),
                    'i' => a.instance = Some(v),
                    'n' => a.name = Some(v),
                    _ => a.statistic = Some(v),
                }
            }
        }
    }
    if a.quiet && (json || parse || colon || list) {
        return Err("-q and -lpj are mutually exclusive".into());
    }
    a.style = if json {
        Some(Style::Json)
    } else if list {
        Some(Style::List)
    } else if colon {
        Some(Style::Colon)
    } else if parse {
        Some(Style::Parseable)
    } else {
        None
    };
    a.operands = g.operands().to_vec();
    Ok(Parsed::Run(Box::new(a)))
}

/// The line `-T` prints before a report taken at `secs` (seconds since
/// the epoch), with its newline; empty without `-T`.
pub fn timestamp(t: Timestamp, secs: i64) -> String {
    match t {
        Timestamp::None => String::new(),
        Timestamp::Unix => format!("{secs}\n"),
        Timestamp::Date => {
            let time: libc::time_t = secs as libc::time_t;
            // SAFETY: an all-zero tm is a valid value to be overwritten.
            let mut tm: libc::tm = unsafe { std::mem::zeroed() };
            let mut buf = [0u8; 128];
            // SAFETY: localtime_r writes into our tm; strftime writes at
            // most buf.len() bytes into buf and reads a NUL-terminated format.
            let n = unsafe {
                if libc::localtime_r(&time, &mut tm).is_null() {
                    return format!("{secs}\n");
                }
                libc::strftime(
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    c"%a %b %e %H:%M:%S %Z %Y".as_ptr(),
                    &tm,
                )
            };
            format!("{}\n", String::from_utf8_lossy(&buf[..n]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Result<Parsed, String> {
        parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn run(v: &[&str]) -> Args {
        match args(v) {
            Ok(Parsed::Run(a)) => *a,
            other => panic!("{v:?}: {other:?}"),
        }
    }

    #[test]
    fn options_as_illumos_getopt_reads_them() {
        let a = run(&["-pm", "caps", "-sprocs", "-T", "u", "zones:::", "1", "3"]);
        assert_eq!(a.style(), Style::Parseable);
        assert_eq!(a.module.as_deref(), Some("caps"));
        assert_eq!(a.statistic.as_deref(), Some("procs"));
        assert_eq!(a.timestamp, Timestamp::Unix);
        assert_eq!(a.operands, ["zones:::", "1", "3"]);
        assert_eq!(run(&["-C"]).style(), Style::Colon);
        assert_eq!(run(&["-l"]).style(), Style::List);
        assert_eq!(run(&["-j", "-p"]).style(), Style::Json);
        assert_eq!(run(&[]).style(), Style::Human);
        assert_eq!(run(&["-Td"]).timestamp, Timestamp::Date);
        let a = run(&["--socket", "/s", "--state-dir=/d", "-q"]);
        assert!(a.quiet);
        assert_eq!(a.common.socket.as_deref(), Some(std::path::Path::new("/s")));
        assert!(matches!(args(&["-h"]), Ok(Parsed::Help)));
        assert!(matches!(args(&["-?"]), Ok(Parsed::Help)));
        assert!(matches!(args(&["--version"]), Ok(Parsed::Version)));
    }

    #[test]
    fn usage_errors_say_what_was_wrong() {
        for (v, msg) in [
            (&["-q", "-p"][..], "-q and -lpj are mutually exclusive"),
            (&["-qj"][..], "-q and -lpj are mutually exclusive"),
            (&["-ql"][..], "-q and -lpj are mutually exclusive"),
            (&["-q", "-C"][..], "-q and -lpj are mutually exclusive"),
            (&["-x"][..], "illegal option -- x"),
            (&["-m"][..], "option requires an argument -- m"),
            (&["-T", "x"][..], "-T x: expected d or u"),
            (&["--bogus"][..], "unrecognized option '--bogus'"),
        ] {
            assert_eq!(args(v).unwrap_err(), msg, "{v:?}");
        }
    }

    #[test]
    fn timestamps_as_illumos_prints_them() {
        assert_eq!(timestamp(Timestamp::None, 5), "");
        assert_eq!(timestamp(Timestamp::Unix, 1_765_000_000), "1765000000\n");
        let d = timestamp(Timestamp::Date, 1_765_000_000);
        // `Sat Dec  6 05:46:40 UTC 2025` in UTC; the zone is the host's.
        let f: Vec<&str> = d.split_whitespace().collect();
        assert_eq!(f.len(), 6, "{d}");
        assert!(d.ends_with("2025\n") || d.ends_with("2026\n"), "{d}");
        assert_eq!(f[3].len(), 8, "{d}");
    }
}
