//! Issue 19 item 5: the fleet view in assets/ (the Grafana dashboard
//! grafana/zones-fleet.json, the Prometheus rules prometheus/zones.rules.yml
//! and the example prometheus/prometheus.yml; docs/fleet.md) checked the
//! way a user would find them broken:
//!
//! * `promtool check rules`, `promtool check config` and `promtool test
//!   rules` (the alert unit tests in zones.rules.test.yml) pass, and
//!   promtool's PromQL parser accepts every query of the dashboard. promtool
//!   is Debian's `prometheus` package, which .ci/run installs; a machine
//!   without it fails these tests, never skips them.
//! * Every PromQL query of the dashboard (panel targets and template
//!   variables) and of the rules names only metrics that a real zoned,
//!   with a real zone booted under all the rctls the queries read, exports
//!   at /metrics; every label they match or group by is one those metrics
//!   carry (or `instance`/`job`, which Prometheus adds); every label value
//!   they compare with `=` is one the scrape shows. Not a hand-kept list:
//!   a metric renamed in core/src/kstat/metrics.rs breaks this test.
//!
//! The PromQL reader here ([`scan`]) is small and purpose-made: it finds
//! the selectors (metric name and matchers) and the grouping labels of an
//! expression, passing over functions, operators, numbers, durations,
//! ranges, strings and Grafana's `$variables`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use zones_e2e::{Host, free_loopback_addr, http_get};

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets")
}

/// Run promtool in `dir`; its output, or a panic naming the command.
fn promtool(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("promtool {args:?}: {e} (install Debian's prometheus package; .ci/run does)")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool {args:?} in {}: {}\n{text}",
        dir.display(),
        out.status
    );
    text
}

#[test]
fn promtool_accepts_the_rules_and_the_example_config() {
    let dir = assets().join("prometheus");
    let rules = promtool(&dir, &["check", "rules", "zones.rules.yml"]);
    assert!(rules.contains("SUCCESS"), "{rules}");
    let config = promtool(&dir, &["check", "config", "prometheus.yml"]);
    assert!(
        config.contains("is valid prometheus config file"),
        "{config}"
    );
    // The example loads the rules, and its file_sd example exists.
    assert!(!config.contains("WARNING"), "{config}");
}

#[test]
fn promtool_unit_tests_of_the_alerts_pass() {
    let dir = assets().join("prometheus");
    let out = promtool(&dir, &["test", "rules", "zones.rules.test.yml"]);
    assert!(out.contains("SUCCESS"), "{out}");
    // Each alert of the rules file has a unit test.
    let tests = std::fs::read_to_string(dir.join("zones.rules.test.yml")).unwrap();
    for alert in rules_file().alerts {
        assert!(
            tests.contains(&format!("alertname: {alert}")),
            "zones.rules.test.yml has no test of {alert}"
        );
    }
}

/// Grafana's variables as Prometheus would see them once Grafana has
/// put in the values: every job, host and zone, a one-minute rate window.
fn interpolate(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$job", ".*")
        .replace("$instance", ".*")
        .replace("$zone", ".*")
}

#[test]
fn promtool_parses_every_dashboard_query() {
    // Each panel query (variables put in) as a recording rule: promtool
    // check rules parses it with Prometheus' own PromQL parser.
    let dir = tempfile::tempdir().unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let queries: Vec<(String, String)> = dashboard_queries(&dashboard())
        .into_iter()
        .filter(|(what, _)| what.starts_with("panel "))
        .collect();
    for (i, (what, expr)) in queries.iter().enumerate() {
        rules.push_str(&format!(
            "      # {what}\n      - record: dashboard:query{i}\n        expr: {}\n",
            serde_json::Value::String(interpolate(expr))
        ));
    }
    std::fs::write(dir.path().join("dashboard.rules.yml"), &rules).unwrap();
    let out = promtool(dir.path(), &["check", "rules", "dashboard.rules.yml"]);
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", queries.len())),
        "{out}\n{rules}"
    );
    // And the check can fail: a broken query is refused.
    std::fs::write(
        dir.path().join("broken.rules.yml"),
        "groups:\n  - name: b\n    rules:\n      - record: b:x\n        expr: \"sum by (zone (zone_processes)\"\n",
    )
    .unwrap();
    let broken = Command::new("promtool")
        .args(["check", "rules", "broken.rules.yml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!broken.status.success(), "promtool accepted a broken query");
}

/// A metric selector: the name and its matchers (label, operator, value).
#[derive(Debug, PartialEq)]
struct Selector {
    name: String,
    matchers: Vec<(String, String, String)>,
}

/// What [`scan`] finds in one expression.
#[derive(Debug, Default, PartialEq)]
struct Query {
    selectors: Vec<Selector>,
    /// Labels named in by/without/on/ignoring/group_left/group_right and
    /// the label argument of Grafana's label_values().
    labels: Vec<String>,
}

/// Words of PromQL that are not metric names when they stand alone.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "atan2",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "inf",
    "nan",
];

