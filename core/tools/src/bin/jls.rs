//! jls(8): list the jails (cli.md). `jls [-adhNnqsv] [-j JAIL] [PARAM ...]`,
//! `--libxo json` (also `--json`); `-a` is `-d`, as in FreeBSD. A usage
//! error prints getopt's message and `jls: usage: ...`, exit 1, as
//! FreeBSD's xo_errx does. The formats are [`zones_tools::tool::jls`];
//! this walks the jails with jail_get's `lastjid` (DYING with `-d`), or
//! asks for the one `-j` names, and prints them.

use zones::engine::{Caller, JailFlags, JailKey};
use zones::param;
use zones::zone::ZoneId;
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

/// Parse jls's command line (getopt style: clusters, `-j JAIL` or
/// `-jJAIL`, options end at the first operand or `--`).
fn parse(argv: &[String]) -> Args {
    let mut a = Args {
        flags: JlsFlags::default(),
        dying: false,
        jail: None,
        names: Vec::new(),
        common: Common::default(),
    };
    let mut i = 0;
    let value = |i: &mut usize, inline: Option<&str>| -> String {
        if let Some(v) = inline {
            return v.to_string();
        }
        *i += 1;
        argv.get(*i).cloned().unwrap_or_else(|| {
            let opt = &argv[*i - 1];
            match opt.strip_prefix("--") {
                Some(long) => usage(format!("option '--{long}' requires an argument")),
                None => usage("option requires an argument -- j"),
            }
        })
    };
    while i < argv.len() {
        let arg = &argv[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (k, inline) = match long.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (long, None),
            };
            match k {
                "help" => {
                    zones_tools::outln!(
                        "{USAGE}\n       jls --libxo json [-dhNnqv] [-j jail] [param ...]"
                    );
                    std::process::exit(exit::OK);
                }
                "version" => {
                    zones_tools::outln!("jls {}", env!("CARGO_PKG_VERSION"));
                    std::process::exit(exit::OK);
                }
                "json" => a.flags.json = true,
                "libxo" => {
                    let v = value(&mut i, inline);
                    if v.split(',').any(|f| f == "json") {
                        a.flags.json = true;
                    }
                }
                "socket" => a.common.socket = Some(value(&mut i, inline).into()),
                "state-dir" => a.common.state_dir = Some(value(&mut i, inline).into()),
                "cgroup-root" => a.common.cgroup_root = Some(value(&mut i, inline)),
                "config" => a.common.config = Some(value(&mut i, inline).into()),
                _ => usage(format!("unrecognized option '--{k}'")),
            }
            i += 1;
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            break;
        };
        for (at, c) in cluster.char_indices() {
            match c {
                'a' | 'd' => a.dying = true,
                'h' | 'N' | 'n' | 'q' | 's' | 'v' => a.flags.apply(c),
                'j' => {
                    let rest = &cluster[at + 1..];
                    a.jail = Some(value(&mut i, (!rest.is_empty()).then_some(rest)));
                    break;
                }
                _ => usage(format!("illegal option -- {c}")),
            }
        }
        i += 1;
    }
    a.names = argv[i.min(argv.len())..].to_vec();
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
