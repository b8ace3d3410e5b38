//! # Configured zones: the lifecycle of a zone that jail.conf describes
//!
//! illumos routes every administrative step on a configured zone through
//! one owner, zoneadmd: `zoneadm install`, `boot`, `halt` are requests to
//! it, never code of their own. Here the engine is that owner. A zone
//! written in jail.conf passes through the administrative states of
//! lifecycle.md — configured, installed, then a kernel zone (ready,
//! running) and back — only through these operations, and zoneadm, ztop's
//! keys, zoned's autoboot and jail(8) call them and nothing else, so that
//! the same request gets the same answer and the same error from each:
//!
//! | operation | needs | does | errors |
//! |-----------|-------|------|--------|
//! | [`Engine::verify`] | a block for the zone | checks every parameter name and the root | not configured, unknown parameter (file, line, zone, parameter), bad root |
//! | [`Engine::install`] | no root yet (whole brand) | builds the root for the brand (runtime) | not configured, `/`, already populated, the runtime's |
//! | [`Engine::uninstall`] | no kernel zone | removes the root (runtime) | not configured, running or ready |
//! | [`Engine::clone_zone`] | the source halted and installed, the target empty | copies the root (runtime) | not configured, source live or not installed, target populated |
//! | [`Engine::boot_configured`] | installed (or `/`) | creates the zone from its block with every parameter checked, then boots it (or only makes it ready) | not configured, unknown parameter, not installed, create's and boot's |
//! | [`Engine::shutdown_zone`] | a kernel zone | shutdown, then destroy | not running or ready, shutdown's and destroy's |
//! | [`Engine::halt_zone`] | a kernel zone | halt (kill, then destroy) | not running or ready |
//! | [`Engine::reboot_zone`] | a kernel zone | halt, then boot again | not running or ready |
//!
//! A configured operation is given the configuration it acts on, not the
//! file's name: the tool read jail.conf (its `--config`, or zoned's), and
//! what the engine gets is the part of it these operations read — the
//! zone's block and its ancestors' ([`conf_for`]). So a tool behaves the
//! same against the daemon as with an embedded engine, and the daemon
//! never reads a file a client names. A client that read no jail.conf
//! (ztop across hosts) names only the zone, and the daemon uses the
//! configuration it runs with ([`Engine::configuration`]; the API's "By
//! name").
//!
//! ## Unknown parameters
//!
//! A jail.conf block may hold a name that is in no parameter table (a
//! misspelled `zone.max-processs`). jail.conf keeps it (`jail -e` shows
//! it); every way of making a zone from that block refuses it before
//! anything is made, with the message jail(8) gives — `FILE line N: NAME:
//! unknown parameter: zone.max-processs` ([`Error::Conf`]) — and create
//! itself refuses any name it does not know (EINVAL, as jail(2)), so no
//! caller can make a zone that silently lacks a limit.
//!
//! ## The kernel side
//!
//! Every step on disk goes through the [`crate::runtime::Runtime`] seam
//! (install, clone, uninstall, a nested zone's root, whether a root is
//! installed): the engine decides, the runtime touches the file system.

use super::{Caller, Engine};
use crate::error::Error;
use crate::jailconf::Config;
use crate::param::{Params, Value};
use crate::runtime::RuntimeError;
use crate::zone::{Brand, Status, ZoneId};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How a configured zone is brought up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootFrom {
    /// Boot it (zoneadm boot); false: only make it ready (zoneadm ready).
    pub boot: bool,
    /// Its boot arguments (`zoneadm boot -- ARGS`), when given.
    pub bootargs: Vec<String>,
}

impl BootFrom {
    /// zoneadm boot with no arguments.
    pub const BOOT: BootFrom = BootFrom {
        boot: true,
        bootargs: Vec::new(),
    };
    /// zoneadm ready.
    pub const READY: BootFrom = BootFrom {
        boot: false,
        bootargs: Vec::new(),
    };
}

/// What install made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    pub brand: Brand,
    /// The root as the host sees it.
    pub root: PathBuf,
}

/// The part of `cfg` that the configured-zone operations on `names` read:
/// the blocks of these zones and of their ancestors (a nested zone's root
/// is resolved from its parent's), in file order.
pub fn conf_for(cfg: &Config, names: &[&str]) -> Config {
    let wanted = |j: &str| {
        names
            .iter()
            .any(|n| *n == j || n.strip_prefix(j).is_some_and(|rest| rest.starts_with('.')))
    };
    Config {
        jails: cfg
            .jails
            .iter()
            .filter(|j| wanted(&j.name))
            .cloned()
            .collect(),
    }
}

