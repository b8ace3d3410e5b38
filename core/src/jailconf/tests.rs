//! Tests of the whole language: one per grammar rule, one per message,
//! `jail -e` round trips, selection and order, the example files, and
//! never-panic properties.

use super::*;
use crate::param::Value;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn parse(src: &str) -> Config {
    Config::parse_str(src, "t.conf").unwrap_or_else(|e| panic!("{e}\n--- in ---\n{src}"))
}

fn err(src: &str) -> String {
    match Config::parse_str(src, "t.conf") {
        Ok(c) => panic!("parsed: {c:?}"),
        Err(e) => e.to_string(),
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---- grammar rules ------------------------------------------------------

#[test]
fn comments_of_three_kinds_are_ignored() {
    let c = parse("# shell\n// c++\n/* c\n style */ a { persist; # x\n path = /a; // y\n }\n");
    assert_eq!(c.jails.len(), 1);
    assert_eq!(c.jails[0].params.str("path"), Some("/a"));
}

#[test]
fn a_bare_name_sets_a_boolean_and_no_negates_the_last_component() {
    let c = parse("a { persist; allow.nomount; mount.nodevfs; allow.raw_sockets = true; }");
    let p = &c.jails[0].params;
    assert_eq!(p.bool("persist"), Some(true));
    assert_eq!(p.bool("allow.mount"), Some(false));
    assert_eq!(p.bool("mount.devfs"), Some(false));
    assert_eq!(p.bool("allow.raw_sockets"), Some(true));
}

#[test]
fn jailsys_parameters_may_be_written_as_booleans() {
    let c =
        parse("a { vnet; host; noip4; } b { novnet; vnet.interface = epair0b; host = inherit; }");
    let a = &c.jails[0].params;
    assert_eq!(a.str("vnet"), Some("new"));
    assert_eq!(a.str("host"), Some("new"));
    assert_eq!(a.str("ip4"), Some("disable"));
    let b = &c.jails[1].params;
    assert_eq!(b.str("vnet"), Some("inherit"));
    assert_eq!(b.str("host"), Some("inherit"));
    assert_eq!(
        c.exhibit("|"),
        "name=a|vnet|host|noip4\nname=b|novnet|vnet.interface=epair0b|host=inherit\n"
    );
}

#[test]
fn equals_sets_and_plus_equals_appends_to_a_list() {
    let c = parse(
        "a { ip4.addr = 10.1.1.1, 10.1.1.2; ip4.addr += 10.1.1.3; exec.start = x; exec.start = y; }",
    );
    let p = &c.jails[0].params;
    assert_eq!(
        p.list("ip4.addr"),
        strs(&["10.1.1.1", "10.1.1.2", "10.1.1.3"])
    );
    assert_eq!(p.list("exec.start"), strs(&["y"]));
}

#[test]
fn a_value_may_follow_the_name_without_equals() {
    let c = parse("a { exec.start \"/bin/sh /etc/rc\"; }");
    assert_eq!(
        c.jails[0].params.list("exec.start"),
        strs(&["/bin/sh /etc/rc"])
    );
}

#[test]
fn empty_statements_are_allowed() {
    let c = parse(";; a { ; persist;; } ;");
    assert_eq!(c.jails[0].params.bool("persist"), Some(true));
}

#[test]
fn blocks_nest_and_define_dotted_names() {
    let c = parse("a { children.max = 2; b { path = /b; c { persist; } } securelevel = 1; }");
    let names: Vec<&str> = c.jails.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, vec!["a", "a.b", "a.b.c"]);
    let a = c.get("a").unwrap();
    assert_eq!(a.params.int("children.max"), Some(2));
    assert_eq!(a.params.int("securelevel"), Some(1));
    assert_eq!(a.params.get("path"), None);
    let b = c.get("a.b").unwrap();
    assert_eq!(b.params.str("name"), Some("a.b"));
    assert_eq!(b.params.get("children.max"), None);
}

#[test]
fn an_all_digit_block_name_sets_the_jid() {
    let c = parse("5 { path = /j; name = five; }");
    let j = &c.jails[0];
    assert_eq!(j.params.int("jid"), Some(5));
    assert_eq!(j.params.str("name"), Some("five"));
    assert_eq!(c.find("5"), Some(0));
    assert_eq!(c.find("five"), None); // the block name is the handle
}

#[test]
fn parameters_outside_blocks_apply_to_every_jail() {
    let c = parse("mount.devfs; path = \"/var/jail/$name\";\nfoo { } bar { }");
    for j in &c.jails {
        assert_eq!(j.params.bool("mount.devfs"), Some(true));
        assert_eq!(
            j.params.str("path"),
            Some(format!("/var/jail/{}", j.name).as_str())
        );
    }
}

#[test]
fn later_definitions_win_in_file_order() {
    let c = parse(
        "securelevel = 1;\n a { securelevel = 2; }\n b { }\n * { stop.timeout = 5; }\n c { stop.timeout = 7; }",
    );
    assert_eq!(c.get("a").unwrap().params.int("securelevel"), Some(2));
    assert_eq!(c.get("b").unwrap().params.int("securelevel"), Some(1));
    // A wildcard after a jail overrides it; a jail after a wildcard overrides it.
    assert_eq!(c.get("a").unwrap().params.int("stop.timeout"), Some(5));
    assert_eq!(c.get("c").unwrap().params.int("stop.timeout"), Some(7));
}

#[test]
fn wildcard_blocks_match_as_jail_8() {
    let c = parse(
        "foo.* { persist; }\n*.x { securelevel = 2; }\nfoo { } foo.bar { } foo.bar.baz { } a.x { } a.b.x { }",
    );
    assert_eq!(c.jails.len(), 5, "wildcards are not jails");
    let p = |n: &str| c.get(n).unwrap().params.clone();
    assert_eq!(p("foo").bool("persist"), None);
    assert_eq!(p("foo.bar").bool("persist"), Some(true));
    assert_eq!(p("foo.bar.baz").bool("persist"), Some(true));
    assert_eq!(p("a.x").int("securelevel"), Some(2));
    assert_eq!(p("a.b.x").int("securelevel"), None);
}

#[test]
fn repeated_blocks_of_one_jail_merge() {
    let c = parse("a { path = /a; } a { persist; }");
    assert_eq!(c.jails.len(), 1);
    assert_eq!(c.jails[0].params.str("path"), Some("/a"));
    assert_eq!(c.jails[0].params.bool("persist"), Some(true));
}

#[test]
fn bare_double_and_single_quoted_strings() {
    let c = parse("$v = V;\na { path = /bare; host.hostname = \"dq $v\"; exec.start = 'sq $v'; }");
    let p = &c.jails[0].params;
    assert_eq!(p.str("path"), Some("/bare"));
    assert_eq!(p.str("host.hostname"), Some("dq V"));
    assert_eq!(p.list("exec.start"), strs(&["sq $v"]));
}

#[test]
fn every_escape_decodes() {
    let c = parse(r#"a { exec.start = "\a\b\f\n\r\t\v|\101\x41\x4a|\"\\\$|\q", '\'\t'; }"#);
    assert_eq!(
        c.jails[0].params.list("exec.start"),
        strs(&["\x07\x08\x0c\n\r\t\x0b|AAJ|\"\\$|q", "'\t"])
    );
}

#[test]
fn backslash_newline_continues_a_string() {
    let c = parse("a { path = /srv/\\\nlong; exec.start = \"one \\\ntwo\"; }");
    assert_eq!(c.jails[0].params.str("path"), Some("/srv/long"));
    assert_eq!(c.jails[0].params.list("exec.start"), strs(&["one two"]));
}

#[test]
fn adjacent_pieces_join_into_one_string() {
    let c = parse("$n = 7;\na { ip4.addr = 10.0.0.${n}; path = \"/srv/\"'x'y$name; }");
    let p = &c.jails[0].params;
    assert_eq!(p.list("ip4.addr"), strs(&["10.0.0.7"]));
    assert_eq!(p.str("path"), Some("/srv/xya"));
}

#[test]
fn variables_expand_parameters_and_definitions_of_the_same_jail() {
    let c = parse(
        "$base = /zones;\nhost.hostname = \"${name}.example.org\";\n\
         a { path = \"$base/$name\"; exec.start = \"echo $path ${host.hostname}\"; }",
    );
    let p = &c.jails[0].params;
    assert_eq!(p.str("path"), Some("/zones/a"));
    assert_eq!(p.list("exec.start"), strs(&["echo /zones/a a.example.org"]));
    assert_eq!(p.get("base"), None, "variables are not parameters");
    assert!(c.jails[0].entries.iter().all(|e| e.name != "base"));
}

#[test]
fn a_list_variable_may_stand_alone_but_not_inline() {
    let c = parse("$l = x, y;\na { exec.start = $l, z; }");
    assert_eq!(c.jails[0].params.list("exec.start"), strs(&["x", "y", "z"]));
    assert_eq!(
        err("$l = x, y;\na {\n path = \"p$l\"; }"),
        "t.conf line 3: a: path: array cannot be substituted inline"
    );
}

#[test]
fn includes_are_relative_globbed_and_literal() {
    let d = tempfile::tempdir().unwrap();
    let sub = d.path().join("jail.conf.d");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("b.conf"), "b { path = /b; }\n").unwrap();
    std::fs::write(sub.join("a.conf"), "a { path = /a; }\n").unwrap();
    std::fs::write(sub.join("skip.txt"), "syntax error here {").unwrap();
    std::fs::write(
        d.path().join("jail.conf"),
        "persist;\n.include \"jail.conf.d/*.conf\";\nc { .include \"inner\"; }\n",
    )
    .unwrap();
    std::fs::write(d.path().join("inner"), "securelevel = 3;\n").unwrap();
    let c = Config::parse_file(&d.path().join("jail.conf")).unwrap();
    let names: Vec<&str> = c.jails.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, vec!["a", "b", "c"]);
    assert!(
        c.jails
            .iter()
            .all(|j| j.params.bool("persist") == Some(true))
    );
    assert_eq!(c.get("c").unwrap().params.int("securelevel"), Some(3));
    let pos = c.get("b").unwrap().position("path").unwrap();
    assert!(pos.file.ends_with("jail.conf.d/b.conf") && pos.line == 1);

    // No variables in the name.
    let e = Config::parse_bytes(b"$x = a;\n.include \"$x.conf\";", "t.conf", d.path())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "t.conf line 2: .include: variables are not allowed in the file name"
    );
    // A missing plain file is an error naming the including line.
    let e = Config::parse_bytes(b"\n.include \"nope.conf\";", "t.conf", d.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("t.conf line 2: ") && e.contains("nope.conf"),
        "{e}"
    );
    // An error inside an included file names that file.
    std::fs::write(d.path().join("bad.conf"), "\n\nx {").unwrap();
    let e = Config::parse_bytes(b".include \"bad.conf\";", "t.conf", d.path())
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("bad.conf line 3: syntax error"), "{e}");
}

