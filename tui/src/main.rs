//! ztop: the console. See the crate documentation (lib.rs) for its layers.

use std::io::IsTerminal;
use std::time::Duration;
use ztop::app::{App, Message};
use ztop::batch;
use ztop::cli::Args;
use ztop::config::{Config, no_color_env};
use ztop::run::{Exit, run};
use ztop::{source, term};

/// `ztop -H`: the named hosts, each through its own ssh (tunnel.rs).
async fn fleet_main(
    args: &Args,
    config: Config,
    specs: Vec<ztop::fleet::HostSpec>,
    ssh_options: Vec<String>,
    batch_mode: bool,
) -> anyhow::Result<std::process::ExitCode> {
    let tunnels = ztop::tunnel::start(specs, ztop::tunnel::Ssh::from_env(ssh_options))?;
    let (rx, control) = (tunnels.fleet.clone(), tunnels.control.clone());
    if batch_mode {
        let opts = batch::Options {
            columns: &config.columns,
            sort: config.sort,
            reverse: config.sort_reverse,
            width: batch::columns_env(),
            clock: ztop::fmt::clock,
        };
        let r = batch::run_fleet(rx, args.count, config.interval, args.json, &opts).await;
        tunnels.finish().await;
        r?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let mouse = config.mouse && !args.no_mouse;
    term::install_panic_hook();
    let mut terminal = term::enter(mouse)?;
    let app = App::new(config);
    let result = run(&mut terminal, app, rx, control).await;
    term::restore();
    tunnels.finish().await;
    match result? {
        Exit::Quit => Ok(std::process::ExitCode::SUCCESS),
        Exit::Signal(sig) => Ok(std::process::ExitCode::from(128 + sig as u8)),
    }
}

fn main() -> std::process::ExitCode {
    let args: Args = zones_linux::front::parse_args();
    match main_with(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main_with(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let no_color = no_color_env() || !std::io::stdout().is_terminal();
    let mut config = Config::load(args.ui_config.as_deref(), no_color)?;
    if let Some(d) = args.delay {
        anyhow::ensure!(
            d > 0.0 && d.is_finite(),
            "ztop: -d {d}: must be a positive number of seconds"
        );
        config.interval = Duration::from_secs_f64(d);
    }
    let batch_mode = args.batch || !std::io::stdout().is_terminal();
    let hosts = if args.hosts.is_empty() {
        config.hosts.clone()
    } else {
        args.hosts.clone()
    };
    if !hosts.is_empty() && !args.demo {
        let specs = ztop::fleet::HostSpec::parse_all(&hosts).map_err(anyhow::Error::msg)?;
        let mut opts = config.ssh_options.clone();
        opts.extend(args.ssh_options.iter().cloned());
        return fleet_main(&args, config, specs, opts, batch_mode).await;
    }
    let conn = source::connect(&args).await?;
    let (rx, control) = (conn.snapshots.clone(), conn.control.clone());
    if batch_mode {
        let opts = batch::Options {
            columns: &config.columns,
            sort: config.sort,
            reverse: config.sort_reverse,
            width: batch::columns_env(),
            clock: ztop::fmt::clock,
        };
        if let Some(w) = &conn.warning {
            eprintln!("ztop: {w}");
        }
        batch::run(rx, args.count, config.interval, args.json, &opts).await?;
        conn.finish().await;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let mouse = config.mouse && !args.no_mouse;
    term::install_panic_hook();
    let mut terminal = term::enter(mouse)?;
    let mut app = App::new(config);
    app.message = conn
        .warning
        .clone()
        .map(|text| Message { text, error: true });
    let result = run(&mut terminal, app, rx, control).await;
    term::restore();
    conn.finish().await;
    match result? {
        Exit::Quit => Ok(std::process::ExitCode::SUCCESS),
        Exit::Signal(sig) => Ok(std::process::ExitCode::from(128 + sig as u8)),
    }
}
