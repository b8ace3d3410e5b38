//! # The kstat view of a snapshot
//!
//! illumos publishes a zone's counters as named kstats, each addressed by
//! `module:instance:name` and holding named statistics; kstat(1M) lists
//! them. [`kstats`] builds that list from a [`Snapshot`], for every kernel
//! zone (the global zone included):
//!
//! ```text
//! caps:ID:lockedmem_zone_ID   class zone_caps  usage value zonename
//! caps:ID:nprocs_zone_ID      class zone_caps  usage value zonename
//! caps:ID:swapresv_zone_ID    class zone_caps  usage value zonename
//! zones:ID:NAME               class zone_misc  avenrun_1min ... zonename
//! link:ID:IFNAME              class net        rbytes64 obytes64 ... zonename
//! ```
//!
//! NAME is the zone name cut to 30 bytes (the kstat name field is short;
//! tools match on the instance). Every kstat also carries the pseudo
//! statistics `crtime` and `snaptime` (hrtime, printed as seconds with 9
//! decimals, or `0`), and `class` in the parseable form.
//!
//! [`render`] selects and prints them as kstat(1M) does: kstats sorted by
//! module (case-insensitively), instance and name; statistics sorted by
//! name, case-insensitively; selectors are shell globs over module,
//! instance, name and statistic (`-m -i -n -s` or one
//! `module:instance:name:statistic` argument each, empty fields matching
//! everything) and over the class (`-c`); a field written `/RE/` is an
//! extended regular expression instead ([`pattern_match`]). Five styles:
//! the human one (`module: ...  instance: ...` blocks), `-p`
//! (`m:i:n:s<TAB>value`), `-C` (`m:i:n:s:value`), `-l` (`m:i:n:s`, the
//! names only) and `-j` (illumos' JSON array of `{module, instance, name,
//! class, type, snaptime, data}`). Pure functions: no I/O, no clock.

use crate::snapshot::{Snapshot, ZoneSnapshot};
use std::fmt::Write;

/// KSTAT_TYPE_NAMED, the `type` of every kstat here in JSON.
pub const KSTAT_TYPE_NAMED: u8 = 1;

/// A statistic's value, typed as illumos types it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U32(u32),
    U64(u64),
    Str(String),
    /// ns of the monotonic clock; printed as seconds.
    HrTime(u64),
}

impl Value {
    fn write(&self, out: &mut String) {
        write!(out, "{self}").expect("writing to a String");
    }
}

/// A value as `kstat -p` prints it (zonefs' one-statistic files too).
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::U32(v) => write!(f, "{v}"),
            Value::U64(v) => write!(f, "{v}"),
            Value::Str(s) => write!(f, "{s}"),
            Value::HrTime(0) => write!(f, "0"),
            Value::HrTime(ns) => write!(f, "{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000),
        }
    }
}