#[test]
fn includes_stop_at_32_deep() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("self.conf"), ".include \"self.conf\";\n").unwrap();
    let e = Config::parse_file(&d.path().join("self.conf"))
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("line 1: .include: too many nested includes"),
        "{e}"
    );
    // 32 levels are fine.
    for i in 0..32 {
        let body = if i < 31 {
            format!(".include \"{}.conf\";\n", i + 1)
        } else {
            "deep { }\n".to_string()
        };
        std::fs::write(d.path().join(format!("{i}.conf")), body).unwrap();
    }
    let c = Config::parse_file(&d.path().join("0.conf")).unwrap();
    assert_eq!(c.jails[0].name, "deep");
}

// ---- the messages -------------------------------------------------------

#[test]
fn message_unterminated_string() {
    assert_eq!(
        err("a {\n path = \"/srv\n; }\n"),
        "t.conf line 2: unterminated string\nt.conf line 3: syntax error"
    );
    assert!(err("a { path = '/srv\n; }").starts_with("t.conf line 1: unterminated string"));
}

#[test]
fn message_unterminated_comment_and_variable() {
    assert_eq!(
        err("a { }\n/* never"),
        "t.conf line 2: unterminated comment"
    );
    assert!(err("a { path = ${x\n; }").starts_with("t.conf line 1: unterminated variable"));
}

