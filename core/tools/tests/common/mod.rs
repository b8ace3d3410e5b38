//! What the tools' end-to-end tests (jail_cli, tools_cli) share: the
//! paths of the binaries under test and of zsched beside them.

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
