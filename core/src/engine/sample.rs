//! # The 1 Hz tick: counters into the snapshot
//!
//! [`Engine::start_sampler`] runs the runtime's [`Source`] of counters
//! ([`crate::runtime::Runtime::kstat_source`]; on Linux the sampler of
//! zones-linux) once a second on the monotonic clock at absolute deadlines
//! ([`Ticker`]). A runtime with no source (the null runtime) is not
//! sampled. Each tick:
//!
//! 1. takes, under the registry lock, the list of zones from ready to
//!    running with their cgroups and caps (owned copies: nothing is read
//!    from the kernel under the lock);
//! 2. reads the kernel on a blocking thread through the source (the
//!    zones' counters, their links, the host's totals) and, from the counters just computed,
//!    has the runtime rewrite each zone's own /proc files
//!    ([`crate::runtime::Runtime::view`], view.md): the load average a zone
//!    reads is the one this tick publishes;
//! 3. folds the counters, the process lists and `cred_ref` (the zone's
//!    processes) into the registry and publishes one snapshot. A zone's
//!    link counters ([`crate::kstat::link`]) are read with the rest.
//!
//! Every fifth tick the runtime's full reference counts (mounts, IPC
//! objects, loop devices) are read as well; destroy reads them itself
//! whenever it waits, so a slower refresh here only affects what the
//! front-ends show. Every tenth tick the load-average state of each zone
//! whose state changed since it was last written is written to durable
//! state, so a restarted engine resumes it (at most ten seconds old; the
//! catch-up arithmetic covers the gap; an unchanged state is not written
//! again).

use super::Engine;
use crate::kstat::avenrun::LoadAvg;
use crate::kstat::{Source, Ticker, ZoneInput};
use crate::runtime::KernelRefs;
use crate::zone::{Status, ZoneId};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

struct Input {
    id: ZoneId,
    uniqid: u64,
    cgroups: Vec<PathBuf>,
    cpu_cap: Option<u64>,
    status: Status,
    handle: Option<crate::runtime::Handle>,
    params: crate::param::Params,
    /// zsched's pid when the zone has a network namespace of its own (its
    /// link counters are read there), else 0.
    net_pid: u32,
}

/// What [`crate::runtime::Runtime::view`] gets of a tick: each sampled zone
/// with a handle, its parameters and the counters just computed.
fn view_ticks<'a>(
    inputs: &'a [Input],
    sample: &'a crate::kstat::Sample,
) -> Vec<crate::runtime::ViewTick<'a>> {
    inputs
        .iter()
        .zip(&sample.zones)
        .filter(|(_, zs)| zs.error.is_none())
        .filter_map(|(i, zs)| {
            Some(crate::runtime::ViewTick {
                handle: i.handle.as_ref()?,
                params: &i.params,
                kstat: &zs.kstat,
                procs: &zs.procs,
            })
        })
        .collect()
}

/// Every tenth tick: write the record of each zone whose load-average
/// state changed since this sampler last wrote it (an idle zone's decays
/// to zero and stays there: a thousand idle zones are not a thousand
/// record writes every ten seconds). `saved` keeps, by uniqid, the state
/// written; zones no longer sampled leave it. A zone first seen is
/// written once (its record may hold an older engine's state).
fn persist_changed(
    engine: &Engine,
    loadavgs: &[(u64, Option<LoadAvg>)],
    saved: &mut std::collections::HashMap<u64, serde_json::Value>,
) {
    let mut seen = std::collections::HashSet::with_capacity(loadavgs.len());
    for (uniqid, la) in loadavgs {
        seen.insert(*uniqid);
        let now = la
            .as_ref()
            .and_then(|la| serde_json::to_value(la).ok())
            .unwrap_or(serde_json::Value::Null);
        if saved.get(uniqid) == Some(&now) {
            continue;
        }
        engine.persist(*uniqid);
        saved.insert(*uniqid, now);
    }
    saved.retain(|u, _| seen.contains(u));
}