#[test]
fn message_syntax_error() {
    assert_eq!(err("a {\n = ;\n}"), "t.conf line 2: syntax error");
    assert_eq!(err("a { persist }"), "t.conf line 1: syntax error");
    assert_eq!(err("a {\n persist;\n"), "t.conf line 3: syntax error");
    assert_eq!(err("}"), "t.conf line 1: syntax error");
    assert_eq!(err("a { path = /a, ; }"), "t.conf line 1: syntax error");
    assert_eq!(err("$v { }"), "t.conf line 1: syntax error");
    assert_eq!(err("a\"b\" = c;"), "t.conf line 1: syntax error");
    assert_eq!(err("a { path = /a; }\n\x01"), "t.conf line 2: syntax error");
}

#[test]
fn message_variable_not_found() {
    assert_eq!(
        err("a {\n path = \"/j/$nope\";\n}"),
        "t.conf line 2: a: path: variable \"nope\" not found"
    );
}

#[test]
fn message_variable_loop() {
    assert_eq!(
        err("$a = $b;\n$b = $a;\nj { path = $a; }"),
        "t.conf line 2: j: a: variable loop"
    );
}

#[test]
fn message_unknown_boolean_value() {
    assert_eq!(
        err("www {\n persist = maybe;\n}"),
        "t.conf line 2: www: persist: unknown boolean value \"maybe\""
    );
}

#[test]
fn message_non_integer_value() {
    assert_eq!(
        err("www {\n\n securelevel = high;\n}"),
        "t.conf line 3: www: securelevel: non-integer value \"high\""
    );
}

#[test]
fn message_cannot_redefine_the_name() {
    assert_eq!(
        err("a {\n name = b;\n}"),
        "t.conf line 2: a: cannot redefine parameter \"name\"."
    );
    assert_eq!(
        err("a {\n $path = x;\n path = y;\n}"),
        "t.conf line 3: a: variable \"$path\" cannot have the same name as a parameter."
    );
}

