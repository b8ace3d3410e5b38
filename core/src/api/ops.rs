//! # One list of operations, two engines behind it
//!
//! [`ZoneApi`] is every operation a tool asks of an engine. It has two
//! implementations and no third: the [`Engine`] itself (a tool's embedded
//! engine) and the [`Client`] of zoned's socket, which sends each call as
//! a [`Request`] that the server hands to the engine's implementation. So
//! adding an operation is one method here, one arm in each of the two
//! impls below and one in the server's dispatch, and a tool's handle
//! ([`super::Zones`]) gets it without an edit: it dereferences to
//! `dyn ZoneApi`.
//!
//! Errors cross the socket whole ([`Error`] is serde), so a call answers
//! the same `Err` value from either engine.
//!
//! The methods return boxed futures so the trait stays usable as `dyn`
//! (a tool picks its engine at run time).

use super::{Answer, Client, Listing, Request, WireKey};
use crate::engine::{Attach, BootFrom, Booted, Caller, Engine, Installed, JailFlags, JailKey};
use crate::error::Error;
use crate::jailconf::Config;
use crate::param::{Params, Value};
use crate::snapshot::Snapshot;
use crate::zone::{Status, ZoneId};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// An operation in flight.
pub type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// Every operation a tool asks of an engine (module comment). `caller` is
/// who asks for the embedded engine; the daemon knows its caller from the
/// socket (SO_PEERCRED) and ignores it.
pub trait ZoneApi: Send + Sync {
    /// `embedded`, or the daemon's socket.
    fn engine_name(&self) -> String;
    fn snapshot(&self) -> Fut<'_, Arc<Snapshot>>;
    /// The snapshot with at least each zone's id, name, state, path, brand
    /// and parameters; counters, processes and privileges may be left out
    /// (the daemon leaves them out). `zoneadm list` asks [`ZoneApi::listing`]
    /// now, which is smaller still; this stays for older clients.
    fn list_snapshot(&self) -> Fut<'_, Arc<Snapshot>> {
        self.snapshot()
    }
    /// The kernel zones as `zoneadm list` shows them (one compact row
    /// each: [`Listing`]).
    fn listing(&self) -> Fut<'_, Arc<Listing>>;
    fn lookup<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, ZoneId>;
    fn create<'a>(&'a self, caller: &'a Caller, params: Params) -> Fut<'a, ZoneId>;
    /// Boot with or without init (see [`Engine::boot_with`]).
    fn boot_with<'a>(&'a self, caller: &'a Caller, id: ZoneId, init: bool) -> Fut<'a, Booted>;
    fn boot<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, Booted> {
        self.boot_with(caller, id, true)
    }
    fn reboot<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, Booted>;
    fn shutdown<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, ()>;
    fn halt<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, ()>;
    fn destroy<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, ()>;
    fn getattr<'a>(&'a self, caller: &'a Caller, id: ZoneId, attr: &'a str) -> Fut<'a, Value>;
    fn wait_status(&self, id: ZoneId, status: Status, timeout: Option<Duration>)
    -> Fut<'_, Status>;
    fn jail_set<'a>(
        &'a self,
        caller: &'a Caller,
        params: Params,
        flags: JailFlags,
    ) -> Fut<'a, ZoneId>;
    fn jail_get<'a>(
        &'a self,
        caller: &'a Caller,
        key: &'a JailKey,
        flags: JailFlags,
    ) -> Fut<'a, (ZoneId, Params)>;
    fn jail_remove<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, ()>;
    fn jail_attach<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, Attach>;

    // The configured-zone lifecycle (crate::engine's `configured`).

    /// zoneadm verify.
    fn verify<'a>(&'a self, caller: &'a Caller, conf: &'a Config, name: &'a str) -> Fut<'a, ()>;
    /// zoneadm install.
    fn install<'a>(
        &'a self,
        caller: &'a Caller,
        conf: &'a Config,
        name: &'a str,
    ) -> Fut<'a, Installed>;
    /// zoneadm uninstall (the tool asks for confirmation first).
    fn uninstall<'a>(&'a self, caller: &'a Caller, conf: &'a Config, name: &'a str) -> Fut<'a, ()>;
    /// zoneadm clone SRC.
    fn clone_zone<'a>(
        &'a self,
        caller: &'a Caller,
        conf: &'a Config,
        name: &'a str,
        src: &'a str,
    ) -> Fut<'a, ()>;
    /// zoneadm boot / ready.
    fn boot_configured<'a>(
        &'a self,
        caller: &'a Caller,
        conf: &'a Config,
        name: &'a str,
        how: &'a BootFrom,
    ) -> Fut<'a, ZoneId>;
    /// zoneadm shutdown: shutdown, then destroy.
    fn shutdown_zone<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, ()>;
    /// zoneadm halt.
    fn halt_zone<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, ()>;
    /// zoneadm reboot.
    fn reboot_zone<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, Booted>;

    // The same, for a zone of the engine's own configuration (zoned's
    // jail.conf; super's "By name"): the caller reads no jail.conf.

    /// zoneadm boot / ready of a zone the engine's configuration names.
    fn boot_named<'a>(
        &'a self,
        caller: &'a Caller,
        name: &'a str,
        how: &'a BootFrom,
    ) -> Fut<'a, ZoneId>;
    /// zoneadm install of a zone the engine's configuration names.
    fn install_named<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, Installed>;
    /// zoneadm uninstall of a zone the engine's configuration names.
    fn uninstall_named<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, ()>;
}