/// A configuration of one zone, `name` with `params`, for a zone given on
/// a command line (jail(8)'s `jail -c name=... path=...`, which installs
/// a sparse root that has none).
pub fn conf_single(name: &str, params: Params) -> Config {
    let pos = crate::jailconf::Pos::new("command line", 0);
    Config {
        jails: vec![crate::jailconf::Jail {
            name: name.to_string(),
            pos,
            params,
            positions: Default::default(),
            entries: Vec::new(),
            unknown: Vec::new(),
        }],
    }
}

/// A configured zone's parameters (its name among them) and its root.
struct Block {
    params: Params,
    root: PathBuf,
}

impl Engine {
    /// The block of zone `name` with its root resolved; with `strict`,
    /// every parameter name must be known.
    fn block(&self, conf: &Config, name: &str, strict: bool) -> Result<Block, Error> {
        let j = conf
            .get(name)
            .ok_or_else(|| Error::NotConfigured(name.to_string()))?;
        if strict {
            j.check_known().map_err(Error::Conf)?;
        }
        let mut params = j.params.clone();
        params.insert("name", Value::Str(j.name.clone()));
        let root = self.configured_root(conf, &params, name)?;
        Ok(Block { params, root })
    }

    /// A configured zone's root. A nested zone's (`parent.child`) is
    /// resolved inside its configured parent's root, as create does, so a
    /// link the parent zone planted there cannot make install, clone or
    /// uninstall act outside it.
    fn configured_root(&self, conf: &Config, p: &Params, name: &str) -> Result<PathBuf, Error> {
        let r = PathBuf::from(p.str("path").unwrap_or("/"));
        let Some((parent, _)) = name.rsplit_once('.') else {
            return Ok(r);
        };
        let Some(pj) = conf.get(parent) else {
            return Ok(r);
        };
        let proot = PathBuf::from(pj.params.str("path").unwrap_or("/"));
        if !r.starts_with(&proot) {
            return Ok(r);
        }
        self.inner
            .runtime
            .nested_root(&proot, &r)
            .map_err(|e| Error::BadRoot {
                zone: name.to_string(),
                message: format!("path {}: {}", r.display(), e.message),
            })
    }

