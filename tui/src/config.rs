//! # Configuration: ~/.config/ztop/config.toml
//!
//! Everything is optional; a missing file is the defaults. A file that does
//! not parse is an error that names the file and line (toml's message), so a
//! typo is never silently ignored.
//!
//! ```toml
//! theme = "dark"            # or "light"; NO_COLOR in the environment wins
//! interval = 1.0            # seconds between redraws of new snapshots
//! columns = ["id", "name", "status", "nproc", "load", "cpu", "mem", "uptime"]
//! sort = "cpu"              # name id nproc load cpu mem
//! sort_reverse = false
//! mouse = true
//! hosts = ["db1", "root@db2:/run/zones/zoned.sock"]   # as -H (fleet.rs)
//! ssh_options = ["Port=2222"]                         # as --ssh-option
//!
//! [keys]                    # action = key or [keys]
//! quit = ["q", "ctrl-c"]
//! halt = "H"
//! ```
//!
//! Keys are written `q`, `Q`, `ctrl-c`, `alt-x`, `enter`, `tab`, `backtab`,
//! `esc`, `up`, `down`, `left`, `right`, `home`, `end`, `pgup`, `pgdn`,
//! `space`, `f1`…`f12`. Remapping an action replaces its default keys.

use crate::keys::{Action, KeyMap};
use crate::model::{Column, SortKey};
use crate::ui::theme::{Theme, ThemeName};
use anyhow::Context;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    theme: Option<ThemeName>,
    interval: Option<f64>,
    columns: Option<Vec<String>>,
    sort: Option<SortKey>,
    sort_reverse: Option<bool>,
    mouse: Option<bool>,
    hosts: Option<Vec<String>>,
    ssh_options: Option<Vec<String>>,
    #[serde(default)]
    keys: BTreeMap<String, OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The configuration in force.
#[derive(Clone, Debug)]
pub struct Config {
    pub theme: Theme,
    pub interval: Duration,
    pub columns: Vec<Column>,
    pub sort: SortKey,
    pub sort_reverse: bool,
    pub mouse: bool,
    pub keys: KeyMap,
    /// The hosts to show when no `-H` is given (`[user@]host[:SOCKET]`).
    pub hosts: Vec<String>,
    /// Options for ssh (`-o OPT`), before any `--ssh-option`.
    pub ssh_options: Vec<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            theme: Theme::new(ThemeName::Dark, false),
            interval: Duration::from_secs(1),
            columns: Column::ALL.to_vec(),
            sort: SortKey::Id,
            sort_reverse: false,
            mouse: true,
            keys: KeyMap::default(),
            hosts: Vec::new(),
            ssh_options: Vec::new(),
        }
    }
}

/// The default file: `$XDG_CONFIG_HOME/ztop/config.toml`, else `~/.config/ztop/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("ztop/config.toml"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/ztop/config.toml"))
}

impl Config {
    /// Load `path` (an explicit `--config` must exist; the default may not).
    pub fn load(path: Option<&Path>, no_color: bool) -> anyhow::Result<Config> {
        let (path, must_exist) = match path {
            Some(p) => (Some(p.to_path_buf()), true),
            None => (default_path(), false),
        };
        let text = match &path {
            Some(p) => match std::fs::read_to_string(p) {
                Ok(t) => t,
                Err(e) if !must_exist && e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(e).with_context(|| format!("{}", p.display())),
            },
            None => String::new(),
        };
        let shown = path
            .as_deref()
            .map_or("config".into(), |p| p.display().to_string());
        Config::parse(&text, no_color).with_context(|| shown)
    }