/// The engine's own configuration, to resolve `name` against; an engine
/// given none (a tool's embedded engine) configures no zone.
fn own_conf(engine: &Engine, name: &str) -> Result<Arc<Config>, Error> {
    engine
        .configuration()
        .ok_or_else(|| Error::NotConfigured(name.to_string()))
}

impl ZoneApi for Engine {
    fn engine_name(&self) -> String {
        Engine::snapshot(self).engine.clone()
    }
    fn snapshot(&self) -> Fut<'_, Arc<Snapshot>> {
        let s = Engine::snapshot(self);
        Box::pin(async move { Ok(s) })
    }
    fn listing(&self) -> Fut<'_, Arc<Listing>> {
        let l = Engine::listing(self, &Caller::ROOT);
        Box::pin(async move { Ok(l) })
    }
    fn lookup<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, ZoneId> {
        let r = Engine::lookup(self, caller, name);
        Box::pin(async move { r })
    }
    fn create<'a>(&'a self, caller: &'a Caller, params: Params) -> Fut<'a, ZoneId> {
        Box::pin(Engine::create(self, caller, params))
    }
    fn boot_with<'a>(&'a self, caller: &'a Caller, id: ZoneId, init: bool) -> Fut<'a, Booted> {
        Box::pin(Engine::boot_with(self, caller, id, init))
    }
    fn reboot<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, Booted> {
        Box::pin(Engine::reboot(self, caller, id))
    }
    fn shutdown<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, ()> {
        Box::pin(Engine::shutdown(self, caller, id))
    }
    fn halt<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, ()> {
        Box::pin(Engine::halt(self, caller, id))
    }
    fn destroy<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, ()> {
        Box::pin(Engine::destroy(self, caller, id))
    }
    fn getattr<'a>(&'a self, caller: &'a Caller, id: ZoneId, attr: &'a str) -> Fut<'a, Value> {
        let r = Engine::getattr(self, caller, id, attr);
        Box::pin(async move { r })
    }
    fn wait_status(
        &self,
        id: ZoneId,
        status: Status,
        timeout: Option<Duration>,
    ) -> Fut<'_, Status> {
        Box::pin(Engine::wait_status(self, id, status, timeout))
    }
    fn jail_set<'a>(
        &'a self,
        caller: &'a Caller,
        params: Params,
        flags: JailFlags,
    ) -> Fut<'a, ZoneId> {
        Box::pin(Engine::jail_set(self, caller, params, flags))
    }
    fn jail_get<'a>(
        &'a self,
        caller: &'a Caller,
        key: &'a JailKey,
        flags: JailFlags,
    ) -> Fut<'a, (ZoneId, Params)> {
        let r = Engine::jail_get(self, caller, key, flags);
        Box::pin(async move { r })
    }
    fn jail_remove<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, ()> {
        Box::pin(Engine::jail_remove(self, caller, id))
    }
    fn jail_attach<'a>(&'a self, caller: &'a Caller, id: ZoneId) -> Fut<'a, Attach> {
        let r = Engine::jail_attach(self, caller, id);
        Box::pin(async move { r })
    }
    fn verify<'a>(&'a self, caller: &'a Caller, conf: &'a Config, name: &'a str) -> Fut<'a, ()> {
        Box::pin(Engine::verify(self, caller, conf, name))
    }
    fn install<'a>(
        &'a self,
        caller: &'a Caller,
        conf: &'a Config,
        name: &'a str,
    ) -> Fut<'a, Installed> {
        Box::pin(Engine::install(self, caller, conf, name))
    }
    fn uninstall<'a>(&'a self, caller: &'a Caller, conf: &'a Config, name: &'a str) -> Fut<'a, ()> {
        Box::pin(Engine::uninstall(self, caller, conf, name))
    }
    fn clone_zone<'a>(
        &'a self,
        caller: &'a Caller,
        conf: &'a Config,
        name: &'a str,
        src: &'a str,
    ) -> Fut<'a, ()> {
        Box::pin(Engine::clone_zone(self, caller, conf, name, src))
    }
    fn boot_configured<'a>(
        &'a self,
        caller: &'a Caller,
        conf: &'a Config,
        name: &'a str,
        how: &'a BootFrom,
    ) -> Fut<'a, ZoneId> {
        Box::pin(Engine::boot_configured(self, caller, conf, name, how))
    }
    fn shutdown_zone<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, ()> {
        Box::pin(Engine::shutdown_zone(self, caller, name))
    }
    fn halt_zone<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, ()> {
        Box::pin(Engine::halt_zone(self, caller, name))
    }
    fn reboot_zone<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, Booted> {
        Box::pin(Engine::reboot_zone(self, caller, name))
    }
    fn boot_named<'a>(
        &'a self,
        caller: &'a Caller,
        name: &'a str,
        how: &'a BootFrom,
    ) -> Fut<'a, ZoneId> {
        Box::pin(async move {
            let conf = own_conf(self, name)?;
            Engine::boot_configured(self, caller, &conf, name, how).await
        })
    }
    fn install_named<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, Installed> {
        Box::pin(async move {
            let conf = own_conf(self, name)?;
            Engine::install(self, caller, &conf, name).await
        })
    }
    fn uninstall_named<'a>(&'a self, caller: &'a Caller, name: &'a str) -> Fut<'a, ()> {
        Box::pin(async move {
            let conf = own_conf(self, name)?;
            Engine::uninstall(self, caller, &conf, name).await
        })
    }
}

