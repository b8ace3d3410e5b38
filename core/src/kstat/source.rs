//! # The engine's source of counters, and its clock
//!
//! The engine samples every zone once a second ([`crate::engine`]'s tick)
//! but reads nothing from the kernel itself: it asks a [`Source`], which
//! the runtime provides ([`crate::runtime::Runtime::kstat_source`]; on
//! Linux the sampler of zones-linux, reading cgroup and /proc files). What
//! crosses the seam is plain data: the zones to read ([`ZoneInput`]), the
//! counters of one tick ([`Sample`]), a zone's links and the host's
//! totals. [`Ticker`] is the tick's clock: absolute deadlines on tokio's
//! monotonic clock.

use super::avenrun::LoadAvg;
use super::link::LinkStat;
use crate::snapshot::{Host, Kstat};
use crate::zone::{Status, ZoneId};
use std::path::PathBuf;
use std::time::Duration;

/// One zone to sample.
#[derive(Clone, Debug)]
pub struct ZoneInput<'a> {
    pub id: ZoneId,
    /// The zone's cgroup in each hierarchy (runtime `Handle::cgroups`).
    pub cgroups: &'a [PathBuf],
    /// zone.cpu-cap, percent of one CPU, when set.
    pub cpu_cap: Option<u64>,
    /// Zones outside ready..=running are skipped (nothing to read).
    pub status: Status,
}

/// The counters of one zone at this tick.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneSample {
    pub id: ZoneId,
    pub kstat: Kstat,
    /// Host pids of the zone's processes, ascending (`ZoneSnapshot::procs`).
    pub procs: Vec<u32>,
    /// Set when the zone could not be read (its cgroup is gone); `kstat`
    /// then holds the previous values.
    pub error: Option<String>,
}

/// One tick's worth of counters.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// CLOCK_MONOTONIC ns of the sample (`Snapshot::hrtime`).
    pub hrtime: u64,
    pub global: ZoneSample,
    /// The sampled zones, in the order given.
    pub zones: Vec<ZoneSample>,
}

/// Where the engine's tick gets its counters (module comment). One
/// source lives as long as the engine's sampler; it keeps what it needs
/// from tick to tick (load averages, descriptors, previous values).
pub trait Source: Send {
    /// Hand back a zone's load average saved by an earlier engine.
    fn resume(&mut self, id: ZoneId, state: LoadAvg);
    /// Read the global zone and these zones now.
    fn sample(&mut self, zones: &[ZoneInput]) -> Sample;
    /// A zone's load-average state after the last sample (to save).
    fn loadavg(&self, id: ZoneId) -> Option<&LoadAvg>;
    /// The interface counters of the network namespace of this process
    /// (0: none of its own; nothing is read).
    fn links(&self, net_pid: u32) -> Vec<LinkStat>;
    /// The host's totals for the headers.
    fn host(&mut self) -> Host;
}

/// The sampler's clock: ticks once per `period` on tokio's monotonic clock
/// at absolute deadlines (start + k·period), skipping the ticks it missed
/// rather than bursting to catch up.
pub struct Ticker {
    interval: tokio::time::Interval,
    period: Duration,
    last: tokio::time::Instant,
}

impl Ticker {
    /// The first tick is one period from now.
    pub fn new(period: Duration) -> Ticker {
        let start = tokio::time::Instant::now();
        let mut interval = tokio::time::interval_at(start + period, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Ticker {
            interval,
            period,
            last: start,
        }
    }

    /// Once a second, as the engine samples.
    pub fn every_second() -> Ticker {
        Ticker::new(Duration::from_secs(1))
    }

    /// Wait for the next deadline; returns how many periods it is after
    /// the previous one (1, or more when ticks were skipped).
    pub async fn tick(&mut self) -> u64 {
        let deadline = self.interval.tick().await;
        let n = (deadline - self.last).as_nanos() / self.period.as_nanos().max(1);
        self.last = deadline;
        n as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ticker_keeps_absolute_deadlines_and_counts_skipped_seconds() {
        let start = tokio::time::Instant::now();
        let mut t = Ticker::every_second();
        assert_eq!(t.tick().await, 1);
        assert_eq!(t.tick().await, 1);
        assert_eq!(t.last - start, Duration::from_secs(2));
        // The engine stalls for 3.5 s.
        tokio::time::advance(Duration::from_millis(3500)).await;
        let mut total = 0;
        while t.last - start < Duration::from_secs(6) {
            total += t.tick().await;
        }
        // Every deadline is a whole number of seconds from the start and
        // the counts add up to the seconds that passed.
        assert_eq!((t.last - start).subsec_nanos(), 0);
        assert_eq!(total, (t.last - start).as_secs() - 2);
    }
}
