//! # jail(8): create, modify and remove jails
//!
//! The command line of FreeBSD's jail(8) (../seeds/freebsd-jail.8.txt,
//! cli.md) over the engine's jail(2) family. [`parse_args`] reads the
//! options with the tools' one getopt (`tool::getopt`: clusters such as
//! `-rc`, `-e SEP`, `-fFILE`);
//! [`targets`] turns the operands into the jails to act on — from the
//! configuration file (names, jids, `*`, `foo.*`), from `param=value`
//! words, or from the legacy four-argument form — and [`Runner`] acts on
//! them, one jail at a time, in dependency order.
//!
//! ## Creation (jail(8)'s sequence)
//!
//! 1. `exec.prepare` on the host;
//! 2. addresses: `ip4.addr` / `ip6.addr` are the zone's own, on an
//!    interface of its network namespace (network.md; the runtime makes
//!    it at creation), never an alias on a host interface;
//! 3. `mount` lines and the lines of each `mount.fstab` file, read by the
//!    runtime's fstab(5) parser and mounted on the host with its mount(2)
//!    path (`runtime::linux::mounts::mount_entry`; `nullfs` is a bind
//!    mount), in order;
//!    `mount.devfs`, `mount.procfs`, `mount.fdescfs` are the runtime's
//!    private /dev, /proc and /dev/fd inside the zone's mount namespace;
//!    a `sparse` root that has no /etc yet is installed;
//! 4. `exec.prestart` on the host;
//! 5. jail_set(CREATE): `NAME: created`;
//! 6. `exec.created` on the host. Each `vnet.interface` is already in the
//!    jail's network namespace by then: the runtime moves it in as it
//!    makes the namespace (`runtime::linux::vnet`), so an interface that
//!    does not exist fails step 5 with nothing moved — jail(8) moves them
//!    just after exec.created; an exec.created script that sets up the
//!    host's end of an epair-like pair is unaffected;
//! 7. `exec.start` lines (each `/bin/sh -c LINE`), then `command` (the
//!    words after `command=` as they are) inside the jail, through the
//!    runtime's enter path, waited for in the foreground like jail(8)
//!    does — their output is ours (or `exec.consolelog`'s);
//! 8. `exec.poststart` on the host.
//!
//! A jail that is not `persist` and has no process left once its
//! commands have run is removed then (the kernel does so on FreeBSD).
//! A step that fails undoes what was done, in reverse: the jail is
//! removed, the mounts are unmounted. A failed `exec.prepare` or
//! `exec.prestart` leaves nothing behind.
//!
//! ## Removal
//!
//! `exec.prestop` on the host; `exec.stop` inside; SIGTERM to every
//! process and `stop.timeout` seconds (default 10; 0: no SIGTERM) before
//! SIGKILL (the engine's shutdown); jail_remove (children first):
//! `NAME: removed`; `exec.poststop`; the mounts unmounted in reverse;
//! `exec.release`. The parameters are the configuration's when the jail
//! is configured, else those the engine kept when it was created. `-R`
//! removes without any of the commands.
//!
//! ## Commands
//!
//! Host commands run as `/bin/sh -c LINE` with `JID`, `JNAME`, `JPATH`
//! added to our environment (with `exec.clean`: only HOME, SHELL, TERM,
//! USER and PATH=/bin:/usr/bin), as `exec.system_user` when set. Every
//! command must succeed (`NAME: CMD: failed`); `exec.timeout` kills one
//! that runs too long (`NAME: CMD: timed out`); `exec.consolelog`
//! appends their output to a file. Jail commands run as
//! `exec.jail_user` (`-U`; with `exec.system_jail_user` or `-u`, a host
//! user entered by uid); on `exec.timeout` their process group is
//! killed. `-l` is `exec.clean`; `-h` is `ip_hostname` (host.hostname's
//! addresses, resolved at creation, join ip4.addr / ip6.addr).
//!
//! ## Limits of this implementation
//!
//! `-p LIMIT` bounds how many jails of the configuration are created at
//! once (each runs one command at a time, so it bounds the commands
//! too): 1, the default here, goes one jail at a time in dependency
//! order; with more (0: no bound), the jails whose dependencies are up
//! start together. Removal goes one jail at a time. While a jail's
//! command writes to its `exec.consolelog`, the output of commands of
//! other jails running at that moment inside their jails lands there
//! too (the enter path gives a command our own stdout and stderr).
//! Addresses are the zone's own (network.md); `ip_hostname` resolves the
//! host name's addresses without an interface, so they need
//! `interface = IFACE` to be made.
//! The tool holds the (embedded) engine for its whole run, so while a
//! foreground `command` runs, other tools on the same state directory
//! need zoned.

use crate::api::Zones;
use crate::engine::{Caller, JailFlags, JailKey, params_from_args};
use crate::error::Error;
use crate::jailconf::{self, Config};
use crate::param::{Params, Value};
use crate::runtime::Handle;
use crate::runtime::RuntimeError;
use crate::runtime::linux::enter::{EnterOpts, run as enter_run};
use crate::runtime::linux::mounts::{self, FstabEntry};
use crate::tool::Common;
use crate::tool::getopt::{Getopt, LongOpt, Opt, set_common};
use crate::tool::os_msg as io_msg;
use crate::zone::{Brand, ZoneId};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The usage text (printed with a usage error, exit 1 as FreeBSD).
pub const USAGE: &str = "\
usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username]
            -[cmr] param=value ... [command=command ...]
       jail [-dqv] [-f file] -[cmr] [jail]
       jail [-qv] [-f file] -[rR] ['*' | jail ...]
       jail [-dhilqv] [-J jid_file] [-u username] [-U username]
            [-n jailname] [-s securelevel]
            path hostname [ip[,...]] command ...
       jail [-f file] -e separator
       jail --import-rc FILE";

