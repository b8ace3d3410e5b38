//! # avenrun: a zone's load average, the illumos way
//!
//! illumos computes a zone's load from CPU time, not from run-queue length
//! (zone.c, `zone_loadavg_update`): once a second it takes the zone's
//! `user + sys + waitrq` nanoseconds, keeps the last 11 one-second deltas
//! in a ring (`S_LOADAVG_SZ`), and feeds their mean, expressed in
//! 1/128ths of a thread (`LGRP_LOADAVG_IN_THREAD_MAX`), into three
//! exponentially decaying averages kept in 64-bit fixed point with 16
//! fractional bits (`hp_avenrun`). What users see (`avenrun_1min`, ...) is
//! that value at 8 fractional bits (`FSHIFT`): 256 means one thread busy.
//!
//! [`LoadAvg`] is that state and that arithmetic, bit for bit: signed
//! 64-bit intermediates, arithmetic right shifts (they round towards
//! minus infinity), the unsigned `hp` accumulator, and the 31-bit
//! saturation at 0x7fffffff. Nothing is reported until the ring has been
//! filled once (11 updates: the zone has been up for 10 s).
//!
//! ## Missed ticks
//!
//! The kernel's clock never misses a second; a user-space sampler may (a
//! loaded machine, a suspended VM). [`LoadAvg::advance`] takes the new
//! total and the number of whole seconds it covers, and applies that many
//! one-second updates with the delta spread evenly over them (the
//! remainder, in ns, going to the first ones). The averages therefore
//! decay at the rate of wall time, not of sampler wakeups. The catch-up
//! is bounded by [`MAX_CATCH_UP`] updates; beyond that the averages have
//! long converged and more steps would only burn CPU.
//!
//! ## Persistence
//!
//! The whole state (ring, position, fill, last total, hp) is `serde`
//! serialisable: the engine saves it with the zone and a restarted engine
//! resumes the averages where they were.
//!
//! There is no locking here: a `LoadAvg` belongs to the sampler, which
//! updates it from one task.

use serde::{Deserialize, Serialize};

/// Slots in the moving window of one-second deltas (illumos S_LOADAVG_SZ).
pub const S_LOADAVG_SZ: usize = 11;
/// One thread busy (or waiting) for a whole second counts this much
/// (illumos LGRP_LOADAVG_IN_THREAD_MAX).
pub const LOADAVG_IN_THREAD_MAX: i64 = 128;
/// Fractional bits of the `avenrun` users see (FSCALE = 1 << FSHIFT = 256).
pub const FSHIFT: u32 = 8;
/// The decay factors of the 1, 5 and 15 minute averages (exp(-1/60),
/// exp(-1/300), exp(-1/900) in the fixed point of `calcloadavg`).
pub const DECAY: [i64; 3] = [135, 27, 9];
/// At most this many one-second updates are applied in one catch-up (a day).
pub const MAX_CATCH_UP: u64 = 86_400;

const NANOSEC: i64 = 1_000_000_000;
/// `hp` at or above this no longer fits 31 bits at FSHIFT.
const HP_LIMIT: u64 = 1 << (31 + 16 - FSHIFT);

/// The load-average state of one zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadAvg {
    /// The last [`S_LOADAVG_SZ`] one-second deltas of the zone's total, ns.
    pub loads: [u64; S_LOADAVG_SZ],
    /// The slot the next delta goes into.
    pub cur: usize,
    /// Updates seen while the ring was filling (illumos `lg_len`, which
    /// stops at S_LOADAVG_SZ − 1); set to S_LOADAVG_SZ by the first update
    /// that computes the averages, so a saved state tells it was warm.
    pub len: usize,
    /// The total (user + sys + waitrq, ns) at the last update.
    pub total: u64,
    /// The 1, 5 and 15 minute averages, fixed point with 16 fractional bits.
    pub hp: [u64; 3],
    /// CLOCK_MONOTONIC ns of the last update, kept by the sampler so that
    /// a restarted engine (same boot, same clock) catches up on the
    /// seconds it was down; 0 when unknown.
    #[serde(default)]
    pub at: u64,
}

