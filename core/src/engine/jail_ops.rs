//! # The jail family: jail_set, jail_get, jail_remove, jail_attach
//!
//! The same zones, driven the way FreeBSD's jail(2) drives a prison:
//!
//! * `set(params, flags)`: CREATE makes a jail that must not exist yet;
//!   UPDATE changes one that must exist; both together create or update.
//!   DYING lets UPDATE reach a jail that is being removed; without it, a
//!   CREATE that names a dying jail replaces it. ATTACH is the caller's
//!   promise to enter the jail next (the tools then run their command
//!   inside through the runtime's enter path).
//! * `get(key, flags)`: by jid, by name, or the `lastjid` walk (the jail
//!   with the lowest jid above the one given).
//! * `remove(jid)`: children first, deepest first, then the jail itself;
//!   each is halted (every process killed) and destroyed.
//! * `attach(jid)`: what a process needs to enter the jail.
//!
//! Errors are jail(2)'s, case by case ([`crate::error::Error::errno`]):
//! EPERM (not root; children.max; less restrictive than the parent),
//! ENOENT (no such jail and no CREATE; another branch; lastjid past the
//! end), EEXIST (exists and no UPDATE), EINVAL (bad value, unknown
//! parameter, neither CREATE nor UPDATE, an unchangeable parameter on
//! UPDATE, attach/remove of a jid that does not exist), ENAMETOOLONG,
//! EAGAIN.

use super::zone_ops::check_restrictive;
use super::{Caller, Engine};
use crate::error::Error;
use crate::param::{self, Mutability, Params, Value};
use crate::runtime::{Handle, RuntimeError};
use crate::zone::{Status, ZoneId, ZoneName};
use std::path::PathBuf;

/// jail_set / jail_get flags, with FreeBSD's values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JailFlags(pub u32);

impl JailFlags {
    pub const CREATE: JailFlags = JailFlags(0x01);
    pub const UPDATE: JailFlags = JailFlags(0x02);
    pub const ATTACH: JailFlags = JailFlags(0x04);
    pub const DYING: JailFlags = JailFlags(0x08);

    pub fn has(self, f: JailFlags) -> bool {
        self.0 & f.0 != 0
    }
}

impl std::ops::BitOr for JailFlags {
    type Output = JailFlags;
    fn bitor(self, o: JailFlags) -> JailFlags {
        JailFlags(self.0 | o.0)
    }
}

/// How jail_get finds its jail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JailKey {
    Jid(ZoneId),
    Name(String),
    /// The jail with the lowest jid above this one (0: the first jail).
    LastJid(u32),
}

/// What a process needs to enter a jail.
#[derive(Clone, Debug)]
pub struct Attach {
    pub id: ZoneId,
    pub name: ZoneName,
    pub root: PathBuf,
    pub handle: Handle,
    pub params: Params,
}

impl Engine {
    /// jail_set(2).
    pub async fn jail_set(
        &self,
        caller: &Caller,
        params: Params,
        flags: JailFlags,
    ) -> Result<ZoneId, Error> {
        caller.require_root()?;
        if !flags.has(JailFlags::CREATE) && !flags.has(JailFlags::UPDATE) {
            return Err(Error::NoCreateOrUpdate);
        }
        let found = self.find_jail(caller, &params, flags.has(JailFlags::DYING))?;
        match found {
            Some((uniqid, label)) if flags.has(JailFlags::UPDATE) => {
                let id = self
                    .with_zone(uniqid, |z| z.id)
                    .ok_or(Error::NoSuchZone(label))?;
                // The jail may be gone afterwards (nopersist on an empty one).
                self.jail_update(uniqid, params).await?;
                Ok(id)
            }
            Some((_, label)) => Err(Error::Exists(label)),
            None if flags.has(JailFlags::CREATE) => self.create(caller, params).await,
            None => Err(Error::NoSuchZone(
                params
                    .str("name")
                    .map(str::to_string)
                    .or_else(|| params.int("jid").map(|j| j.to_string()))
                    .unwrap_or_else(|| "(unnamed)".into()),
            )),
        }
    }