/// One named kstat.
#[derive(Clone, Debug, PartialEq)]
pub struct Kstat {
    pub module: &'static str,
    pub instance: u32,
    pub name: String,
    pub class: &'static str,
    pub crtime: u64,
    pub snaptime: u64,
    /// The named statistics, without the pseudo ones.
    pub stats: Vec<(&'static str, Value)>,
}

impl Kstat {
    /// The statistics to print: named ones plus crtime, snaptime (and
    /// class when `with_class`), sorted case-insensitively by name.
    pub fn all_stats(&self, with_class: bool) -> Vec<(&'static str, Value)> {
        let mut v = self.stats.clone();
        v.push(("crtime", Value::HrTime(self.crtime)));
        v.push(("snaptime", Value::HrTime(self.snaptime)));
        if with_class {
            v.push(("class", Value::Str(self.class.to_string())));
        }
        v.sort_by_key(|(n, _)| n.to_ascii_lowercase());
        v
    }
}

fn caps(z: &ZoneSnapshot, snaptime: u64, what: &str, usage: u64, rctl: &str) -> Kstat {
    let id = z.id.0;
    Kstat {
        module: "caps",
        instance: id,
        name: format!("{what}_zone_{id}"),
        class: "zone_caps",
        crtime: z.crtime,
        snaptime,
        stats: vec![
            ("usage", Value::U64(usage)),
            ("value", Value::U64(z.rctl(rctl))),
            ("zonename", Value::Str(z.name.as_str().to_string())),
        ],
    }
}

fn misc(z: &ZoneSnapshot, snaptime: u64) -> Kstat {
    let k = &z.kstat;
    let u32v = |v: u64| Value::U32(v as u32);
    Kstat {
        module: "zones",
        instance: z.id.0,
        name: z.name.kstat_name().to_string(),
        class: "zone_misc",
        crtime: z.crtime,
        snaptime,
        stats: vec![
            ("avenrun_15min", Value::U32(k.avenrun[2])),
            ("avenrun_1min", Value::U32(k.avenrun[0])),
            ("avenrun_5min", Value::U32(k.avenrun[1])),
            ("boot_time", Value::U64(z.boot_time)),
            ("forkfail_cap", u32v(k.forkfail_cap)),
            ("forkfail_misc", u32v(k.forkfail_misc)),
            ("forkfail_noproc", u32v(k.forkfail_noproc)),
            ("forkfail_nomem", u32v(k.forkfail_nomem)),
            ("init_pid", Value::U32(z.init_pid)),
            ("nested_interp", Value::U32(0)),
            ("nsec_sys", Value::U64(k.nsec_sys)),
            ("nsec_user", Value::U64(k.nsec_user)),
            ("nsec_waitrq", Value::U64(k.nsec_waitrq)),
            ("zonename", Value::Str(z.name.as_str().to_string())),
        ],
    }
}

/// The four kstats of one zone, in kstat(1M)'s order (caps lockedmem,
/// nprocs, swapresv, then zones). `hrtime` is the snapshot's time, the
/// `snaptime` of a zone that was never sampled. zonefs renders a zone's
/// `kstat/all` from these, so it is byte-identical to `kstat -p`.
pub fn zone_kstats(z: &ZoneSnapshot, hrtime: u64) -> [Kstat; 4] {
    let snaptime = if z.kstat.snaptime != 0 {
        z.kstat.snaptime
    } else {
        hrtime
    };
    let k = &z.kstat;
    [
        caps(
            z,
            snaptime,
            "lockedmem",
            k.lockedmem,
            "zone.max-locked-memory",
        ),
        caps(z, snaptime, "nprocs", k.nprocs, "zone.max-processes"),
        caps(z, snaptime, "swapresv", k.swapresv, "zone.max-swap"),
        misc(z, snaptime),
    ]
}

/// Every kstat of every kernel zone of `snap`, in kstat(1M)'s order.
pub fn kstats(snap: &Snapshot) -> Vec<Kstat> {
    let mut out = Vec::with_capacity(snap.zones.len() * 4);
    for z in &snap.zones {
        out.extend(zone_kstats(z, snap.hrtime));
        out.extend(super::link::kstats(z, snap.hrtime));
    }
    out.sort_by(|a, b| {
        (
            a.module.to_ascii_lowercase(),
            a.instance,
            a.name.to_ascii_lowercase(),
        )
            .cmp(&(
                b.module.to_ascii_lowercase(),
                b.instance,
                b.name.to_ascii_lowercase(),
            ))
    });
    out
}

/// Does `text` match the shell glob `pattern` (`*`, `?`, `[a-z]`, `[!x]`,
/// `\` escapes)?
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point for the last `*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') => Some(pi + 1),
            Some('[') => class_match(&p, pi, t[ti]),
            Some('\\') if pi + 1 < p.len() => (p[pi + 1] == t[ti]).then_some(pi + 2),
            Some(c) => (*c == t[ti]).then_some(pi + 1),
            None => None,
        };
        match step {
            Some(next) => {
                pi = next;
                ti += 1;
            }
            None => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Is `pattern` written `/RE/` (a regular expression, as kstat(1M)
/// takes them) rather than a glob?
fn regex_body(pattern: &str) -> Option<&str> {
    pattern
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix('/'))
        .filter(|_| pattern.len() >= 2)
}

/// Check a selector field: a `/RE/` that does not compile is kstat's
/// usage error (the regex library's message).
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    match regex_body(pattern) {
        Some(re) => regex::Regex::new(re).map(|_| ()).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// Does `text` match a selector field: `/RE/` an (unanchored) extended
/// regular expression, anything else a shell glob ([`glob_match`]).
pub fn pattern_match(pattern: &str, text: &str) -> bool {
    match regex_body(pattern) {
        Some(re) => regex::Regex::new(re).is_ok_and(|r| r.is_match(text)),
        None => glob_match(pattern, text),
    }
}

/// Match `c` against the bracket expression at `p[start]` (`[`); the
/// index after the expression if it matches. An unclosed `[` is literal.
fn class_match(p: &[char], start: usize, c: char) -> Option<usize> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() && (p[i] != ']' || first) {
        first = false;
        let lo = p[i];
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if lo <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    if i >= p.len() {
        // No closing bracket: the `[` stands for itself.
        return (c == '[').then_some(start + 1);
    }
    (matched != negate).then_some(i + 1)
}

/// One `module:instance:name:statistic` selector (globs; empty = `*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    pub module: String,
    pub instance: String,
    pub name: String,
    pub statistic: String,
}

impl Default for Selector {
    fn default() -> Self {
        Selector {
            module: "*".into(),
            instance: "*".into(),
            name: "*".into(),
            statistic: "*".into(),
        }
    }
}

impl Selector {
    /// Parse a `module[:instance[:name[:statistic]]]` argument.
    pub fn parse(arg: &str) -> Result<Selector, String> {
        let fields: Vec<&str> = arg.split(':').collect();
        if fields.len() > 4 {
            return Err(format!("{arg}: more than module:instance:name:statistic"));
        }
        let mut s = Selector::default();
        let slots = [
            &mut s.module,
            &mut s.instance,
            &mut s.name,
            &mut s.statistic,
        ];
        for (slot, f) in slots.into_iter().zip(fields) {
            if !f.is_empty() {
                check_pattern(f)?;
                *slot = f.to_string();
            }
        }
        Ok(s)
    }

    fn matches_kstat(&self, k: &Kstat) -> bool {
        pattern_match(&self.module, k.module)
            && pattern_match(&self.instance, &k.instance.to_string())
            && pattern_match(&self.name, &k.name)
    }
}

/// How to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// kstat's default blocks.
    Human,
    /// `-p`: `module:instance:name:statistic<TAB>value`.
    Parseable,
    /// `-C`: `module:instance:name:statistic:value`.
    Colon,
    /// `-l`: `module:instance:name:statistic`, the names only.
    List,
    /// `-j`: illumos' kstat JSON.
    Json,
}

/// What to print: the class glob (`-c`) and the selectors (at least one;
/// an empty list means everything).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub class: String,
    pub selectors: Vec<Selector>,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            class: "*".into(),
            selectors: vec![Selector::default()],
        }
    }
}

fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Print the kstats `query` selects in `style`. Returns the text and
/// whether any statistic matched (kstat exits 1 when none did). Each
/// selector is applied in turn over all kstats, as kstat(1M) does.
pub fn render(kstats: &[Kstat], query: &Query, style: Style) -> (String, bool) {
    let mut out = String::new();
    let mut matched = false;
    let mut first_instance = true;
    if style == Style::Json {
        out.push('[');
    }
    let default = [Selector::default()];
    let selectors: &[Selector] = if query.selectors.is_empty() {
        &default
    } else {
        &query.selectors
    };
    for sel in selectors {
        for k in kstats {
            if !sel.matches_kstat(k) || !pattern_match(&query.class, k.class) {
                continue;
            }
            let parseable = matches!(style, Style::Parseable | Style::Colon | Style::List);
            let stats: Vec<_> = k
                .all_stats(parseable)
                .into_iter()
                .filter(|(n, _)| pattern_match(&sel.statistic, n))
                .collect();
            if stats.is_empty() {
                continue;
            }
            matched = true;
            match style {
                Style::Human => {
                    let _ = writeln!(
                        out,
                        "module: {:<30.30}  instance: {:<6}",
                        k.module, k.instance
                    );
                    let _ = writeln!(out, "name:   {:<30.30}  class:    {:.30}", k.name, k.class);
                    for (n, v) in &stats {
                        let _ = write!(out, "\t{n:<30}  ");
                        v.write(&mut out);
                        out.push('\n');
                    }
                    out.push('\n');
                }
                Style::Parseable | Style::Colon => {
                    let sep = if style == Style::Colon { ':' } else { '\t' };
                    for (n, v) in &stats {
                        let _ = write!(out, "{}:{}:{}:{n}{sep}", k.module, k.instance, k.name);
                        v.write(&mut out);
                        out.push('\n');
                    }
                }
                Style::List => {
                    for (n, _) in &stats {
                        let _ = writeln!(out, "{}:{}:{}:{n}", k.module, k.instance, k.name);
                    }
                }
                Style::Json => {
                    if !first_instance {
                        out.push(',');
                    }
                    out.push_str("{\n\t\"module\": ");
                    json_str(k.module, &mut out);
                    let _ = write!(out, ",\n\t\"instance\": {},\n\t\"name\": ", k.instance);
                    json_str(&k.name, &mut out);
                    out.push_str(",\n\t\"class\": ");
                    json_str(k.class, &mut out);
                    let _ = write!(out, ",\n\t\"type\": {KSTAT_TYPE_NAMED},\n\t\"snaptime\": ");
                    Value::HrTime(k.snaptime).write(&mut out);
                    out.push_str(",\n\t\"data\": {\n");
                    for (i, (n, v)) in stats.iter().enumerate() {
                        let _ = write!(out, "\t\t\"{n}\": ");
                        match v {
                            Value::Str(s) => json_str(s, &mut out),
                            v => v.write(&mut out),
                        }
                        if i + 1 < stats.len() {
                            out.push(',');
                        }
                        out.push('\n');
                    }
                    out.push_str("\t}\n}");
                }
            }
            first_instance = false;
        }
    }
    if style == Style::Json {
        out.push_str("]\n");
    }
    (out, matched)
}