#[test]
fn a_variable_named_like_a_legacy_alias_is_a_variable() {
    // `root` is a legacy alias of `path`; jail(8) compares variable names
    // literally, so `$root` is a variable of its own.
    let c = parse("$root = \"/srv\";\na { path = \"$root/${name}\"; }\n");
    assert_eq!(c.jails[0].params.str("path"), Some("/srv/a"));
    let c = parse("a { $ip = \"10.0.0.1\"; $hostname = h; host.hostname = \"$hostname.x\"; }");
    assert_eq!(c.jails[0].params.str("host.hostname"), Some("h.x"));
    // An alias used as a reference still names its parameter.
    let c = parse("a { path = /z; exec.start = \"ls ${root}\"; }");
    assert_eq!(c.jails[0].params.list("exec.start"), ["ls /z"]);
    // Every alias that can be a variable's name (`-` cannot), as a
    // variable beside its parameter.
    for (alias, canonical) in crate::param::ALIASES
        .iter()
        .filter(|(a, _)| !a.contains('-'))
    {
        let src = format!("${alias} = \"v\";\na {{ exec.start = \"x ${alias}\"; }}\n");
        let c = parse(&src);
        assert_eq!(
            c.jails[0].params.list("exec.start"),
            ["x v"],
            "{alias} ({canonical})"
        );
    }
}

#[test]
fn message_dependencies() {
    assert_eq!(
        err("a {\n depend = b;\n}\nb { depend = a; }"),
        "t.conf line 2: a: dependency loop"
    );
    assert_eq!(
        err("a {\n depend = ghost;\n}"),
        "t.conf line 2: a: depends on undefined jail \"ghost\""
    );
}

#[test]
fn every_error_is_reported_and_nothing_is_half_read() {
    let e = Config::parse_str(
        "a { persist = maybe; }\nb { securelevel = x; }\nc { }",
        "t.conf",
    )
    .unwrap_err();
    assert_eq!(e.diags.len(), 2);
    assert!(e.diags.iter().all(|d| d.pos.is_some()));
}

// ---- jail -e -----------------------------------------------------------

#[test]
fn exhibit_prints_as_freebsd_jail_e() {
    let c = parse(
        "exec.clean;\npath = \"/srv/$name\";\n\
         a { host.hostname = \"a b\"; ip4.addr = 10.0.0.1, 10.0.0.2; persist; nopersist; \
         exec.start = \"it's\", 'say \"x\"', \"\", 'back\\\\slash'; jid = 9; }\n\
         7 { path = /seven; securelevel = 1; }\n* { }",
    );
    assert_eq!(
        c.exhibit("|"),
        "name=a|exec.clean|path=/srv/a|host.hostname=\"a b\"|ip4.addr=10.0.0.1,10.0.0.2|\
         nopersist|exec.start=\"it's\",'say \"x\"',\"\",back\\\\slash\n\
         exec.clean|path=/seven|securelevel=1\n"
    );
    assert_eq!(
        c.jails[0].exhibit(", "),
        "name=a, exec.clean, path=/srv/a, host.hostname=\"a b\", ip4.addr=10.0.0.1,10.0.0.2, nopersist, exec.start=\"it's\",'say \"x\"',\"\",back\\\\slash\n"
    );
}

/// Turn one `jail -e '|'` line back into a jail.conf block.
fn exhibit_to_conf(line: &str) -> String {
    let mut pieces = line.trim_end_matches('\n').split('|');
    let first = pieces.next().unwrap();
    let name = first.strip_prefix("name=").expect("named jail");
    let mut out = format!("{name} {{\n");
    for p in pieces {
        out.push_str(&format!("\t{p};\n"));
    }
    out.push_str("}\n");
    out
}

fn same_jails(a: &Config, b: &Config) {
    assert_eq!(a.jails.len(), b.jails.len());
    for (x, y) in a.jails.iter().zip(&b.jails) {
        assert_eq!(x.name, y.name);
        assert_eq!(x.params, y.params);
        let ex: Vec<_> = x.entries.iter().map(|e| (&e.name, &e.values)).collect();
        let ey: Vec<_> = y.entries.iter().map(|e| (&e.name, &e.values)).collect();
        assert_eq!(ex, ey);
    }
}

fn round_trip(src: &str) {
    let a = parse(src);
    let printed = a.exhibit("|");
    let conf: String = printed.lines().map(exhibit_to_conf).collect();
    let b = parse(&conf);
    same_jails(&a, &b);
    assert_eq!(b.exhibit("|"), printed);
}

#[test]
fn exhibit_round_trips() {
    round_trip(
        "exec.clean; mount.devfs; path = \"/var/lib/zones/roots/$name\";\n\
         www { host.hostname = \"www.example.org\"; ip4.addr = 192.0.2.1, 192.0.2.2; \
         exec.start = \"/bin/sh /etc/rc\"; exec.stop = 'sh -c \"stop it\"'; persist; allow.nomount; \
         securelevel = 2; zone.max-swap = 1G; }\n\
         db { exec.start = \"it's\", \"\"; children.max = 3; depend = www; }\n",
    );
    // jail(8) prints `$` unescaped, so a value holding one does not read
    // back the same; the examples without one must.
    let mut tried = 0;
    for f in example_files() {
        let src = std::fs::read_to_string(&f).unwrap();
        if !parse(&src).exhibit("|").contains('$') {
            round_trip(&src);
            tried += 1;
        }
    }
    assert!(tried >= 1);
}

