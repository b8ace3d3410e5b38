//! The legacy rc.conf jail variables, turned into jail.conf.
//!
//! Before jail.conf existed, /etc/rc.d/jail started the jails of
//! `jail_list` from `jail_<name>_*` variables (with `jail_*` defaults for
//! most of them) by running the old four-argument `jail` command. This
//! module reads those variables with a small sh-assignment reader (`a=b`,
//! `a="b"`, `a='b'`, comments, `$x` / `${x}` / `${x:-y}` of variables read
//! so far; no shell is run) and writes the jail.conf that does the same:
//!
//! | rc.conf (per jail, else the `jail_` default)   | jail.conf                                  |
//! |-----------------------------------------------|--------------------------------------------|
//! | `_rootdir`, `_hostname`                        | `path`, `host.hostname`                    |
//! | `_ip`, `_ip_multiN` (`[if\|]addr[/mask]`, lists) | `ip4.addr` / `ip6.addr` (by address family) |
//! | `_interface`                                   | `interface`                                |
//! | `_exec` (old form) or `_exec_start` (default `/bin/sh /etc/rc`), then `_exec_afterstartN` (N from 1) | `exec.start` (a list, run in order inside the jail) |
//! | `_exec_stop` (default `/bin/sh /etc/rc.shutdown` when exec_start is defaulted too; none with `_exec`) | `exec.stop` |
//! | `_exec_prestartN`, `_exec_poststartN`, `_exec_prestopN`, `_exec_poststopN` (N from 0) | `exec.prestart`, `exec.poststart`, `exec.prestop`, `exec.poststop` |
//! | `_devfs_enable`, `_devfs_ruleset` (a ruleset name or number) | `mount.devfs`, `devfs_ruleset`     |
//! | `_fdescfs_enable`, `_procfs_enable`            | `mount.fdescfs`, `mount.procfs`            |
//! | `_mount_enable`, `_fstab` (default `/etc/fstab.NAME`) | `mount.fstab`                       |
//! | `_flags` (default `-l -U root`)                | `-l` exec.clean, `-U u` exec.jail_user + exec.nosystem_jail_user, `-u u` exec.jail_user + exec.system_jail_user, `-s n` securelevel, `-h` ip_hostname, `-n x` (ignored: the name is the list entry) |
//! | `_consolelog` (default `/var/log/jail_NAME_console.log`) | `exec.consolelog`              |
//! | `_fib`                                         | `exec.fib`                                 |
//! | `jail_set_hostname_allow` (YES), `jail_socket_unixiproute_only` (YES), `jail_sysvipc_allow` (NO) | `allow.set_hostname`, `allow.nosocket_af`, `allow.nosysvipc` for every jail |
//! | `jail_enable`                                  | `autoboot` in each jail                    |
//!
//! Like the old jails, the converted ones are not `persist`: each lives
//! while its processes do. Anything that cannot be converted is written
//! as a comment in the output.

use std::collections::HashMap;