impl LoadAvg {
    /// A new zone: its counters start at zero, as illumos' do.
    pub fn new() -> LoadAvg {
        LoadAvg::default()
    }

    /// A zone first seen with counters already running (the global zone,
    /// a zone adopted without saved state): the first delta is measured
    /// from `total`, not from zero.
    pub fn starting_at(total: u64) -> LoadAvg {
        LoadAvg {
            total,
            ..LoadAvg::default()
        }
    }

    /// One second has passed and the zone's total is now `total` ns.
    /// Exactly one iteration of illumos' `zone_loadavg_update` for a zone.
    pub fn tick(&mut self, total: u64) {
        // The total should only grow; a smaller one counts as no load.
        let delta = total.saturating_sub(self.total);
        self.total = total;
        self.push(delta);
    }

    /// `seconds` whole seconds have passed since the last update and the
    /// total is now `total` ns: apply `seconds` updates, the delta spread
    /// evenly over them (the first `delta % seconds` get one ns more).
    /// Nothing happens for 0 seconds (the total is kept for later).
    pub fn advance(&mut self, total: u64, seconds: u64) {
        if seconds == 0 {
            return;
        }
        let delta = total.saturating_sub(self.total);
        self.total = total;
        let steps = seconds.min(MAX_CATCH_UP);
        let each = delta / steps;
        let extra = delta % steps;
        for i in 0..steps {
            self.push(each + u64::from(i < extra));
        }
    }

    /// Has the ring been filled (are the averages being computed)?
    pub fn is_warm(&self) -> bool {
        self.len >= S_LOADAVG_SZ
    }

    /// The averages users see: fixed point ×256, saturated at 0x7fffffff.
    pub fn avenrun(&self) -> [u32; 3] {
        self.hp.map(|hp| {
            if hp < HP_LIMIT {
                (hp >> (16 - FSHIFT)) as u32
            } else {
                0x7fff_ffff
            }
        })
    }