impl Engine {
    /// Start the once-a-second sampler; it runs as long as the engine.
    pub fn start_sampler(&self) {
        let Some(source) = self.inner.runtime.kstat_source() else {
            return;
        };
        let weak = Arc::downgrade(&self.inner);
        let sampler: Arc<Mutex<Box<dyn Source>>> = Arc::new(Mutex::new(source));
        // Resume the load averages saved by an earlier engine.
        {
            let reg = self.inner.reg.lock().unwrap();
            let mut s = sampler.lock().unwrap();
            for z in reg.zones() {
                if let Some(la) = z
                    .kstat_state
                    .as_ref()
                    .and_then(|v| serde_json::from_value::<LoadAvg>(v.clone()).ok())
                {
                    s.resume(z.id, la);
                }
            }
        }
        tokio::spawn(async move {
            let mut ticker = Ticker::every_second();
            let mut n: u64 = 0;
            // The load-average state last written to each zone's record.
            let mut saved = std::collections::HashMap::new();
            loop {
                ticker.tick().await;
                n += 1;
                let Some(inner) = weak.upgrade() else { break };
                let engine = Engine { inner };
                let inputs: Vec<Input> = {
                    let reg = engine.inner.reg.lock().unwrap();
                    reg.zones()
                        .filter(|z| !z.replaced && z.status.is_sampled() && !z.id.is_global())
                        .map(|z| Input {
                            id: z.id,
                            uniqid: z.uniqid,
                            cgroups: z
                                .handle
                                .as_ref()
                                .map(|h| h.cgroups.clone())
                                .unwrap_or_default(),
                            cpu_cap: z.params.int("zone.cpu-cap").map(|c| c.max(0) as u64),
                            status: z.status,
                            handle: z.handle.clone(),
                            params: z.params.clone(),
                            net_pid: z
                                .handle
                                .as_ref()
                                .filter(|_| crate::runtime::NetMode::of(&z.params).own_namespace())
                                .map_or(0, |h| h.zsched_pid),
                        })
                        .collect()
                };
                let full_refs = n % 5 == 1;
                let rt = engine.inner.runtime.clone();
                let sampler = sampler.clone();
                let done = tokio::task::spawn_blocking(move || {
                    let zi: Vec<ZoneInput> = inputs
                        .iter()
                        .map(|i| ZoneInput {
                            id: i.id,
                            cgroups: &i.cgroups,
                            cpu_cap: i.cpu_cap,
                            status: i.status,
                        })
                        .collect();
                    let mut s = sampler.lock().unwrap();
                    let mut sample = s.sample(&zi);
                    for (zs, i) in sample.zones.iter_mut().zip(&inputs) {
                        zs.kstat.links = s.links(i.net_pid);
                    }
                    let loadavgs: Vec<(u64, Option<LoadAvg>)> = inputs
                        .iter()
                        .map(|i| (i.uniqid, s.loadavg(i.id).cloned()))
                        .collect();
                    drop(s);
                    // The zones' own /proc files, from these counters.
                    rt.view(&view_ticks(&inputs, &sample));
                    let refs: Vec<Option<KernelRefs>> = inputs
                        .iter()
                        .map(|i| match (&i.handle, full_refs) {
                            (Some(h), true) => Some(rt.refs(i.id, h)),
                            _ => None,
                        })
                        .collect();
                    let host = sampler.lock().unwrap().host();
                    (inputs, sample, refs, loadavgs, host)
                })
                .await;
                let Ok((inputs, sample, refs, loadavgs, host)) = done else {
                    continue;
                };
                {
                    let mut reg = engine.inner.reg.lock().unwrap();
                    reg.host = host;
                    if let Some(g) = reg.by_uniqid_mut(0) {
                        g.kstat = sample.global.kstat.clone();
                        g.procs = sample.global.procs.clone();
                        g.snap = None;
                    }
                    for ((input, zs), kr) in inputs.iter().zip(&sample.zones).zip(refs) {
                        if let Some(z) = reg.by_uniqid_mut(input.uniqid) {
                            let mut k = zs.kstat.clone();
                            crate::kstat::link::rates(&z.kstat, &mut k);
                            z.kstat = k;
                            z.procs = zs.procs.clone();
                            match kr {
                                Some(k) => z.kernel = k,
                                None => z.kernel.cred = zs.kstat.nprocs,
                            }
                            z.snap = None;
                        }
                    }
                    for (uniqid, la) in &loadavgs {
                        if let (Some(z), Some(la)) = (reg.by_uniqid_mut(*uniqid), la) {
                            z.kstat_state = serde_json::to_value(la).ok();
                        }
                    }
                }
                engine.publish();
                if n.is_multiple_of(10) {
                    persist_changed(&engine, &loadavgs, &mut saved);
                }
            }
        });
    }
}
