//! zlogin(1): run a command, or a login shell on a new pty, in a zone, or
//! attach to its console (cli.md). The exit status is the command's.
//!
//! As illumos' zlogin: `[Connected to zone 'Z' pts/N]` before an
//! interactive login, `-C` attaches to the zone's console
//! (zones_linux::runtime::linux::console: a relay over zsched's control socket;
//! `~.` at the start of a line detaches, `-e c` changes the escape, `-E`
//! disables it), `-S` is the safe login (a plain /bin/sh, nothing of the
//! zone's login files), `-l USER`; without a terminal on stdin and without
//! a command, the zone's shell reads the commands from stdin.
//!
//! Whatever descriptors zlogin's own caller left open (without
//! close-on-exec) stay on this side: the entered command gets stdio or the
//! zone's pty only, the limits of the zone and every cgroup of it
//! (zones_linux::runtime::linux::enter).

use clap::Parser;
use std::io::{IsTerminal, Read, Write};
use zones::engine::Caller;
use zones::zone::ZoneId;
use zones_linux::runtime::linux::console;
use zones_linux::runtime::linux::enter::{EnterOpts, run};
use zones_tools::tool::{Common, ConfNeed, ConfigFor, configured_all, die, exit};

const TOOL: &str = "zlogin";

#[derive(Parser)]
#[command(
    name = "zlogin",
    version,
    about = "Enter a zone",
    trailing_var_arg = true
)]
struct Args {
    /// Run as this user of the zone (default root).
    #[arg(short = 'l', value_name = "USER")]
    user: Option<String>,
    /// Attach to the zone's console.
    #[arg(short = 'C')]
    console: bool,
    /// No escape character.
    #[arg(short = 'E')]
    no_escape: bool,
    /// The escape character (default ~).
    #[arg(short = 'e', value_name = "C")]
    escape: Option<char>,
    /// Safe login: /bin/sh, without the zone's login environment.
    #[arg(short = 'S')]
    safe: bool,
    #[command(flatten)]
    common: Common,
    /// The zone.
    zone: String,
    /// The command (default: a login shell on a new pty).
    #[arg(allow_hyphen_values = true)]
    command: Vec<String>,
}

/// The administrative state of a configured zone that is not running.
fn admin_state(common: &Common, name: &str) -> Option<String> {
    let cfg = common
        .config_for(TOOL, ConfNeed::Optional)
        .unwrap_or_else(|c| c);
    configured_all(&cfg)
        .into_iter()
        .find(|c| c.name.as_str() == name)
        .map(|c| c.state.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Args = zones_tools::tool::parse_args();
    let name = &args.zone;
    if name == "global" {
        die(
            TOOL,
            "'zlogin' not applicable to the global zone",
            exit::FAILED,
        );
    }
    let caller = Caller {
        // SAFETY: geteuid has no preconditions.
        uid: unsafe { libc::geteuid() },
        zone: ZoneId::GLOBAL,
    };
    if caller.uid != 0 {
        die(TOOL, "permission denied: zlogin needs root", exit::FAILED);
    }
    if args.console && !args.command.is_empty() {
        die(TOOL, "-C takes no command", exit::USAGE);
    }
    let zones = args
        .common
        .open()
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED));
    let id = match zones.lookup(&caller, name).await {
        Ok(id) => id,
        Err(_) => match admin_state(&args.common, name) {
            Some(state) => die(
                TOOL,
                format!("login allowed only to running zones ({name} is '{state}')."),
                exit::FAILED,
            ),
            None => die(
                TOOL,
                format!("zone '{name}' unknown or not running"),
                exit::FAILED,
            ),
        },
    };
    let attach = zones
        .jail_attach(&caller, id)
        .await
        .unwrap_or_else(|e| die(TOOL, format!("zone '{name}': {e}"), exit::FAILED));
    // The session holds the zone (zone_ref) until it ends.
    let hold = zones.hold(id).await.ok();
    if args.console {
        let escape = escape_of(&args);
        let control = attach.handle.control.clone();
        let n = name.clone();
        let why = tokio::task::spawn_blocking(move || console_session(&n, &control, escape))
            .await
            .unwrap_or_else(|e| die(TOOL, e, exit::FAILED));
        drop(hold);
        std::process::exit(why);
    }
    let tty = std::io::stdin().is_terminal();
    let mut command = args.command.clone();
    if args.safe && command.is_empty() {
        command = vec!["/bin/sh".into()];
    }
    // Not a terminal and no command: the zone's shell reads stdin.
    if command.is_empty() && !tty {
        command = vec!["/bin/sh".into()];
    }
    let pty = args.command.is_empty() && tty;
    let opts = EnterOpts {
        command,
        user: args.user.clone(),
        pty,
        env: Vec::new(),
        banner: pty.then(|| name.clone()),
        escape: escape_of(&args),
        ..Default::default()
    };
    let handle = attach.handle.clone();
    let status = tokio::task::spawn_blocking(move || run(&handle, &opts))
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED))
        .unwrap_or_else(|e| die(TOOL, format!("zone '{name}': {e}"), exit::FAILED));
    if pty {
        eprintln!("\r\n[Connection to zone '{name}' closed]");
    }
    drop(hold);
    drop(zones);
    std::process::exit(status);
}

/// The escape character: `~`, `-e c`, or none with `-E`.
fn escape_of(args: &Args) -> Option<u8> {
    if args.no_escape {
        None
    } else {
        Some(args.escape.unwrap_or('~') as u8)
    }
}

/// Restores the terminal's mode when dropped.
struct RawMode(Option<libc::termios>);

impl RawMode {
    fn enter() -> RawMode {
        // SAFETY: tcgetattr/tcsetattr on stdin with structs we own.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return RawMode(None);
            }
            let old = t;
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(0, libc::TCSANOW, &t);
            RawMode(Some(old))
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            // SAFETY: restoring the mode read in enter().
            unsafe { libc::tcsetattr(0, libc::TCSANOW, t) };
        }
    }
}

/// `zlogin -C`: attach to the console; the exit status.
fn console_session(name: &str, control: &std::path::Path, escape: Option<u8>) -> i32 {
    let mut sock = std::os::unix::net::UnixStream::connect(control).unwrap_or_else(|e| {
        die(
            TOOL,
            format!("zone '{name}': {}: {e}", control.display()),
            exit::FAILED,
        )
    });
    if sock.write_all(b"console\n").is_err() {
        die(
            TOOL,
            format!("zone '{name}': console: lost zsched"),
            exit::FAILED,
        )
    }
    // The answer line, byte by byte: what follows it is console output.
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while sock.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let line = String::from_utf8_lossy(&line).to_string();
    if !line.starts_with("ok") {
        let msg = line.split('\t').nth(1).unwrap_or(&line).to_string();
        die(TOOL, format!("zone '{name}': console: {msg}"), exit::FAILED)
    }
    eprint!("[Connected to zone '{name}' console]\r\n");
    let raw = std::io::stdin().is_terminal().then(RawMode::enter);
    let why = console::relay(sock, escape);
    drop(raw);
    eprint!("\r\n[Connection to zone '{name}' console closed]\r\n");
    match why {
        Ok(_) => 0,
        Err(e) => die(TOOL, format!("zone '{name}': console: {e}"), exit::FAILED),
    }
}