/// Include files for the property tests: never the real disk.
fn mem_files() -> MemSource {
    let mut m = MemSource::default();
    m.0.insert("/m/x.conf".into(), b"x { persist; $y = 1; }\n".to_vec());
    m.0.insert("/m/a.conf".into(), b"path = /a;\n".to_vec());
    m.0.insert("/m/self.conf".into(), b".include \"self.conf\";\n".to_vec());
    m
}

#[test]
fn includes_can_come_from_memory() {
    let m = mem_files();
    let c = Config::parse_with(b".include \"*.conf\";\n", "t.conf", Path::new("/m"), &m);
    // self.conf includes itself: the depth limit stops it.
    let e = c.unwrap_err().to_string();
    assert!(
        e.ends_with("/m/self.conf line 1: .include: too many nested includes"),
        "{e}"
    );
    let c = Config::parse_with(b".include \"[ax].conf\";", "t.conf", Path::new("/m"), &m).unwrap();
    assert_eq!(c.jails[0].params.str("path"), Some("/a"));
    assert!(Config::parse_with(b".include \"/m/nope\";", "t.conf", Path::new("/m"), &m).is_err());
}

#[test]
fn includes_read_regular_files_only() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("fifo.conf");
    let made = std::process::Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(&fifo)
        .status();
    assert!(made.unwrap().success(), "mkfifo {}", fifo.display());
    std::fs::write(d.path().join("real.conf"), "r { }\n").unwrap();
    // A glob skips the FIFO (reading it would block); naming it is an error.
    let c = Config::parse_bytes(b".include \"*.conf\";", "t.conf", d.path()).unwrap();
    assert_eq!(c.jails.len(), 1);
    let e = Config::parse_bytes(b".include \"fifo.conf\";", "t.conf", d.path())
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("fifo.conf: not a regular file"), "{e}");
}

/// A value as a jail.conf double-quoted string.
fn dq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' | '"' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any jails of strings, lists, booleans and integers survive
    /// print with -e '|' → parse again.
    #[test]
    fn exhibit_round_trips_random_jails(
        jails in proptest::collection::vec(
            (
                "[a-z][a-z0-9]{0,7}",
                proptest::collection::vec(
                    (0usize..6, proptest::collection::vec("[a-zA-Z0-9 ._'\"\\\\:\t-]{0,12}", 1..4), -1i64..4, any::<bool>()),
                    0..6,
                ),
            ),
            1..4,
        )
    ) {
        let mut src = String::new();
        for (name, params) in &jails {
            src.push_str(&format!("{name} {{\n"));
            for (which, vals, n, b) in params {
                let vals: Vec<String> = vals.iter().map(|v| v.replace("//", "/")).collect();
                let list = vals.iter().map(|v| dq(v)).collect::<Vec<_>>().join(", ");
                let stmt = match which {
                    0 => format!("path = {};", dq(&vals[0])),
                    1 => format!("host.hostname = {};", dq(&vals[0])),
                    2 => format!("exec.start = {list};"),
                    3 => format!("ip4.addr += {list};"),
                    4 => format!("{}persist;", if *b { "" } else { "no" }),
                    _ => format!("securelevel = {n};"),
                };
                src.push_str(&format!("\t{stmt}\n"));
            }
            src.push_str("}\n");
        }
        let a = Config::parse_str(&src, "t.conf").unwrap();
        let printed = a.exhibit("|");
        let conf: String = printed.lines().map(exhibit_to_conf).collect();
        let b = Config::parse_str(&conf, "t.conf")
            .unwrap_or_else(|e| panic!("{e}\n{conf}"));
        same_jails(&a, &b);
    }

    /// Random bytes never panic; a failure always names a place.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        match Config::parse_with(&bytes, "r.conf", Path::new("/m"), &mem_files()) {
            Ok(c) => { let _ = c.exhibit("|"); }
            Err(e) => prop_assert!(e.diags.iter().all(|d| d.pos.is_some())),
        }
    }

    /// Soups of the language's own tokens never panic.
    #[test]
    fn token_soups_never_panic(
        toks in proptest::collection::vec(
            proptest::sample::select(vec![
                "a", "b.c", "a.b", "*", "foo.*", "7", "{", "}", ";", "=", "+=", ",", "$x",
                "${y}", "${name}", "\"s$x\"", "\"$path\"", "'q'", "\\n", "\\", "#c\n", "//c\n",
                "/*", "*/", "\"", "'", ".include", "\"*.conf\"", "\"x.conf\"", "nopersist",
                "persist", "path", "jid", "name", "depend", "$x", "$y", "10", "\n", " ",
                "\\\n", "securelevel", "true", "maybe", "ip4.addr", "\\x4", "\\777",
            ]),
            0..60,
        ),
        spaces in proptest::collection::vec(any::<bool>(), 60),
    ) {
        let mut src = String::new();
        for (i, t) in toks.iter().enumerate() {
            src.push_str(t);
            if spaces[i] {
                src.push(' ');
            }
        }
        match Config::parse_with(src.as_bytes(), "s.conf", Path::new("/m"), &mem_files()) {
            Ok(c) => {
                let _ = c.exhibit("|");
                let sel = c.select(&["*"]);
                let _ = c.create_order(&sel.jails);
                let _ = c.remove_order(&sel.jails);
            }
            Err(e) => prop_assert!(e.diags.iter().all(|d| d.pos.is_some())),
        }
    }
}

