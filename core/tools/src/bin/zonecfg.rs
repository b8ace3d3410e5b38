//! zonecfg(8): configure a zone as illumos' zonecfg does (cli.md).
//!
//! `zonecfg -z ZONE` reads commands at a prompt (`zonecfg:ZONE>`, with
//! completion of commands, resources and properties when the input is a
//! terminal), `zonecfg -z ZONE -f FILE` from a file (`-` is standard
//! input), `zonecfg -z ZONE 'cmd; cmd'` from its arguments. The
//! language, the model and the zone's file are `zones_tools::tool::zonecfg`;
//! this file reads the arguments and the lines and prints.
//!
//! Exit status: 0; 1 when a command failed (in a file or the arguments,
//! the first failure stops the run and nothing is committed); 2 on a
//! usage error (illumos' `usage:` block).

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::rc::Rc;
use zones_tools::tool::exit;
use zones_tools::tool::zonecfg::{
    self, COMMANDS, GLOBALS, Mode, RESOURCES, Session, split_commands,
};

const TOOL: &str = "zonecfg";

fn usage(msg: Option<&str>) -> ! {
    if let Some(m) = msg {
        eprintln!("{TOOL}: {m}");
    }
    eprintln!("{}", zonecfg::USAGE);
    std::process::exit(exit::USAGE)
}

struct Args {
    zone: Option<String>,
    file: Option<String>,
    conf_dir: Option<PathBuf>,
    words: Vec<String>,
}

fn parse_args() -> Args {
    let mut a = Args {
        zone: None,
        file: None,
        conf_dir: None,
        words: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        if !a.words.is_empty() {
            a.words.push(arg);
            continue;
        }
        match arg.as_str() {
            "--help" | "-?" => {
                zones_tools::tool::out::print(&format!("{}\n", zonecfg::USAGE));
                std::process::exit(exit::OK)
            }
            "--version" | "-V" => {
                zones_tools::tool::out::print(&format!("zonecfg {}\n", env!("CARGO_PKG_VERSION")));
                std::process::exit(exit::OK)
            }
            "-z" => {
                a.zone = Some(
                    it.next()
                        .unwrap_or_else(|| usage(Some("option -z needs a zone"))),
                )
            }
            "-f" => {
                a.file = Some(
                    it.next()
                        .unwrap_or_else(|| usage(Some("option -f needs a file"))),
                )
            }
            "--conf-dir" => {
                a.conf_dir =
                    Some(PathBuf::from(it.next().unwrap_or_else(|| {
                        usage(Some("option --conf-dir needs a directory"))
                    })))
            }
            s if s.starts_with("--conf-dir=") => {
                a.conf_dir = Some(PathBuf::from(&s["--conf-dir=".len()..]))
            }
            s if s.starts_with("-z") && s.len() > 2 => a.zone = Some(s[2..].to_string()),
            s if s.starts_with("-f") && s.len() > 2 => a.file = Some(s[2..].to_string()),
            s if s.starts_with('-') && s.len() > 1 => usage(Some(&format!(
                "illegal option -- {}",
                s.trim_start_matches('-')
            ))),
            _ => a.words.push(arg),
        }
    }
    a
}

fn main() {
    let a = parse_args();
    if a.zone.is_none() && a.words.first().map(String::as_str) == Some("help") {
        zones_tools::tool::out::print(zonecfg::session_help());
        std::process::exit(exit::OK)
    }
    let Some(zone) = a.zone.clone() else {
        usage(Some("no zone specified"))
    };
    if a.file.is_some() && !a.words.is_empty() {
        usage(Some("-f and commands are mutually exclusive"))
    }
    if zone == "global" {
        eprintln!("{TOOL}: 'global' is the host: it is not configured with zonecfg");
        std::process::exit(exit::FAILED)
    }
    if let Err(e) = zones::zone::ZoneName::new(&zone) {
        eprintln!("{TOOL}: {zone}: invalid zone name: {e}");
        std::process::exit(exit::FAILED)
    }
    let dir = zonecfg::conf_dir(a.conf_dir.clone());
    let file = zonecfg::zone_file(&dir, &zone);
    let interactive = a.file.is_none() && a.words.is_empty() && std::io::stdin().is_terminal();
    let mode = if interactive {
        Mode::Interactive
    } else {
        Mode::Batch
    };
    let mut s = Session::open(&zone, file, mode).unwrap_or_else(|e| {
        eprintln!("{TOOL}:{zone}: {e}");
        std::process::exit(exit::FAILED)
    });
    s.ask = Box::new(ask);
    s.elsewhere = configured_elsewhere(&zone, &s.file);
    let code = if let Some(f) = &a.file {
        let text = if f == "-" {
            let mut t = String::new();
            std::io::stdin()
                .read_to_string(&mut t)
                .map(|_| t)
                .map_err(|e| zones_tools::tool::os_msg(&e))
        } else {
            std::fs::read_to_string(f).map_err(|e| zones_tools::tool::os_msg(&e))
        };
        let text = text.unwrap_or_else(|e| {
            eprintln!("{TOOL}: {f}: {e}");
            std::process::exit(exit::FAILED)
        });
        batch(&mut s, &text, Some(f))
    } else if !a.words.is_empty() {
        batch(&mut s, &a.words.join(" "), None)
    } else if interactive {
        prompt_loop(s)
    } else {
        let mut t = String::new();
        let _ = std::io::stdin().read_to_string(&mut t);
        batch(&mut s, &t, None)
    };
    std::process::exit(code)
}

