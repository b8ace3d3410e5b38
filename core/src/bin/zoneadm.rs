//! zoneadm(8): administer zones. See cli.md.

use clap::{Parser, Subcommand};
use std::sync::Arc;
use zones::engine::{Engine, EngineConfig};
use zones::runtime::NullRuntime;
use zones::tool::exit;
use zones::tool::zoneadm::{ListFlags, list};

#[derive(Parser)]
#[command(name = "zoneadm", version, about = "Administer zones")]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List zones: running ones, or with -c every configured zone.
    List {
        /// Every configured zone.
        #[arg(short = 'c')]
        configured: bool,
        /// Installed zones too.
        #[arg(short = 'i')]
        installed: bool,
        /// Parsable output: zoneid:zonename:state:zonepath:uuid:brand:ip-type.
        #[arg(short = 'p')]
        parsable: bool,
        /// Verbose output.
        #[arg(short = 'v')]
        verbose: bool,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    // The embedded engine. Until the Linux runtime is wired in, it can only
    // show what it holds: the global zone.
    let engine = Engine::new(Arc::new(NullRuntime::new()), EngineConfig::default());
    match args.cmd {
        Cmd::List {
            configured,
            installed,
            parsable,
            verbose,
        } => {
            let f = ListFlags {
                configured,
                installed,
                parsable,
                verbose,
            };
            print!("{}", list(&engine.snapshot(), f));
        }
    }
}