// ---- selection, order, enforcement ---------------------------------------

#[test]
fn select_resolves_names_wildcards_and_jids() {
    let c = parse("a { } a.b { } a.b.c { } x { jid = 12; } 40 { }");
    let names = |s: &Selection| -> Vec<String> {
        s.jails.iter().map(|&i| c.jails[i].name.clone()).collect()
    };
    let none: [&str; 0] = [];
    assert_eq!(names(&c.select(&none)).len(), 5);
    assert_eq!(names(&c.select(&["*"])).len(), 5);
    assert_eq!(names(&c.select(&["a.*"])), strs(&["a.b", "a.b.c"]));
    assert_eq!(names(&c.select(&["12"])), strs(&["x"]));
    assert_eq!(names(&c.select(&["40"])), strs(&["40"]));
    let s = c.select(&["a", "ghost", "a"]);
    assert_eq!(names(&s), strs(&["a"]));
    assert_eq!(s.missing, strs(&["ghost"]));
}

#[test]
fn children_depend_on_parents_and_depend_orders() {
    let c = parse("web.app { } web { depend = db; } db { } other { }");
    let idx = |n: &str| c.find(n).unwrap();
    let names =
        |v: Vec<usize>| -> Vec<String> { v.into_iter().map(|i| c.jails[i].name.clone()).collect() };
    assert_eq!(
        names(c.create_order(&[idx("web.app")])),
        strs(&["db", "web", "web.app"])
    );
    assert_eq!(
        names(c.remove_order(&[idx("db")])),
        strs(&["web.app", "web", "db"])
    );
    let all: Vec<usize> = (0..c.jails.len()).collect();
    let order = names(c.create_order(&all));
    let pos = |n: &str| order.iter().position(|x| x == n).unwrap();
    assert!(pos("db") < pos("web") && pos("web") < pos("web.app"));
    assert_eq!(order.len(), 4);
}

#[test]
fn not_enforced_lists_linux_less_and_unknown_parameters() {
    // (ip4.addr is enforced: the zone's own interface carries it.)
    let c =
        parse("u {\n ip4.addr = 10.0.0.1; securelevel = 1; path = /u;\n zfs.dataset = tank/u; }");
    let j = &c.jails[0];
    assert_eq!(j.not_enforced(), strs(&["securelevel", "zfs.dataset"]));
    assert_eq!(
        j.params.get("zfs.dataset"),
        Some(&Value::Str("tank/u".into()))
    );
    assert_eq!(
        j.check_known().unwrap_err().to_string(),
        "t.conf line 3: u: unknown parameter: zfs.dataset"
    );
}

#[test]
fn positions_name_file_and_line_of_every_parameter() {
    let c = parse("path = /g;\n\nw {\n  persist;\n  hostname = w;\n}");
    let j = &c.jails[0];
    assert_eq!(j.pos, Pos::new("t.conf", 3));
    assert_eq!(j.position("path"), Some(&Pos::new("t.conf", 1)));
    assert_eq!(j.position("nopersist"), Some(&Pos::new("t.conf", 4)));
    assert_eq!(j.position("host.hostname"), Some(&Pos::new("t.conf", 5)));
    assert_eq!(j.position("name"), Some(&Pos::new("t.conf", 3)));
}

#[test]
fn default_configuration_reads_the_file_then_the_directory() {
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("jail.conf");
    let dir = d.path().join("jail.conf.d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(&conf, "persist;\nmain { }\n").unwrap();
    std::fs::write(dir.join("z.conf"), "z { }\n").unwrap();
    let c = Config::load_from(&conf, &dir).unwrap();
    let names: Vec<&str> = c.jails.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, vec!["main", "z"]);
    assert_eq!(c.get("z").unwrap().params.bool("persist"), Some(true));
    let empty = Config::load_from(&d.path().join("none"), &d.path().join("none.d")).unwrap();
    assert!(empty.jails.is_empty());
}

// ---- the example files ----------------------------------------------------

fn example_files() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/examples");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    v.sort();
    v
}

#[test]
fn example_files_exhibit() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/examples");
    let nested = Config::parse_file(&dir.join("nested.conf")).unwrap();
    assert_eq!(
        nested.exhibit("|"),
        "name=host|path=/var/lib/zones/roots/host|brand=sparse|persist|\
         exec.prepare=\"mkdir -p /var/lib/zones/roots/host\"|host.hostname=host|children.max=2|\
         zone.max-processes=200\n\
         name=host.app|path=/var/lib/zones/roots/host/jails/app|brand=sparse|persist|\
         exec.prepare=\"mkdir -p /var/lib/zones/roots/host/jails/app\"|host.hostname=app|\
         zone.max-processes=50\n\
         name=host.worker|path=/var/lib/zones/roots/host/jails/worker|brand=sparse|persist|\
         exec.prepare=\"mkdir -p /var/lib/zones/roots/host/jails/worker\"|host.hostname=worker|\
         children.max=0\n"
    );
}

