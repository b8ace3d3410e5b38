//! # jail.conf parse time against the file's size
//!
//! `cargo bench -p zones --bench jailconf` (a release build): issue 14's
//! item 11. Files nested 1,000, 2,000 and 20,000 levels deep (once 4-6 s,
//! over 30 s, and much longer: refused now at level 33, see
//! `jailconf::MAX_BLOCK_DEPTH`), then flat files of growing size (sibling
//! jails with `depend`, wildcards and quoted values, and nests of the
//! greatest depth) whose time per byte must stay flat. It prints each
//! figure and exits 1 when the 20,000-level file takes 1 s or more, or
//! when the biggest file's time per byte is over three times the
//! smallest's.

use std::time::{Duration, Instant};
use zones::jailconf::{Config, MAX_BLOCK_DEPTH};

fn nested(top: &str, levels: usize) -> String {
    let mut s = format!("{top} {{ ");
    for _ in 1..levels {
        s.push_str("a { ");
    }
    s.push_str("persist; ");
    for _ in 0..levels {
        s.push_str("} ");
    }
    s.push('\n');
    s
}

fn flat(jails: usize) -> String {
    let mut s = String::from("* { persist; exec.consolelog = \"/var/log/jail_${name}.log\"; }\n");
    for i in 0..jails {
        s.push_str(&format!(
            "j{i} {{ path = \"/zones/j{i}\"; depend = j{}; exec.start = '/bin/sh /etc/rc'; }}\nj{i}.* {{ allow.mount; }}\n",
            i.saturating_sub(1)
        ));
        if i % 16 == 0 {
            s.push_str(&nested(&format!("n{i}"), MAX_BLOCK_DEPTH));
        }
    }
    s
}

/// The best of three parses.
fn time(src: &str) -> (Duration, Result<usize, String>) {
    let mut best = Duration::MAX;
    let mut out = Err(String::new());
    for _ in 0..3 {
        let t = Instant::now();
        let r = Config::parse_str(src, "bench.conf");
        best = best.min(t.elapsed());
        out = r.map(|c| c.jails.len()).map_err(|e| {
            let e = e.to_string();
            e.lines().next().unwrap_or("").to_string()
        });
    }
    (best, out)
}

fn main() {
    let mut ok = true;
    for levels in [1_000, 2_000, 20_000] {
        let src = nested("a", levels);
        let (t, r) = time(&src);
        let what = match r {
            Ok(n) => format!("{n} jails"),
            Err(e) => e,
        };
        println!(
            "nested {levels:>6} levels ({:>7} bytes): {:>9.3} ms  {what}",
            src.len(),
            t.as_secs_f64() * 1e3
        );
        if levels == 20_000 && t >= Duration::from_secs(1) {
            ok = false;
        }
    }
    let mut per_byte = Vec::new();
    for jails in [2_000, 8_000, 32_000] {
        let src = flat(jails);
        let (t, r) = time(&src);
        let ns = t.as_secs_f64() * 1e9 / src.len() as f64;
        per_byte.push(ns);
        println!(
            "flat {jails:>6} jails ({:>9} bytes): {:>9.3} ms  {ns:.1} ns/byte  {}",
            src.len(),
            t.as_secs_f64() * 1e3,
            match r {
                Ok(n) => format!("{n} jails"),
                Err(e) => e,
            }
        );
    }
    if per_byte[per_byte.len() - 1] > 3.0 * per_byte[0] {
        println!("time per byte grew with the file");
        ok = false;
    }
    if !ok {
        std::process::exit(1);
    }
}
