//! The command line (cli.md "ztop", ztop.md "Batch mode").

use clap::Parser;
use std::path::PathBuf;

/// ztop: the live console for zones, that also administers them.
#[derive(Clone, Debug, Default, Parser)]
#[command(name = "ztop", version)]
pub struct Args {
    /// zoned's socket (else $ZONED_SOCKET, else the embedded engine).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The embedded engine's state directory (else $ZONES_STATE_DIR, /var/lib/zones).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The embedded engine's cgroup root (else $ZONES_CGROUP_ROOT).
    #[arg(long, value_name = "DIR")]
    pub cgroup_root: Option<PathBuf>,
    /// The zones' configuration, jail.conf (else $ZONES_CONFIG, else
    /// /etc/jail.conf and /etc/jail.conf.d/*.conf): with no zoned, what `C` creates
    /// and `b` boots; zoned uses its own.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// ztop's own settings (default ~/.config/ztop/config.toml).
    #[arg(long, value_name = "FILE")]
    pub ui_config: Option<PathBuf>,
    /// Leave the mouse to the terminal (its own selection works).
    #[arg(long)]
    pub no_mouse: bool,
    /// Batch mode: print header and table as text; the default when stdout is not a terminal.
    #[arg(short = 'b', long)]
    pub batch: bool,
    /// Batch mode: print COUNT snapshots, then exit (default: until killed).
    #[arg(short = 'n', long, value_name = "COUNT")]
    pub count: Option<u64>,
    /// Seconds between snapshots (batch and screen; default from the config, else 1).
    #[arg(short = 'd', long, value_name = "SECONDS")]
    pub delay: Option<f64>,
    /// Batch mode: one JSON object per snapshot, one per line.
    #[arg(long)]
    pub json: bool,
    /// Show and administer the zones of HOST too, through ssh forwarding
    /// zoned's socket there (repeatable; default socket /run/zones/zoned.sock).
    /// Only the named hosts are shown: name this one too to see it.
    #[arg(short = 'H', long = "host", value_name = "[USER@]HOST[:SOCKET]")]
    pub hosts: Vec<String>,
    /// With -H: an option for ssh, passed as `-o OPT` (repeatable); the
    /// program is $ZTOP_SSH, else ssh.
    #[arg(long = "ssh-option", value_name = "OPT")]
    pub ssh_options: Vec<String>,
    /// Run the embedded engine with the demo zones of assets/.
    #[arg(long)]
    pub demo: bool,
}