/// Where the configuration every tool reads (`$ZONES_CONFIG`, else
/// /etc/jail.conf and /etc/jail.conf.d) defines `zone`, when that is not
/// zonecfg's own file. A configuration that does not parse says nothing
/// here: zonecfg edits its own file, and the tools will name the error.
fn configured_elsewhere(zone: &str, own: &std::path::Path) -> Option<String> {
    let cfg = zones_tools::tool::Common::default().load_config().ok()?;
    let j = cfg.get(zone)?;
    let own = std::fs::canonicalize(own).ok();
    let at = std::fs::canonicalize(&j.pos.file).ok();
    if own.is_some() && own == at {
        None
    } else {
        Some(j.pos.to_string())
    }
}

/// Run commands from a file or the arguments: the first failure stops
/// the run (`On line N of FILE:` before the message), nothing committed.
fn batch(s: &mut Session, text: &str, file: Option<&str>) -> i32 {
    let mut out = std::io::stdout().lock();
    let zone = s.zone.clone();
    for (n, line) in text.lines().enumerate() {
        let fail = |msg: String| {
            if let Some(f) = file {
                eprintln!("On line {} of {f}:", n + 1);
            }
            eprintln!("{TOOL}:{zone}: {msg}");
            exit::FAILED
        };
        let cmds = match split_commands(line) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        for c in cmds {
            if let Err(e) = s.run(&c, &mut out) {
                return fail(e);
            }
            if s.exited {
                return exit::OK;
            }
        }
    }
    match s.finish(&mut out) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("{TOOL}:{}: {e}", s.zone);
            exit::FAILED
        }
    }
}

/// yes/no on the terminal: `QUESTION (y/[n])? `.
fn ask(q: &str) -> bool {
    eprint!("{q} (y/[n])? ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim().eq_ignore_ascii_case("y") || line.trim().eq_ignore_ascii_case("yes")
}

/// Completion at the prompt: commands first, then the resource types
/// after add/select/remove/info, the properties after set/clear (those
/// of the resource being edited, in resource scope).
struct Complete {
    scope: Rc<RefCell<Option<&'static str>>>,
}

impl Completer for Complete {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let cmd_start = before.rfind(';').map_or(0, |i| i + 1);
        let cmd = &before[cmd_start..];
        let start = cmd_start
            + cmd
                .rfind(|c: char| c.is_whitespace() || c == '=')
                .map_or(0, |i| i + 1);
        let word = &before[start..];
        let prev: Vec<&str> = before[cmd_start..start].split_whitespace().collect();
        let scope = *self.scope.borrow();
        let words: Vec<String> = match prev.as_slice() {
            [] => COMMANDS.iter().map(|c| c.to_string()).collect(),
            ["add" | "select" | "remove" | "info"] if scope.is_none() => {
                RESOURCES.iter().map(|r| r.name.to_string()).collect()
            }
            ["set" | "clear"] => match scope {
                Some(k) => zonecfg::res_spec(k)
                    .map(|r| r.props.iter().map(|p| format!("{p}=")).collect())
                    .unwrap_or_default(),
                None => GLOBALS[1..].iter().map(|g| format!("{g}=")).collect(),
            },
            ["create"] => ["-b", "-F", "-t"].iter().map(|s| s.to_string()).collect(),
            ["create", "-t"] => ["SYSdefault", "SYSsparse", "SYSblank"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            _ => Vec::new(),
        };
        let pairs = words
            .into_iter()
            .filter(|w| w.starts_with(word))
            .map(|w| Pair {
                display: w.clone(),
                replacement: if w.ends_with('=') { w } else { format!("{w} ") },
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Complete {
    type Hint = String;
}
impl Highlighter for Complete {}
impl Validator for Complete {}
impl Helper for Complete {}

fn prompt_loop(mut s: Session) -> i32 {
    let scope = Rc::new(RefCell::new(None));
    let mut rl: Editor<Complete, rustyline::history::DefaultHistory> = match Editor::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{TOOL}: the terminal: {e}");
            return exit::FAILED;
        }
    };
    rl.set_helper(Some(Complete {
        scope: scope.clone(),
    }));
    let mut code = exit::OK;
    loop {
        *scope.borrow_mut() = s.scope_kind();
        let line = match rl.readline(&s.prompt()) {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => {
                let mut out = std::io::stdout().lock();
                // ^D is exit: commit when changed.
                let r = if s.scope_kind().is_some() {
                    s.run(&[zonecfg::Token::Word("end".into())], &mut out)
                        .and_then(|()| s.finish(&mut out))
                } else {
                    s.finish(&mut out)
                };
                if let Err(e) = r {
                    eprintln!("{TOOL}:{}: {e}", s.zone);
                    return exit::FAILED;
                }
                return code;
            }
            Err(e) => {
                eprintln!("{TOOL}: the terminal: {e}");
                return exit::FAILED;
            }
        };
        let _ = rl.add_history_entry(line.as_str());
        let cmds = match split_commands(&line) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{TOOL}:{}: {e}", s.zone);
                code = exit::FAILED;
                continue;
            }
        };
        let mut out = std::io::stdout().lock();
        for c in cmds {
            match s.run(&c, &mut out) {
                Ok(()) => code = exit::OK,
                Err(e) => {
                    eprintln!("{TOOL}:{}: {e}", s.zone);
                    code = exit::FAILED;
                    break;
                }
            }
            let _ = out.flush();
            if s.exited {
                return code;
            }
        }
    }
}