/// A kstat(1M) command line, parsed: what the `kstat` tool does with
/// `[-pjq] [-c CLASS] [-m M] [-i I] [-n N] [-s S] [M:I:N:S ...] [INTERVAL [COUNT]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub query: Query,
    /// Seconds between reports; `None` for one report.
    pub interval: Option<u64>,
    /// Reports to print; `None` with an interval means forever.
    pub count: Option<u64>,
}

/// The `-c -m -i -n -s` options (each a glob; `None` when not given).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options<'a> {
    pub class: Option<&'a str>,
    pub module: Option<&'a str>,
    pub instance: Option<&'a str>,
    pub name: Option<&'a str>,
    pub statistic: Option<&'a str>,
}

impl Request {
    /// Parse as kstat(1M): an operand that is an unsigned number is the
    /// interval, then the count (each at least 1); any other operand is a
    /// `module:instance:name:statistic` selector; selectors and `-m -i -n
    /// -s` may not be mixed. Errors are kstat's usage messages.
    pub fn parse(opts: &Options, operands: &[String]) -> Result<Request, String> {
        let mut selectors = vec![];
        let mut numbers = vec![];
        for op in operands {
            match op.parse::<u64>() {
                Ok(n) => {
                    if n < 1 {
                        return Err(if numbers.is_empty() {
                            "Interval must be an integer >= 1".into()
                        } else {
                            "Count must be an integer >= 1".into()
                        });
                    }
                    if numbers.len() == 2 {
                        return Err(format!("{op}: too many numeric operands"));
                    }
                    numbers.push(n);
                }
                Err(_) => selectors.push(Selector::parse(op)?),
            }
        }
        for f in [
            opts.class,
            opts.module,
            opts.instance,
            opts.name,
            opts.statistic,
        ]
        .into_iter()
        .flatten()
        {
            check_pattern(f)?;
        }
        let named = opts.module.is_some()
            || opts.instance.is_some()
            || opts.name.is_some()
            || opts.statistic.is_some();
        if named && !selectors.is_empty() {
            return Err(
                "[module[:instance[:name[:statistic]]]] and -m -i -n -s are mutually exclusive"
                    .into(),
            );
        }
        if selectors.is_empty() {
            let d = Selector::default();
            selectors.push(Selector {
                module: opts.module.map_or(d.module, str::to_string),
                instance: opts.instance.map_or(d.instance, str::to_string),
                name: opts.name.map_or(d.name, str::to_string),
                statistic: opts.statistic.map_or(d.statistic, str::to_string),
            });
        }
        Ok(Request {
            query: Query {
                class: opts.class.unwrap_or("*").to_string(),
                selectors,
            },
            interval: numbers.first().copied(),
            count: numbers.get(1).copied(),
        })
    }

