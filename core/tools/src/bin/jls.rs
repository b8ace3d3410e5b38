//! jls(8): list the jails (cli.md). `jls [-adhNnqsv] [-j JAIL] [PARAM ...]`,
//! `--libxo json` (also `--json`); `-a` is `-d`, as in FreeBSD. A usage
//! error prints getopt's message (`zones_tools::tool::getopt`) and `jls: usage: ...`, exit 1, as
//! FreeBSD's xo_errx does. The formats are [`zones_tools::tool::jls`];
//! this walks the jails with jail_get's `lastjid` (DYING with `-d`), or
//! asks for the one `-j` names, and prints them.

use zones::engine::{Caller, JailFlags, JailKey};
use zones::param;
use zones::zone::ZoneId;
use zones_tools::tool::getopt::{Getopt, LongOpt, Opt, set_common};
use zones_tools::tool::jls::{JlsFlags, render};
use zones_tools::tool::{Common, die, exit};

const TOOL: &str = "jls";

const USAGE: &str = "usage: jls [-dhNnqv] [-j jail] [param ...]";

/// A usage error: `jls: message`, then `jls: usage: ...`; exit 1.
fn usage(msg: impl std::fmt::Display) -> ! {
    eprintln!("{TOOL}: {msg}");
    eprintln!("{TOOL}: {USAGE}");
    std::process::exit(exit::FAILED)
}

struct Args {
    flags: JlsFlags,
    dying: bool,
    jail: Option<String>,
    names: Vec<String>,
    common: Common,
}

/// jls's option letters (FreeBSD's getopt string; `-a` is `-d`).
const SHORTS: &str = "adhNnqsvj:";

/// jls's own long options (the engine-finding ones come with [`Getopt`]).
const LONGS: &[LongOpt] = &[
    ("help", false),
    ("version", false),
    ("json", false),
    ("libxo", true),
];

/// Parse jls's command line with the tools' getopt (clusters, `-j JAIL`
/// or `-jJAIL`, options end at the first operand or `--`).
fn parse(argv: &[String]) -> Args {
    let mut a = Args {
        flags: JlsFlags::default(),
        dying: false,
        jail: None,
        names: Vec::new(),
        common: Common::default(),
    };
    let mut g = Getopt::new(argv, SHORTS, LONGS);
    for opt in g.by_ref() {
        match opt.unwrap_or_else(|e| usage(e)) {
            Opt::Long("help", _) => {
                zones_tools::outln!(
                    "{USAGE}\n       jls --libxo json [-dhNnqv] [-j jail] [param ...]"
                );
                std::process::exit(exit::OK);
            }
            Opt::Long("version", _) => {
                zones_tools::outln!("jls {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(exit::OK);
            }
            Opt::Long("json", _) => a.flags.json = true,
            Opt::Long("libxo", v) => {
                if v.unwrap_or_default().split(',').any(|f| f == "json") {
                    a.flags.json = true;
                }
            }
            Opt::Long(k, v) => {
                set_common(&mut a.common, k, v);
            }
            Opt::Short('a' | 'd', _) => a.dying = true,
            Opt::Short('j', v) => a.jail = v,
            Opt::Short(c, _) => a.flags.apply(c),
        }
    }
    a.names = g.operands().to_vec();
    a
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = parse(&argv);
    // Unknown parameter names are refused before anything is asked.
    let mut names = Vec::new();
    for n in &args.names {
        match param::resolve(n) {
            Ok((spec, _)) => names.push(spec.name.to_string()),
            Err(_) => die(TOOL, format!("unknown parameter: {n}"), exit::FAILED),
        }
    }
    let caller = Caller {
        // SAFETY: geteuid has no preconditions and cannot fail.
        uid: unsafe { libc::geteuid() },
        zone: ZoneId::GLOBAL,
    };
    let zones = args
        .common
        .open()
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED));
    let flags = if args.dying {
        JailFlags::DYING
    } else {
        JailFlags::default()
    };
    let mut jails = Vec::new();
    if let Some(j) = &args.jail {
        let key = match j.parse::<u32>() {
            Ok(id) => JailKey::Jid(ZoneId(id)),
            Err(_) => JailKey::Name(j.clone()),
        };
        match zones.jail_get(&caller, &key, flags).await {
            Ok(found) => jails.push(found),
            Err(_) => die(TOOL, zones_tools::tool::jls::not_found(j), exit::FAILED),
        }
    } else {
        let mut last = 0;
        while let Ok((id, p)) = zones
            .jail_get(&caller, &JailKey::LastJid(last), flags)
            .await
        {
            last = id.0;
            jails.push((id, p));
        }
    }
    zones_tools::out!("{}", render(&jails, &names, &args.flags));
}
