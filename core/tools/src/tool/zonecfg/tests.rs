//! Golden tests of zonecfg: the lexer, export, the zone's file, reading a
//! hand-written file back, verify's messages, and the round trip.

use super::*;
use crate::tool::zonecfg::lex::{Token, split_commands};

/// A session on `zone` in a fresh directory; runs `script` (batch mode).
fn session(dir: &std::path::Path, zone: &str, script: &str) -> Result<Session, String> {
    let mut s = Session::open(zone, zone_file(dir, zone), Mode::Batch)?;
    let mut out = Vec::new();
    for c in split_commands(script)? {
        s.run(&c, &mut out)?;
    }
    Ok(s)
}

fn run(s: &mut Session, script: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for c in split_commands(script)? {
        s.run(&c, &mut out)?;
    }
    Ok(String::from_utf8(out).unwrap())
}

const WEB: &str = "create -t SYSsparse; set zonepath=/zones/web; set autoboot=true
set limitpriv=default,-net_raw; set hostid=0x1234abcd; set bootargs=\"-v 2\"
add net; set physical=eth0; set address=10.0.0.5/24; set defrouter=10.0.0.1; end
add net; set physical=eth1; set address=192.168.7.2/24; end
add fs; set dir=/mnt; set special=/srv; set type=lofs; add options ro; add options nodev; end
add rctl; set name=zone.max-processes; add value (priv=privileged, limit=100, action=deny); end
add capped-memory; set physical=512M; set locked=64M; end
add capped-cpu; set ncpus=1.5; end
add dedicated-cpu; set ncpus=1; end
add attr; set name=initname; set type=string; set value=/bin/sleep; end
add attr; set name=exec.start; set type=string; set value=\"echo one\"; end
add attr; set name=exec.start; set type=string; set value=\"echo two\"; end
add attr; set name=persist; set type=boolean; set value=true; end";

const WEB_EXPORT: &str = "create -b
set zonepath=/zones/web
set brand=sparse
set autoboot=true
set bootargs=\"-v 2\"
set limitpriv=default,-net_raw
set ip-type=shared
set hostid=1234abcd
add fs
set dir=/mnt
set special=/srv
set type=lofs
set options=[ro,nodev]
end
add net
set address=10.0.0.5/24
set physical=eth0
set defrouter=10.0.0.1
end
add net
set address=192.168.7.2/24
set physical=eth1
end
add rctl
set name=zone.max-processes
add value (priv=privileged,limit=100,action=deny)
end
add attr
set name=initname
set type=string
set value=/bin/sleep
end
add attr
set name=exec.start
set type=string
set value=\"echo one\"
end
add attr
set name=exec.start
set type=string
set value=\"echo two\"
end
add attr
set name=persist
set type=boolean
set value=true
end
add dedicated-cpu
set ncpus=1
end
add capped-cpu
set ncpus=1.5
end
add capped-memory
set physical=512M
set locked=64M
end
";

const WEB_FILE: &str = "# Zone web, kept by zonecfg(8): change it with `zonecfg -z web`.
# Hand edits in jail.conf(5) grammar are read back; parameters
# zonecfg has no property for come back as attr resources.
web {
\tpath = \"/zones/web\";
\tbrand = \"sparse\";
\tautoboot = \"true\";
\tbootargs = \"-v 2\";
\tlimitpriv = \"default\", \"-net_raw\";
\thost.hostid = \"305441741\";
\tmount = \"/srv /zones/web/mnt nullfs ro,nodev 0 0\";
\tip4.addr = \"eth0|10.0.0.5/24\", \"eth1|192.168.7.2/24\";
\tzone.max-processes = \"100\";
\tinitname = \"/bin/sleep\";
\texec.start = \"echo one\", \"echo two\";
\tpersist = \"true\";
\tdedicated-cpu.ncpus = \"1\";
\tzone.cpu-cap = \"150\";
\tcapped-memory.physical = \"512M\";
\tzone.max-locked-memory = \"64M\";
\tzone.defrouter = \"10.0.0.1\";
}
";

