//! The configuration in the daemon: the configured zones the engine shows,
//! the configuration a client names a zone of without sending its own
//! (the API's "By name": ztop's `b` on another host's zone boots it from
//! that host's jail.conf, the one in force here), and the zones that boot
//! when zoned starts (`autoboot`). A reread that fails keeps all of them.
//!
//! Autoboot is illumos' (`zonecfg set autoboot=true`): at start, every
//! configured zone with `autoboot` that is not running is created with its
//! configured parameters (`persist` unless the file says otherwise, as
//! `zoneadm boot` does) and booted — dependencies (`depend`, a parent
//! `a` of `a.b`) first, each through the engine's `boot_configured`, the
//! operation `zoneadm boot` calls, so it is refused for the same reasons
//! with the same message (an unknown parameter: `FILE line N: NAME:
//! unknown parameter: P`). A zone an earlier engine left running is re-adopted,
//! not booted again; one left ready is booted. A zone that cannot boot
//! (not installed, a bad parameter) is logged and the others still boot.
//! Rereading the configuration (SIGHUP) boots nothing: autoboot is about
//! starting the host.
//!
//! The reread ([`Reload`]) runs on a thread of its own, never on the
//! signal loop: the loop goes on answering SIGTERM and SIGINT while a
//! file is read and parsed, however large or slow (a FIFO, a file on a
//! hung mount). Only the newest reread counts: a SIGHUP during a reread
//! cancels it (the parser looks at a cancel flag every few thousand
//! tokens and stops) and starts another, and SIGTERM cancels it and
//! exits at once, the thread going with the process. The result is
//! applied on the loop, so the engine sees one configuration at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::oneshot;
use zones::engine::{BootFrom, Caller, Engine};
use zones::jailconf::{ConfError, Config};
use zones::zone::Status;
use zones_linux::front::{Common, configured_all};

/// What a reread thread sends back.
type Reread = oneshot::Receiver<Result<Config, ConfError>>;

/// The reread of the configuration in progress, if any: its cancel flag
/// and where its result comes.
#[derive(Default)]
pub struct Reload {
    running: Option<(Arc<AtomicBool>, Reread)>,
}

impl Reload {
    /// Start rereading the configuration, cancelling a reread still in
    /// progress.
    pub fn start(&mut self, common: &Common) {
        self.cancel();
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = oneshot::channel();
        let (c, common) = (cancel.clone(), common.clone());
        let spawned = std::thread::Builder::new()
            .name("zoned-reload".into())
            .spawn(move || {
                let _ = tx.send(common.load_config_cancellable(Some(&c)));
            });
        match spawned {
            Ok(_) => self.running = Some((cancel, rx)),
            Err(e) => tracing::error!("configuration not reread: no thread for it: {e}"),
        }
    }

    /// Cancel the reread in progress (its result is never applied).
    pub fn cancel(&mut self) {
        if let Some((c, _)) = self.running.take() {
            c.store(true, Ordering::Relaxed);
            tracing::info!("the reread of the configuration in progress is cancelled");
        }
    }

    /// The result of the reread in progress; pending while there is none.
    /// Safe to use in `select!` (nothing is lost when another branch wins).
    pub async fn done(&mut self) -> Result<Config, ConfError> {
        let Some((_, rx)) = &mut self.running else {
            return std::future::pending().await;
        };
        let r = rx.await;
        self.running = None;
        r.unwrap_or_else(|_| {
            Err(ConfError::from(vec![zones::jailconf::Diag {
                pos: None,
                jail: None,
                msg: "the reread ended without a result".into(),
            }]))
        })
    }
}

/// Apply a reread's result: a new configuration, or the messages of a
/// broken one (the configuration in force is kept).
pub fn finish(engine: &Engine, r: Result<Config, ConfError>) {
    match r {
        Ok(cfg) => apply(engine, &cfg),
        Err(e) => tracing::error!(
            "configuration not changed: {}",
            e.to_string().replace('\n', "; ")
        ),
    }
}

/// Tell the engine which zones are configured, and keep the configuration
/// itself in it: a client's request that names a configured zone without
/// sending its own configuration (ztop on another host) is resolved
/// against this one.
pub fn apply(engine: &Engine, cfg: &Config) {
    let zones = configured_all(cfg);
    tracing::info!(configured = zones.len(), "configuration in force");
    engine.set_configuration(cfg.clone());
    engine.set_configured(zones);
}

/// The names of the zones to boot at start, dependencies first.
pub fn autoboot_order(cfg: &Config) -> Vec<String> {
    let want: Vec<usize> = (0..cfg.jails.len())
        .filter(|&i| cfg.jails[i].params.bool("autoboot").unwrap_or(false))
        .collect();
    cfg.create_order(&want)
        .into_iter()
        .filter(|i| want.contains(i))
        .map(|i| cfg.jails[i].name.clone())
        .collect()
}

/// Boot the `autoboot` zones that are not running.
pub async fn autoboot(engine: Engine, cfg: Config) {
    for name in autoboot_order(&cfg) {
        if let Err(e) = boot_one(&engine, &cfg, &name).await {
            tracing::error!(zone = %name, "autoboot: {e}");
        }
    }
}

async fn boot_one(engine: &Engine, cfg: &Config, name: &str) -> Result<(), String> {
    let caller = Caller::ROOT;
    // A zone an earlier engine left running is re-adopted, not booted
    // again; one left ready is booted like any other.
    if let Ok(id) = engine.lookup(&caller, name) {
        let status = engine.snapshot().zone(id).map(|z| z.status);
        if status != Some(Status::Ready) {
            tracing::info!(zone = %name, "autoboot: already {}", status.map_or("gone".to_string(), |s| s.to_string()));
            return Ok(());
        }
    }
    // zoneadm boot's own operation: the same checks, the same errors.
    let id = engine
        .boot_configured(&caller, cfg, name, &BootFrom::BOOT)
        .await
        .map_err(|e| e.to_string())?;
    let init_pid = engine.snapshot().zone(id).map_or(0, |z| z.init_pid);
    tracing::info!(zone = %name, id = %id, init_pid, "autoboot: booted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autoboot_zones_boot_after_what_they_depend_on_and_only_they() {
        let cfg = Config::parse_str(
            "web { autoboot; depend = db; }\nidle { }\ndb { autoboot; }\nlb { autoboot = true; depend = idle; }\nx { noautoboot; }\n",
            "t.conf",
        )
        .unwrap();
        assert_eq!(autoboot_order(&cfg), ["db", "web", "lb"]);
    }
}
