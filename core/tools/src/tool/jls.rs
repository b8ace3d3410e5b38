//! `jls` formats (cli.md, FreeBSD jls(8)), byte for byte.
//!
//! | flags      | output                                                        |
//! |------------|---------------------------------------------------------------|
//! | (none)     | `   JID  IP Address      Hostname                      Path`, rows `%6d  %-15.15s %-29.29s %.74s` |
//! | `-N`       | the same with the name in a 15-wide first column               |
//! | `-v`       | four header lines; per jail: jid/hostname/path, name/state, cpuset id, one line per address |
//! | `-h`       | a line of parameter names, then their values                   |
//! | `-n`       | `name=value` pairs, booleans as `name` / `noname`              |
//! | `-s`       | `-n` limited to parameters jail(8) can set, quoted             |
//! | `-q`       | values with blanks or quotes are quoted                        |
//! | `--json`   | `{"__version": "2", "jail-information": {"jail": [...]}}`      |
//!
//! Without parameter names, `-h`, `-n` and `-s` show every parameter:
//! top-level names first, then the dotted ones, each group sorted.
//!
//! Empty values as jls prints them: an empty string is `""` (always); a
//! list with nothing in it (no addresses) is `-` in a table, nothing
//! after `name=`, `""` with `-q`; the default table's address column is
//! blank when the jail has none. `-N` shows a jail's name, or its jid
//! when it has none (a FreeBSD jail is always named; ours may not be).
//!
//! JSON is libxo's: fields in the order jls emits them (not sorted),
//! `"__version": "2"` first, numbers as numbers in the tables but every
//! value a string with `-n` (jailparam_export's text), booleans `true` /
//! `false`.

use crate::param::{self, Kind, Mutability, PARAMS, Params, Value};
use crate::zone::ZoneId;
use serde_json::{Value as Json, json};
use std::fmt::Write;

/// What `jls` was asked to print.
#[derive(Clone, Debug, Default)]
pub struct JlsFlags {
    pub header: bool,
    pub nameval: bool,
    pub quoted: bool,
    pub skip: bool,
    pub verbose: bool,
    pub jail_name: bool,
    pub json: bool,
}

impl JlsFlags {
    /// Apply one option letter the way jls(8) combines them (later
    /// letters clear what they conflict with).
    pub fn apply(&mut self, c: char) {
        match c {
            'h' => {
                self.skip = false;
                self.verbose = false;
                self.header = true;
            }
            'N' => self.jail_name = true,
            'n' => {
                self.verbose = false;
                self.nameval = true;
            }
            'q' => self.quoted = true,
            's' => {
                self.header = false;
                self.verbose = false;
                self.nameval = true;
                self.quoted = true;
                self.skip = true;
            }
            'v' => {
                self.header = false;
                self.nameval = false;
                self.skip = false;
                self.verbose = true;
            }
            _ => {}
        }
    }
}

/// Parameters that belong to the engine or to a zone, not to a jail: not
/// part of jls's "all".
const NOT_JAIL: &[&str] = &[
    "lastjid", "status", "uniqid", "initpid", "privset", "flags", "network",
];

/// Every parameter name jls shows for "all", in jls's order.
pub fn all_names(jails: &[(ZoneId, Params)]) -> Vec<String> {
    let mut names: Vec<String> = PARAMS
        .iter()
        .filter(|s| !NOT_JAIL.contains(&s.name))
        .filter(|s| {
            // Zone-side and jail(8) pseudo-parameters only when some jail has them.
            let pseudo = s.name.starts_with("exec.")
                || s.name.starts_with("zone.")
                || s.name.starts_with("capped-memory.")
                || matches!(
                    s.name,
                    "command"
                        | "depend"
                        | "stop.timeout"
                        | "limitpriv"
                        | "brand"
                        | "autoboot"
                        | "initname"
                        | "bootargs"
                        | "initnorestart"
                        | "sched_class"
                        | "fs_allowed"
                        | "secflags"
                        | "ip_hostname"
                );
            !pseudo || jails.iter().any(|(_, p)| p.get(s.name).is_some())
        })
        .map(|s| s.name.to_string())
        .collect();
    names.sort_by(|a, b| {
        let (da, db) = (a.contains('.'), b.contains('.'));
        da.cmp(&db).then(a.cmp(b))
    });
    names
}

