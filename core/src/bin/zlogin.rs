//! zlogin(1): run a command, or a login shell on a new pty, in a zone
//! (cli.md). The exit status is the command's.
//!
//! Whatever descriptors zlogin's own caller left open (without
//! close-on-exec) stay on this side: the entered command gets stdio or the
//! zone's pty only, the limits of the zone and every cgroup of it
//! (zones::runtime::linux::enter).

use clap::Parser;
use std::io::IsTerminal;
use zones::engine::Caller;
use zones::runtime::linux::enter::{EnterOpts, run};
use zones::tool::{Common, die, exit};
use zones::zone::ZoneId;

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
    #[command(flatten)]
    common: Common,
    /// The zone.
    zone: String,
    /// The command (default: a login shell on a new pty).
    #[arg(allow_hyphen_values = true)]
    command: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Args = zones::tool::parse_args();
    let caller = Caller {
        // SAFETY: geteuid has no preconditions.
        uid: unsafe { libc::geteuid() },
        zone: ZoneId::GLOBAL,
    };
    if caller.uid != 0 {
        die(TOOL, "permission denied: zlogin needs root", exit::FAILED);
    }
    let zones = args
        .common
        .open()
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED));
    let name = &args.zone;
    let id = zones.lookup(&caller, name).await.unwrap_or_else(|_| {
        die(
            TOOL,
            format!("zone '{name}' unknown or not running"),
            exit::FAILED,
        )
    });
    let attach = zones
        .jail_attach(&caller, id)
        .await
        .unwrap_or_else(|e| die(TOOL, format!("zone '{name}': {e}"), exit::FAILED));
    // The session holds the zone (zone_ref) until it ends.
    let hold = zones.hold(id).await.ok();
    let pty = args.command.is_empty() && std::io::stdin().is_terminal();
    if args.command.is_empty() && !pty {
        die(
            TOOL,
            "a login shell needs a terminal; give a command",
            exit::USAGE,
        );
    }
    let opts = EnterOpts {
        command: args.command.clone(),
        user: args.user.clone(),
        pty,
        env: Vec::new(),
        ..Default::default()
    };
    let handle = attach.handle.clone();
    let status = tokio::task::spawn_blocking(move || run(&handle, &opts))
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED))
        .unwrap_or_else(|e| die(TOOL, format!("zone '{name}': {e}"), exit::FAILED));
    drop(hold);
    drop(zones);
    std::process::exit(status);
}