/// Keywords followed by a parenthesised list of label names.
const GROUPING: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The selectors and grouping labels of a PromQL expression (or of a
/// Grafana `label_values(SELECTOR, LABEL)` variable query).
fn scan(expr: &str) -> Result<Query, String> {
    let mut q = Query::default();
    let trimmed = expr.trim();
    if let Some(inner) = trimmed
        .strip_prefix("label_values(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let (sel, label) = match top_level_last_comma(inner) {
            Some(i) => (&inner[..i], &inner[i + 1..]),
            None => ("", inner),
        };
        q.labels.push(label.trim().to_string());
        let mut s = scan(sel)?;
        q.selectors.append(&mut s.selectors);
        q.labels.append(&mut s.labels);
        return Ok(q);
    }
    let c: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let ident_start = |ch: char| ch.is_ascii_alphabetic() || ch == '_' || ch == ':';
    let ident_char = |ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':';
    let skip_ws = |i: &mut usize| {
        while *i < c.len() && c[*i].is_whitespace() {
            *i += 1;
        }
    };
    let read_string = |i: &mut usize| -> Result<String, String> {
        let quote = c[*i];
        let mut s = String::new();
        *i += 1;
        while *i < c.len() && c[*i] != quote {
            if c[*i] == '\\' && quote != '`' {
                *i += 1;
            }
            if *i < c.len() {
                s.push(c[*i]);
            }
            *i += 1;
        }
        if *i >= c.len() {
            return Err(format!("unterminated string in {expr:?}"));
        }
        *i += 1;
        Ok(s)
    };
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '"' || ch == '\'' || ch == '`' {
            read_string(&mut i)?;
        } else if ch == '$' {
            i += 1;
            if i < c.len() && c[i] == '{' {
                while i < c.len() && c[i] != '}' {
                    i += 1;
                }
                i += 1;
            } else {
                while i < c.len() && ident_char(c[i]) {
                    i += 1;
                }
            }
        } else if ch.is_ascii_digit()
            || (ch == '.' && c.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // A number or a duration (5m, 1e9, 0.9).
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.') {
                i += 1;
            }
        } else if ch == '[' {
            while i < c.len() && c[i] != ']' {
                i += 1;
            }
            if i >= c.len() {
                return Err(format!("unclosed [ in {expr:?}"));
            }
            i += 1;
        } else if ch == '{' {
            return Err(format!("a selector without a metric name in {expr:?}"));
        } else if ident_start(ch) {
            let start = i;
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let mut j = i;
            skip_ws(&mut j);
            let next = c.get(j).copied();
            if GROUPING.contains(&word.as_str()) {
                if next == Some('(') {
                    let close = c[j..]
                        .iter()
                        .position(|x| *x == ')')
                        .ok_or(format!("unclosed {word} ( in {expr:?}"))?;
                    let list: String = c[j + 1..j + close].iter().collect();
                    q.labels.extend(
                        list.split(',')
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .map(String::from),
                    );
                    i = j + close + 1;
                }
            } else if KEYWORDS.contains(&word.as_str()) || next == Some('(') {
                // An operator, an aggregation or a function call.
            } else {
                let mut sel = Selector {
                    name: word,
                    matchers: vec![],
                };
                if next == Some('{') {
                    i = j + 1;
                    loop {
                        skip_ws(&mut i);
                        match c.get(i) {
                            None => return Err(format!("unclosed {{ in {expr:?}")),
                            Some('}') => {
                                i += 1;
                                break;
                            }
                            Some(',') => {
                                i += 1;
                                continue;
                            }
                            _ => {}
                        }
                        let ls = i;
                        while i < c.len() && ident_char(c[i]) {
                            i += 1;
                        }
                        let label: String = c[ls..i].iter().collect();
                        skip_ws(&mut i);
                        let os = i;
                        while i < c.len() && matches!(c[i], '=' | '!' | '~') {
                            i += 1;
                        }
                        let op: String = c[os..i].iter().collect();
                        skip_ws(&mut i);
                        if label.is_empty()
                            || !["=", "!=", "=~", "!~"].contains(&op.as_str())
                            || !matches!(c.get(i), Some('"' | '\'' | '`'))
                        {
                            return Err(format!("bad matcher at {ls} in {expr:?}"));
                        }
                        let value = read_string(&mut i)?;
                        sel.matchers.push((label, op, value));
                    }
                }
                q.selectors.push(sel);
            }
        } else {
            i += 1;
        }
    }
    Ok(q)
}

