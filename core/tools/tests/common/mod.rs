//! What the tools' end-to-end tests (jail_cli, tools_cli) share: the
//! paths of the binaries under test and of zsched beside them, and what
//! a finished tool gave back.

pub const KSTAT: &str = env!("CARGO_BIN_EXE_kstat");
pub const ZONEADM: &str = env!("CARGO_BIN_EXE_zoneadm");
pub const JLS: &str = env!("CARGO_BIN_EXE_jls");
pub const JEXEC: &str = env!("CARGO_BIN_EXE_jexec");
pub const JAIL: &str = env!("CARGO_BIN_EXE_jail");
pub const ZLOGIN: &str = env!("CARGO_BIN_EXE_zlogin");

/// zsched, zones-linux's binary, built beside the tools by the workspace
/// build (`cargo build --workspace`, or `-p zones-linux --bin zsched`).
pub fn zsched() -> std::path::PathBuf {
    let p = std::path::Path::new(JAIL).with_file_name("zsched");
    assert!(
        p.is_file(),
        "{} is not built (cargo build --workspace)",
        p.display()
    );
    p
}

/// What a finished tool gave back: exit code (-1 when killed by a
/// signal), standard output and standard error as text.
pub struct Out {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl From<std::process::Output> for Out {
    fn from(o: std::process::Output) -> Out {
        Out {
            code: o.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&o.stdout).into_owned(),
            err: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}