/// The options of one invocation.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub create: bool,
    pub modify: bool,
    pub remove: bool,
    /// `-R`: remove without the configuration's commands.
    pub remove_plain: bool,
    /// `-C`: clean up after jails already removed.
    pub cleanup: bool,
    pub exhibit: Option<String>,
    pub file: Option<PathBuf>,
    pub limit: usize,
    pub quiet: bool,
    pub verbose: bool,
    pub print_jid: bool,
    pub jid_file: Option<PathBuf>,
    pub resolve: bool,
    pub login: bool,
    pub host_user: Option<String>,
    pub jail_user: Option<String>,
    pub dying: bool,
    pub name: Option<String>,
    pub securelevel: Option<String>,
    pub import_rc: Option<PathBuf>,
    pub help: bool,
    pub version: bool,
    pub common: Common,
}

/// Options and operands.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    pub opts: Options,
    pub args: Vec<String>,
}

/// jail(8)'s option letters (FreeBSD's getopt string, `-C` and `-p` ours).
const SHORTS: &str = "cmrRCdhilqve:f:p:J:u:U:n:s:";

/// jail's own long options (the engine-finding ones come with [`Getopt`]).
const LONGS: &[LongOpt] = &[("help", false), ("version", false), ("import-rc", true)];

/// Read jail(8)'s command line (without the program name). `Err` is a
/// usage error's message.
pub fn parse_args(argv: &[String]) -> Result<Invocation, String> {
    let mut o = Options {
        limit: 1,
        ..Default::default()
    };
    let mut g = Getopt::new(argv, SHORTS, LONGS);
    for opt in g.by_ref() {
        match opt.map_err(|e| e.to_string())? {
            Opt::Long("help", _) => o.help = true,
            Opt::Long("version", _) => o.version = true,
            Opt::Long("import-rc", v) => o.import_rc = v.map(PathBuf::from),
            Opt::Long(k, v) => {
                set_common(&mut o.common, k, v);
            }
            Opt::Short('c', _) => o.create = true,
            Opt::Short('m', _) => o.modify = true,
            Opt::Short('r', _) => o.remove = true,
            Opt::Short('R', _) => o.remove_plain = true,
            Opt::Short('C', _) => o.cleanup = true,
            Opt::Short('d', _) => o.dying = true,
            Opt::Short('h', _) => o.resolve = true,
            Opt::Short('i', _) => o.print_jid = true,
            Opt::Short('l', _) => o.login = true,
            Opt::Short('q', _) => o.quiet = true,
            Opt::Short('v', _) => o.verbose = true,
            Opt::Short('e', v) => o.exhibit = v,
            Opt::Short('f', v) => o.file = v.map(PathBuf::from),
            Opt::Short('J', v) => o.jid_file = v.map(PathBuf::from),
            Opt::Short('u', v) => o.host_user = v,
            Opt::Short('U', v) => o.jail_user = v,
            Opt::Short('n', v) => o.name = v,
            Opt::Short('s', v) => o.securelevel = v,
            Opt::Short(_, v) => {
                // 'p', the only letter left in SHORTS.
                let v = v.unwrap_or_default();
                o.limit = v
                    .parse::<usize>()
                    .map_err(|_| format!("invalid process limit: \"{v}\""))?;
            }
        }
    }
    if o.host_user.is_some() && o.jail_user.is_some() {
        return Err("-u and -U are exclusive".into());
    }
    if o.remove_plain && (o.create || o.modify) {
        return Err("-R cannot be combined with -c or -m".into());
    }
    if o.print_jid {
        o.quiet = true;
    }
    Ok(Invocation {
        opts: o,
        args: g.operands().to_vec(),
    })
}

/// Parameters the table marks as not enforced that this tool carries
/// out itself.
const DONE_HERE: &[&str] = &["ip_hostname"];

/// One jail to act on.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The name (or the jid, for a jail given without a name).
    pub name: String,
    /// Its parameters, with `name` when it has one.
    pub params: Params,
    /// `command=` words from the command line: run as they are.
    pub argv: Vec<String>,
    /// Set and not enforced on Linux (reported once).
    pub not_enforced: Vec<String>,
    /// From the configuration file.
    pub configured: bool,
    /// Not named itself, but a dependency (or dependent) of a jail that
    /// is: skipped when it already runs (creation) or is gone (removal).
    pub implied: bool,
    /// The configured jails it depends on (`depend`, and its parent).
    pub deps: Vec<String>,
}

impl Spec {
    fn from_jail(j: &jailconf::Jail) -> Spec {
        let mut params = j.params.clone();
        params.insert("name", Value::Str(j.name.clone()));
        Spec {
            name: j.name.clone(),
            params,
            argv: Vec::new(),
            not_enforced: j
                .not_enforced()
                .into_iter()
                .filter(|n| !DONE_HERE.contains(&n.as_str()))
                .collect(),
            configured: true,
            implied: false,
            deps: Vec::new(),
        }
    }

    fn path(&self) -> String {
        self.params.str("path").unwrap_or("/").to_string()
    }

    fn key(&self) -> JailKey {
        match (self.params.str("name"), self.params.int("jid")) {
            (Some(n), _) => JailKey::Name(n.to_string()),
            (None, Some(j)) => JailKey::Jid(ZoneId(j as u32)),
            (None, None) => JailKey::Name(self.name.clone()),
        }
    }
}

/// What the operands name.
#[derive(Debug)]
pub enum Targets {
    /// Jails from `param=value` words or the legacy form (no file read).
    Direct(Vec<Spec>),
    /// Jails of the configuration, in the order to act on them, and the
    /// operands that name no configured jail (for `-r`: running jails).
    Configured {
        config: Config,
        specs: Vec<Spec>,
        others: Vec<String>,
    },
}

/// Apply the options that are parameters (`-n`, `-s`, `-u`, `-U`).
fn option_params(o: &Options, p: &mut Params) -> Result<(), Error> {
    let mut words = Vec::new();
    if let Some(n) = &o.name {
        words.push(format!("name={n}"));
    }
    if let Some(s) = &o.securelevel {
        words.push(format!("securelevel={s}"));
    }
    if let Some(u) = &o.host_user {
        words.push(format!("exec.jail_user={u}"));
        words.push("exec.system_jail_user=true".into());
    }
    if let Some(u) = &o.jail_user {
        words.push(format!("exec.jail_user={u}"));
    }
    if o.login {
        words.push("exec.clean=true".into());
    }
    if o.resolve {
        words.push("ip_hostname=true".into());
    }
    let more = params_from_args(&words)?;
    for (k, v) in more.iter() {
        p.insert(k, v.clone());
    }
    Ok(())
}