    fn push(&mut self, delta: u64) {
        self.loads[self.cur % S_LOADAVG_SZ] = delta;
        self.cur = (self.cur + 1) % S_LOADAVG_SZ;
        // Until the ring is full (the zone is up 10 s), nothing else.
        if self.len + 1 < S_LOADAVG_SZ {
            self.len += 1;
            return;
        }
        self.len = S_LOADAVG_SZ;
        let sum = self
            .loads
            .iter()
            .fold(0u64, |sum, load| sum.saturating_add(*load));
        let hr_avg = (sum / S_LOADAVG_SZ as u64).min(i64::MAX as u64) as i64;
        // illumos keeps nrun in an int; saturate instead of wrapping.
        let nrun = (hr_avg / (NANOSEC / LOADAVG_IN_THREAD_MAX)).min(i64::from(i32::MAX));
        for (hp, f) in self.hp.iter_mut().zip(DECAY) {
            let q = ((*hp >> 16) << 7) as i64;
            let r = ((*hp & 0xffff) << 7) as i64;
            let step = (nrun.wrapping_sub(q).wrapping_mul(f) - (r.wrapping_mul(f) >> 16)) >> 4;
            *hp = hp.wrapping_add_signed(step);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Every expected number below was worked out by hand from the
    //! arithmetic in the module comment; the derivation is next to it.

    use super::*;

    const SEC: u64 = 1_000_000_000;

    /// Feed `n` seconds of `per_sec` ns of load each.
    fn feed(la: &mut LoadAvg, per_sec: u64, n: u64) {
        for _ in 0..n {
            let total = la.total + per_sec;
            la.tick(total);
        }
    }

    /// A state converged under one busy thread, ring full of 1 s deltas.
    fn one_thread_converged() -> LoadAvg {
        LoadAvg {
            loads: [SEC; S_LOADAVG_SZ],
            cur: 0,
            len: S_LOADAVG_SZ,
            total: 100 * SEC,
            hp: [65480, 65252, 64683],
            at: 0,
        }
    }

    #[test]
    fn constant_load_zero_stays_zero() {
        let mut la = LoadAvg::new();
        feed(&mut la, 0, 1000);
        assert!(la.is_warm());
        assert_eq!(la.hp, [0, 0, 0]);
        assert_eq!(la.avenrun(), [0, 0, 0]);
    }

    #[test]
    fn warm_up_reports_nothing_for_ten_seconds() {
        let mut la = LoadAvg::new();
        // Updates 1..=10 only fill the ring (len goes 1..=10).
        feed(&mut la, SEC, 10);
        assert_eq!(la.len, 10);
        assert!(!la.is_warm());
        assert_eq!(la.hp, [0, 0, 0]);
        assert_eq!(la.avenrun(), [0, 0, 0]);
        // Update 11: hr_avg = 11e9/11 = 1e9; nrun = 1e9/7812500 = 128;
        // from hp = 0, q = r = 0: hp += (128·f) >> 4
        //   f=135: 17280 >> 4 = 1080;  f=27: 3456 >> 4 = 216;  f=9: 1152 >> 4 = 72.
        feed(&mut la, SEC, 1);
        assert!(la.is_warm());
        assert_eq!(la.hp, [1080, 216, 72]);
        // 1080 >> 8 = 4, 216 >> 8 = 0, 72 >> 8 = 0.
        assert_eq!(la.avenrun(), [4, 0, 0]);
    }

    #[test]
    fn constant_load_one_thread_second_step_and_limit() {
        let mut la = LoadAvg::new();
        feed(&mut la, SEC, 12);
        // Step 2 from hp = [1080, 216, 72], nrun = 128, q = 0 for all:
        //  f=135: r = 1080·128 = 138240; r·135 >> 16 = 18662400 >> 16 = 284;
        //         (17280 − 284) >> 4 = 16996 >> 4 = 1062 → 2142
        //  f=27:  r = 27648; ·27 = 746496 >> 16 = 11; (3456 − 11) >> 4 = 215 → 431
        //  f=9:   r = 9216; ·9 = 82944 >> 16 = 1; (1152 − 1) >> 4 = 71 → 143
        assert_eq!(la.hp, [2142, 431, 143]);
        assert_eq!(la.avenrun(), [8, 1, 0]);
        // In the limit hp climbs (q = 0, so step = (128f − ⌊h·f/512⌋) >> 4,
        // never more than the distance to 65536) until the step is 0, i.e.
        // until ⌊h·f/512⌋ ≥ 128f − 15. The last steps are +1, so hp stops
        // exactly on the first such h:
        //  f=135: ⌊h·135/512⌋ ≥ 17265 ⇔ h ≥ 65480
        //  f=27:  ⌊h·27/512⌋  ≥ 3441  ⇔ h ≥ 65252
        //  f=9:   ⌊h·9/512⌋   ≥ 1137  ⇔ h ≥ 64683
        feed(&mut la, SEC, 20_000);
        assert_eq!(la.hp, [65480, 65252, 64683]);
        // So one busy thread shows 255, 254, 252 (not quite 256), as on illumos.
        assert_eq!(la.avenrun(), [255, 254, 252]);
    }

    #[test]
    fn one_thread_for_a_minute_follows_the_exponential() {
        // kstat.md: from 0, 60 s of one busy thread (10 s of warm-up, then
        // 50 updates) gives about 256·(1 − e^(−50/60)) ≈ 145.
        let mut la = LoadAvg::new();
        feed(&mut la, SEC, 60);
        let a = la.avenrun()[0];
        assert!((138..=150).contains(&a), "avenrun_1min {a}");
    }

    #[test]
    fn constant_load_two_and_a_half_threads() {
        let mut la = LoadAvg::new();
        feed(&mut la, 5 * SEC / 2, 11);
        // nrun = 2.5e9 / 7812500 = 320; hp = (320·f) >> 4:
        //  43200 >> 4 = 2700; 8640 >> 4 = 540; 2880 >> 4 = 180.
        assert_eq!(la.hp, [2700, 540, 180]);
        assert_eq!(la.avenrun(), [10, 2, 0]);
        // The limit: with h = 131072 + x (q = 256, r = 128x) the step is
        // (64f − ⌊x·f/512⌋) >> 4, zero once ⌊x·f/512⌋ ≥ 64f − 15:
        //  f=135: ⌊x·135/512⌋ ≥ 8625 ⇔ x ≥ 32712 → h = 163784 → 639
        //  f=27:  ⌊x·27/512⌋  ≥ 1713 ⇔ x ≥ 32484 → h = 163556 → 638
        //  f=9:   ⌊x·9/512⌋   ≥ 561  ⇔ x ≥ 31915 → h = 162987 → 636
        feed(&mut la, 5 * SEC / 2, 20_000);
        assert_eq!(la.hp, [163784, 163556, 162987]);
        assert_eq!(la.avenrun(), [639, 638, 636]);
    }

    #[test]
    fn step_up_from_idle() {
        let mut la = LoadAvg::new();
        feed(&mut la, 0, 11);
        assert_eq!(la.hp, [0, 0, 0]);
        // Two threads start: ring = 10×0 + 2e9; hr_avg = 2e9/11 = 181818181;
        // nrun = 181818181 / 7812500 = 23; hp = (23f) >> 4:
        //  3105 >> 4 = 194; 621 >> 4 = 38; 207 >> 4 = 12.
        feed(&mut la, 2 * SEC, 1);
        assert_eq!(la.hp, [194, 38, 12]);
        // Ring = 9×0 + 2×2e9: hr_avg = 363636363, nrun = 46.
        //  f=135: r = 194·128 = 24832; ·135 = 3352320 >> 16 = 51;
        //         (6210 − 51) >> 4 = 384 → 578
        //  f=27:  r = 4864; ·27 = 131328 >> 16 = 2; (1242 − 2) >> 4 = 77 → 115
        //  f=9:   r = 1536; ·9 = 13824 >> 16 = 0; 414 >> 4 = 25 → 37
        feed(&mut la, 2 * SEC, 1);
        assert_eq!(la.hp, [578, 115, 37]);
        assert_eq!(la.avenrun(), [2, 0, 0]);
    }

    #[test]
    fn step_down_from_one_thread() {
        let mut la = one_thread_converged();
        assert_eq!(la.avenrun(), [255, 254, 252]);
        // Idle: ring = 10×1e9 + 0; hr_avg = 10e9/11 = 909090909; nrun = 116.
        //  f=135: r = 65480·128 = 8381440; ·135 = 1131494400 >> 16 = 17265;
        //         (15660 − 17265) >> 4 = −1605 >> 4 = −101 → 65379
        //  f=27:  r = 8352256; ·27 = 225510912 >> 16 = 3441;
        //         (3132 − 3441) >> 4 = −309 >> 4 = −20 → 65232
        //  f=9:   r = 8279424; ·9 = 74514816 >> 16 = 1137;
        //         (1044 − 1137) >> 4 = −93 >> 4 = −6 → 64677
        feed(&mut la, 0, 1);
        assert_eq!(la.hp, [65379, 65232, 64677]);
        assert_eq!(la.avenrun(), [255, 254, 252]);
        // Ring = 9×1e9: hr_avg = 818181818, nrun = 104.
        //  f=135: r = 65379·128 = 8368512; ·135 = 1129749120 >> 16 = 17238;
        //         (14040 − 17238) >> 4 = −3198 >> 4 = −200 → 65179
        feed(&mut la, 0, 1);
        assert_eq!(la.hp[0], 65179);
        assert_eq!(la.avenrun()[0], 254);
        // Long idle: with nrun = 0 and q = 0 the step is −⌈⌊h·f/512⌋/16⌉,
        // −1 for small h, until ⌊h·f/512⌋ = 0: h·f < 512, i.e. h ≤ 3, 18, 56.
        feed(&mut la, 0, 20_000);
        assert_eq!(la.hp, [3, 18, 56]);
        assert_eq!(la.avenrun(), [0, 0, 0]);
    }

    #[test]
    fn saturates_at_0x7fffffff() {
        // nrun = 2^30 needs hr_avg = 2^30 · 7812500 ns per second.
        let per_sec = (1u64 << 30) * 7_812_500;
        // hp = 2^39 − 2^16: q = (2^23 − 1)·128 = 2^30 − 128, r = 0;
        // avenrun = hp >> 8 = 2^31 − 256 = 0x7fffff00.
        let mut la = LoadAvg {
            loads: [per_sec; S_LOADAVG_SZ],
            cur: 0,
            len: S_LOADAVG_SZ,
            total: 0,
            hp: [(1 << 39) - (1 << 16); 3],
            at: 0,
        };
        assert_eq!(la.avenrun(), [0x7fff_ff00; 3]);
        // One second at nrun = 2^30: step = (128·f − 0) >> 4 = 8f:
        // hp = 2^39 − 65536 + 1080 / 216 / 72, still below 2^39.
        feed(&mut la, per_sec, 1);
        assert_eq!(
            la.hp,
            [
                (1 << 39) - 65536 + 1080,
                (1 << 39) - 65536 + 216,
                (1 << 39) - 65536 + 72
            ]
        );
        // (2^39 − 64456) >> 8 = 2^31 − 252 (64456 = 251.78·256, rounds up
        // in the subtraction): 0x7fffff04.
        assert_eq!(la.avenrun()[0], 0x7fff_ff04);
        // At hp = 2^39 exactly (q = 2^30 = nrun, r = 0) the step is 0 and
        // the value no longer fits 31 bits: saturated, not wrapped to 2^31.
        la.hp = [1 << 39; 3];
        feed(&mut la, per_sec, 1);
        assert_eq!(la.hp, [1 << 39; 3]);
        assert_eq!(la.avenrun(), [0x7fff_ffff; 3]);
        // Far above (hp = 2^41, whose >> 8 would wrap a u32 to 0).
        la.hp = [1 << 41; 3];
        assert_eq!(la.avenrun(), [0x7fff_ffff; 3]);
    }

    #[test]
    fn catch_up_spreads_the_delta_over_the_missed_seconds() {
        // 11 s in one call, 11e9 + 5 ns: five updates of 1e9 + 1, six of
        // 1e9; the mean is still 1e9 (+0), nrun 128: same as 11 ticks.
        let mut la = LoadAvg::new();
        la.advance(11 * SEC + 5, 11);
        assert_eq!(la.loads[..5], [SEC + 1; 5]);
        assert_eq!(la.loads[5..], [SEC; 6]);
        assert_eq!(la.hp, [1080, 216, 72]);
        assert_eq!(la.total, 11 * SEC + 5);
    }

    #[test]
    fn catch_up_decays_at_wall_clock_rate() {
        // Three idle seconds seen in one sample decay as three ticks do.
        let mut la = one_thread_converged();
        la.advance(la.total, 3);
        // Steps 1 and 2 as in step_down_from_one_thread (65379, 65179);
        // step 3: ring 8×1e9 → hr_avg 727272727 → nrun 93;
        //  r = 65179·128 = 8342912; ·135 = 1126293120 >> 16 = 17185;
        //  (12555 − 17185) >> 4 = −4630 >> 4 = −290 → 64889 → 253.
        assert_eq!(la.hp[0], 64889);
        assert_eq!(la.avenrun()[0], 253);
        // Zero seconds: nothing moves.
        let before = la.clone();
        la.advance(la.total + SEC, 0);
        assert_eq!(la, before);
    }

    #[test]
    fn counter_going_backwards_counts_as_idle() {
        let mut la = LoadAvg::starting_at(50 * SEC);
        la.tick(40 * SEC);
        assert_eq!(la.loads[0], 0);
        assert_eq!(la.total, 40 * SEC);
    }

    #[test]
    fn state_survives_a_serde_round_trip() {
        let mut la = LoadAvg::new();
        feed(&mut la, 3 * SEC / 2, 37);
        let saved = serde_json::to_string(&la).unwrap();
        let mut resumed: LoadAvg = serde_json::from_str(&saved).unwrap();
        assert_eq!(resumed, la);
        feed(&mut la, SEC, 5);
        feed(&mut resumed, SEC, 5);
        assert_eq!(resumed.hp, la.hp);
    }
}