    /// One report of `snap` (the text and whether anything matched).
    pub fn render(&self, snap: &Snapshot, style: Style) -> (String, bool) {
        render(&kstats(snap), &self.query, style)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::Params;
    use crate::snapshot::{Kstat as Counters, Refs};
    use crate::zone::{Brand, Status, ZoneId, ZoneName};
    use std::path::PathBuf;
    use std::sync::Arc;

    fn zone(id: u32, name: &str, params: &[&str], k: Counters) -> Arc<ZoneSnapshot> {
        let mut p = Params::new();
        for a in params {
            p.set_arg(a).unwrap();
        }
        Arc::new(ZoneSnapshot {
            id: ZoneId(id),
            name: if id == 0 {
                ZoneName::global()
            } else {
                ZoneName::new(name).unwrap()
            },
            uniqid: u64::from(id),
            status: Status::Running,
            root: PathBuf::from("/"),
            brand: Brand::Whole,
            hostname: name.into(),
            parent: ZoneId(0),
            init_pid: if id == 0 { 1 } else { 4242 },
            zsched_pid: 0,
            boot_time: 1_700_000_000 + u64::from(id),
            crtime: 1_500_000_000 * u64::from(id),
            privileges: vec![],
            params: p,
            refs: Refs::default(),
            kstat: k,
            procs: vec![],
        })
    }

    fn snapshot() -> Snapshot {
        let web = Counters {
            nprocs: 5,
            nlwps: 9,
            lockedmem: 65536,
            swapresv: 1 << 28,
            avenrun: [128, 64, 32],
            nsec_user: 3_000_000_001,
            nsec_sys: 42,
            nsec_waitrq: 7,
            forkfail_cap: 2,
            snaptime: 12_345_678_901_234,
            ..Counters::default()
        };
        let global = Counters {
            nprocs: 80,
            snaptime: 12_345_678_901_234,
            ..Counters::default()
        };
        Snapshot {
            seq: 1,
            hrtime: 12_345_678_901_234,
            zones: vec![
                zone(0, "global", &[], global),
                zone(
                    3,
                    "web",
                    &["zone.max-processes=100", "zone.max-locked-memory=1048576"],
                    web,
                ),
                zone(
                    12,
                    &format!("long{}", "x".repeat(36)),
                    &[],
                    Counters::default(),
                ),
            ],
            ..Snapshot::default()
        }
    }

    fn run(args: &[&str], class: &str, style: Style) -> (String, bool) {
        let q = Query {
            class: class.into(),
            selectors: args.iter().map(|a| Selector::parse(a).unwrap()).collect(),
        };
        render(&kstats(&snapshot()), &q, style)
    }

    #[test]
    fn cli_md_example_avenrun_of_one_zone() {
        let (out, matched) = run(&["zones:*:web:avenrun_1min"], "*", Style::Parseable);
        assert!(matched);
        assert_eq!(out, "zones:3:web:avenrun_1min\t128\n");
    }

    #[test]
    fn nprocs_usage_of_every_zone() {
        let (out, _) = run(&["caps::nprocs_zone_*:usage"], "*", Style::Parseable);
        assert_eq!(
            out,
            "caps:0:nprocs_zone_0:usage\t80\n\
             caps:3:nprocs_zone_3:usage\t5\n\
             caps:12:nprocs_zone_12:usage\t0\n"
        );
    }

    #[test]
    fn parseable_caps_kstat_with_pseudo_statistics_sorted() {
        let (out, _) = run(&["caps:3:nprocs_zone_3"], "*", Style::Parseable);
        assert_eq!(
            out,
            "caps:3:nprocs_zone_3:class\tzone_caps\n\
             caps:3:nprocs_zone_3:crtime\t4.500000000\n\
             caps:3:nprocs_zone_3:snaptime\t12345.678901234\n\
             caps:3:nprocs_zone_3:usage\t5\n\
             caps:3:nprocs_zone_3:value\t100\n\
             caps:3:nprocs_zone_3:zonename\tweb\n"
        );
        // Unset rctls read UINT64_MAX; the global zone's crtime 0 prints 0.
        let (out, _) = run(
            &["caps:0:swapresv_zone_0:value", "caps:0::crtime"],
            "*",
            Style::Parseable,
        );
        assert_eq!(
            out,
            "caps:0:swapresv_zone_0:value\t18446744073709551615\n\
             caps:0:lockedmem_zone_0:crtime\t0\n\
             caps:0:nprocs_zone_0:crtime\t0\n\
             caps:0:swapresv_zone_0:crtime\t0\n"
        );
    }

    #[test]
    fn zones_kstat_name_is_cut_to_30_bytes_and_zonename_is_whole() {
        let (out, _) = run(&["zones:12::zonename"], "*", Style::Parseable);
        let long = format!("long{}", "x".repeat(36));
        assert_eq!(out, format!("zones:12:{}:zonename\t{long}\n", &long[..30]));
    }

    #[test]
    fn class_filter_and_misses() {
        let (out, matched) = run(&[], "zone_misc", Style::Parseable);
        assert!(matched);
        assert!(out.lines().all(|l| l.starts_with("zones:")));
        assert_eq!(out.lines().count(), 3 * 17);
        let (out, matched) = run(&["nosuch"], "*", Style::Parseable);
        assert!(!matched);
        assert_eq!(out, "");
        assert!(Selector::parse("a:b:c:d:e").is_err());
    }

    #[test]
    fn human_format_is_kstat_blocks() {
        let (out, _) = run(&["zones:3"], "*", Style::Human);
        let expected = "module: zones                           instance: 3     \n\
name:   web                             class:    zone_misc\n\
\tavenrun_15min                   32\n\
\tavenrun_1min                    128\n\
\tavenrun_5min                    64\n\
\tboot_time                       1700000003\n\
\tcrtime                          4.500000000\n\
\tforkfail_cap                    2\n\
\tforkfail_misc                   0\n\
\tforkfail_nomem                  0\n\
\tforkfail_noproc                 0\n\
\tinit_pid                        4242\n\
\tnested_interp                   0\n\
\tnsec_sys                        42\n\
\tnsec_user                       3000000001\n\
\tnsec_waitrq                     7\n\
\tsnaptime                        12345.678901234\n\
\tzonename                        web\n\
\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn json_is_illumos_kstat_json() {
        let (out, _) = run(
            &["caps:3:lockedmem_zone_3", "zones:3::avenrun_1min"],
            "*",
            Style::Json,
        );
        let expected = "[{\n\
\t\"module\": \"caps\",\n\
\t\"instance\": 3,\n\
\t\"name\": \"lockedmem_zone_3\",\n\
\t\"class\": \"zone_caps\",\n\
\t\"type\": 1,\n\
\t\"snaptime\": 12345.678901234,\n\
\t\"data\": {\n\
\t\t\"crtime\": 4.500000000,\n\
\t\t\"snaptime\": 12345.678901234,\n\
\t\t\"usage\": 65536,\n\
\t\t\"value\": 1048576,\n\
\t\t\"zonename\": \"web\"\n\
\t}\n\
},{\n\
\t\"module\": \"zones\",\n\
\t\"instance\": 3,\n\
\t\"name\": \"web\",\n\
\t\"class\": \"zone_misc\",\n\
\t\"type\": 1,\n\
\t\"snaptime\": 12345.678901234,\n\
\t\"data\": {\n\
\t\t\"avenrun_1min\": 128\n\
\t}\n\
}]\n";
        assert_eq!(out, expected);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[1]["data"]["avenrun_1min"], 128);
        let (empty, _) = run(&["nosuch"], "*", Style::Json);
        assert_eq!(empty, "[]\n");
    }

