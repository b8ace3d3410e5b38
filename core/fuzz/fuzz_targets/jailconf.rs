//! Fuzz the jail.conf parser: any bytes must parse or fail with messages
//! that name a file and line — never panic, never hang. When a file
//! parses, its `jail -e` output, the selection and the dependency orders
//! must not panic either. The same bytes read as an rc.conf must convert
//! (import_rc) to a jail.conf that parses, and as command-line arguments
//! build a jail or fail cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use zones::jailconf::{Config, MemSource, import_rc};

/// The files `.include` may find: in memory, never the real disk (a
/// pattern like `/*/*/*` would otherwise walk /proc and block on pipes).
fn files() -> &'static MemSource {
    static FILES: OnceLock<MemSource> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut m = MemSource::default();
        for (p, body) in [
            ("/f/a.conf", "a { path = /a; persist; }\n"),
            ("/f/b.conf", "$v = 1;\nip4.addr += 10.0.0.$v;\n"),
            ("/f/self.conf", ".include \"self.conf\";\n"),
            ("/f/d/x.conf", "x { depend = a; }\n"),
            ("/etc/jail.conf.d/w.conf", "w.* { securelevel = 1; }\n"),
        ] {
            m.0.insert(p.into(), body.as_bytes().to_vec());
        }
        m
    })
}

fuzz_target!(|data: &[u8]| {
    match Config::parse_with(data, "fuzz.conf", Path::new("/f"), files()) {
        Ok(cfg) => {
            let _ = cfg.exhibit("|");
            let sel = cfg.select(&["*"]);
            let _ = cfg.create_order(&sel.jails);
            let _ = cfg.remove_order(&sel.jails);
            for j in &cfg.jails {
                let _ = j.not_enforced();
            }
        }
        Err(e) => {
            assert!(!e.diags.is_empty());
            let _ = e.to_string();
        }
    }
    // The same bytes as command-line arguments (split at NUL).
    let args: Vec<String> = data
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if let Ok(j) = zones::jailconf::Jail::from_args(&args) {
        let _ = j.exhibit("|");
        let _ = j.jid_file_line(1, false);
        let _ = j.jid_file_line(1, true);
    }
    let converted = import_rc(&String::from_utf8_lossy(data));
    if let Err(e) = Config::parse_str(&converted, "import") {
        panic!("import_rc output does not parse: {e}\n{converted}");
    }
});