    /// Run a runtime step on the blocking pool.
    async fn on_disk<T: Send + 'static>(
        &self,
        zone: &str,
        f: impl FnOnce(&dyn crate::runtime::Runtime) -> Result<T, RuntimeError> + Send + 'static,
    ) -> Result<T, Error> {
        let rt = self.inner.runtime.clone();
        tokio::task::spawn_blocking(move || f(rt.as_ref()))
            .await
            .unwrap_or_else(|e| Err(RuntimeError::new("install", e.to_string())))
            .map_err(|source| Error::Runtime {
                zone: zone.to_string(),
                source,
            })
    }

    fn installed(&self, root: &Path) -> bool {
        self.inner.runtime.is_installed(root)
    }

    /// The status of the kernel zone named `name`, if there is one.
    fn live_status(&self, caller: &Caller, name: &str) -> Option<(ZoneId, Status)> {
        let id = self.lookup(caller, name).ok()?;
        let s = self.snapshot().zone(id).map(|z| z.status)?;
        Some((id, s))
    }

    /// The kernel zone named `name`, for an operation on a live zone.
    fn live(&self, caller: &Caller, name: &str) -> Result<ZoneId, Error> {
        self.lookup(caller, name)
            .map_err(|_| Error::NotLive(name.to_string()))
    }

    /// zoneadm verify: the block exists, every parameter name is known,
    /// the root is absolute.
    pub async fn verify(&self, caller: &Caller, conf: &Config, name: &str) -> Result<(), Error> {
        caller.require_root()?;
        let b = self.block(conf, name, true)?;
        if !b.root.is_absolute() {
            return Err(Error::BadRoot {
                zone: name.to_string(),
                message: format!("path {} is not absolute", b.root.display()),
            });
        }
        Ok(())
    }

    /// zoneadm install: build the zone's root for its brand.
    pub async fn install(
        &self,
        caller: &Caller,
        conf: &Config,
        name: &str,
    ) -> Result<Installed, Error> {
        caller.require_root()?;
        let b = self.block(conf, name, false)?;
        if b.root == Path::new("/") {
            return Err(Error::BadRoot {
                zone: name.to_string(),
                message: "cannot install into /".into(),
            });
        }
        let brand = b
            .params
            .str("brand")
            .and_then(Brand::parse)
            .unwrap_or_default();
        if brand == Brand::Whole && self.installed(&b.root) {
            return Err(Error::Installed {
                zone: name.to_string(),
                root: b.root.display().to_string(),
            });
        }
        let (zone, root) = (name.to_string(), b.root.clone());
        self.on_disk(name, move |rt| rt.install(&zone, brand, &root))
            .await?;
        Ok(Installed {
            brand,
            root: b.root,
        })
    }

    /// zoneadm uninstall: remove the root of a zone that has no kernel
    /// zone. (Asking the administrator first is the tool's business.)
    pub async fn uninstall(&self, caller: &Caller, conf: &Config, name: &str) -> Result<(), Error> {
        caller.require_root()?;
        let b = self.block(conf, name, false)?;
        if let Some((_, status)) = self.live_status(caller, name) {
            return Err(Error::BadState {
                zone: name.to_string(),
                op: "uninstall".into(),
                status: status.to_string(),
            });
        }
        let root = b.root;
        self.on_disk(name, move |rt| rt.uninstall(&root)).await
    }

    /// zoneadm clone: install zone `name` as a copy of the halted,
    /// installed zone `src`.
    pub async fn clone_zone(
        &self,
        caller: &Caller,
        conf: &Config,
        name: &str,
        src: &str,
    ) -> Result<(), Error> {
        caller.require_root()?;
        let to = self.block(conf, name, false)?.root;
        let from = self.block(conf, src, false)?.root;
        if let Some((_, status)) = self.live_status(caller, src) {
            return Err(Error::BadState {
                zone: src.to_string(),
                op: "clone".into(),
                status: status.to_string(),
            });
        }
        if self.installed(&to) {
            return Err(Error::Installed {
                zone: name.to_string(),
                root: to.display().to_string(),
            });
        }
        if !self.installed(&from) {
            return Err(Error::NotInstalled {
                zone: src.to_string(),
                op: "clone".into(),
                root: from.display().to_string(),
            });
        }
        let zone = name.to_string();
        self.on_disk(name, move |rt| rt.clone_root(&zone, &from, &to))
            .await
    }

    /// zoneadm boot (and ready): a zone that has a kernel zone is booted
    /// as it is; otherwise its block must exist with every parameter name
    /// known and its root installed (`/` needs none), and the zone is
    /// created from it — `persist` unless the block says otherwise, the
    /// boot arguments given — then booted (or left ready). Answers the
    /// zone's id.
    pub async fn boot_configured(
        &self,
        caller: &Caller,
        conf: &Config,
        name: &str,
        how: &BootFrom,
    ) -> Result<ZoneId, Error> {
        caller.require_root()?;
        let id = match self.lookup(caller, name) {
            Ok(id) => id,
            Err(_) => {
                let Block { mut params, root } = self.block(conf, name, true)?;
                if root != Path::new("/") && !self.installed(&root) {
                    return Err(Error::NotInstalled {
                        zone: name.to_string(),
                        op: "boot".into(),
                        root: root.display().to_string(),
                    });
                }
                if params.get("persist").is_none() {
                    params.insert("persist", Value::Bool(true));
                }
                if !how.bootargs.is_empty() {
                    params.insert("bootargs", Value::Str(how.bootargs.join(" ")));
                }
                self.create(caller, params).await?
            }
        };
        if how.boot {
            self.boot(caller, id).await?;
        }
        Ok(id)
    }

    /// zoneadm shutdown: stop the zone gracefully, then destroy it.
    pub async fn shutdown_zone(&self, caller: &Caller, name: &str) -> Result<(), Error> {
        caller.require_root()?;
        let id = self.live(caller, name)?;
        self.shutdown(caller, id).await?;
        self.destroy(caller, id).await
    }

    /// zoneadm halt: kill everything in the zone now and destroy it.
    pub async fn halt_zone(&self, caller: &Caller, name: &str) -> Result<(), Error> {
        caller.require_root()?;
        let id = self.live(caller, name)?;
        self.halt(caller, id).await
    }

    /// zoneadm reboot: halt the zone and boot it again.
    pub async fn reboot_zone(&self, caller: &Caller, name: &str) -> Result<super::Booted, Error> {
        caller.require_root()?;
        let id = self.live(caller, name)?;
        self.reboot(caller, id).await
    }
}
