//! jexec(8): run a command in a jail (cli.md).
//! `jexec [-l] [-u USER | -U USER] JAIL COMMAND ...`: JAIL is a jid or a
//! name. `-u` names a user of the host (its uid is used inside), `-U` a
//! user of the jail; `-n` is accepted and ignored, as FreeBSD does. As
//! FreeBSD's jexec: without `-l` the command keeps the caller's
//! environment (USER, HOME and SHELL set when a user is named) and starts
//! in the jail's `/`; `-l` gives it a login's clean environment and starts
//! it in the user's home. Without a command, `$SHELL -i` (else `/bin/sh
//! -i`), or with `-l` the user's login shell. The exit status is the
//! command's. Usage errors print getopt's message
//! (`zones_tools::tool::getopt`) (if any) and the usage
//! line and exit 1, as FreeBSD's does.
//! As with zlogin, no descriptor of jexec's caller but stdio (or the pty)
//! reaches the jail's process (zones_linux::runtime::linux::enter).

use std::io::IsTerminal;
use zones::engine::{Caller, JailFlags, JailKey};
use zones::zone::ZoneId;
use zones_linux::runtime::linux::enter::{EnterOpts, run};
use zones_tools::tool::getopt::{Getopt, LongOpt, Opt, set_common};
use zones_tools::tool::{Common, die, exit};

const TOOL: &str = "jexec";
const USAGE: &str = "usage: jexec [-l] [-u username | -U username] jail [command ...]";

/// jexec's option letters (FreeBSD's getopt string).
const SHORTS: &str = "lnu:U:";

/// jexec's own long options (the engine-finding ones come with [`Getopt`]).
const LONGS: &[LongOpt] = &[("help", false), ("version", false)];

/// A usage error: `jexec: what was wrong` (getopt's message; none for a
/// missing jail), then the usage line, exit 1 as FreeBSD's jexec.
fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("{TOOL}: {msg}");
    }
    eprintln!("{USAGE}");
    std::process::exit(exit::FAILED)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut common = Common::default();
    let (mut host_user, mut jail_user) = (None::<String>, None::<String>);
    let mut login = false;
    let mut g = Getopt::new(&argv, SHORTS, LONGS);
    for opt in g.by_ref() {
        match opt.unwrap_or_else(|e| usage(&e.to_string())) {
            Opt::Long("help", _) => {
                zones_tools::outln!("{USAGE}");
                std::process::exit(exit::OK);
            }
            Opt::Long("version", _) => {
                zones_tools::outln!("jexec {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(exit::OK);
            }
            Opt::Long(k, v) => {
                set_common(&mut common, k, v);
            }
            Opt::Short('l', _) => login = true,
            Opt::Short('u', v) => host_user = v,
            Opt::Short('U', v) => jail_user = v,
            // 'n': "Specified name, now unused" in FreeBSD's jexec.
            Opt::Short(_, _) => {}
        }
    }
    let operands = g.operands();
    if host_user.is_some() && jail_user.is_some() {
        usage("");
    }
    let Some(jail) = operands.first().cloned() else {
        usage("")
    };
    let mut command: Vec<String> = operands[1..].to_vec();
    if command.is_empty() && !login {
        let shell = std::env::var("SHELL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "/bin/sh".into());
        command = vec![shell, "-i".into()];
    }
    let caller = Caller {
        // SAFETY: geteuid has no preconditions.
        uid: unsafe { libc::geteuid() },
        zone: ZoneId::GLOBAL,
    };
    if caller.uid != 0 {
        die(TOOL, "jail_attach: Operation not permitted", exit::FAILED);
    }
    // -u: a user of the host, entered by its uid.
    let user = match host_user {
        Some(u) => match nix::unistd::User::from_name(&u) {
            Ok(Some(pw)) => Some(pw.uid.as_raw().to_string()),
            _ => die(TOOL, format!("{u}: no such user"), exit::FAILED),
        },
        None => jail_user,
    };
    let zones = common
        .open()
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED));
    let key = match jail.parse::<u32>() {
        Ok(id) => JailKey::Jid(ZoneId(id)),
        Err(_) => JailKey::Name(jail.clone()),
    };
    let (id, _) = zones
        .jail_get(&caller, &key, JailFlags::default())
        .await
        .unwrap_or_else(|_| die(TOOL, zones_tools::tool::jls::not_found(&jail), exit::FAILED));
    let attach = zones
        .jail_attach(&caller, id)
        .await
        .unwrap_or_else(|e| die(TOOL, format!("jail_attach({}): {e}", id.0), exit::FAILED));
    let _hold = zones.hold(id).await.ok();
    let interactive = operands.len() == 1;
    let pty = interactive && std::io::stdin().is_terminal();
    let opts = EnterOpts {
        command,
        user,
        pty,
        env: Vec::new(),
        keep_env: !login,
        in_root_dir: !login,
        banner: None,
        escape: None,
    };
    let handle = attach.handle.clone();
    let status = tokio::task::spawn_blocking(move || run(&handle, &opts))
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED))
        .unwrap_or_else(|e| die(TOOL, format!("{jail}: {e}"), exit::FAILED));
    drop(_hold);
    drop(zones);
    std::process::exit(status);
}