fn unexpected(a: Answer) -> Error {
    Error::Fault(format!("unexpected answer {a:?}"))
}

fn booted(a: Answer) -> Result<Booted, Error> {
    match a {
        Answer::Booted {
            id,
            init_pid,
            elapsed_us,
        } => Ok(Booted {
            id,
            init_pid,
            elapsed: Duration::from_micros(elapsed_us),
        }),
        a => Err(unexpected(a)),
    }
}

fn id(a: Answer) -> Result<ZoneId, Error> {
    match a {
        Answer::Id { id } => Ok(id),
        a => Err(unexpected(a)),
    }
}

impl Client {
    fn unit<'a>(&'a self, request: Request) -> Fut<'a, ()> {
        Box::pin(async move { self.call(request).await.map(drop) })
    }
    fn then<'a, T: Send + 'a>(
        &'a self,
        request: Request,
        f: impl FnOnce(Answer) -> Result<T, Error> + Send + 'a,
    ) -> Fut<'a, T> {
        Box::pin(async move { f(self.call(request).await?) })
    }
}

impl Client {
    /// A by-name request, sent only to a daemon whose hello said it
    /// resolves names against its own configuration: an older one could
    /// not decode it.
    fn by_name<'a, T: Send + 'a>(
        &'a self,
        request: Request,
        f: impl FnOnce(Answer) -> Result<T, Error> + Send + 'a,
    ) -> Fut<'a, T> {
        if !self.features.iter().any(|f| f == super::FEATURE_BY_NAME) {
            let why = format!(
                "the daemon ({}) does not resolve configured zones by name: it is older than this client; run zoneadm on its host",
                self.engine
            );
            return Box::pin(async move { Err(Error::Protocol(why)) });
        }
        self.then(request, f)
    }
}

