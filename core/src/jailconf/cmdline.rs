//! A jail given on the command line, and the `-J` jid file.
//!
//! `jail -c name=www path=/z persist command=/bin/sh -c 'echo hi'` builds
//! one jail from `param=value` arguments, as jail(8) does: arguments are
//! taken in order; a bare `name` is a boolean (`nopersist` negates); a
//! repeated parameter adds values (list parameters) or replaces the value;
//! `ip4.addr=` and `ip6.addr=` and the other list parameters split at
//! commas, except the command parameters (`exec.*`, `command`) and
//! `mount`, whose values are command and fstab lines that may hold commas;
//! `command` (or `command=ARG`) takes every argument after it as its argv.
//! The legacy form `jail PATH HOSTNAME IP[,IP...] COMMAND...` is
//! [`Jail::from_legacy`]; an address with a `:` is IPv6.
//!
//! The deprecated flags are parameters too; the `jail` tool passes them as
//! arguments before the others: `-l` is `exec.clean`, `-n NAME` is
//! `name=NAME`, `-s N` is `securelevel=N`, `-u USER` is
//! `exec.jail_user=USER exec.system_jail_user`, `-U USER` is
//! `exec.jail_user=USER exec.nosystem_jail_user`, `-h` is `ip_hostname`.
//!
//! `-J FILE` writes, for each jail created, jail(8)'s print_jail line:
//! `jid=N` and the parameters (as `jail -e`), separated by a tab; with the
//! legacy form `N<TAB>PATH<TAB>HOSTNAME<TAB>ADDRS<TAB>COMMAND`.

use super::build::param_key;
use super::{ConfError, Diag, Entry, Jail, Pos, quoted_print};
use crate::param::{self, Kind, ParamError, Value};

/// The position command-line parameters carry.
fn argpos() -> Pos {
    Pos::new("command line", 0)
}

/// Parameters whose values are kept whole on the command line.
fn keeps_commas(key: &str) -> bool {
    key.starts_with("exec.") || key == "command" || key == "mount"
}

fn is_list(key: &str) -> bool {
    param::lookup(key).is_some_and(|s| s.kind == Kind::List)
}

/// Add one value (or none, for a boolean) as jail(8)'s add_param does for
/// command-line arguments: a list grows, anything else is replaced.
fn add(entries: &mut Vec<Entry>, name: &str, value: Option<&str>) {
    let key = param_key(name);
    let values: Vec<String> = match value {
        None => Vec::new(),
        Some(v) if is_list(&key) && !keeps_commas(&key) => {
            v.split(',').map(str::to_string).collect()
        }
        Some(v) => vec![v.to_string()],
    };
    match entries.iter_mut().find(|e| e.key == key) {
        Some(e) => {
            e.name = name.to_string();
            if values.is_empty() || !is_list(&key) {
                e.values.clear();
            }
            e.values.extend(values);
        }
        None => entries.push(Entry {
            name: name.to_string(),
            key,
            values,
            pos: argpos(),
        }),
    }
}

