//! # Subsystem callbacks (illumos ZSD)
//!
//! Parts of the engine that keep per-zone data — cgroups, counters, zonefs
//! entries, network — register a [`Subsystem`]. Its callbacks run in
//! registration order on the way up (create) and in reverse order on the
//! way down (shutdown, destroy), so a subsystem registered later, which may
//! depend on an earlier one, is set up after it and torn down before it.
//! A create callback that fails unwinds the zone: the destroy callbacks of
//! the subsystems already created run, in reverse, and the create fails.
//! Callbacks run without any engine lock held.

use super::Engine;
use crate::error::Error;
use crate::runtime::RuntimeError;
use crate::snapshot::ZoneSnapshot;
use std::sync::Arc;

/// Per-zone callbacks of one part of the engine.
pub trait Subsystem: Send + Sync {
    fn name(&self) -> &str;
    /// The zone was created (it is initialized).
    fn create(&self, zone: &ZoneSnapshot) -> Result<(), String>;
    /// The zone is shutting down.
    fn shutdown(&self, zone: &ZoneSnapshot);
    /// The zone is being destroyed (or its create is unwound).
    fn destroy(&self, zone: &ZoneSnapshot);
}

impl Engine {
    /// Register a subsystem; zones created from now on get its callbacks.
    pub fn register(&self, s: Arc<dyn Subsystem>) {
        self.inner.subsystems.write().unwrap().push(s);
    }

    fn subsystems(&self) -> Vec<Arc<dyn Subsystem>> {
        self.inner.subsystems.read().unwrap().clone()
    }

    /// Run the create callbacks in order; on a failure run the destroy
    /// callbacks of those already created, in reverse, and fail.
    pub(super) fn zsd_create(&self, zone: &ZoneSnapshot) -> Result<(), Error> {
        let subs = self.subsystems();
        for (i, s) in subs.iter().enumerate() {
            if let Err(message) = s.create(zone) {
                for done in subs[..i].iter().rev() {
                    done.destroy(zone);
                }
                return Err(Error::Runtime {
                    zone: zone.name.to_string(),
                    source: RuntimeError::new(format!("subsystem {}", s.name()), message),
                });
            }
        }
        Ok(())
    }

    pub(super) fn zsd_shutdown(&self, zone: &ZoneSnapshot) {
        for s in self.subsystems().iter().rev() {
            s.shutdown(zone);
        }
    }

    pub(super) fn zsd_destroy(&self, zone: &ZoneSnapshot) {
        for s in self.subsystems().iter().rev() {
            s.destroy(zone);
        }
    }
}