#[test]
fn lexer_cuts_commands_lists_and_complex_values() {
    let c = split_commands("set a=\"x y\"; add options [ro, nodev] # note\nend").unwrap();
    assert_eq!(
        c,
        vec![
            vec![
                Token::Word("set".into()),
                Token::Word("a".into()),
                Token::Eq,
                Token::Word("x y".into())
            ],
            vec![
                Token::Word("add".into()),
                Token::Word("options".into()),
                Token::Value(Val::List(vec!["ro".into(), "nodev".into()]))
            ],
            vec![Token::Word("end".into())],
        ]
    );
    let c = split_commands("add value ( priv=privileged , limit=5,action=deny )").unwrap();
    assert_eq!(
        c[0][2],
        Token::Value(Val::Simple("(priv=privileged,limit=5,action=deny)".into()))
    );
    assert_eq!(
        split_commands("set a=\"open").unwrap_err(),
        "unterminated string"
    );
    assert_eq!(
        split_commands("add options [ro").unwrap_err(),
        "unterminated list: missing ']'"
    );
    assert_eq!(
        split_commands("add value (limit)").unwrap_err(),
        "syntax error in value '(limit)'"
    );
    assert_eq!(
        split_commands("set x=a)").unwrap_err(),
        "syntax error at ')'"
    );
}

#[test]
fn export_is_the_commands_in_table_order() {
    let d = tempfile::tempdir().unwrap();
    let s = session(d.path(), "web", WEB).unwrap();
    assert_eq!(s.export().unwrap(), WEB_EXPORT);
}

#[test]
fn commit_writes_one_jail_conf_block_the_jail_tools_read() {
    let d = tempfile::tempdir().unwrap();
    let mut s = session(d.path(), "web", WEB).unwrap();
    run(&mut s, "commit").unwrap();
    let text = std::fs::read_to_string(d.path().join("web.conf")).unwrap();
    assert_eq!(text, WEB_FILE);
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("web.conf")]);
    // jail.conf's own parser reads it with the meaning zonecfg gave.
    let cfg = crate::jailconf::Config::load_from(&d.path().join("no-jail.conf"), d.path()).unwrap();
    let j = cfg.get("web").unwrap();
    assert_eq!(j.params.str("path"), Some("/zones/web"));
    assert_eq!(j.params.int("capped-memory.physical"), Some(512 << 20));
    assert_eq!(j.params.int("zone.cpu-cap"), Some(150));
    assert_eq!(j.params.int("host.hostid"), Some(0x1234abcd));
    assert_eq!(j.params.list("exec.start"), vec!["echo one", "echo two"]);
    assert!(j.unknown.is_empty(), "{:?}", j.unknown);
    // And the session sees what is on disk: nothing left to commit.
    assert!(!s.dirty());
    assert_eq!(s.export().unwrap(), WEB_EXPORT);
}

#[test]
fn export_fed_back_gives_the_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    let mut s = session(d.path(), "web", WEB).unwrap();
    run(&mut s, "commit").unwrap();
    let first = Session::open("web", zone_file(d.path(), "web"), Mode::Batch)
        .unwrap()
        .export()
        .unwrap();
    let mut s = Session::open("web", zone_file(d.path(), "web"), Mode::Batch).unwrap();
    run(&mut s, "delete -F").unwrap();
    assert!(!d.path().join("web.conf").exists());
    let mut s = session(d.path(), "web", &first).unwrap();
    s.finish(&mut Vec::new()).unwrap();
    let second = Session::open("web", zone_file(d.path(), "web"), Mode::Batch)
        .unwrap()
        .export()
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(first, WEB_EXPORT);
}

#[test]
fn exclusive_ip_round_trips_through_vnet_parameters() {
    let d = tempfile::tempdir().unwrap();
    let script = "create -b; set zonepath=/z/x; set ip-type=exclusive
add anet; set linkname=eth0; set lower-link=br0; set allowed-address=10.1.0.2/24; set defrouter=10.1.0.1; end
add net; set physical=veth9; set allowed-address=10.2.0.2/24; end
commit";
    session(d.path(), "x", script).unwrap();
    let text = std::fs::read_to_string(d.path().join("x.conf")).unwrap();
    assert!(text.contains("\tvnet = \"new\";\n"), "{text}");
    assert!(text.contains("\tvnet.bridge = \"br0\";\n"), "{text}");
    assert!(text.contains("\tvnet.interface = \"veth9\";\n"), "{text}");
    assert!(
        text.contains("\tip4.addr = \"veth9|10.2.0.2/24\", \"eth0|10.1.0.2/24\";\n"),
        "{text}"
    );
    let s = Session::open("x", zone_file(d.path(), "x"), Mode::Batch).unwrap();
    assert_eq!(
        s.export().unwrap(),
        "create -b
set zonepath=/z/x
set ip-type=exclusive
add net
set allowed-address=10.2.0.2/24
set physical=veth9
end
add anet
set linkname=eth0
set lower-link=br0
set allowed-address=10.1.0.2/24
set defrouter=10.1.0.1
end
"
    );
}