/// The jails the operands name. `Err((message, code))`.
pub fn targets(inv: &Invocation) -> Result<Targets, (String, i32)> {
    let o = &inv.opts;
    let args = &inv.args;
    let failed = |e: String| (e, super::exit::FAILED);
    let any_op = o.create || o.modify || o.remove || o.remove_plain || o.cleanup;
    // param=value words (the first operand has an `=`).
    if any_op && args.first().is_some_and(|a| a.contains('=')) {
        if (o.remove || o.remove_plain) && !(o.create || o.modify) {
            return Err(("-r takes jail names, not parameters".into(), 2));
        }
        let (words, argv) = match args.iter().position(|a| a.starts_with("command=")) {
            Some(at) => {
                let mut argv = vec![args[at]["command=".len()..].to_string()];
                argv.extend(args[at + 1..].iter().cloned());
                (&args[..at], argv)
            }
            None => (&args[..], Vec::new()),
        };
        let mut params = words_to_params(words).map_err(|e| failed(e.to_string()))?;
        option_params(o, &mut params).map_err(|e| failed(e.to_string()))?;
        if !argv.is_empty() {
            params.insert("command", Value::List(argv.clone()));
        }
        return Ok(Targets::Direct(vec![direct_spec(params, argv)]));
    }
    // The legacy form: path hostname ip command...
    if !any_op && o.exhibit.is_none() {
        if args.len() < 4 || !args[0].starts_with('/') {
            return Err((
                "no -c or -m, so this must be an old-style command.\nBut it doesn't look like one."
                    .into(),
                2,
            ));
        }
        let mut params = Params::new();
        params.insert("path", Value::Str(args[0].clone()));
        params.insert("host.hostname", Value::Str(args[1].clone()));
        let (v4, v6): (Vec<String>, Vec<String>) = args[2]
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .partition(|a| !a.contains(':'));
        if !v4.is_empty() {
            params.insert("ip4.addr", Value::List(v4));
        }
        if !v6.is_empty() {
            params.insert("ip6.addr", Value::List(v6));
        }
        let argv = args[3..].to_vec();
        params.insert("command", Value::List(argv.clone()));
        option_params(o, &mut params).map_err(|e| failed(e.to_string()))?;
        return Ok(Targets::Direct(vec![direct_spec(params, argv)]));
    }
    // From the configuration.
    let config = match &o.file {
        Some(f) => Config::parse_file(f),
        None => o.common.load_config(),
    }
    .map_err(|e| failed(e.to_string()))?;
    if o.exhibit.is_some() {
        return Ok(Targets::Configured {
            config,
            specs: Vec::new(),
            others: Vec::new(),
        });
    }
    let removing = o.remove || o.remove_plain || o.cleanup;
    if removing && args.is_empty() && !o.create {
        return Err(("-r needs '*' or the jails to remove".into(), 2));
    }
    let sel = config.select(args);
    let order = if removing && !o.create {
        config.remove_order(&sel.jails)
    } else {
        config.create_order(&sel.jails)
    };
    // An unknown parameter is refused before anything is done.
    for &i in &order {
        config.jails[i]
            .check_known()
            .map_err(|e| failed(e.to_string()))?;
    }
    let all_deps = config.all_dependencies();
    let mut selected = vec![false; config.jails.len()];
    sel.jails.iter().for_each(|&i| selected[i] = true);
    let mut specs: Vec<Spec> = order
        .iter()
        .map(|&i| {
            let mut s = Spec::from_jail(&config.jails[i]);
            s.implied = !selected[i];
            s.deps = all_deps[i]
                .iter()
                .map(|&d| config.jails[d].name.clone())
                .collect();
            s
        })
        .collect();
    for s in &mut specs {
        option_params(o, &mut s.params).map_err(|e| failed(e.to_string()))?;
    }
    let mut others = sel.missing;
    // Wildcards also reach running jails (for -r).
    for a in args {
        if jailconf::is_wildcard(a) {
            others.push(a.clone());
        }
    }
    Ok(Targets::Configured {
        config,
        specs,
        others,
    })
}

/// `param=value` words as jail(8) reads them: a list parameter given
/// several times accumulates; its value is split at commas, except for
/// the parameters whose values are whole lines (commands, fstab lines).
fn words_to_params<S: AsRef<str>>(words: &[S]) -> Result<Params, Error> {
    let mut p = Params::new();
    for w in words {
        let w = w.as_ref();
        let one = match w.split_once('=') {
            Some((n, v)) => {
                let whole = n == "mount" || n == "command" || n.starts_with("exec.");
                match crate::param::lookup(n) {
                    Some(spec) if whole && spec.kind == crate::param::Kind::List => {
                        let mut one = Params::new();
                        one.insert(spec.name, Value::List(vec![v.to_string()]));
                        one
                    }
                    _ => params_from_args(&[w])?,
                }
            }
            None => params_from_args(&[w])?,
        };
        for (k, v) in one.iter() {
            match (p.get(k), v) {
                (Some(Value::List(old)), Value::List(new)) => {
                    let mut all = old.clone();
                    all.extend(new.iter().cloned());
                    p.insert(k, Value::List(all));
                }
                _ => p.insert(k, v.clone()),
            }
        }
    }
    Ok(p)
}

fn direct_spec(params: Params, argv: Vec<String>) -> Spec {
    let name = params
        .str("name")
        .map(str::to_string)
        .or_else(|| params.int("jid").map(|j| j.to_string()))
        .unwrap_or_default();
    Spec {
        name,
        not_enforced: params
            .not_enforced()
            .into_iter()
            .filter(|n| !DONE_HERE.contains(n))
            .map(str::to_string)
            .collect(),
        params,
        argv,
        configured: false,
        implied: false,
        deps: Vec::new(),
    }
}

/// Something done during a creation, to undo on failure.
enum Done {
    Mount(PathBuf),
    Jail(ZoneId),
}

