//! # The list of zones, built once per snapshot
//!
//! `zoneadm list` asks for a [`Listing`] (crate::api's rows module: each
//! kernel zone's id, name, state, path, brand, uuid and IP type). The
//! engine builds it from the latest snapshot and keeps it beside that
//! snapshot's seq: every list until the next publication (a sampler tick
//! or a change) shares the one `Arc`, so a burst of lists, or a script
//! polling `zoneadm list`, costs one build per tick and none per call.
//! A build is a walk of the snapshot's zones (a thousand rows take a
//! fraction of a millisecond); it runs outside the registry lock, so a
//! list never holds up a lifecycle operation or the sampler's fold.
//!
//! A caller in a non-global zone gets its own zone's row alone, cut from
//! the shared listing.

use super::{Caller, Engine};
use crate::api::Listing;
use std::sync::{Arc, Mutex};

/// The listing of the latest snapshot a list was asked of (its seq is
/// the listing's own).
#[derive(Default)]
pub(super) struct ListCache(Mutex<Option<Arc<Listing>>>);

impl Engine {
    /// The kernel zones `caller` may see, as `zoneadm list` shows them.
    pub fn listing(&self, caller: &Caller) -> Arc<Listing> {
        let snap = self.snapshot();
        let cache = &self.inner.listing.0;
        let cached = cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(|l| l.seq == snap.seq);
        let all = cached.unwrap_or_else(|| {
            let built = Arc::new(Listing::of(&snap));
            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
            // Two callers may build the same seq at once; a newer listing
            // already cached is kept.
            if c.as_ref().is_none_or(|l| l.seq < built.seq) {
                *c = Some(built.clone());
            }
            built
        });
        if caller.zone.is_global() {
            return all;
        }
        Arc::new(Listing {
            seq: all.seq,
            zones: all
                .zones
                .iter()
                .filter(|r| r.id == caller.zone)
                .cloned()
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Caller, Engine, EngineConfig};
    use crate::param::Params;
    use crate::runtime::NullRuntime;
    use std::sync::Arc;

    fn params(name: &str) -> Params {
        crate::engine::params_from_args(&[format!("name={name}"), "persist".to_string()]).unwrap()
    }

    #[tokio::test]
    async fn one_listing_per_snapshot_shared_until_the_next() {
        let e = Engine::new(Arc::new(NullRuntime::new()), EngineConfig::default());
        let _rx = e.subscribe();
        let a = e.create(&Caller::ROOT, params("a")).await.unwrap();
        let l1 = e.listing(&Caller::ROOT);
        let l2 = e.listing(&Caller::ROOT);
        assert!(
            Arc::ptr_eq(&l1, &l2),
            "the same snapshot's listing is shared"
        );
        assert_eq!(
            l1.zones.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["global", "a"]
        );
        let b = e.create(&Caller::ROOT, params("b")).await.unwrap();
        let l3 = e.listing(&Caller::ROOT);
        assert!(!Arc::ptr_eq(&l1, &l3) && l3.seq > l1.seq);
        assert_eq!(l3.zones.len(), 3);
        // From inside a zone: that zone alone.
        let inside = e.listing(&Caller { uid: 0, zone: b });
        assert_eq!(inside.zones.len(), 1);
        assert_eq!(inside.zones[0].id, b);
        assert_ne!(a, b);
    }
}