#[test]
fn example_files_parse() {
    let files = example_files();
    assert!(files.len() >= 3);
    for f in files {
        let c = Config::parse_file(&f).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.jails.is_empty(), "{}", f.display());
        for j in &c.jails {
            assert!(j.check_known().is_ok(), "{}", f.display());
            let path = j.params.str("path").unwrap_or("");
            assert!(path.starts_with("/var/lib/zones/roots/"), "{path}");
        }
    }
}

#[test]
fn example_nested_has_children_max_and_every_hook_file_has_every_hook() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/examples");
    let nested = Config::parse_file(&dir.join("nested.conf")).unwrap();
    let parent = nested.jails.iter().find(|j| !j.name.contains('.')).unwrap();
    assert!(parent.params.int("children.max").unwrap() >= 1);
    assert!(nested.jails.iter().any(|j| j.name.contains('.')));
    let hooks = Config::parse_file(&dir.join("hooks.conf")).unwrap();
    let j = &hooks.jails[0];
    for h in [
        "exec.prepare",
        "exec.prestart",
        "exec.created",
        "exec.start",
        "exec.poststart",
        "exec.prestop",
        "exec.stop",
        "exec.poststop",
        "exec.release",
    ] {
        assert!(!j.params.list(h).is_empty(), "{h}");
    }
    assert_eq!(
        j.params.list("exec.created"),
        strs(&["echo created $JID $JNAME $JPATH >> /tmp/zones-hooks-hooks.log"])
    );
    assert_eq!(
        j.params.list("exec.start"),
        strs(&["echo start $JNAME >> /hooks.log"])
    );
    let web = Config::parse_file(&dir.join("web.conf")).unwrap();
    assert_eq!(web.jails[0].params.str("brand"), Some("sparse"));
}

#[test]
fn a_handbook_style_file_reads_as_on_freebsd() {
    let c = parse(
        r#"# STARTUP/LOGGING
exec.start = "/bin/sh /etc/rc";
exec.stop = "/bin/sh /etc/rc.shutdown";
exec.consolelog = "/var/log/jail_console_${name}.log";
allow.raw_sockets;
exec.clean;
mount.devfs;
host.hostname = "${name}";
path = "/usr/local/jails/containers/${name}";
ip4.addr = 192.168.1.151;
interface = em0;

classic {
  ip4 = inherit;
  interface = em0;
}

vnetjail {
  vnet;
  vnet.interface = "${epair}b";
  $id = "154";
  $ip = "192.168.1.${id}/24";
  $gateway = "192.168.1.1";
  $bridge = "bridge0";
  $epair = "epair${id}";
  exec.prestart  = "/sbin/ifconfig ${epair} create up";
  exec.prestart += "/sbin/ifconfig ${epair}a up descr jail:${name}";
  exec.prestart += "/sbin/ifconfig ${bridge} addm ${epair}a up";
  exec.start    += "/sbin/ifconfig ${epair}b ${ip} up";
  exec.start    += "/sbin/route add default ${gateway}";
  exec.poststop = "/sbin/ifconfig ${bridge} deletem ${epair}a";
  exec.poststop += "/sbin/ifconfig ${epair}a destroy";
}
"#,
    );
    let classic = &c.get("classic").unwrap().params;
    assert_eq!(classic.str("ip4"), Some("inherit"));
    assert_eq!(classic.str("host.hostname"), Some("classic"));
    assert_eq!(
        classic.str("exec.consolelog"),
        Some("/var/log/jail_console_classic.log")
    );
    let v = &c.get("vnetjail").unwrap().params;
    assert_eq!(v.str("vnet"), Some("new"));
    assert_eq!(v.list("vnet.interface"), strs(&["epair154b"]));
    assert_eq!(
        v.list("exec.start"),
        strs(&[
            "/bin/sh /etc/rc",
            "/sbin/ifconfig epair154b 192.168.1.154/24 up",
            "/sbin/route add default 192.168.1.1"
        ])
    );
    assert_eq!(
        v.list("exec.prestart"),
        strs(&[
            "/sbin/ifconfig epair154 create up",
            "/sbin/ifconfig epair154a up descr jail:vnetjail",
            "/sbin/ifconfig bridge0 addm epair154a up"
        ])
    );
    assert_eq!(v.list("exec.poststop").len(), 2);
    assert!(c.jails.iter().all(|j| j.unknown.is_empty()));
}

// ---- size: bounded nesting, work linear in the file ----------------------