/// Acts on jails through the engine.
pub struct Runner {
    pub zones: Zones,
    pub caller: Caller,
    pub opts: Options,
    /// Jails created (jid, spec) for `-J`.
    pub created: std::sync::Mutex<Vec<(ZoneId, Spec)>>,
    cmds: Cmds,
}

/// Runs a jail's commands (blocking: on the host with /bin/sh, in the
/// jail through the enter path); the runner calls it on tokio's blocking
/// pool, so several jails may run commands at once (`-p`).
#[derive(Clone, Copy, Debug)]
pub struct Cmds {
    pub verbose: bool,
}

/// Our stdout and stderr are redirected for one jail command at a time.
static CONSOLE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `NAME: message` of a failed step.
type Failure = String;

impl Runner {
    pub fn new(zones: Zones, opts: Options) -> Runner {
        Runner {
            zones,
            caller: Caller::ROOT,
            cmds: Cmds {
                verbose: opts.verbose,
            },
            opts,
            created: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn note(&self, msg: String) {
        if !self.opts.quiet {
            crate::outln!("{msg}");
            let _ = std::io::stdout().flush();
        }
    }

    fn verbose(&self, msg: String) {
        if self.opts.verbose {
            crate::outln!("{msg}");
            let _ = std::io::stdout().flush();
        }
    }

    /// Report once what is set and not enforced.
    pub fn warn_not_enforced(&self, spec: &Spec) {
        if !self.opts.quiet && !spec.not_enforced.is_empty() {
            eprintln!(
                "jail: {}: not enforced on Linux: {}",
                spec.name,
                spec.not_enforced.join(", ")
            );
        }
    }

    /// The running jail a spec names.
    pub async fn find(&self, spec: &Spec) -> Option<(ZoneId, Params)> {
        self.zones
            .jail_get(&self.caller, &spec.key(), JailFlags::default())
            .await
            .ok()
    }

    /// Host commands of one parameter, on the blocking pool.
    async fn host(
        &self,
        spec: &Spec,
        jid: Option<ZoneId>,
        name: &str,
        param: &str,
    ) -> Result<(), Failure> {
        if spec.params.list(param).is_empty() {
            return Ok(());
        }
        let (c, spec, name, param) = (self.cmds, spec.clone(), name.to_string(), param.to_string());
        tokio::task::spawn_blocking(move || c.run_host(&spec, jid, &name, &param))
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
    }

    /// Commands inside the jail, on the blocking pool.
    async fn inside(
        &self,
        spec: &Spec,
        jid: ZoneId,
        name: &str,
        handle: &Handle,
        argvs: Vec<(String, Vec<String>)>,
    ) -> Result<(), Failure> {
        let (c, spec, name, handle) = (self.cmds, spec.clone(), name.to_string(), handle.clone());
        tokio::task::spawn_blocking(move || c.run_inside(&spec, jid, &name, &handle, argvs))
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
    }

    /// Run the host commands of one parameter, in order (blocking).
    pub fn run_host(
        &self,
        spec: &Spec,
        jid: Option<ZoneId>,
        name: &str,
        param: &str,
    ) -> Result<(), Failure> {
        self.cmds.run_host(spec, jid, name, param)
    }
}

impl Cmds {
    fn verbose(&self, msg: String) {
        if self.verbose {
            crate::outln!("{msg}");
            let _ = std::io::stdout().flush();
        }
    }

    /// The environment jail(8) gives its commands.
    fn env(spec: &Spec, jid: Option<ZoneId>, name: &str) -> Vec<(String, String)> {
        if spec.params.bool("exec.clean") == Some(true) {
            return Vec::new();
        }
        let mut v = Vec::new();
        if let Some(j) = jid {
            v.push(("JID".to_string(), j.0.to_string()));
        }
        v.push(("JNAME".to_string(), name.to_string()));
        v.push(("JPATH".to_string(), spec.path()));
        v
    }

    fn consolelog(spec: &Spec) -> Result<Option<std::fs::File>, Failure> {
        match spec.params.str("exec.consolelog") {
            None => Ok(None),
            Some(f) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(f)
                .map(Some)
                .map_err(|e| format!("{}: {f}: {}", spec.name, io_msg(&e))),
        }
    }

    /// Run the host commands of one parameter, in order; all must succeed.
    pub fn run_host(
        &self,
        spec: &Spec,
        jid: Option<ZoneId>,
        name: &str,
        param: &str,
    ) -> Result<(), Failure> {
        let lines = spec.params.list(param);
        if lines.is_empty() {
            return Ok(());
        }
        let timeout = spec
            .params
            .int("exec.timeout")
            .filter(|t| *t > 0)
            .map(|t| Duration::from_secs(t as u64));
        let clean = spec.params.bool("exec.clean") == Some(true);
        let user = match spec.params.str("exec.system_user") {
            Some(u) => match nix::unistd::User::from_name(u) {
                Ok(Some(pw)) => Some(pw),
                _ => return Err(format!("{name}: {u}: no such user")),
            },
            None => None,
        };
        for line in lines {
            self.verbose(format!("{name}: run command: {line}"));
            let mut cmd = Command::new("/bin/sh");
            cmd.arg("-c").arg(&line).stdin(Stdio::null());
            if clean {
                cmd.env_clear().env("PATH", "/bin:/usr/bin");
                if let Ok(t) = std::env::var("TERM") {
                    cmd.env("TERM", t);
                }
                let (home, shell, uname) = match &user {
                    Some(pw) => (
                        pw.dir.display().to_string(),
                        pw.shell.display().to_string(),
                        pw.name.clone(),
                    ),
                    None => ("/root".into(), "/bin/sh".into(), "root".into()),
                };
                cmd.env("HOME", &home)
                    .env("SHELL", shell)
                    .env("USER", uname)
                    .current_dir(if Path::new(&home).is_dir() {
                        &home
                    } else {
                        "/"
                    });
            }
            for (k, v) in Self::env(spec, jid, name) {
                cmd.env(k, v);
            }
            if let Some(pw) = &user {
                cmd.uid(pw.uid.as_raw()).gid(pw.gid.as_raw());
            }
            if let Some(log) = Self::consolelog(spec)? {
                let err = log
                    .try_clone()
                    .map_err(|e| format!("{name}: exec.consolelog: {}", io_msg(&e)))?;
                cmd.stdout(log).stderr(err);
            }
            // Its own process group, so a timeout kills all it started.
            cmd.process_group(0);
            let mut child = cmd
                .spawn()
                .map_err(|e| format!("{name}: {line}: {}", io_msg(&e)))?;
            let start = Instant::now();
            let status = loop {
                match child.try_wait() {
                    Ok(Some(st)) => break st,
                    Ok(None) => {}
                    Err(e) => return Err(format!("{name}: {line}: {}", io_msg(&e))),
                }
                if timeout.is_some_and(|t| start.elapsed() >= t) {
                    // SAFETY: a signal to a process we started, named by its pid (a negative one: its process group); no memory is passed.
                    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                    let _ = child.wait();
                    return Err(format!("{name}: {line}: timed out"));
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            check_status(name, &line, status)?;
        }
        Ok(())
    }

    /// Run commands inside the jail (exec.start / command / exec.stop).
    fn run_inside(
        &self,
        spec: &Spec,
        jid: ZoneId,
        name: &str,
        handle: &Handle,
        argvs: Vec<(String, Vec<String>)>,
    ) -> Result<(), Failure> {
        if argvs.is_empty() {
            return Ok(());
        }
        let user = match spec.params.str("exec.jail_user") {
            Some(u) if spec.params.bool("exec.system_jail_user") == Some(true) => {
                match nix::unistd::User::from_name(u) {
                    Ok(Some(pw)) => Some(pw.uid.as_raw().to_string()),
                    _ => return Err(format!("{name}: {u}: no such user")),
                }
            }
            Some(u) => Some(u.to_string()),
            None => None,
        };
        let log = Self::consolelog(spec)?;
        let timeout = spec
            .params
            .int("exec.timeout")
            .filter(|t| *t > 0)
            .map(|t| Duration::from_secs(t as u64));
        for (shown, argv) in argvs {
            self.verbose(format!("{name}: run command in jail: {shown}"));
            // The command line's own command, at a terminal: on a pty of
            // the jail, relayed (an interactive shell gets job control).
            let pty = log.is_none()
                && !spec.argv.is_empty()
                && argv == spec.argv
                && std::io::stdin().is_terminal()
                && std::io::stdout().is_terminal();
            let opts = EnterOpts {
                command: argv,
                user: user.clone(),
                pty,
                env: Self::env(spec, Some(jid), name),
                ..Default::default()
            };
            let _ = std::io::stdout().flush();
            let status = with_output_to(log.as_ref(), || enter_timed(handle, opts, timeout))
                .ok_or_else(|| format!("{name}: {shown}: timed out"))?
                .map_err(|e| format!("{name}: {shown}: {}", e.message))?;
            if status != 0 {
                return Err(if status > 128 {
                    format!("{name}: {shown}: exited on signal {}", status - 128)
                } else {
                    format!("{name}: {shown}: failed")
                });
            }
        }
        Ok(())
    }
}

impl Runner {
    /// Create one jail: jail(8)'s whole sequence (module comment).
    pub async fn create(&self, spec: &Spec) -> Result<ZoneId, Failure> {
        let name = spec.name.clone();
        if self.find(spec).await.is_some() {
            return Err(format!("{name}: already exists"));
        }
        self.warn_not_enforced(spec);
        let mut done: Vec<Done> = Vec::new();
        match self.create_steps(spec, &name, &mut done).await {
            Ok(id) => Ok(id),
            Err(e) => {
                self.undo(done).await;
                Err(e)
            }
        }
    }

    async fn create_steps(
        &self,
        spec: &Spec,
        name: &str,
        done: &mut Vec<Done>,
    ) -> Result<ZoneId, Failure> {
        self.host(spec, None, name, "exec.prepare").await?;
        for entry in fstab_entries(spec)? {
            let point = self.mount(name, &spec.path(), &entry)?;
            done.push(Done::Mount(point));
        }
        for (p, what) in [
            ("mount.devfs", "devfs on /dev"),
            ("mount.fdescfs", "fdescfs on /dev/fd"),
            ("mount.procfs", "procfs on /proc"),
        ] {
            if spec.params.bool(p) == Some(true) {
                self.verbose(format!("{name}: {what} (the zone's own)"));
            }
        }
        let brand = spec
            .params
            .str("brand")
            .and_then(Brand::parse)
            .unwrap_or_default();
        let root = PathBuf::from(spec.path());
        if brand == Brand::Sparse && !root.join("etc").is_dir() {
            if root == Path::new("/") {
                return Err(format!("{name}: cannot install a sparse root into /"));
            }
            let conf = crate::engine::conf_single(name, spec.params.clone());
            self.zones
                .install(&self.caller, &conf, name)
                .await
                .map_err(|e| prefixed(name, &e))?;
        }
        self.host(spec, None, name, "exec.prestart").await?;
        let mut params = spec.params.clone();
        // As jail(8): persist while the commands run; dropped at the end
        // when the configuration does not ask for it.
        let persist = params.bool("persist") == Some(true);
        params.insert("persist", crate::param::Value::Bool(true));
        if params.bool("ip_hostname") == Some(true) {
            resolve_hostname(name, &mut params)?;
        }
        let id = self
            .zones
            .jail_set(&self.caller, params, JailFlags::CREATE)
            .await
            .map_err(|e| prefixed(name, &e))?;
        done.push(Done::Jail(id));
        // A jail created without a name is named after its jid.
        let name = if name.is_empty() {
            id.0.to_string()
        } else {
            name.to_string()
        };
        self.note(format!("{name}: created"));
        if self.opts.print_jid {
            crate::outln!("{}", id.0);
        }
        self.created.lock().unwrap().push((id, spec.clone()));
        self.host(spec, Some(id), &name, "exec.created").await?;
        // The jail is live from now on: what enters it runs it, and a jail
        // that is not persist ends when the last of those leaves.
        self.zones
            .boot_with(&self.caller, id, false)
            .await
            .map_err(|e| prefixed(&name, &e))?;
        let mut inside: Vec<(String, Vec<String>)> = spec
            .params
            .list("exec.start")
            .into_iter()
            .map(|l| (l.clone(), vec!["/bin/sh".into(), "-c".into(), l]))
            .collect();
        if !spec.argv.is_empty() {
            inside.push((spec.argv.join(" "), spec.argv.clone()));
        } else if spec.configured {
            inside.extend(
                spec.params
                    .list("command")
                    .into_iter()
                    .map(|l| (l.clone(), vec!["/bin/sh".into(), "-c".into(), l])),
            );
        }
        if !inside.is_empty() {
            let attach = self
                .zones
                .jail_attach(&self.caller, id)
                .await
                .map_err(|e| prefixed(&name, &e))?;
            self.inside(spec, id, &name, &attach.handle, inside).await?;
        }
        self.host(spec, Some(id), &name, "exec.poststart").await?;
        // Not persist: the jail ends when nothing runs in it any more (at
        // once, if nothing does now).
        if !persist {
            let mut p = crate::param::Params::new();
            p.insert("jid", crate::param::Value::Int(id.0 as i64));
            p.insert("persist", crate::param::Value::Bool(false));
            self.zones
                .jail_set(&self.caller, p, JailFlags::UPDATE)
                .await
                .map_err(|e| prefixed(&name, &e))?;
        }
        Ok(id)
    }

    /// Undo a part-made creation, in reverse.
    async fn undo(&self, done: Vec<Done>) {
        for d in done.into_iter().rev() {
            match d {
                Done::Jail(id) => {
                    let _ = self.zones.jail_remove(&self.caller, id).await;
                }
                Done::Mount(p) => {
                    let _ = unmount(&p);
                }
            }
        }
    }

    /// Mount one `mount` / `mount.fstab` entry on the host, through the
    /// runtime's mount(2) path ([`mounts::mount_entry`]); a relative mount
    /// point is beneath `path`.
    fn mount(&self, name: &str, path: &str, e: &FstabEntry) -> Result<PathBuf, Failure> {
        let point = mount_point(path, &e.target);
        // Beneath the root: resolved inside it, never through a zone's link.
        let point = crate::runtime::linux::inroot::host_mount_point(Path::new(path), &point)
            .map_err(|err| format!("{name}: mount {} on {}: {err}", e.source, point.display()))?;
        self.verbose(format!("{name}: mount {} on {}", e.source, point.display()));
        mounts::mount_entry(e, &point, |remount| remount(&point))
            .map_err(|err| format!("{name}: {}", err.message))?;
        Ok(point)
    }

    /// Remove one running jail: jail(8)'s removal sequence; `plain`
    /// (`-R`) skips every command.
    pub async fn remove(
        &self,
        spec: &Spec,
        id: ZoneId,
        name: &str,
        plain: bool,
    ) -> Result<(), Failure> {
        if !plain {
            self.host(spec, Some(id), name, "exec.prestop").await?;
            let stop: Vec<(String, Vec<String>)> = spec
                .params
                .list("exec.stop")
                .into_iter()
                .map(|l| (l.clone(), vec!["/bin/sh".into(), "-c".into(), l]))
                .collect();
            if !stop.is_empty()
                && let Ok(attach) = self.zones.jail_attach(&self.caller, id).await
            {
                self.inside(spec, id, name, &attach.handle, stop).await?;
            }
            let timeout = spec.params.int("stop.timeout").unwrap_or(10);
            if timeout > 0 {
                // SIGTERM, stop.timeout, then SIGKILL (the engine's shutdown).
                let _ = self.zones.shutdown(&self.caller, id).await;
            }
        }
        self.zones
            .jail_remove(&self.caller, id)
            .await
            .map_err(|e| prefixed(name, &e))?;
        self.note(format!("{name}: removed"));
        if !plain {
            self.after_removal(spec, Some(id), name)?;
        }
        Ok(())
    }

    /// What follows a removal: exec.poststop, unmounts in reverse,
    /// exec.release (also `-C`).
    pub fn after_removal(
        &self,
        spec: &Spec,
        id: Option<ZoneId>,
        name: &str,
    ) -> Result<(), Failure> {
        self.run_host(spec, id, name, "exec.poststop")?;
        let mut entries = fstab_entries(spec)?;
        entries.reverse();
        for e in entries {
            let p = mount_point(&spec.path(), &e.target);
            self.verbose(format!("{name}: umount {}", p.display()));
            let _ = unmount(&p);
        }
        self.run_host(spec, id, name, "exec.release")
    }

    /// `-m`: update a running jail; `Ok(false)` when a parameter cannot
    /// change (the caller may restart with `-r`).
    pub async fn update(&self, spec: &Spec, id: ZoneId, name: &str) -> Result<(), Error> {
        let mut p = spec.params.clone();
        if p.get("name").is_none() {
            p.insert("jid", Value::Int(id.0 as i64));
        }
        self.zones
            .jail_set(&self.caller, p, JailFlags::UPDATE)
            .await?;
        self.note(format!("{name}: updated"));
        Ok(())
    }

    /// Write the `-J` file: one line per created jail.
    pub fn write_jid_file(&self, path: &Path) -> std::io::Result<()> {
        let mut out = String::new();
        for (id, spec) in self.created.lock().unwrap().iter() {
            out.push_str(&format!("jid={}", id.0));
            for (k, v) in spec.params.iter().filter(|(k, _)| *k != "jid") {
                out.push(' ');
                out.push_str(k);
                let text = match v {
                    Value::Bool(b) => {
                        if !b {
                            out.truncate(out.len() - k.len());
                            out.push_str(&no_name(k));
                        }
                        continue;
                    }
                    Value::Int(i) => i.to_string(),
                    Value::Str(s) => s.clone(),
                    Value::List(l) => l.join(","),
                };
                out.push('=');
                jailconf::quoted_print(&mut out, &text);
            }
            out.push('\n');
        }
        std::fs::write(path, out)
    }
}

/// `ip_hostname`: add host.hostname's addresses to ip4.addr / ip6.addr.
fn resolve_hostname(name: &str, p: &mut Params) -> Result<(), Failure> {
    use std::net::ToSocketAddrs;
    let Some(host) = p.str("host.hostname").map(str::to_string) else {
        return Ok(());
    };
    let addrs = (host.as_str(), 0)
        .to_socket_addrs()
        .map_err(|e| format!("{name}: host.hostname {host}: {e}"))?;
    let (mut v4, mut v6) = (p.list("ip4.addr"), p.list("ip6.addr"));
    for a in addrs {
        let (list, ip) = match a.ip() {
            std::net::IpAddr::V4(ip) => (&mut v4, ip.to_string()),
            std::net::IpAddr::V6(ip) => (&mut v6, ip.to_string()),
        };
        if !list.contains(&ip) {
            list.push(ip);
        }
    }
    if !v4.is_empty() {
        p.insert("ip4.addr", Value::List(v4));
    }
    if !v6.is_empty() {
        p.insert("ip6.addr", Value::List(v6));
    }
    Ok(())
}

fn no_name(k: &str) -> String {
    match k.rsplit_once('.') {
        Some((h, l)) => format!("{h}.no{l}"),
        None => format!("no{k}"),
    }
}

/// An engine error, named after the jail unless it already names it.
fn prefixed(name: &str, e: &Error) -> String {
    let s = e.to_string();
    if name.is_empty() || s.starts_with(&format!("{name}:")) {
        s
    } else {
        format!("{name}: {s}")
    }
}

fn check_status(name: &str, line: &str, st: std::process::ExitStatus) -> Result<(), Failure> {
    use std::os::unix::process::ExitStatusExt;
    if st.success() {
        Ok(())
    } else if let Some(sig) = st.signal() {
        Err(format!("{name}: {line}: exited on signal {sig}"))
    } else {
        Err(format!("{name}: {line}: failed"))
    }
}

/// The `mount` lines and the lines of each `mount.fstab` file, read by
/// the runtime's one fstab(5) parser ([`mounts::fstab_entries`]).
fn fstab_entries(spec: &Spec) -> Result<Vec<FstabEntry>, Failure> {
    mounts::fstab_entries(&spec.params).map_err(|e| format!("{}: {}", spec.name, e.message))
}

/// Where an entry's mount point is: as written when absolute, else
/// beneath the jail's `path`.
fn mount_point(path: &str, target: &Path) -> PathBuf {
    if target.is_absolute() {
        target.to_path_buf()
    } else {
        Path::new(path).join(target)
    }
}

fn unmount(p: &Path) -> std::io::Result<()> {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    if unsafe { libc::umount2(c.as_ptr(), 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Host pids of a zone's processes other than its zsched (its cgroups).
fn zone_pids(h: &Handle) -> BTreeSet<u32> {
    let mut pids = BTreeSet::new();
    for cg in &h.cgroups {
        if let Ok(t) = std::fs::read_to_string(cg.join("cgroup.procs")) {
            let mut v = Vec::new();
            crate::runtime::linux::cgroup::parse_pids(&t, &mut v);
            pids.extend(v);
        }
    }
    pids.remove(&h.zsched_pid);
    pids
}

/// Processes of a zone other than its zsched, counted in its cgroups.
pub fn user_procs(h: &Handle) -> usize {
    zone_pids(h).len()
}

/// A process's group and session (/proc/PID/stat, after the command).
fn pgid_sid(pid: u32) -> Option<(u32, u32)> {
    zones_linux::procstat::read(pid).map(|s| (s.pgrp, s.session))
}

/// Run a command in the zone; with a timeout, `None` when it ran too
/// long: its process group is killed (the enter path makes the command
/// a session leader, so its group is the command and what it started).
fn enter_timed(
    handle: &Handle,
    opts: EnterOpts,
    timeout: Option<Duration>,
) -> Option<Result<i32, RuntimeError>> {
    let Some(t) = timeout else {
        return Some(enter_run(handle, &opts));
    };
    let before = zone_pids(handle);
    let (tx, rx) = std::sync::mpsc::channel();
    let h = handle.clone();
    std::thread::spawn(move || {
        let _ = tx.send(enter_run(&h, &opts));
    });
    match rx.recv_timeout(t) {
        Ok(r) => Some(r),
        Err(_) => {
            for pid in zone_pids(handle).difference(&before) {
                if pgid_sid(*pid) == Some((*pid, *pid)) {
                    // SAFETY: a signal to a process group we started; no memory is passed.
                    unsafe { libc::killpg(*pid as i32, libc::SIGKILL) };
                }
            }
            let _ = rx.recv_timeout(Duration::from_secs(5));
            None
        }
    }
}

/// Run `f` with our stdout and stderr sent to `log` (exec.consolelog):
/// the command the enter path starts inherits them. The jail tool is
/// single-threaded while it does this.
fn with_output_to<T>(log: Option<&std::fs::File>, f: impl FnOnce() -> T) -> T {
    let Some(log) = log else { return f() };
    let _one = CONSOLE.lock().unwrap_or_else(|e| e.into_inner());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let saved: Vec<(i32, i32)> = [1, 2]
        .iter()
        // SAFETY: duplicates stdout or stderr, which stay open; the copy is ours to close.
        .map(|&fd| (fd, unsafe { libc::dup(fd) }))
        .collect();
    for &(fd, _) in &saved {
        // SAFETY: `log` is an open file for the whole call; dup2 only points the standard descriptor at it.
        unsafe { libc::dup2(log.as_raw_fd(), fd) };
    }
    let out = f();
    for (fd, copy) in saved {
        if copy >= 0 {
            // SAFETY: `copy` is the descriptor dup'ed above and still open; it is put back and then closed once.
            unsafe {
                libc::dup2(copy, fd);
                libc::close(copy);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn clustered_operations_and_options_with_values_parse_as_getopt_does() {
        let inv = parse_args(&argv(&["-rc", "-f", "/x.conf", "-p2", "-q", "www"])).unwrap();
        assert!(inv.opts.remove && inv.opts.create && inv.opts.quiet);
        assert_eq!(inv.opts.file, Some(PathBuf::from("/x.conf")));
        assert_eq!(inv.opts.limit, 2);
        assert_eq!(inv.args, argv(&["www"]));
        let inv = parse_args(&argv(&["-e", "|"])).unwrap();
        assert_eq!(inv.opts.exhibit.as_deref(), Some("|"));
        let inv = parse_args(&argv(&["-cmr", "a", "b"])).unwrap();
        assert!(inv.opts.create && inv.opts.modify && inv.opts.remove);
    }

    #[test]
    fn usage_errors_are_refused() {
        assert!(parse_args(&argv(&["-x"])).is_err());
        assert!(parse_args(&argv(&["-f"])).is_err());
        assert!(parse_args(&argv(&["-u", "a", "-U", "b", "-c", "x=y"])).is_err());
        assert!(parse_args(&argv(&["-p", "many"])).is_err());
        assert_eq!(
            parse_args(&argv(&["--import-rc"])).unwrap_err(),
            "option '--import-rc' requires an argument"
        );
    }

    #[test]
    fn long_options_reach_common_and_options_end_at_the_first_operand() {
        let inv = parse_args(&argv(&[
            "--state-dir=/s",
            "--cgroup-root",
            "/z",
            "-cfFILE",
            "name=a",
            "-v",
        ]))
        .unwrap();
        let o = &inv.opts;
        assert_eq!(o.common.state_dir.as_deref(), Some(Path::new("/s")));
        assert_eq!(o.common.cgroup_root.as_deref(), Some("/z"));
        assert_eq!(o.file.as_deref(), Some(Path::new("FILE")));
        assert!(o.create && !o.verbose);
        assert_eq!(inv.args, argv(&["name=a", "-v"]));
    }

    #[test]
    fn command_takes_the_rest_of_the_command_line() {
        let inv = parse_args(&argv(&[
            "-c",
            "name=t1",
            "path=/",
            "persist",
            "command=/bin/sh",
            "-c",
            "echo hi",
        ]))
        .unwrap();
        let Targets::Direct(specs) = targets(&inv).unwrap() else {
            panic!("direct")
        };
        assert_eq!(specs[0].name, "t1");
        assert_eq!(specs[0].argv, argv(&["/bin/sh", "-c", "echo hi"]));
        assert_eq!(specs[0].params.bool("persist"), Some(true));
    }

    #[test]
    fn list_words_accumulate_and_command_lines_keep_their_commas() {
        let p = words_to_params(&[
            "ip4.addr=10.0.0.1,10.0.0.2",
            "ip4.addr=10.0.0.3",
            "exec.start=echo a,b",
            "exec.start=echo c",
            "mount=tmpfs /t tmpfs rw,size=1m 0 0",
            "persist",
        ])
        .unwrap();
        assert_eq!(
            p.list("ip4.addr"),
            argv(&["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        );
        assert_eq!(p.list("exec.start"), argv(&["echo a,b", "echo c"]));
        assert_eq!(p.list("mount"), argv(&["tmpfs /t tmpfs rw,size=1m 0 0"]));
        assert_eq!(p.bool("persist"), Some(true));
        assert!(words_to_params(&["bogus=1"]).is_err());
    }

    #[test]
    fn the_legacy_form_sets_path_hostname_addresses_and_command() {
        let inv = parse_args(&argv(&[
            "-n",
            "old",
            "/",
            "h.example",
            "10.0.0.1,::1",
            "/bin/true",
        ]))
        .unwrap();
        let Targets::Direct(specs) = targets(&inv).unwrap() else {
            panic!("direct")
        };
        let p = &specs[0].params;
        assert_eq!(p.str("path"), Some("/"));
        assert_eq!(p.str("host.hostname"), Some("h.example"));
        assert_eq!(p.list("ip4.addr"), argv(&["10.0.0.1"]));
        assert_eq!(p.list("ip6.addr"), argv(&["::1"]));
        assert_eq!(specs[0].name, "old");
        assert!(
            specs[0].not_enforced.is_empty(),
            "{:?}",
            specs[0].not_enforced
        );
        let bad = parse_args(&argv(&["a", "b"])).unwrap();
        assert_eq!(targets(&bad).unwrap_err().1, 2);
    }

    #[test]
    fn an_unknown_parameter_in_the_file_is_refused_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("j.conf");
        std::fs::write(&f, "a {\n path = /;\n bogus.thing = 1;\n}\n").unwrap();
        let inv = parse_args(&argv(&["-f", f.to_str().unwrap(), "-c", "a"])).unwrap();
        let (msg, code) = targets(&inv).unwrap_err();
        assert_eq!(code, 1);
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("unknown parameter: bogus.thing"), "{msg}");
    }

    #[test]
    fn the_fstab_lines_come_from_mount_and_mount_fstab() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("fstab");
        std::fs::write(&f, "# c\n\n/a /b nullfs ro 0 0\n").unwrap();
        let mut p = Params::new();
        p.insert("mount", Value::List(argv(&["tmpfs /t tmpfs rw 0 0"])));
        p.insert("mount.fstab", Value::List(vec![f.display().to_string()]));
        let s = direct_spec(p, Vec::new());
        let got: Vec<(String, PathBuf, bool)> = fstab_entries(&s)
            .unwrap()
            .into_iter()
            .map(|e| (e.source, e.target, e.bind))
            .collect();
        assert_eq!(
            got,
            [
                ("tmpfs".to_string(), PathBuf::from("/t"), false),
                ("/a".to_string(), PathBuf::from("/b"), true)
            ]
        );
        assert_eq!(mount_point("/j", Path::new("t")), Path::new("/j/t"));
        assert_eq!(mount_point("/j", Path::new("/t")), Path::new("/t"));
        // A bad line names its place, as zoneadm's boot does.
        let mut p = Params::new();
        p.insert("mount", Value::List(argv(&["tmpfs /t"])));
        let e = fstab_entries(&direct_spec(p, Vec::new())).unwrap_err();
        assert!(e.contains("tmpfs /t") && e.contains("mount"), "{e}");
    }
}
