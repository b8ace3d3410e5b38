//! Fuzz the jail.conf parser: any bytes must parse or fail with messages
//! that name a file and line — never panic, never hang. When a file
//! parses, its `jail -e` output, the selection and the dependency orders
//! must not panic either. The same bytes read as an rc.conf must convert
//! (import_rc) to a jail.conf that parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use zones::jailconf::{Config, import_rc};

fuzz_target!(|data: &[u8]| {
    // No includes reach the file system from here: the directory is empty.
    match Config::parse_bytes(data, "fuzz.conf", Path::new("/nonexistent-fuzz-dir")) {
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
    let converted = import_rc(&String::from_utf8_lossy(data));
    if let Err(e) = Config::parse_str(&converted, "import") {
        panic!("import_rc output does not parse: {e}\n{converted}");
    }
});