/// `levels` blocks, each inside the one before, the outermost named `top`.
fn nested_named(top: &str, levels: usize) -> String {
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

/// The parser's steps for one parse of `src` (whatever its outcome).
fn steps(src: &str) -> u64 {
    work::take();
    let _ = Config::parse_str(src, "t.conf");
    work::take()
}

/// Parsing four times the input costs at most four times the work (with
/// a little slack for what does not scale): a quadratic step would cost
/// sixteen times, a cubic one sixty-four.
fn assert_linear(what: &str, make: impl Fn(usize) -> String) {
    let (small, big) = (make(1000), make(4000));
    let (ws, wb) = (steps(&small), steps(&big));
    let size = big.len() as f64 / small.len() as f64;
    let work = wb as f64 / ws as f64;
    assert!(
        work <= size * 1.1,
        "{what}: {}x the bytes took {work:.2}x the steps ({ws} -> {wb})",
        size
    );
}

#[test]
fn a_20000_level_file_is_refused_at_its_first_level_too_deep() {
    let src = nested_named("a", 20_000);
    assert!(src.len() > 80_000);
    assert_eq!(
        err(&src),
        format!("t.conf line 1: blocks nested too deeply (at most {MAX_BLOCK_DEPTH} levels)")
    );
    // The refusal costs what the first levels cost, whatever follows.
    assert_eq!(steps(&src), steps(&nested_named("a", MAX_BLOCK_DEPTH + 1)));
}

#[test]
fn blocks_nest_to_the_limit_and_the_limit_counts_across_includes() {
    let c = parse(&nested_named("a", MAX_BLOCK_DEPTH));
    let deepest = c.jails.last().unwrap();
    assert_eq!(deepest.name.split('.').count(), MAX_BLOCK_DEPTH);
    assert!(deepest.name.len() <= crate::zone::ZONENAME_MAX);
    assert!(crate::zone::ZoneName::new(&deepest.name).is_ok());
    assert_eq!(deepest.params.bool("persist"), Some(true));
    assert!(err(&nested_named("a", MAX_BLOCK_DEPTH + 1)).contains("nested too deeply"));

    // 31 levels here, two more in the included file: one too many, named
    // where the 33rd block opens.
    let mut files = BTreeMap::new();
    files.insert(PathBuf::from("/m/in.conf"), b"b {\n c { }\n}\n".to_vec());
    let outer = nested_named("a", MAX_BLOCK_DEPTH - 1).replace("persist;", ".include \"in.conf\";");
    let e = Config::parse_with(
        outer.as_bytes(),
        "/m/top.conf",
        Path::new("/m"),
        &MemSource(files),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        format!("/m/in.conf line 2: blocks nested too deeply (at most {MAX_BLOCK_DEPTH} levels)")
    );
}

#[test]
fn work_grows_linearly_with_the_file() {
    // Deep: nests of the greatest depth, one after another.
    assert_linear("deep nests", |n| {
        (0..n / 32)
            .map(|k| nested_named(&format!("n{k}"), MAX_BLOCK_DEPTH))
            .collect()
    });
    // Wide: sibling jails, each depending on the one before.
    assert_linear("siblings with depend", |n| {
        (0..n)
            .map(|i| match i {
                0 => "j0 { persist; }\n".to_string(),
                _ => format!("j{i} {{ depend = j{}; }}\n", i - 1),
            })
            .collect()
    });
    // Long: one jail with many parameters, each set twice.
    assert_linear("many parameters", |n| {
        let mut s = "a {\n".to_string();
        for _ in 0..2 {
            for i in 0..n {
                s.push_str(&format!("x{i} = {i};\n"));
            }
        }
        s.push_str("}\n");
        s
    });
    // Wildcards: a jail is tried only against the wildcard names that
    // could match it, and empty wildcard blocks give nothing.
    assert_linear("wildcard sections", |n| {
        let mut s = "* { persist; }\n".to_string();
        for i in 0..n {
            s.push_str(&format!(
                "w{i} {{ }}\n* {{ }}\nw{i}.* {{ x = {i}; }}\nw{i}.c {{ }}\n"
            ));
        }
        s
    });
    // Strings: many quoted values, some spanning lines, and a file that
    // ends inside an unterminated one.
    assert_linear("quoted strings", |n| {
        let mut s = "a {\n".to_string();
        for i in 0..n {
            s.push_str(&format!("x{i} = \"v ${{name}}\", 'w\n{i}';\n"));
        }
        s.push_str("}\n\"open\n");
        s
    });
}

#[test]
fn a_cancelled_parse_stops_with_a_message_and_no_configuration() {
    use std::sync::atomic::AtomicBool;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.conf");
    let text: String = (0..20_000)
        .map(|i| format!("j{i} {{ persist; }}\n"))
        .collect();
    std::fs::write(&f, text).unwrap();
    let go = AtomicBool::new(false);
    work::take();
    let c = Config::parse_files_cancellable(std::slice::from_ref(&f), Some(&go)).unwrap();
    let whole = work::take();
    assert_eq!(c.jails.len(), 20_000);
    let stop = AtomicBool::new(true);
    let e = Config::parse_files_cancellable(&[f], Some(&stop)).unwrap_err();
    assert_eq!(e.to_string(), "reading the configuration was cancelled");
    // It stopped near the start (a few thousand tokens), not at the end.
    let cancelled = work::take();
    assert!(cancelled * 10 < whole, "{cancelled} of {whole} steps");
}