    /// The jail a set names by jid or name: `Some((uniqid, label))` when it
    /// exists (a dying one only with `dying`).
    fn find_jail(
        &self,
        caller: &Caller,
        params: &Params,
        dying: bool,
    ) -> Result<Option<(u64, String)>, Error> {
        let reg = self.inner.reg.lock().unwrap();
        let usable = |status: Status| {
            status >= Status::Initialized
                && status < Status::Dead
                && (dying || status < Status::Dying)
        };
        if let Some(j) = params.int("jid").filter(|j| *j != 0) {
            let id = ZoneId(j as u32);
            if let Some(z) = reg.by_id(id).filter(|z| usable(z.status)) {
                if !reg.is_within(z.id, caller.zone) || z.id == caller.zone {
                    return Err(Error::OtherBranch(id.to_string()));
                }
                return Ok(Some((z.uniqid, z.name.to_string())));
            }
            return Ok(None);
        }
        if let Some(n) = params.str("name") {
            let full = if caller.zone.is_global() {
                n.to_string()
            } else {
                let me = reg
                    .by_id(caller.zone)
                    .ok_or(Error::NoSuchZone(caller.zone.to_string()))?;
                format!("{}.{n}", me.name)
            };
            if let Some(z) = reg.by_name(&full, dying).filter(|z| usable(z.status)) {
                return Ok(Some((z.uniqid, z.name.to_string())));
            }
        }
        Ok(None)
    }

    /// UPDATE: change what may change; refuse what may not.
    async fn jail_update(&self, uniqid: u64, params: Params) -> Result<(), Error> {
        let (handle, changed) = {
            let mut reg = self.inner.reg.lock().unwrap();
            let z = reg
                .by_uniqid(uniqid)
                .ok_or(Error::NoSuchZone("(gone)".into()))?;
            let label = z.name.to_string();
            let mut changed = Params::new();
            for (k, v) in params.iter() {
                let spec = param::lookup(k).ok_or_else(|| Error::Param {
                    zone: label.clone(),
                    source: param::ParamError::Unknown(k.to_string()),
                })?;
                let current = z.params.get(k);
                match spec.mutability {
                    // The keys that found the jail.
                    _ if (k == "jid" || k == "name") && current == Some(v) => {}
                    Mutability::ReadOnly => {
                        return Err(Error::ReadOnly {
                            zone: label,
                            param: k.to_string(),
                        });
                    }
                    Mutability::CreateOnly if current != Some(v) => {
                        return Err(Error::Unchangeable {
                            zone: label,
                            param: k.to_string(),
                        });
                    }
                    Mutability::CreateOnly => {}
                    Mutability::Changeable => {
                        changed.insert(k, v.clone());
                    }
                }
            }
            if !z.parent.is_global() {
                let parent = reg
                    .by_id(z.parent)
                    .ok_or(Error::NoSuchZone(label.clone()))?;
                check_restrictive(&z.name, &changed, &z.root, parent)?;
            }
            let z = reg.by_uniqid_mut(uniqid).expect("found above");
            for (k, v) in changed.iter() {
                z.params.insert(k, v.clone());
            }
            z.snap = None;
            let live = z.status >= Status::Ready && z.status <= Status::Running;
            (z.handle.clone().filter(|_| live), changed)
        };
        self.persist(uniqid);
        // jail(8)'s way: a jail made persist while its commands ran, then
        // not persist, ends at once if nothing runs in it any more.
        if changed.bool("persist") == Some(false)
            && let Some(h) = handle.clone()
        {
            let rt = self.inner.runtime.clone();
            let id = self.with_zone(uniqid, |z| z.id).unwrap_or(ZoneId::GLOBAL);
            let running = self.with_zone(uniqid, |z| z.status == Status::Running) == Some(true);
            let cred = tokio::task::spawn_blocking(move || rt.refs(id, &h).cred)
                .await
                .unwrap_or(1);
            if running && cred == 0 {
                self.halt_uniqid(&super::Caller::ROOT, uniqid).await?;
            }
        }
        if let Some(h) = handle {
            let rt = self.inner.runtime.clone();
            let name = uniqid.to_string();
            tokio::task::spawn_blocking(move || rt.update(&h, &changed))
                .await
                .unwrap_or_else(|e| Err(RuntimeError::new("update", e.to_string())))
                .map_err(|source| Error::Runtime { zone: name, source })?;
        }
        self.publish();
        Ok(())
    }

