//! The embedded engine: what a tool runs when no daemon answers.
//!
//! The same engine zoned runs — the Linux runtime, the state directory and
//! its lock, re-adoption of the zones an earlier engine left — started
//! inside the tool for the length of one command. Zones it boots outlive
//! it (their supervisors are not its children), and the next engine,
//! embedded or the daemon, re-adopts them.

use super::{Client, Endpoint, Zones};
use crate::engine::{Engine, EngineConfig};
use crate::error::Error;
use crate::runtime::RuntimeError;
use crate::runtime::linux::LinuxRuntime;
use crate::state::Store;
use std::sync::Arc;

/// Start an engine on the endpoint's state directory (taking its lock) and
/// re-adopt its zones. `name` is what front-ends are told it is. For the
/// length of one command: see [`start_serving_engine`] for one that lasts.
pub async fn start_engine(ep: &Endpoint, name: &str) -> Result<Engine, Error> {
    start(ep, name, false).await
}

/// [`start_engine`] for an engine that serves others and lasts (zoned,
/// ztop's own): its runtime keeps a launcher started ahead for the next
/// zone it boots (`runtime::linux::spare`).
pub async fn start_serving_engine(ep: &Endpoint, name: &str) -> Result<Engine, Error> {
    start(ep, name, true).await
}

async fn start(ep: &Endpoint, name: &str, lasting: bool) -> Result<Engine, Error> {
    let store = Store::open(&ep.state_dir).map_err(|e| Error::Runtime {
        zone: "global".into(),
        source: RuntimeError {
            step: "state".into(),
            message: e.to_string(),
            errno: e.raw_os_error(),
        },
    })?;
    let runtime = LinuxRuntime::new(ep.state_dir.join("run"), ep.cgroup_root.clone());
    let runtime = if lasting {
        runtime.with_spare()
    } else {
        runtime
    };
    let config = EngineConfig {
        engine: name.to_string(),
        ..Default::default()
    };
    let engine = Engine::with_store(Arc::new(runtime), config, store);
    // A damaged state file is set aside and named (state.rs); the tool
    // that embeds the engine says so on its stderr, under its own name.
    let restored = engine.restore().await?;
    let tool = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "zones".into());
    for d in &restored.damaged {
        eprintln!("{tool}: warning: {d}");
    }
    Ok(engine)
}

/// The daemon when it answers on the socket, else an embedded engine.
pub async fn open(ep: &Endpoint) -> Result<Zones, Error> {
    if let Ok(c) = Client::connect(&ep.socket).await {
        return Ok(Zones::Daemon(std::sync::Arc::new(c)));
    }
    Ok(Zones::Embedded(start_engine(ep, "embedded").await?))
}