    /// Parse the text of a config file.
    pub fn parse(text: &str, no_color: bool) -> anyhow::Result<Config> {
        let file: File = toml::from_str(text)?;
        let mut cfg = Config {
            theme: Theme::new(file.theme.unwrap_or(ThemeName::Dark), no_color),
            ..Config::default()
        };
        if let Some(s) = file.interval {
            anyhow::ensure!(
                (0.1..=3600.0).contains(&s),
                "interval = {s}: must be between 0.1 and 3600 seconds"
            );
            cfg.interval = Duration::from_secs_f64(s);
        }
        if let Some(cols) = file.columns {
            let mut parsed = Vec::new();
            for c in &cols {
                let col = Column::parse(c).ok_or_else(|| {
                    anyhow::anyhow!(
                        "columns: unknown column \"{c}\" (id name status nproc load cpu locked swap mem uptime)"
                    )
                })?;
                if !parsed.contains(&col) {
                    parsed.push(col);
                }
            }
            if !parsed.contains(&Column::Name) {
                parsed.insert(0, Column::Name);
            }
            cfg.columns = parsed;
        }
        cfg.sort = file.sort.unwrap_or_default();
        cfg.sort_reverse = file.sort_reverse.unwrap_or(false);
        cfg.mouse = file.mouse.unwrap_or(true);
        cfg.hosts = file.hosts.unwrap_or_default();
        if let Err(e) = crate::fleet::HostSpec::parse_all(&cfg.hosts) {
            anyhow::bail!("hosts: {}", e.trim_start_matches("ztop: "));
        }
        cfg.ssh_options = file.ssh_options.unwrap_or_default();
        for (name, keys) in file.keys {
            let action = Action::parse(&name).ok_or_else(|| {
                anyhow::anyhow!(
                    "[keys] {name}: no such action ({})",
                    Action::names().join(" ")
                )
            })?;
            let keys = match keys {
                OneOrMany::One(k) => vec![k],
                OneOrMany::Many(ks) => ks,
            };
            cfg.keys.rebind(action, &keys)?;
        }
        Ok(cfg)
    }
}

/// Is NO_COLOR set (to anything but the empty string, as no-color.org says)?
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ssh_options_are_read_and_checked() {
        let c = Config::parse(
            "hosts = [\"db1\", \"root@db2:/run/z.sock\"]\nssh_options = [\"Port=2222\"]\n",
            false,
        )
        .unwrap();
        assert_eq!(c.hosts, ["db1", "root@db2:/run/z.sock"]);
        assert_eq!(c.ssh_options, ["Port=2222"]);
        let e = Config::parse("hosts = [\"db1:relative\"]\n", false).unwrap_err();
        assert!(format!("{e:#}").contains("hosts: -H db1:relative"), "{e:#}");
    }
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn empty_file_is_the_defaults() {
        let c = Config::parse("", false).unwrap();
        assert!(c.hosts.is_empty() && c.ssh_options.is_empty());
        assert_eq!(c.interval, Duration::from_secs(1));
        assert_eq!(c.columns, Column::ALL.to_vec());
        assert_eq!(c.sort, SortKey::Id);
    }

    #[test]
    fn keys_columns_sort_and_interval_are_read() {
        let c = Config::parse(
            r#"
            theme = "light"
            interval = 2.5
            columns = ["id", "cpu", "mem"]
            sort = "cpu"
            sort_reverse = true
            [keys]
            halt = "H"
            quit = ["x", "ctrl-q"]
            "#,
            false,
        )
        .unwrap();
        assert_eq!(c.interval, Duration::from_millis(2500));
        assert_eq!(
            c.columns,
            vec![Column::Name, Column::Id, Column::Cpu, Column::Mem]
        );
        assert_eq!(c.sort, SortKey::Cpu);
        assert!(c.sort_reverse);
        let k = |code, m| c.keys.action(KeyEvent::new(code, m));
        assert_eq!(
            k(KeyCode::Char('H'), KeyModifiers::SHIFT),
            Some(Action::Halt)
        );
        assert_eq!(k(KeyCode::Char('h'), KeyModifiers::NONE), None);
        assert_eq!(
            k(KeyCode::Char('q'), KeyModifiers::CONTROL),
            Some(Action::Quit)
        );
        assert_eq!(k(KeyCode::Char('q'), KeyModifiers::NONE), None);
    }

    #[test]
    fn a_file_named_with_config_must_exist_and_errors_name_it() {
        let dir = std::env::temp_dir().join(format!("ztop-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.toml");
        let e = format!("{:#}", Config::load(Some(&missing), false).unwrap_err());
        assert!(e.contains("missing.toml"), "{e}");
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "interval = 1.0\nsort = \"sideways\"\n").unwrap();
        let e = format!("{:#}", Config::load(Some(&bad), false).unwrap_err());
        assert!(e.contains("bad.toml") && e.contains("line 2"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mistakes_are_errors_that_say_what() {
        let e = Config::parse("colour = 1", false).unwrap_err().to_string();
        assert!(e.contains("colour"), "{e}");
        let e = Config::parse("[keys]\nfly = \"f\"", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("fly"), "{e}");
        let e = Config::parse("columns = [\"wat\"]", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("wat"), "{e}");
        let e = Config::parse("[keys]\nquit = \"ctrl-\"", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("ctrl-"), "{e}");
    }
}