/// What the daemon reads of a configuration for a configured-zone
/// operation: that zone's block and its ancestors' (and the source's).
fn part(conf: &Config, names: &[&str]) -> Config {
    crate::engine::conf_for(conf, names)
}

impl ZoneApi for Client {
    fn engine_name(&self) -> String {
        self.engine.clone()
    }
    fn snapshot(&self) -> Fut<'_, Arc<Snapshot>> {
        self.then(Request::Snapshot, |a| match a {
            Answer::Snapshot { snapshot } => Ok(snapshot),
            a => Err(unexpected(a)),
        })
    }
    fn list_snapshot(&self) -> Fut<'_, Arc<Snapshot>> {
        self.then(Request::ListSnapshot, |a| match a {
            Answer::Snapshot { snapshot } => Ok(snapshot),
            a => Err(unexpected(a)),
        })
    }
    fn listing(&self) -> Fut<'_, Arc<Listing>> {
        self.then(Request::ListRows, |a| match a {
            Answer::Rows { listing } => Ok(listing),
            a => Err(unexpected(a)),
        })
    }
    fn lookup<'a>(&'a self, _: &'a Caller, name: &'a str) -> Fut<'a, ZoneId> {
        self.then(Request::Lookup { name: name.into() }, id)
    }
    fn create<'a>(&'a self, _: &'a Caller, params: Params) -> Fut<'a, ZoneId> {
        self.then(Request::Create { params }, id)
    }
    fn boot_with<'a>(&'a self, _: &'a Caller, id: ZoneId, init: bool) -> Fut<'a, Booted> {
        self.then(Request::Boot { id, init }, booted)
    }
    fn reboot<'a>(&'a self, _: &'a Caller, id: ZoneId) -> Fut<'a, Booted> {
        self.then(Request::Reboot { id }, booted)
    }
    fn shutdown<'a>(&'a self, _: &'a Caller, id: ZoneId) -> Fut<'a, ()> {
        self.unit(Request::Shutdown { id })
    }
    fn halt<'a>(&'a self, _: &'a Caller, id: ZoneId) -> Fut<'a, ()> {
        self.unit(Request::Halt { id })
    }
    fn destroy<'a>(&'a self, _: &'a Caller, id: ZoneId) -> Fut<'a, ()> {
        self.unit(Request::Destroy { id })
    }
    fn getattr<'a>(&'a self, _: &'a Caller, id: ZoneId, attr: &'a str) -> Fut<'a, Value> {
        let request = Request::Getattr {
            id,
            attr: attr.into(),
        };
        self.then(request, |a| match a {
            Answer::Value { value } => Ok(value),
            a => Err(unexpected(a)),
        })
    }
    fn wait_status(
        &self,
        id: ZoneId,
        status: Status,
        timeout: Option<Duration>,
    ) -> Fut<'_, Status> {
        let request = Request::WaitStatus {
            id,
            status,
            timeout_ms: timeout.map(|t| t.as_millis() as u64),
        };
        self.then(request, |a| match a {
            Answer::Status { status } => Ok(status),
            a => Err(unexpected(a)),
        })
    }
    fn jail_set<'a>(&'a self, _: &'a Caller, params: Params, flags: JailFlags) -> Fut<'a, ZoneId> {
        let request = Request::JailSet {
            params,
            flags: flags.0,
        };
        self.then(request, id)
    }
    fn jail_get<'a>(
        &'a self,
        _: &'a Caller,
        key: &'a JailKey,
        flags: JailFlags,
    ) -> Fut<'a, (ZoneId, Params)> {
        let request = Request::JailGet {
            key: WireKey::from(key),
            names: Vec::new(),
            flags: flags.0,
        };
        self.then(request, |a| match a {
            Answer::Params { id, params } => Ok((id, params)),
            a => Err(unexpected(a)),
        })
    }
    fn jail_remove<'a>(&'a self, _: &'a Caller, id: ZoneId) -> Fut<'a, ()> {
        self.unit(Request::JailRemove { id })
    }
    fn jail_attach<'a>(&'a self, _: &'a Caller, id: ZoneId) -> Fut<'a, Attach> {
        self.then(Request::JailAttach { id }, |a| match a {
            Answer::Attach {
                id,
                name,
                root,
                handle,
                params,
            } => Ok(Attach {
                id,
                name: crate::zone::ZoneName::try_from(name).map_err(Error::Name)?,
                root,
                handle,
                params,
            }),
            a => Err(unexpected(a)),
        })
    }
    fn verify<'a>(&'a self, _: &'a Caller, conf: &'a Config, name: &'a str) -> Fut<'a, ()> {
        self.unit(Request::Verify {
            conf: Some(part(conf, &[name])),
            name: name.into(),
        })
    }
    fn install<'a>(&'a self, _: &'a Caller, conf: &'a Config, name: &'a str) -> Fut<'a, Installed> {
        let request = Request::Install {
            conf: Some(part(conf, &[name])),
            name: name.into(),
        };
        self.then(request, |a| match a {
            Answer::Installed { installed } => Ok(installed),
            a => Err(unexpected(a)),
        })
    }
    fn uninstall<'a>(&'a self, _: &'a Caller, conf: &'a Config, name: &'a str) -> Fut<'a, ()> {
        self.unit(Request::Uninstall {
            conf: Some(part(conf, &[name])),
            name: name.into(),
        })
    }
    fn clone_zone<'a>(
        &'a self,
        _: &'a Caller,
        conf: &'a Config,
        name: &'a str,
        src: &'a str,
    ) -> Fut<'a, ()> {
        self.unit(Request::CloneZone {
            conf: Some(part(conf, &[name, src])),
            name: name.into(),
            src: src.into(),
        })
    }
    fn boot_configured<'a>(
        &'a self,
        _: &'a Caller,
        conf: &'a Config,
        name: &'a str,
        how: &'a BootFrom,
    ) -> Fut<'a, ZoneId> {
        let request = Request::BootConfigured {
            conf: Some(part(conf, &[name])),
            name: name.into(),
            how: how.clone(),
        };
        self.then(request, id)
    }
    fn shutdown_zone<'a>(&'a self, _: &'a Caller, name: &'a str) -> Fut<'a, ()> {
        self.unit(Request::ShutdownZone { name: name.into() })
    }
    fn halt_zone<'a>(&'a self, _: &'a Caller, name: &'a str) -> Fut<'a, ()> {
        self.unit(Request::HaltZone { name: name.into() })
    }
    fn reboot_zone<'a>(&'a self, _: &'a Caller, name: &'a str) -> Fut<'a, Booted> {
        self.then(Request::RebootZone { name: name.into() }, booted)
    }
    fn boot_named<'a>(
        &'a self,
        _: &'a Caller,
        name: &'a str,
        how: &'a BootFrom,
    ) -> Fut<'a, ZoneId> {
        let request = Request::BootConfigured {
            conf: None,
            name: name.into(),
            how: how.clone(),
        };
        self.by_name(request, id)
    }
    fn install_named<'a>(&'a self, _: &'a Caller, name: &'a str) -> Fut<'a, Installed> {
        let request = Request::Install {
            conf: None,
            name: name.into(),
        };
        self.by_name(request, |a| match a {
            Answer::Installed { installed } => Ok(installed),
            a => Err(unexpected(a)),
        })
    }
    fn uninstall_named<'a>(&'a self, _: &'a Caller, name: &'a str) -> Fut<'a, ()> {
        let request = Request::Uninstall {
            conf: None,
            name: name.into(),
        };
        self.by_name(request, |_| Ok(()))
    }
}