#[test]
fn a_hand_written_file_reads_back_with_attrs_for_the_rest() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("h.conf"),
        "h {\n  path = /srv/h;\n  host.hostname = h.example;\n  nopersist;\n  zone.max-lwps = 50;\n  mount += \"tmpfs /srv/h/tmp tmpfs size=1m 0 0\";\n}\n",
    )
    .unwrap();
    let mut s = Session::open("h", zone_file(d.path(), "h"), Mode::Batch).unwrap();
    assert_eq!(
        run(&mut s, "info").unwrap(),
        "zonename: h
zonepath: /srv/h
brand: 
autoboot: 
bootargs: 
pool: 
limitpriv: 
scheduling-class: 
ip-type: shared
hostid: 
fs-allowed: 
fs:
\tdir: /tmp
\tspecial: tmpfs
\traw not specified
\ttype: tmpfs
\toptions: [\"size=1m\"]
rctl:
\tname: zone.max-lwps
\tvalue: (priv=privileged,limit=50,action=deny)
attr:
\tname: host.hostname
\ttype: string
\tvalue: h.example
attr:
\tname: persist
\ttype: boolean
\tvalue: false
"
    );
    assert_eq!(
        run(&mut s, "info rctl name=zone.max-lwps").unwrap(),
        "rctl:\n\tname: zone.max-lwps\n\tvalue: (priv=privileged,limit=50,action=deny)\n"
    );
    assert_eq!(run(&mut s, "info zonepath").unwrap(), "zonepath: /srv/h\n");
}