    #[test]
    fn glob_matcher_is_a_shell_glob() {
        assert!(glob_match("*", ""));
        assert!(glob_match("nprocs_zone_*", "nprocs_zone_12"));
        assert!(!glob_match("nprocs_zone_*", "lockedmem_zone_12"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*_zone_[0-9]", "caps_zone_7"));
        assert!(!glob_match("*_zone_[!0-9]", "caps_zone_7"));
        assert!(glob_match("[]x]", "]"));
        assert!(glob_match("a\\*", "a*"));
        assert!(!glob_match("a\\*", "ab"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("[abc", "[abc"));
        assert!(glob_match("avenrun_*min", "avenrun_15min"));
    }

    #[test]
    fn command_line_operands_as_kstat_reads_them() {
        let ops = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let r = Request::parse(
            &Options::default(),
            &ops(&["zones:*:web:avenrun_1min", "5", "3"]),
        )
        .unwrap();
        assert_eq!(r.interval, Some(5));
        assert_eq!(r.count, Some(3));
        assert_eq!(r.query.selectors[0].name, "web");
        let (out, _) = r.render(&snapshot(), Style::Parseable);
        assert_eq!(out, "zones:3:web:avenrun_1min\t128\n");
        let r = Request::parse(
            &Options {
                module: Some("caps"),
                statistic: Some("usage"),
                class: Some("zone_caps"),
                ..Options::default()
            },
            &ops(&["2"]),
        )
        .unwrap();
        assert_eq!((r.interval, r.count), (Some(2), None));
        assert_eq!(r.query.class, "zone_caps");
        let (out, _) = r.render(&snapshot(), Style::Parseable);
        assert_eq!(out.lines().count(), 9);
        assert!(
            Request::parse(
                &Options {
                    module: Some("caps"),
                    ..Options::default()
                },
                &ops(&["zones"])
            )
            .is_err()
        );
        assert!(Request::parse(&Options::default(), &ops(&["0"])).is_err());
        assert!(Request::parse(&Options::default(), &ops(&["1", "2", "3"])).is_err());
    }

    #[test]
    fn colon_and_list_styles_as_kstat_c_and_l_print_them() {
        let (out, matched) = run(&["zones:*:web:avenrun_1min"], "*", Style::Colon);
        assert!(matched);
        assert_eq!(out, "zones:3:web:avenrun_1min:128\n");
        let (out, _) = run(&["zones:*:web:/^(class|crtime)$/"], "*", Style::List);
        assert_eq!(out, "zones:3:web:class\nzones:3:web:crtime\n");
    }

    #[test]
    fn a_field_between_slashes_is_a_regular_expression() {
        let (out, _) = run(&["/^zo/:/3/:/^w.b$/:/^avenrun_1m/"], "*", Style::Parseable);
        assert_eq!(out, "zones:3:web:avenrun_1min\t128\n");
        let (out, _) = run(&["caps::/^nprocs_/:usage"], "/_caps$/", Style::List);
        assert!(
            out.lines()
                .all(|l| l.starts_with("caps:") && l.contains(":nprocs_zone_")),
            "{out}"
        );
        assert!(pattern_match("/a|b/", "xbx"));
        assert!(!pattern_match("/^a$/", "ab"));
        // A lone `/` is a glob, and a bad expression is refused at parse.
        assert!(pattern_match("/", "/"));
        assert!(Selector::parse("zones:/(/").is_err());
    }
}