/// Where the last comma outside braces, parentheses and strings is.
fn top_level_last_comma(s: &str) -> Option<usize> {
    let (mut depth, mut quote, mut last) = (0i32, None, None);
    for (i, ch) in s.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, '{' | '(' | '[') => depth += 1,
            (None, '}' | ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 => last = Some(i),
            _ => {}
        }
    }
    last
}

#[test]
fn the_promql_reader_finds_names_matchers_and_grouping_labels() {
    let q = scan(
        r#"sum by (instance, zone) (rate(zone_cpu_user_seconds_total{zone=~"$zone",job="x"}[$__rate_interval]) + rate(zone_cpu_system_seconds_total[5m] offset 1h)) / on (instance) group_left (brand) zone_info > 0.9 and up == bool 1"#,
    )
    .unwrap();
    let names: Vec<&str> = q.selectors.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "zone_cpu_user_seconds_total",
            "zone_cpu_system_seconds_total",
            "zone_info",
            "up"
        ]
    );
    assert_eq!(
        q.selectors[0].matchers,
        [
            ("zone".into(), "=~".into(), "$zone".into()),
            ("job".into(), "=".into(), "x".into())
        ]
    );
    assert_eq!(q.labels, ["instance", "zone", "instance", "brand"]);
    let v = scan(r#"label_values(zone_state{instance=~"$instance"}, zone)"#).unwrap();
    assert_eq!(v.selectors[0].name, "zone_state");
    assert_eq!(v.labels, ["zone"]);
    assert!(scan("label_values(zone)").unwrap().selectors.is_empty());
    // Strings are not names; a misspelt name is found as it is written.
    let s = scan(r#"label_replace(zone_proceses, "a", "$1", "zone", "(.*)")"#).unwrap();
    assert_eq!(s.selectors.len(), 1);
    assert_eq!(s.selectors[0].name, "zone_proceses");
    assert!(scan(r#"{__name__="x"}"#).is_err());
    assert!(scan(r#"x{a="b"#).is_err());
}

/// What the rules file holds: (where, expression) pairs, the recorded
/// names and the alert names.
struct Rules {
    exprs: Vec<(String, String)>,
    recorded: Vec<String>,
    alerts: Vec<String>,
}

fn rules_file() -> Rules {
    let path = assets().join("prometheus/zones.rules.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_norway::Value =
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = Rules {
        exprs: vec![],
        recorded: vec![],
        alerts: vec![],
    };
    for g in doc["groups"].as_sequence().expect("groups") {
        for rule in g["rules"].as_sequence().expect("rules") {
            let expr = rule["expr"].as_str().expect("expr").to_string();
            if let Some(name) = rule["record"].as_str() {
                r.exprs.push((format!("record {name}"), expr));
                r.recorded.push(name.to_string());
            } else {
                let name = rule["alert"].as_str().expect("record or alert");
                r.exprs.push((format!("alert {name}"), expr));
                r.alerts.push(name.to_string());
            }
        }
    }
    r
}

/// The dashboard's queries: (where, expression) pairs.
fn dashboard_queries(d: &serde_json::Value) -> Vec<(String, String)> {
    fn panels(p: &serde_json::Value, out: &mut Vec<(String, String)>) {
        for panel in p.as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or("?");
            for t in panel["targets"].as_array().into_iter().flatten() {
                let expr = t["expr"]
                    .as_str()
                    .unwrap_or_else(|| panic!("panel {title}: a target without expr"));
                out.push((format!("panel {title:?} {}", t["refId"]), expr.to_string()));
            }
            panels(&panel["panels"], out);
        }
    }
    let mut out = vec![];
    panels(&d["panels"], &mut out);
    for v in d["templating"]["list"].as_array().expect("templating.list") {
        if v["type"] == "query" {
            let name = v["name"].as_str().unwrap();
            let q = v["query"]["query"]
                .as_str()
                .or(v["query"].as_str())
                .unwrap_or_else(|| panic!("variable {name} has no query"));
            out.push((format!("variable {name}"), q.to_string()));
            if let Some(def) = v["definition"].as_str() {
                assert_eq!(def, q, "variable {name}: definition and query differ");
            }
        }
    }
    out
}

fn dashboard() -> serde_json::Value {
    let path = assets().join("grafana/zones-fleet.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_dashboard_serves_one_host_or_many_with_a_row_per_idea() {
    let d = dashboard();
    assert!(d["schemaVersion"].as_u64().unwrap() >= 36, "schemaVersion");
    assert_eq!(d["uid"], "zones-fleet");
    let vars: BTreeMap<&str, &serde_json::Value> = d["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v))
        .collect();
    assert_eq!(vars["datasource"]["type"], "datasource");
    for v in ["instance", "zone"] {
        assert_eq!(vars[v]["multi"], true, "{v} takes several values");
        assert_eq!(vars[v]["includeAll"], true, "{v} has All");
    }
    let rows: Vec<&str> = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "row")
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            "Zone state",
            "Load (avenrun)",
            "CPU",
            "Memory",
            "Processes",
            "Network",
            "Resource-control refusals"
        ]
    );
    // Every panel reads the chosen data source, and every zone query is
    // narrowed by the host and zone variables.
    let mut ids = BTreeSet::new();
    for p in d["panels"].as_array().unwrap() {
        assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate panel id");
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
        for t in p["targets"].as_array().unwrap() {
            let e = t["expr"].as_str().unwrap();
            assert!(e.contains("instance=~\"$instance\""), "{e}");
        }
    }
    // Each idea of the issue has its query.
    let all: String = dashboard_queries(&d)
        .into_iter()
        .map(|(_, e)| e + "\n")
        .collect();
    for needle in [
        "zone_load_average",
        "zone_cpu_user_seconds_total",
        "rctl=\"zone.cpu-cap\"",
        "rctl=\"capped-memory.physical\"",
        "rctl=\"zone.max-processes\"",
        "zone_network_receive_bytes_total",
        "zone_network_transmit_bytes_total",
        "zone_fork_failures_total",
        "zone_state",
        "up{",
    ] {
        assert!(all.contains(needle), "no query reads {needle}");
    }
}

/// One family or sample name of a scrape and the label sets it carries.
type Exported = BTreeMap<String, Vec<BTreeMap<String, String>>>;

/// The names a scrape exports (each `# TYPE` family, counters as
/// `_total`) and, per sample name, the label sets of its samples.
fn exported(text: &str) -> Exported {
    let mut out: Exported = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            let name = if kind == "counter" {
                format!("{name}_total")
            } else {
                name.to_string()
            };
            out.entry(name).or_default();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let sel = line.rsplit_once(' ').expect("name value").0;
        let q = scan(sel).unwrap_or_else(|e| panic!("sample {line:?}: {e}"));
        let s = &q.selectors[0];
        let labels = s
            .matchers
            .iter()
            .map(|(l, _, v)| (l.clone(), v.clone()))
            .collect();
        out.entry(s.name.clone()).or_default().push(labels);
    }
    out
}

/// What is wrong with `q` against the exported metrics (`recorded`:
/// names rules define, allowed too, with the labels they keep).
fn problems(what: &str, q: &Query, exp: &Exported, recorded: &[String]) -> Vec<String> {
    // Prometheus' own per-target series, and the labels it adds.
    let scrape_labels = ["instance", "job"];
    let all_labels: BTreeSet<&str> = exp
        .values()
        .flatten()
        .flat_map(|l| l.keys().map(String::as_str))
        .chain(scrape_labels)
        .collect();
    let mut bad = vec![];
    for s in &q.selectors {
        let known = exp.get(&s.name);
        if s.name != "up" && known.is_none() && !recorded.contains(&s.name) {
            bad.push(format!("{what}: {} is not exported", s.name));
            continue;
        }
        let Some(samples) = known.filter(|v| !v.is_empty()) else {
            continue;
        };
        for (label, op, value) in &s.matchers {
            if scrape_labels.contains(&label.as_str()) {
                continue;
            }
            if !samples.iter().any(|l| l.contains_key(label)) {
                bad.push(format!("{what}: {} has no label {label}", s.name));
                continue;
            }
            // Literal values (and literal alternatives) must occur.
            let literal = !value.contains('$')
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-|".contains(c));
            let wanted: Vec<&str> = match op.as_str() {
                "=" => vec![value.as_str()],
                "=~" if literal => value.split('|').collect(),
                _ => vec![],
            };
            for w in wanted {
                if !samples
                    .iter()
                    .any(|l| l.get(label).map(String::as_str) == Some(w))
                {
                    bad.push(format!("{what}: no {}{{{label}=\"{w}\"}}", s.name));
                }
            }
        }
    }
    for l in &q.labels {
        if !all_labels.contains(l.as_str()) {
            bad.push(format!("{what}: no metric carries the label {l}"));
        }
    }
    bad
}

#[test]
fn the_checker_reports_what_a_zoned_does_not_export() {
    let exp = exported(
        "# TYPE zone_limit gauge\nzone_limit{zone=\"a\",zoneid=\"1\",rctl=\"zone.max-processes\"} 5\n# TYPE zone_cpu_user_seconds counter\n# EOF\n",
    );
    let check = |e: &str| problems("t", &scan(e).unwrap(), &exp, &["zone:x:y".into()]);
    assert!(check(r#"zone_limit{rctl="zone.max-processes",instance="h"}"#).is_empty());
    assert!(check("rate(zone_cpu_user_seconds_total[5m]) + zone:x:y + up").is_empty());
    assert_eq!(
        check("zone_cpu_user_seconds")[0],
        "t: zone_cpu_user_seconds is not exported"
    );
    assert_eq!(check(r#"zone_limit{rctl="zone.max-lwps"}"#).len(), 1);
    assert_eq!(
        check(r#"zone_limit{rctl=~"zone.max-processes|nope"}"#).len(),
        1
    );
    assert_eq!(check(r#"zone_limit{reason="cap"}"#).len(), 1);
    assert_eq!(check("sum by (zonename) (zone_limit)").len(), 1);
}

#[test]
fn every_query_names_what_a_real_zoned_exports() {
    // A shared-IP zone on a LAN of this machine only, so that it has a
    // link and its network counters have samples; the LAN outlives the
    // host (dropped after it).
    let lan = zones_e2e::lan::Lan::new(false);
    let mut host = Host::new("fleetview");
    let zone = "fleet";
    host.write_conf(&format!(
        "{zone} {{\n  path = \"{}/roots/{zone}\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n  ip4.addr = \"{}|{}/24\";\n  zone.max-processes = 100;\n  zone.max-lwps = 200;\n  capped-memory.physical = 256M;\n  zone.cpu-cap = 50;\n}}\n",
        host.dir.path().display(),
        lan.host_if,
        lan.addr4(5)
    ));
    let addr = free_loopback_addr();
    host.start_zoned_with(&["--metrics", &addr]);
    host.halt_on_drop.push(zone.into());
    host.ok("zoneadm", &["-z", zone, "install"]);
    host.ok("zoneadm", &["-z", zone, "boot"]);
    // Wait for a sample of the booted zone and its link (the sampler's
    // next ticks).
    let running = format!("zone_state{{zone=\"{zone}\",");
    let link = format!("zone_network_receive_bytes_total{{zone=\"{zone}\",");
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let got = http_get(&addr, "/metrics");
        if let Ok(t) = &got
            && t.lines().any(|l| {
                l.starts_with(&running) && l.contains("state=\"running\"") && l.ends_with(" 1")
            })
            && t.lines().any(|l| l.starts_with(&link))
        {
            break got.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no running {zone} at {addr}/metrics: {got:?}\n{}",
            host.zoned_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let exp = exported(&text);
    assert!(
        exp["zone_network_receive_bytes_total"]
            .iter()
            .any(|l| l["zone"] == zone && l["interface"] == lan.host_if),
        "no link counters of {zone} on {}:\n{text}",
        lan.host_if
    );
    // The scrape has what the queries need to be checked against.
    for (rctl, v) in [
        ("zone.max-processes", 100.0),
        ("zone.max-lwps", 200.0),
        ("capped-memory.physical", 268435456.0),
        ("zone.cpu-cap", 50.0),
    ] {
        let line = format!("zone_limit{{zone=\"{zone}\"");
        assert!(
            text.lines().any(|l| l.starts_with(&line)
                && l.contains(&format!("rctl=\"{rctl}\""))
                && l.rsplit_once(' ').and_then(|(_, x)| x.parse::<f64>().ok()) == Some(v)),
            "{rctl} = {v} not in\n{text}"
        );
    }

    let rules = rules_file();
    let mut bad = vec![];
    let mut checked = 0;
    for (what, expr) in dashboard_queries(&dashboard()) {
        let q = scan(&expr).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(!q.selectors.is_empty(), "{what} reads no metric: {expr}");
        // The dashboard works without the rules loaded: raw metrics only.
        bad.extend(problems(&what, &q, &exp, &[]));
        checked += 1;
    }
    for (what, expr) in &rules.exprs {
        let q = scan(expr).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(!q.selectors.is_empty(), "{what} reads no metric: {expr}");
        bad.extend(problems(what, &q, &exp, &rules.recorded));
        checked += 1;
    }
    assert!(
        bad.is_empty(),
        "{} problems in {checked} queries:\n{}\n/metrics:\n{text}",
        bad.len(),
        bad.join("\n")
    );
    assert!(checked >= 30, "only {checked} queries found");
}