#[test]
fn verify_names_what_has_no_linux_meaning() {
    let d = tempfile::tempdir().unwrap();
    let script = "create -b; set zonepath=/z/v; set pool=web_pool; set scheduling-class=FSS
add device; set match=/dev/dsk/*; end
add dataset; set name=tank/v; end
add dedicated-cpu; set ncpus=1-2; set importance=10; end
add fs; set dir=/a; set special=/b; set type=ufs; set raw=/dev/rdsk/c0; end
add rctl; set name=zone.max-shm-memory; add value (priv=privileged,limit=1,action=deny); end
add rctl; set name=zone.max-lwps; add value (priv=basic,limit=1,action=deny); end
add rctl; set name=zone.cpu-shares; add value (priv=privileged,limit=1,action=none); end
add anet; set linkname=net0; set lower-link=br0; end
add attr; set name=comment; set type=string; set value=hello; end
add capped-memory; set physical=lots; end";
    let mut s = session(d.path(), "v", script).unwrap();
    let f = s.findings().unwrap();
    assert_eq!(
        f.errors,
        vec![
            "pool web_pool: has no Linux meaning (use dedicated-cpu or capped-cpu)",
            "fs dir=/a: raw /dev/rdsk/c0: has no Linux meaning (no fsck)",
            "anet linkname=net0: anet needs ip-type exclusive",
            "anet linkname=net0: linkname net0: has no Linux meaning (the zone's end is always eth0)",
            "device match=/dev/dsk/*: has no Linux meaning (a zone's devices are its devfs_ruleset; no ZFS datasets)",
            "rctl zone.max-shm-memory: has no Linux meaning (not one of ours)",
            "rctl zone.max-lwps: value (priv=basic,limit=1,action=deny): only priv=privileged has a Linux meaning",
            "rctl zone.cpu-shares: value (priv=privileged,limit=1,action=none): only action=deny has a Linux meaning",
            "attr comment: has no Linux meaning (not a jail or zone parameter)",
            "dataset name=tank/v: has no Linux meaning (a zone's devices are its devfs_ruleset; no ZFS datasets)",
            "dedicated-cpu ncpus 1-2: must be a positive integer (a range has no Linux meaning)",
            "dedicated-cpu importance 10: has no Linux meaning (no pools)",
            "capped-memory physical: capped-memory.physical: bad size \"lots\"",
        ]
    );
    assert_eq!(
        f.warnings,
        vec!["scheduling-class FSS: has no Linux meaning (kept as sched_class, not enforced)"]
    );
    // commit refuses, and writes nothing.
    let e = run(&mut s, "commit").unwrap_err();
    assert!(e.starts_with("pool web_pool: has no Linux meaning"), "{e}");
    assert!(!d.path().join("v.conf").exists());
}

#[test]
fn illumos_errors() {
    let d = tempfile::tempdir().unwrap();
    let mut s = Session::open("e", zone_file(d.path(), "e"), Mode::Batch).unwrap();
    assert_eq!(
        run(&mut s, "set zonepath=/z").unwrap_err(),
        "No such zone configured\nUse 'create' to begin configuring a new zone."
    );
    assert_eq!(
        run(&mut s, "delete -F").unwrap_err(),
        "No such zone configured"
    );
    run(&mut s, "create; set zonepath=/z/e; commit").unwrap();
    assert_eq!(
        run(&mut s, "create").unwrap_err(),
        "Zone e already exists; use create -F"
    );
    run(&mut s, "create -F -b").unwrap();
    assert_eq!(
        run(&mut s, "add net; set physical=a; set address=1.2.3.4; end; add net; set physical=a; set address=1.2.3.5; end; remove net physical=a").unwrap_err(),
        "net: There are multiple instances of this resource. Either qualify the resource to remove a single instance or use the -F option to remove all instances."
    );
    run(&mut s, "remove net address=1.2.3.5").unwrap();
    assert_eq!(
        run(&mut s, "select net physical=b").unwrap_err(),
        "net: No such resource with that id"
    );
    run(&mut s, "select net physical=a; set address=1.2.3.9; end").unwrap();
    assert_eq!(
        s.config().unwrap().res[0].text("address").as_deref(),
        Some("1.2.3.9")
    );
    assert_eq!(
        run(&mut s, "add capped-memory; end").unwrap_err(),
        "capped-memory: insufficient specification: physical, swap or locked"
    );
    run(&mut s, "cancel").unwrap();
    assert_eq!(
        run(&mut s, "add fs; set dir=/x; end").unwrap_err(),
        "fs: insufficient specification: special, type not specified"
    );
    assert_eq!(
        run(&mut s, "commit").unwrap_err(),
        "commit: not allowed in resource scope (use end or cancel first)"
    );
    run(&mut s, "cancel").unwrap();
    assert_eq!(
        run(&mut s, "set brand=ipkg").unwrap_err(),
        "brand ipkg: invalid value (must be sparse or whole)"
    );
    assert_eq!(
        run(&mut s, "set net=x").unwrap_err(),
        "net: is a resource: use add net"
    );
    assert_eq!(run(&mut s, "frob").unwrap_err(), "syntax error at 'frob'");
    assert_eq!(
        run(&mut s, "exit").unwrap_err(),
        "zonepath: required property not specified\ne: commit not done"
    );
    run(&mut s, "revert -F").unwrap();
    assert!(!s.dirty());
    run(&mut s, "exit").unwrap();
    assert!(s.exited);
}

#[test]
fn a_template_is_another_zone_without_its_place() {
    let d = tempfile::tempdir().unwrap();
    session(
        d.path(),
        "a",
        "create -t SYSsparse; set zonepath=/z/a; add capped-cpu; set ncpus=2; end; commit",
    )
    .unwrap();
    let s = session(d.path(), "b", "create -t a").unwrap();
    assert_eq!(
        s.export().unwrap(),
        "create -b\nset brand=sparse\nset autoboot=false\nset ip-type=shared\nadd capped-cpu\nset ncpus=2\nend\n"
    );
    let mut s = Session::open("c", zone_file(d.path(), "c"), Mode::Batch).unwrap();
    assert_eq!(
        run(&mut s, "create -t nosuch").unwrap_err(),
        "nosuch: No such zone configured"
    );
}