    /// jail_get(2): the jail's id and every parameter it has, with the
    /// ones the engine keeps (jid, name, path, parent, children.cur,
    /// children.max, persist, dying, host.hostname).
    pub fn jail_get(
        &self,
        caller: &Caller,
        key: &JailKey,
        flags: JailFlags,
    ) -> Result<(ZoneId, Params), Error> {
        let dying = flags.has(JailFlags::DYING);
        let reg = self.inner.reg.lock().unwrap();
        let usable = |z: &&super::registry::Zone| {
            !z.id.is_global()
                && !z.replaced
                && z.status >= Status::Initialized
                && z.status < Status::Dead
                && (dying || z.status < Status::Dying)
        };
        let z = match key {
            JailKey::Jid(id) => {
                let z = reg
                    .by_id(*id)
                    .filter(usable)
                    .ok_or(Error::NoSuchZone(id.to_string()))?;
                if !reg.is_within(z.id, caller.zone) || z.id == caller.zone {
                    return Err(Error::OtherBranch(id.to_string()));
                }
                z
            }
            JailKey::Name(n) => reg
                .zones()
                .filter(usable)
                .filter(|z| reg.is_within(z.id, caller.zone) && z.id != caller.zone)
                .find(|z| z.name.as_str() == n)
                .ok_or_else(|| Error::NoSuchZone(n.clone()))?,
            JailKey::LastJid(last) => reg
                .zones()
                .filter(usable)
                .filter(|z| z.id.0 > *last)
                .filter(|z| reg.is_within(z.id, caller.zone) && z.id != caller.zone)
                .min_by_key(|z| z.id)
                .ok_or(Error::LastJid(*last))?,
        };
        let mut p = z.params.clone();
        p.insert("jid", Value::Int(z.id.0 as i64));
        p.insert("name", Value::Str(z.name.to_string()));
        p.insert("path", Value::Str(z.root.display().to_string()));
        p.insert("parent", Value::Int(z.parent.0 as i64));
        p.insert(
            "children.cur",
            Value::Int(reg.descendants(z.id).len() as i64),
        );
        if p.get("children.max").is_none() {
            p.insert("children.max", Value::Int(0));
        }
        if p.get("persist").is_none() {
            p.insert("persist", Value::Bool(false));
        }
        p.insert("dying", Value::Bool(z.status >= Status::Dying));
        // The init running now (restarts followed), 0 when none: read-only,
        // and left out of jls's "all".
        p.insert("initpid", Value::Int(z.init_pid as i64));
        if p.get("host.hostname").is_none() {
            p.insert("host.hostname", Value::Str(z.name.to_string()));
        }
        Ok((z.id, p))
    }

    /// jail_get(2) with the parameter names asked: an unknown name is
    /// EINVAL; a known one the jail lacks comes back with its type's empty
    /// value, as the kernel answers.
    pub fn jail_get_params(
        &self,
        caller: &Caller,
        key: &JailKey,
        names: &[&str],
        flags: JailFlags,
    ) -> Result<(ZoneId, Params), Error> {
        let (id, all) = self.jail_get(caller, key, flags)?;
        let mut out = Params::new();
        for n in names {
            let (spec, _) = param::resolve(n).map_err(|source| Error::Param {
                zone: id.to_string(),
                source,
            })?;
            let v = all
                .get(spec.name)
                .cloned()
                .unwrap_or_else(|| Value::empty(spec.kind));
            out.insert(spec.name, v);
        }
        Ok((id, out))
    }

    /// jail_remove(2): kill every process of the jail and of its children,
    /// remove the children (deepest first), then the jail.
    pub async fn jail_remove(&self, caller: &Caller, id: ZoneId) -> Result<(), Error> {
        caller.require_root()?;
        let order = {
            let reg = self.inner.reg.lock().unwrap();
            let z = reg
                .by_id(id)
                .filter(|z| {
                    !z.id.is_global()
                        && z.status >= Status::Initialized
                        && z.status < Status::Dead
                        && reg.is_within(z.id, caller.zone)
                        && z.id != caller.zone
                })
                .ok_or(Error::NoSuchId(id.0))?;
            let mut order = reg.descendants(z.id);
            order.push((z.id, z.uniqid));
            order
        };
        for (_, uniqid) in order {
            self.halt_uniqid(caller, uniqid).await?;
        }
        Ok(())
    }

    /// jail_attach(2): what a process needs to enter the jail. The jail
    /// must be ready or running.
    pub fn jail_attach(&self, caller: &Caller, id: ZoneId) -> Result<Attach, Error> {
        caller.require_root()?;
        let reg = self.inner.reg.lock().unwrap();
        let z = reg
            .by_id(id)
            .filter(|z| {
                !z.id.is_global()
                    && z.status >= Status::Ready
                    && z.status <= Status::Running
                    && reg.is_within(z.id, caller.zone)
            })
            .ok_or(Error::NoSuchId(id.0))?;
        Ok(Attach {
            id: z.id,
            name: z.name.clone(),
            root: z.root.clone(),
            handle: z.handle.clone().unwrap_or_default(),
            params: z.params.clone(),
        })
    }
}