fn value_of(p: &Params, name: &str) -> (Kind, Value) {
    let spec = param::lookup(name);
    let kind = spec.map_or(Kind::Str, |s| s.kind);
    let v = p.get(name).cloned().unwrap_or_else(|| Value::empty(kind));
    (kind, v)
}

/// The parameters with `jid` filled from the id the walk found.
fn with_jid(id: ZoneId, p: &Params) -> Params {
    let mut p = p.clone();
    p.insert("jid", Value::Int(id.0 as i64));
    p
}

/// `a.b.c` → `a.b.noc`; `persist` → `nopersist`.
fn noname(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((h, l)) => format!("{h}.no{l}"),
        None => format!("no{name}"),
    }
}

fn quote(v: &str, quoted: bool) -> String {
    let q = if v.contains('\'') {
        Some('"')
    } else if v.contains('"') {
        Some('\'')
    } else if v.contains(' ') || v.contains('\t') {
        Some('"')
    } else {
        None
    };
    match q {
        Some(c) if quoted => format!("{c}{v}{c}"),
        _ => v.to_string(),
    }
}

fn trunc(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The addresses of `param` (ip4.addr, ip6.addr) as FreeBSD's jls shows
/// them: the address alone, without the `IFACE|` and `/PREFIX` jail.conf
/// gives it with (those are how the zone's interface is made).
fn bare_addrs(p: &Params, param: &str) -> Vec<String> {
    p.list(param)
        .into_iter()
        .map(|a| {
            crate::runtime::netcfg::ZoneAddr::parse(&a)
                .map(|z| z.addr.to_string())
                .unwrap_or(a)
        })
        .collect()
}

fn first_ip4(p: &Params) -> String {
    bare_addrs(p, "ip4.addr")
        .first()
        .cloned()
        .unwrap_or_default()
}

/// The name `-N` shows: the jail's, else its jid.
fn name_or_jid(id: ZoneId, p: &Params) -> String {
    match p.str("name") {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => id.0.to_string(),
    }
}

/// The text (or JSON) jls prints for these jails.
pub fn render(jails: &[(ZoneId, Params)], names: &[String], f: &JlsFlags) -> String {
    if f.json {
        return render_json(jails, names, f);
    }
    let mut out = String::new();
    let explicit = !names.is_empty();
    let verbose = f.verbose && !explicit;
    let default = !explicit && !f.header && !f.nameval && !verbose;
    let names: Vec<String> = if explicit {
        names.to_vec()
    } else {
        all_names(jails)
    };
    if verbose {
        out.push_str("   JID  Hostname                      Path\n");
        out.push_str("        Name                          State\n");
        out.push_str("        CPUSetID\n");
        out.push_str("        IP Address(es)\n");
        for (id, p) in jails {
            let host = p.str("host.hostname").unwrap_or("");
            let path = p.str("path").unwrap_or("");
            let name = p.str("name").unwrap_or("");
            let state = if p.bool("dying") == Some(true) {
                "DYING"
            } else {
                "ACTIVE"
            };
            let _ = writeln!(
                out,
                "{:>6}  {:<29} {}",
                id.0,
                trunc(host, 29),
                trunc(path, 74)
            );
            let _ = writeln!(out, "        {:<29} {}", trunc(name, 29), state);
            let _ = writeln!(out, "        {}", p.int("cpuset.id").unwrap_or(0));
            for a in bare_addrs(p, "ip4.addr")
                .iter()
                .chain(bare_addrs(p, "ip6.addr").iter())
            {
                let _ = writeln!(out, "        {a}");
            }
        }
        return out;
    }
    if default {
        if f.jail_name {
            let _ = writeln!(
                out,
                " {:<15} {:<15} {:<29} Path",
                "JID", "IP Address", "Hostname"
            );
        } else {
            out.push_str("   JID  IP Address      Hostname                      Path\n");
        }
        for (id, p) in jails {
            if f.jail_name {
                let _ = write!(out, " {:<15} ", name_or_jid(*id, p));
            } else {
                let _ = write!(out, "{:>6}  ", id.0);
            }
            let _ = writeln!(
                out,
                "{:<15} {:<29} {}",
                trunc(&first_ip4(p), 15),
                trunc(p.str("host.hostname").unwrap_or(""), 29),
                trunc(p.str("path").unwrap_or(""), 74)
            );
        }
        return out;
    }
    if f.header {
        let _ = writeln!(out, "{}", names.join(" "));
    }
    for (id, p) in jails {
        let p = &with_jid(*id, p);
        let mut fields = Vec::new();
        for n in &names {
            let spec = param::lookup(n);
            if f.skip {
                if spec.is_none_or(|s| s.mutability == Mutability::ReadOnly) {
                    continue;
                }
                // A parameter under a "new/inherit" switch only when new.
                if let Some((parent, _)) = n.split_once('.')
                    && matches!(parent, "host" | "vnet" | "ip4" | "ip6")
                    && p.str(parent).is_some_and(|v| v != "new")
                {
                    continue;
                }
            }
            let (kind, v) = value_of(p, n);
            if f.nameval && kind == Kind::Bool {
                let b = v.as_bool().unwrap_or(false);
                fields.push(if b { n.clone() } else { noname(n) });
                continue;
            }
            let text = v.to_string();
            let shown = if text.is_empty() && kind == Kind::Str {
                "\"\"".to_string()
            } else if text.is_empty() {
                if f.quoted {
                    "\"\"".to_string()
                } else if f.nameval {
                    String::new()
                } else {
                    "-".to_string()
                }
            } else {
                quote(&text, f.quoted)
            };
            fields.push(if f.nameval {
                format!("{n}={shown}")
            } else {
                shown
            });
        }
        let _ = writeln!(out, "{}", fields.join(" "));
    }
    out
}

/// The message of a jail that is not there, as FreeBSD's kernel words
/// it: `jail 5 not found` for a jid, `jail "web" not found` for a name.
pub fn not_found(key: &str) -> String {
    match key.parse::<u32>() {
        Ok(jid) if jid != 0 => format!("jail {jid} not found"),
        _ => format!("jail \"{key}\" not found"),
    }
}

/// A JSON object whose fields keep the order they were added in, as
/// libxo emits them.
#[derive(Default)]
struct Obj(Vec<(String, String)>);

impl Obj {
    fn put(&mut self, k: &str, v: Json) {
        self.0.push((k.to_string(), v.to_string()));
    }

    fn text(&self) -> String {
        let fields: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}:{v}", Json::from(k.as_str())))
            .collect();
        format!("{{{}}}", fields.join(","))
    }
}