/// The variables of an rc.conf, in a sh-like reading.
fn read_sh(text: &str) -> (HashMap<String, String>, Vec<String>) {
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut notes = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    let mut line = 1u32;
    while i < b.len() {
        // Skip white space and comments between statements.
        match b[i] {
            b'\n' => {
                line += 1;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b';' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        // `export` / `readonly` prefixes are harmless.
        for kw in ["export ", "readonly "] {
            if b[i..].starts_with(kw.as_bytes()) {
                i += kw.len();
            }
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let name = &text[start..i];
        if name.is_empty() || name.as_bytes()[0].is_ascii_digit() || i >= b.len() || b[i] != b'=' {
            // Not an assignment: note it and skip the line.
            let end = text[start..].find('\n').map_or(b.len(), |n| start + n);
            let stmt = text[start..end].trim();
            if !stmt.is_empty() {
                notes.push(format!("line {line}: not an assignment, ignored: {stmt}"));
            }
            i = end;
            continue;
        }
        i += 1;
        let mut value = String::new();
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b';') {
            match b[i] {
                b'\'' => {
                    let end = text[i + 1..].find('\'').map_or(b.len(), |n| i + 1 + n);
                    value.push_str(&text[i + 1..end]);
                    line += text[i..end].matches('\n').count() as u32;
                    i = (end + 1).min(b.len());
                }
                b'"' => {
                    i += 1;
                    let mut raw = String::new();
                    while i < b.len() && b[i] != b'"' {
                        if b[i] == b'\\' && i + 1 < b.len() {
                            match b[i + 1] {
                                b'$' | b'`' | b'"' | b'\\' => {
                                    // Keep `\$` from expanding below.
                                    if b[i + 1] == b'$' {
                                        raw.push('\u{0}');
                                    } else {
                                        raw.push(b[i + 1] as char);
                                    }
                                    i += 2;
                                    continue;
                                }
                                b'\n' => {
                                    line += 1;
                                    i += 2;
                                    continue;
                                }
                                _ => {}
                            }
                        }
                        let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                        if ch == '\n' {
                            line += 1;
                        }
                        raw.push(ch);
                        i += ch.len_utf8();
                    }
                    i = (i + 1).min(b.len());
                    value.push_str(&expand(&raw, &vars).replace('\u{0}', "$"));
                }
                b'\\' if i + 1 < b.len() => {
                    if b[i + 1] != b'\n' {
                        let ch = text[i + 1..].chars().next().unwrap_or('\u{fffd}');
                        value.push(ch);
                        i += 1 + ch.len_utf8();
                    } else {
                        line += 1;
                        i += 2;
                    }
                }
                b'$' => {
                    let end = word_end(b, i);
                    value.push_str(&expand(&text[i..end], &vars));
                    i = end;
                }
                _ => {
                    let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                    value.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        vars.insert(name.to_string(), value);
    }
    (vars, notes)
}

/// The end of an unquoted `$...` reference starting at `i`.
fn word_end(b: &[u8], i: usize) -> usize {
    if b.get(i + 1) == Some(&b'{') {
        match b[i..].iter().position(|&c| c == b'}') {
            Some(n) => i + n + 1,
            None => b.len(),
        }
    } else {
        let mut j = i + 1;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        j
    }
}

/// Expand `$x`, `${x}` and `${x:-default}` from the variables read so far.
fn expand(s: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(d) = rest.find('$') {
        out.push_str(&rest[..d]);
        let after = &rest[d + 1..];
        if let Some(inner) = after.strip_prefix('{') {
            if let Some(close) = inner.find('}') {
                let body = &inner[..close];
                let (name, default) = match body.split_once(":-") {
                    Some((n, dflt)) => (n, Some(dflt)),
                    None => (body, None),
                };
                match vars.get(name).filter(|v| !v.is_empty()) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&expand(default.unwrap_or(""), vars)),
                }
                rest = &inner[close + 1..];
                continue;
            }
            out.push('$');
            rest = after;
            continue;
        }
        let n = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if n == 0 {
            out.push('$');
        } else {
            out.push_str(vars.get(&after[..n]).map_or("", String::as_str));
        }
        rest = &after[n..];
    }
    out.push_str(rest);
    out
}

/// rc.subr's checkyesno.
fn yes(v: Option<&str>) -> bool {
    matches!(
        v.map(|s| s.trim().to_ascii_lowercase()).as_deref(),
        Some("yes" | "true" | "on" | "1")
    )
}

/// A value as a jail.conf double-quoted string.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' | '"' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\{:03o}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(values: &[String]) -> String {
    values.iter().map(|v| q(v)).collect::<Vec<_>>().join(", ")
}

/// The devfs ruleset numbers of FreeBSD's /etc/defaults/devfs.rules.
fn ruleset_number(s: &str) -> Option<u32> {
    if let Ok(n) = s.trim().parse() {
        return Some(n);
    }
    match s.trim() {
        "devfsrules_hide_all" => Some(1),
        "devfsrules_unhide_basic" => Some(2),
        "devfsrules_unhide_login" => Some(3),
        "devfsrules_jail" => Some(4),
        "devfsrules_jail_vnet" => Some(5),
        _ => None,
    }
}

/// Turn rc.conf text (its `jail_*` variables) into jail.conf text.
pub fn import_rc(text: &str) -> String {
    let (vars, notes) = read_sh(text);
    let get = |k: &str| vars.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let mut out = String::new();
    out.push_str("# Converted from the rc.conf jail_* variables (jail --import-rc).\n");
    for n in &notes {
        out.push_str(&format!("# {n}\n"));
    }
    let autoboot = yes(get("jail_enable"));
    if !autoboot {
        out.push_str("# jail_enable is not YES: these jails do not boot with the engine.\n");
    }
    out.push('\n');
    // The sysctl defaults the old command line emulated, for every jail.
    let flag = |knob: &str, default: bool| -> bool {
        match get(knob) {
            Some(v) => yes(Some(v)),
            None => default,
        }
    };
    let b = |on: bool, name: &str| -> String {
        match name.rsplit_once('.') {
            Some((h, l)) if !on => format!("{h}.no{l};\n"),
            _ if !on => format!("no{name};\n"),
            _ => format!("{name};\n"),
        }
    };
    out.push_str(&b(
        flag("jail_set_hostname_allow", true),
        "allow.set_hostname",
    ));
    out.push_str(&b(
        !flag("jail_socket_unixiproute_only", true),
        "allow.socket_af",
    ));
    out.push_str(&b(flag("jail_sysvipc_allow", false), "allow.sysvipc"));

    let jails: Vec<&str> = get("jail_list")
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    if jails.is_empty() {
        out.push_str("\n# jail_list is empty: no jails.\n");
    }
    for j in jails {
        out.push('\n');
        let own = |s: &str| get(&format!("jail_{j}_{s}"));
        let dflt = |s: &str| own(s).or_else(|| get(&format!("jail_{s}")));
        let numbered = |s: &str, from: u32| -> Vec<String> {
            let mut v = Vec::new();
            let mut n = from;
            while let Some(x) = dflt(&format!("{s}{n}")) {
                v.push(x.to_string());
                n += 1;
            }
            v
        };
        let mut body = String::new();
        let mut line = |s: String| {
            body.push('\t');
            body.push_str(&s);
            body.push('\n');
        };
        match own("rootdir") {
            Some(p) => line(format!("path = {};", q(p))),
            None => line(format!("# jail_{j}_rootdir is not set: no path.")),
        }
        match own("hostname") {
            // The UTS name's limit: a longer name could never be set.
            Some(h) if h.len() > 64 => line(format!(
                "# jail_{j}_hostname is longer than 64 bytes: left out."
            )),
            Some(h) => line(format!("host.hostname = {};", q(h))),
            None => line(format!("# jail_{j}_hostname is not set: no hostname.")),
        }
        // Addresses.
        let mut items: Vec<String> = Vec::new();
        if let Some(ip) = own("ip") {
            items.extend(ip.split(',').map(|s| s.trim().to_string()));
        }
        let mut n = 0;
        while let Some(m) = own(&format!("ip_multi{n}")) {
            items.extend(m.split(',').map(|s| s.trim().to_string()));
            n += 1;
        }
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for it in items.into_iter().filter(|s| !s.is_empty()) {
            let addr_part = it.rsplit('|').next().unwrap_or(&it);
            let addr = addr_part.split(['/', ' ']).next().unwrap_or("");
            if addr.split('.').count() == 4 {
                v4.push(it);
            } else if addr.contains(':') {
                v6.push(it);
            } else {
                line(format!("# address {it:?}: family not identified, skipped."));
            }
        }
        if !v4.is_empty() {
            line(format!("ip4.addr = {};", list(&v4)));
        }
        if !v6.is_empty() {
            line(format!("ip6.addr = {};", list(&v6)));
        }
        if let Some(i) = dflt("interface") {
            line(format!("interface = {};", q(i)));
        }
        // Commands.
        let prestart = numbered("exec_prestart", 0);
        if !prestart.is_empty() {
            line(format!("exec.prestart = {};", list(&prestart)));
        }
        let (mut start, stop) = if let Some(e) = own("exec") {
            (vec![e.to_string()], None)
        } else {
            match dflt("exec_start") {
                Some(s) => (vec![s.to_string()], dflt("exec_stop").map(str::to_string)),
                None => (
                    vec!["/bin/sh /etc/rc".to_string()],
                    Some(
                        dflt("exec_stop")
                            .unwrap_or("/bin/sh /etc/rc.shutdown")
                            .to_string(),
                    ),
                ),
            }
        };
        start.extend(numbered("exec_afterstart", 1));
        line(format!("exec.start = {};", list(&start)));
        let poststart = numbered("exec_poststart", 0);
        if !poststart.is_empty() {
            line(format!("exec.poststart = {};", list(&poststart)));
        }
        let prestop = numbered("exec_prestop", 0);
        if !prestop.is_empty() {
            line(format!("exec.prestop = {};", list(&prestop)));
        }
        if let Some(s) = stop {
            line(format!("exec.stop = {};", q(&s)));
        }
        let poststop = numbered("exec_poststop", 0);
        if !poststop.is_empty() {
            line(format!("exec.poststop = {};", list(&poststop)));
        }
        // File systems.
        if yes(dflt("devfs_enable")) {
            line("mount.devfs;".to_string());
            if let Some(r) = dflt("devfs_ruleset") {
                match ruleset_number(r) {
                    Some(n) => line(format!("devfs_ruleset = {n};")),
                    None => line(format!(
                        "# devfs ruleset {r:?} is not a standard one: ruleset 4 is used."
                    )),
                }
            }
        }
        if yes(dflt("fdescfs_enable")) {
            line("mount.fdescfs;".to_string());
        }
        if yes(dflt("procfs_enable")) {
            line("mount.procfs;".to_string());
        }
        if yes(dflt("mount_enable")) {
            let fstab = dflt("fstab")
                .map(str::to_string)
                .unwrap_or_else(|| format!("/etc/fstab.{j}"));
            line(format!("mount.fstab = {};", q(&fstab)));
        }
        // jail(8) flags.
        let flags = dflt("flags").unwrap_or("-l -U root");
        let words: Vec<&str> = flags.split_whitespace().collect();
        let mut k = 0;
        while k < words.len() {
            let w = words[k];
            k += 1;
            let Some(opts) = w.strip_prefix('-') else {
                line(format!("# jail flag {w:?} ignored."));
                continue;
            };
            for (ci, c) in opts.char_indices() {
                let mut arg = || -> Option<String> {
                    let rest = &opts[ci + c.len_utf8()..];
                    if !rest.is_empty() {
                        Some(rest.to_string())
                    } else if k < words.len() {
                        k += 1;
                        Some(words[k - 1].to_string())
                    } else {
                        None
                    }
                };
                match c {
                    'l' => line("exec.clean;".to_string()),
                    'h' => line("ip_hostname;".to_string()),
                    'i' | 'q' | 'v' | 'd' => {}
                    'U' | 'u' | 's' | 'n' | 'J' => {
                        let Some(a) = arg() else {
                            line(format!("# jail flag -{c} has no argument, ignored."));
                            break;
                        };
                        match c {
                            'U' => {
                                line(format!("exec.jail_user = {};", q(&a)));
                                line("exec.nosystem_jail_user;".to_string());
                            }
                            'u' => {
                                line(format!("exec.jail_user = {};", q(&a)));
                                line("exec.system_jail_user;".to_string());
                            }
                            's' => match a.parse::<i64>() {
                                Ok(n) if (-1..=3).contains(&n) => {
                                    line(format!("securelevel = {n};"))
                                }
                                _ => line(format!("# jail flag -s {a:?} ignored.")),
                            },
                            _ => line(format!("# jail flag -{c} {a} ignored.")),
                        }
                        break;
                    }
                    other => line(format!("# jail flag -{other} ignored.")),
                }
            }
        }
        let consolelog = dflt("consolelog")
            .map(str::to_string)
            .unwrap_or_else(|| format!("/var/log/jail_{j}_console.log"));
        line(format!("exec.consolelog = {};", q(&consolelog)));
        if let Some(f) = dflt("fib") {
            match f.trim().parse::<i64>() {
                Ok(n) => line(format!("exec.fib = {n};")),
                Err(_) => line(format!("# fib {f:?} is not a number, ignored.")),
            }
        }
        if autoboot {
            line("autoboot;".to_string());
        }
        out.push_str(&format!("{} {{\n{body}}}\n", block_name(j)));
    }
    out
}

/// A jail name as a block name: bare when it is a plain atom.
fn block_name(j: &str) -> String {
    if !j.is_empty()
        && j.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    {
        j.to_string()
    } else {
        q(j)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jailconf::Config;
    use crate::param::Value;

    const RC: &str = r#"
# old style jails
jail_enable="YES"
jail_list="www db"
jail_sysvipc_allow="YES"
jail_devfs_enable="YES"
jail_exec_prestart0="logger starting"
jail_basedir=/usr/jail
jail_www_rootdir="${jail_basedir}/www"
jail_www_hostname="www.example.org"
jail_www_ip="em0|192.0.2.10/24,2001:db8::10"
jail_www_ip_multi0="192.0.2.11"
jail_www_exec_afterstart1="/usr/local/etc/rc.d/nginx start"
jail_www_devfs_ruleset="devfsrules_jail"
jail_www_mount_enable="YES"
jail_db_rootdir='/usr/jail/db'
jail_db_hostname=db.example.org
jail_db_exec="/bin/sh /etc/rc"
jail_db_flags="-l -u postgres -s 2"
jail_db_procfs_enable=YES
jail_db_fib=1
"#;

    #[test]
    fn legacy_variables_become_a_jail_conf_that_parses() {
        let text = import_rc(RC);
        let cfg = Config::parse_str(&text, "import").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(cfg.jails.len(), 2);
        let www = cfg.get("www").unwrap();
        let p = &www.params;
        assert_eq!(p.str("path"), Some("/usr/jail/www"));
        assert_eq!(p.str("host.hostname"), Some("www.example.org"));
        assert_eq!(
            p.list("ip4.addr"),
            vec!["em0|192.0.2.10/24".to_string(), "192.0.2.11".to_string()]
        );
        assert_eq!(p.list("ip6.addr"), vec!["2001:db8::10".to_string()]);
        assert_eq!(
            p.list("exec.start"),
            vec![
                "/bin/sh /etc/rc".to_string(),
                "/usr/local/etc/rc.d/nginx start".to_string()
            ]
        );
        assert_eq!(
            p.list("exec.stop"),
            vec!["/bin/sh /etc/rc.shutdown".to_string()]
        );
        assert_eq!(p.list("exec.prestart"), vec!["logger starting".to_string()]);
        assert_eq!(p.bool("mount.devfs"), Some(true));
        assert_eq!(p.int("devfs_ruleset"), Some(4));
        assert_eq!(p.list("mount.fstab"), vec!["/etc/fstab.www".to_string()]);
        assert_eq!(p.bool("exec.clean"), Some(true));
        assert_eq!(p.str("exec.jail_user"), Some("root"));
        assert_eq!(p.bool("exec.system_jail_user"), Some(false));
        assert_eq!(
            p.str("exec.consolelog"),
            Some("/var/log/jail_www_console.log")
        );
        assert_eq!(p.bool("allow.set_hostname"), Some(true));
        assert_eq!(p.bool("allow.sysvipc"), Some(true));
        assert_eq!(p.bool("allow.socket_af"), Some(false));
        assert_eq!(p.bool("autoboot"), Some(true));
        assert_eq!(p.get("persist"), None);

        let db = cfg.get("db").unwrap();
        let p = &db.params;
        assert_eq!(p.list("exec.start"), vec!["/bin/sh /etc/rc".to_string()]);
        assert_eq!(p.get("exec.stop"), None);
        assert_eq!(p.str("exec.jail_user"), Some("postgres"));
        assert_eq!(p.bool("exec.system_jail_user"), Some(true));
        assert_eq!(p.int("securelevel"), Some(2));
        assert_eq!(p.bool("mount.procfs"), Some(true));
        assert_eq!(p.get("mount.devfs"), Some(&Value::Bool(true)));
        assert_eq!(p.int("exec.fib"), Some(1));
    }

    #[test]
    fn quoting_survives_the_round_trip() {
        let rc = "jail_list=x\njail_x_rootdir='/srv/a \"b\" $c'\njail_x_hostname=\"h\\$x\"\n";
        let cfg = Config::parse_str(&import_rc(rc), "import").unwrap();
        let x = cfg.get("x").unwrap();
        assert_eq!(x.params.str("path"), Some("/srv/a \"b\" $c"));
        assert_eq!(x.params.str("host.hostname"), Some("h$x"));
    }

    proptest::proptest! {
        /// Whatever the rc.conf holds, the conversion is a jail.conf that
        /// parses.
        #[test]
        fn any_rc_text_converts_to_a_file_that_parses(
            lines in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "jail_list", "jail_enable", "jail_a_rootdir", "jail_a_hostname",
                        "jail_a_ip", "jail_a_ip_multi0", "jail_a_flags", "jail_flags",
                        "jail_a_exec", "jail_a_exec_start", "jail_exec_prestart0",
                        "jail_a_exec_afterstart1", "jail_a_devfs_enable", "jail_devfs_ruleset",
                        "jail_a_fib", "jail_a_consolelog", "jail_b_mount_enable", "jail_fstab",
                        "jail_sysvipc_allow", "jail_interface", "x",
                    ]),
                    "(.|\n){0,20}",
                ),
                0..12,
            )
        ) {
            let mut rc = String::from("jail_list=\"a b 5 a.b\"\n");
            for (k, v) in &lines {
                rc.push_str(&format!("{k}={v}\n"));
            }
            let text = import_rc(&rc);
            if let Err(e) = Config::parse_str(&text, "import") {
                panic!("{e}\n--- rc ---\n{rc}\n--- conf ---\n{text}");
            }
        }
    }

    #[test]
    fn no_jails_and_junk_still_parse() {
        let text = import_rc("echo hello\nfoo\njail_enable=NO\n");
        assert!(text.contains("not an assignment"));
        let cfg = Config::parse_str(&text, "import").unwrap();
        assert!(cfg.jails.is_empty());
    }
}