impl Jail {
    /// A jail from `param=value` arguments (see the module text).
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Jail, ConfError> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_ref();
            i += 1;
            if a == "command" || a.starts_with("command=") {
                let mut argv: Vec<String> = a
                    .strip_prefix("command=")
                    .map(|v| vec![v.to_string()])
                    .unwrap_or_default();
                argv.extend(args[i..].iter().map(|s| s.as_ref().to_string()));
                i = args.len();
                if let Some(e) = entries.iter_mut().find(|e| e.key == "command") {
                    e.values.extend(argv);
                } else {
                    entries.push(Entry {
                        name: "command".to_string(),
                        key: "command".to_string(),
                        values: argv,
                        pos: argpos(),
                    });
                }
                continue;
            }
            match a.split_once('=') {
                Some((n, v)) => add(&mut entries, n, Some(v)),
                None => add(&mut entries, a, None),
            }
        }
        Self::from_entries(entries)
    }

    /// The legacy four-argument form: `PATH HOSTNAME IP[,IP...] COMMAND...`
    /// (an empty IP argument is no address).
    pub fn from_legacy<S: AsRef<str>>(
        path: &str,
        hostname: &str,
        ips: &str,
        command: &[S],
    ) -> Result<Jail, ConfError> {
        let mut entries = Vec::new();
        add(&mut entries, "path", Some(path));
        add(&mut entries, "host.hostname", Some(hostname));
        if !ips.is_empty() {
            for ip in ips.split(',') {
                let which = if ip.contains(':') {
                    "ip6.addr"
                } else {
                    "ip4.addr"
                };
                add(&mut entries, which, Some(ip));
            }
        }
        entries.push(Entry {
            name: "command".to_string(),
            key: "command".to_string(),
            values: command.iter().map(|s| s.as_ref().to_string()).collect(),
            pos: argpos(),
        });
        Self::from_entries(entries)
    }

    fn from_entries(entries: Vec<Entry>) -> Result<Jail, ConfError> {
        let mut jail = Jail {
            name: String::new(),
            pos: argpos(),
            params: crate::param::Params::new(),
            positions: Default::default(),
            entries: Vec::new(),
            unknown: Vec::new(),
        };
        let mut diags = Vec::new();
        for e in &entries {
            match param::typed(&e.name, &e.values) {
                Ok((canon, v)) => {
                    jail.params.0.insert(canon.to_string(), v);
                    jail.positions.insert(canon.to_string(), e.pos.clone());
                }
                Err(ParamError::Unknown(_)) => {
                    let v = match e.values.as_slice() {
                        [] => Value::Bool(true),
                        [one] => Value::Str(one.clone()),
                        _ => Value::List(e.values.clone()),
                    };
                    jail.params.0.insert(e.name.clone(), v);
                    jail.unknown.push(e.name.clone());
                }
                Err(err) => diags.push(Diag::plain(err.to_string())),
            }
        }
        jail.entries = entries;
        jail.name = match (jail.params.str("name"), jail.params.int("jid")) {
            (Some(n), _) => n.to_string(),
            (None, Some(j)) => j.to_string(),
            (None, None) => String::new(),
        };
        if !diags.is_empty() {
            for d in &mut diags {
                if !jail.name.is_empty() {
                    d.jail = Some(jail.name.clone());
                }
            }
            return Err(diags.into());
        }
        Ok(jail)
    }

    /// The line `-J FILE` records for this jail once created with `jid`
    /// (with its newline): `jid=N`, then the parameters as `jail -e`
    /// prints them, tab-separated; `legacy` (the four-argument form):
    /// `N`, path, hostname, the addresses (IPv4 then IPv6, comma-joined)
    /// and the command (space-joined), tab-separated.
    pub fn jid_file_line(&self, jid: u32, legacy: bool) -> String {
        if !legacy {
            let rest = self.exhibit("\t");
            if rest == "\n" {
                return format!("jid={jid}\n");
            }
            return format!("jid={jid}\t{rest}");
        }
        let value = |key: &str, sep: char| -> String {
            let mut out = String::new();
            if let Some(e) = self.entries.iter().find(|e| e.key == key) {
                for (i, v) in e.values.iter().enumerate() {
                    if i > 0 {
                        out.push(sep);
                    }
                    quoted_print(&mut out, v);
                }
            }
            out
        };
        let v4 = value("ip4.addr", ',');
        let v6 = value("ip6.addr", ',');
        let addrs = match (v4.is_empty(), v6.is_empty()) {
            (false, false) => format!("{v4},{v6}"),
            _ => format!("{v4}{v6}"),
        };
        format!(
            "{jid}\t{}\t{}\t{addrs}\t{}\n",
            value("path", ','),
            value("host.hostname", ','),
            value("command", ' ')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_build_a_jail_as_jail_8_does() {
        let j = Jail::from_args(&[
            "name=www",
            "path=/z/www",
            "persist",
            "ip4.addr=10.0.0.1,10.0.0.2",
            "ip4.addr=10.0.0.3",
            "exec.start=echo a,b",
            "allow.nomount",
            "limitpriv=default,-net_raw",
            "command=/bin/sh",
            "-c",
            "echo hi",
        ])
        .unwrap();
        assert_eq!(j.name, "www");
        let p = &j.params;
        assert_eq!(p.str("path"), Some("/z/www"));
        assert_eq!(p.bool("persist"), Some(true));
        assert_eq!(
            p.list("ip4.addr"),
            strs(&["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        );
        assert_eq!(p.list("exec.start"), strs(&["echo a,b"]));
        assert_eq!(p.bool("allow.mount"), Some(false));
        assert_eq!(p.list("limitpriv"), strs(&["default", "-net_raw"]));
        assert_eq!(p.list("command"), strs(&["/bin/sh", "-c", "echo hi"]));
    }

    #[test]
    fn a_repeated_scalar_is_replaced_and_a_boolean_respelled() {
        let j = Jail::from_args(&["name=a", "path=/x", "path=/y", "persist", "nopersist"]).unwrap();
        assert_eq!(j.params.str("path"), Some("/y"));
        assert_eq!(j.params.bool("persist"), Some(false));
        assert_eq!(j.exhibit("|"), "name=a|path=/y|nopersist\n");
    }

    #[test]
    fn bad_values_are_refused_naming_the_jail() {
        let e = Jail::from_args(&["name=a", "securelevel=high"]).unwrap_err();
        assert_eq!(e.to_string(), "a: securelevel: non-integer value \"high\"");
    }

    #[test]
    fn the_legacy_form_and_jid_files() {
        let j = Jail::from_legacy(
            "/z/old",
            "old.example",
            "10.0.0.9,::1",
            &["/bin/sh", "/etc/rc"],
        )
        .unwrap();
        assert_eq!(j.params.list("ip4.addr"), strs(&["10.0.0.9"]));
        assert_eq!(j.params.list("ip6.addr"), strs(&["::1"]));
        assert_eq!(
            j.jid_file_line(3, true),
            "3\t/z/old\told.example\t10.0.0.9,::1\t/bin/sh /etc/rc\n"
        );
        assert_eq!(
            j.jid_file_line(3, false),
            "jid=3\tpath=/z/old\thost.hostname=old.example\tip4.addr=10.0.0.9\tip6.addr=::1\tcommand=/bin/sh,/etc/rc\n"
        );
        let none = Jail::from_legacy::<&str>("/z", "h", "", &[]).unwrap();
        assert_eq!(none.params.get("ip4.addr"), None);
    }
}
