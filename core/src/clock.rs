//! # The monotonic clock
//!
//! Snapshots, zone creation times and the sampler's ticks are stamped in
//! nanoseconds of CLOCK_MONOTONIC, as illumos stamps kstats with
//! gethrtime(): kstat(1M)'s crtime and snaptime, and rates computed across
//! ticks, compare stamps taken in different places, so there is one clock.
//!
//! The pure crate cannot read CLOCK_MONOTONIC itself (std hides an
//! `Instant`'s value, and this crate makes no system calls). The runtime
//! that can installs its reader once ([`set`]; zones-linux does when a
//! `LinuxRuntime` is made); until then — an engine over the null runtime,
//! in tests — the clock counts from its first reading in this process,
//! which is monotonic too but not comparable with the kernel's times.

use std::sync::OnceLock;
use std::time::Instant;

static READ: OnceLock<fn() -> u64> = OnceLock::new();
static START: OnceLock<Instant> = OnceLock::new();

/// Install the kernel's CLOCK_MONOTONIC reader (the first call wins).
pub fn set(read: fn() -> u64) {
    let _ = READ.set(read);
}

/// Monotonic nanoseconds (module comment).
pub fn hrtime() -> u64 {
    match READ.get() {
        Some(read) => read(),
        None => START.get_or_init(Instant::now).elapsed().as_nanos() as u64,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clock_never_goes_back() {
        let a = super::hrtime();
        let b = super::hrtime();
        assert!(b >= a);
    }
}
