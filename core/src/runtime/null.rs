//! A runtime that makes nothing in the kernel: the engine's logic is tested
//! against it. Events (a jail's last process exiting, init dying) are sent
//! by the test through [`crate::engine::Engine::runtime_event`].

use super::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// A runtime with no kernel objects.
#[derive(Default)]
pub struct NullRuntime {
    next_pid: AtomicU32,
    /// Kernel refs a test pretends are held, by zone id.
    refs: Mutex<std::collections::HashMap<ZoneId, KernelRefs>>,
    /// Names of zones whose `ready` must fail (to test unwinding).
    fail_ready: Mutex<Vec<String>>,
    /// Zones whose supervisor "died" while no engine ran.
    gone: Mutex<Vec<ZoneId>>,
    /// How many of the next `shutdown` calls fail (to test retries).
    fail_shutdowns: AtomicU32,
}

impl NullRuntime {
    pub fn new() -> NullRuntime {
        NullRuntime {
            next_pid: AtomicU32::new(1000),
            ..Default::default()
        }
    }

    /// Pretend the kernel holds the zone with these counts.
    pub fn set_refs(&self, id: ZoneId, refs: KernelRefs) {
        self.refs.lock().unwrap().insert(id, refs);
    }

    /// Make `ready` of the zone named `name` fail.
    pub fn fail_ready_of(&self, name: &str) {
        self.fail_ready.lock().unwrap().push(name.to_string());
    }

    /// Pretend the zone's supervisor died: adoption finds it gone.
    pub fn mark_gone(&self, id: ZoneId) {
        self.gone.lock().unwrap().push(id);
    }

    /// Make the next `n` shutdowns fail.
    pub fn fail_shutdowns(&self, n: u32) {
        self.fail_shutdowns.store(n, Ordering::SeqCst);
    }

    fn pid(&self) -> u32 {
        self.next_pid.fetch_add(1, Ordering::Relaxed)
    }
}

impl Runtime for NullRuntime {
    fn ready(&self, spec: &ZoneSpec) -> Result<Handle, RuntimeError> {
        if self
            .fail_ready
            .lock()
            .unwrap()
            .iter()
            .any(|n| n == spec.name.as_str())
        {
            return Err(RuntimeError::new("ready", "refused by the test"));
        }
        Ok(Handle {
            zsched_pid: self.pid(),
            ..Default::default()
        })
    }
    fn boot(
        &self,
        _spec: &ZoneSpec,
        _handle: &Handle,
        start_init: bool,
    ) -> Result<u32, RuntimeError> {
        Ok(if start_init { self.pid() } else { 0 })
    }
    fn shutdown(&self, _handle: &Handle, _timeout: Duration) -> Result<(), RuntimeError> {
        let left = self.fail_shutdowns.load(Ordering::SeqCst);
        if left > 0 {
            self.fail_shutdowns.store(left - 1, Ordering::SeqCst);
            return Err(RuntimeError::new("shutdown", "refused by the test"));
        }
        Ok(())
    }
    fn down(&self, _handle: &Handle) -> Result<(), RuntimeError> {
        Ok(())
    }
    fn destroy(&self, _handle: &Handle) -> Result<(), RuntimeError> {
        Ok(())
    }
    fn update(&self, _handle: &Handle, _changed: &Params) -> Result<(), RuntimeError> {
        Ok(())
    }
    fn refs(&self, id: ZoneId, _handle: &Handle) -> KernelRefs {
        self.refs
            .lock()
            .unwrap()
            .get(&id)
            .copied()
            .unwrap_or_default()
    }
    fn adopt(&self, spec: &ZoneSpec, handle: &Handle) -> Adopted {
        if self.gone.lock().unwrap().contains(&spec.id) {
            return Adopted::Gone;
        }
        Adopted::Alive {
            handle: handle.clone(),
            user_procs: true,
        }
    }
    fn subscribe(&self, _events: tokio::sync::mpsc::UnboundedSender<RuntimeEvent>) {}
}