fn render_json(jails: &[(ZoneId, Params)], names: &[String], f: &JlsFlags) -> String {
    let explicit = !names.is_empty();
    let verbose = f.verbose && !explicit;
    let default = !explicit && !f.header && !f.nameval && !verbose;
    let all = if explicit {
        names.to_vec()
    } else {
        all_names(jails)
    };
    let mut list = Vec::new();
    for (id, p) in jails {
        let mut o = Obj::default();
        if verbose {
            o.put("jid", json!(id.0));
            o.put("hostname", json!(p.str("host.hostname").unwrap_or("")));
            o.put("path", json!(p.str("path").unwrap_or("")));
            o.put("name", json!(p.str("name").unwrap_or("")));
            let dying = p.bool("dying") == Some(true);
            o.put("state", json!(if dying { "DYING" } else { "ACTIVE" }));
            o.put("cpusetid", json!(p.int("cpuset.id").unwrap_or(0)));
            o.put("ipv4_addrs", json!(bare_addrs(p, "ip4.addr")));
            o.put("ipv6_addrs", json!(bare_addrs(p, "ip6.addr")));
        } else if default {
            if f.jail_name {
                o.put("name", json!(name_or_jid(*id, p)));
            } else {
                o.put("jid", json!(id.0));
            }
            o.put("ipv4", json!(first_ip4(p)));
            o.put("hostname", json!(p.str("host.hostname").unwrap_or("")));
            o.put("path", json!(p.str("path").unwrap_or("")));
        } else {
            let p = &with_jid(*id, p);
            for n in &all {
                if f.skip && param::lookup(n).is_none_or(|s| s.mutability == Mutability::ReadOnly) {
                    continue;
                }
                let (kind, v) = value_of(p, n);
                let j = match (kind, &v) {
                    _ if matches!(n.as_str(), "ip4.addr" | "ip6.addr") => json!(v.as_list()),
                    (_, Value::Bool(b)) => json!(b),
                    // -n: every value as jailparam_export writes it.
                    (_, Value::Int(i)) if f.nameval => json!(i.to_string()),
                    (_, Value::Int(i)) => json!(i),
                    (_, Value::List(l)) => json!(l.join(",")),
                    (_, Value::Str(s)) => json!(s),
                };
                o.put(n, j);
            }
        }
        list.push(o.text());
    }
    format!(
        "{{\"__version\": \"2\", \"jail-information\": {{\"jail\": [{}]}}\n}}\n",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::params_from_args;

    fn jails() -> Vec<(ZoneId, Params)> {
        let mut www = params_from_args(&[
            "name=www",
            "path=/zones/www",
            "host.hostname=www",
            "persist",
            "ip4.addr=10.0.0.5,10.0.0.6",
        ])
        .unwrap();
        www.insert("dying", Value::Bool(false));
        let mut db = params_from_args(&[
            "name=db",
            "path=/zones/db",
            "host.hostname=db.example.org",
            "nopersist",
            "exec.start=/bin/sh /etc/rc",
        ])
        .unwrap();
        db.insert("dying", Value::Bool(true));
        vec![(ZoneId(1), www), (ZoneId(2), db)]
    }

    fn flags(s: &str) -> JlsFlags {
        let mut f = JlsFlags::default();
        for c in s.chars() {
            f.apply(c);
        }
        f
    }

    #[test]
    fn default_format_matches_jls() {
        assert_eq!(
            render(&jails(), &[], &flags("")),
            "   JID  IP Address      Hostname                      Path\n     1  10.0.0.5        www                           /zones/www\n     2                  db.example.org                /zones/db\n"
        );
    }

    #[test]
    fn name_column_with_capital_n() {
        assert_eq!(
            render(&jails(), &[], &flags("N")),
            " JID             IP Address      Hostname                      Path\n www             10.0.0.5        www                           /zones/www\n db                              db.example.org                /zones/db\n"
        );
    }

    #[test]
    fn addresses_show_without_interface_or_prefix() {
        let mut p = params_from_args(&[
            "name=web",
            "path=/zones/web",
            "ip4.addr=em0|192.168.1.10/24,10.0.0.7",
            "ip6.addr=em0|fd00::10/64",
        ])
        .unwrap();
        p.insert("dying", Value::Bool(false));
        let j = vec![(ZoneId(4), p)];
        let text = render(&j, &[], &flags(""));
        assert!(text.contains(" 192.168.1.10 "), "{text}");
        let text = render(&j, &[], &flags("v"));
        for a in [
            "        192.168.1.10\n",
            "        10.0.0.7\n",
            "        fd00::10\n",
        ] {
            assert!(text.contains(a), "{a:?} in {text}");
        }
        let mut f = flags("v");
        f.json = true;
        let v: serde_json::Value = serde_json::from_str(&render(&j, &[], &f)).unwrap();
        let jail = &v["jail-information"]["jail"][0];
        assert_eq!(
            jail["ipv4_addrs"],
            json!(["192.168.1.10", "10.0.0.7"]),
            "{v}"
        );
        assert_eq!(jail["ipv6_addrs"], json!(["fd00::10"]), "{v}");
    }

    #[test]
    fn verbose_format_has_four_header_lines_and_every_address() {
        let out = render(&jails()[..1], &[], &flags("v"));
        assert_eq!(
            out,
            "   JID  Hostname                      Path\n        Name                          State\n        CPUSetID\n        IP Address(es)\n     1  www                           /zones/www\n        www                           ACTIVE\n        0\n        10.0.0.5\n        10.0.0.6\n"
        );
        assert!(render(&jails()[1..], &[], &flags("v")).contains("DYING"));
    }

    #[test]
    fn name_value_pairs_show_booleans_as_name_or_noname() {
        let names: Vec<String> = ["jid", "name", "persist", "exec.start", "ip4.addr"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            render(&jails(), &names, &flags("n")),
            "jid=1 name=www persist exec.start= ip4.addr=10.0.0.5,10.0.0.6\njid=2 name=db nopersist exec.start=/bin/sh /etc/rc ip4.addr=\n"
        );
        assert_eq!(
            render(&jails()[1..], &names, &flags("nq")),
            "jid=2 name=db nopersist exec.start=\"/bin/sh /etc/rc\" ip4.addr=\"\"\n"
        );
    }

    #[test]
    fn header_line_then_values() {
        let names: Vec<String> = ["jid", "name", "ip6.addr"].map(String::from).to_vec();
        assert_eq!(
            render(&jails(), &names, &flags("h")),
            "jid name ip6.addr\n1 www -\n2 db -\n"
        );
    }

    #[test]
    fn settable_only_with_s_skips_read_only_parameters() {
        let out = render(&jails()[..1], &[], &flags("s"));
        assert!(out.contains("name=www"), "{out}");
        assert!(out.contains(" persist"), "{out}");
        assert!(!out.contains("dying"), "{out}");
        assert!(!out.contains("children.cur"), "{out}");
    }

    #[test]
    fn all_parameters_are_top_level_first_then_dotted_sorted() {
        let names = all_names(&jails());
        let first_dotted = names.iter().position(|n| n.contains('.')).unwrap();
        assert!(names[..first_dotted].iter().all(|n| !n.contains('.')));
        assert!(names[first_dotted..].iter().all(|n| n.contains('.')));
        assert!(names.contains(&"exec.start".to_string()));
        assert!(!names.contains(&"zone.cpu-cap".to_string()));
    }

    #[test]
    fn json_is_libxo_version_2() {
        let out = render(&jails()[..1], &[], &flags("")).len();
        assert!(out > 0);
        let j: Json = serde_json::from_str(&render(
            &jails()[..1],
            &[],
            &JlsFlags {
                json: true,
                ..Default::default()
            },
        ))
        .unwrap();
        assert_eq!(j["__version"], "2");
        let jail = &j["jail-information"]["jail"][0];
        assert_eq!(jail["jid"], 1);
        assert_eq!(jail["hostname"], "www");
        assert_eq!(jail["ipv4"], "10.0.0.5");
        assert_eq!(jail["path"], "/zones/www");
        let mut f = flags("n");
        f.json = true;
        let j: Json = serde_json::from_str(&render(&jails()[..1], &[], &f)).unwrap();
        let jail = &j["jail-information"]["jail"][0];
        assert_eq!(jail["persist"], true);
        assert_eq!(jail["ip4.addr"], json!(["10.0.0.5", "10.0.0.6"]));
    }

    #[test]
    fn capital_n_without_a_name_shows_the_jid() {
        let mut j = jails();
        j[1].1.insert("name", Value::Str(String::new()));
        let out = render(&j, &[], &flags("N"));
        assert!(
            out.ends_with(
                "\n 2                               db.example.org                /zones/db\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn an_empty_string_is_two_quotes() {
        let mut j = jails();
        j[0].1.insert("host.domainname", Value::Str(String::new()));
        let names: Vec<String> = ["host.domainname", "ip6.addr"].map(String::from).to_vec();
        assert_eq!(
            render(&j[..1], &names, &flags("h")),
            "host.domainname ip6.addr\n\"\" -\n"
        );
        assert_eq!(
            render(&j[..1], &names, &flags("n")),
            "host.domainname=\"\" ip6.addr=\n"
        );
    }

    #[test]
    fn json_fields_in_emission_order_as_libxo_writes_them() {
        let mut f = flags("");
        f.json = true;
        assert_eq!(
            render(&jails(), &[], &f),
            "{\"__version\": \"2\", \"jail-information\": {\"jail\": [{\"jid\":1,\"ipv4\":\"10.0.0.5\",\"hostname\":\"www\",\"path\":\"/zones/www\"}, {\"jid\":2,\"ipv4\":\"\",\"hostname\":\"db.example.org\",\"path\":\"/zones/db\"}]}\n}\n"
        );
        let names: Vec<String> = ["name", "jid", "persist", "children.max"]
            .map(String::from)
            .to_vec();
        let mut f = flags("n");
        f.json = true;
        assert_eq!(
            render(&jails()[..1], &names, &f),
            "{\"__version\": \"2\", \"jail-information\": {\"jail\": [{\"name\":\"www\",\"jid\":\"1\",\"persist\":true,\"children.max\":\"0\"}]}\n}\n"
        );
    }

    #[test]
    fn a_missing_jail_is_named_as_freebsd_names_it() {
        assert_eq!(not_found("5"), "jail 5 not found");
        assert_eq!(not_found("web"), "jail \"web\" not found");
        assert_eq!(not_found("0"), "jail \"0\" not found");
    }
}
