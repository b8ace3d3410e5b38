//! Numbers as a console shows them: sizes in 1024-based units with at most
//! four characters (`512K`, `1.5G`), durations as `3d 04:05` or `04:05:06`,
//! load averages from FSCALE fixed point.

/// FSCALE: avenrun values are fixed point with 8 fractional bits.
pub const FSCALE: f64 = 256.0;

/// A size in bytes, in at most five characters: `0`, `812K`, `1.5M`, `23G`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "K", "M", "G", "T", "P"];
    if n < 1024 {
        return if n == 0 { "0".into() } else { format!("{n}B") };
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{v:.1}{}", UNITS[unit])
    } else {
        format!("{:.0}{}", v.floor(), UNITS[unit])
    }
}

/// A duration: `42s`, `05:03`, `04:05:06`, `3d 04:05`.
pub fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}")
    } else if h > 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// One load average from kstat's fixed point.
pub fn load(avenrun: u32) -> f64 {
    avenrun as f64 / FSCALE
}

/// Cut `s` to at most `width` characters, marking the cut with `…`.
pub fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// A local wall-clock time of day `HH:MM:SS` for seconds since the epoch.
pub fn clock(epoch: f64) -> String {
    let t = epoch as libc::time_t;
    // SAFETY: libc::tm is plain data, for which all zeros is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r only writes into the tm we pass it.
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if !ok {
        return "--:--:--".into();
    }
    format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
}

/// `HH:MM:SS` in UTC (for tests: no time zone in the output).
pub fn clock_utc(epoch: f64) -> String {
    let s = epoch as u64 % 86400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_fit_five_characters() {
        assert_eq!(bytes(0), "0");
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1536), "1.5K");
        assert_eq!(bytes(812 * 1024), "812K");
        assert_eq!(bytes(1023 * 1024 * 1024), "1023M");
        assert_eq!(bytes(3 << 30), "3.0G");
        for shift in 0..60 {
            assert!(bytes((1u64 << shift) * 3 / 2).len() <= 5);
        }
    }

    #[test]
    fn durations_grow_units() {
        assert_eq!(duration(42), "00:42");
        assert_eq!(duration(3 * 3600 + 65), "03:01:05");
        assert_eq!(duration(2 * 86400 + 3600 * 4 + 60 * 5), "2d 04:05");
    }

    #[test]
    fn load_is_fixed_point_over_256() {
        assert_eq!(load(512), 2.0);
        assert_eq!(load(64), 0.25);
    }

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("webserver", 4), "web…");
        assert_eq!(clip("web", 4), "web");
    }
}
