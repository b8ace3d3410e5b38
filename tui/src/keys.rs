//! # Keys: what each key does, and how the user remaps it
//!
//! A key press becomes an [`Action`] through the [`KeyMap`]; the app state
//! machine only ever sees actions, so remapping in config.toml changes
//! nothing else. Defaults are ztop.md's "Keys". The footer and the help
//! overlay print keys from the map, so they stay true after a remap.
//!
//! One conflict in ztop.md is settled here: `c` sorts by CPU, and *create
//! from a configured jail.conf entry* is `C` (shift-c).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::HashMap;

/// Everything a key can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Focus,
    Filter,
    Close,
    SortName,
    SortId,
    SortNproc,
    SortLoad,
    SortCpu,
    SortMem,
    Freeze,
    Slower,
    Faster,
    Tree,
    Boot,
    Shutdown,
    Halt,
    Reboot,
    Destroy,
    Create,
    Zlogin,
    Console,
}

impl Action {
    pub const ALL: [Action; 29] = [
        Action::Quit,
        Action::Help,
        Action::Up,
        Action::Down,
        Action::Top,
        Action::Bottom,
        Action::PageUp,
        Action::PageDown,
        Action::Focus,
        Action::Filter,
        Action::Close,
        Action::SortName,
        Action::SortId,
        Action::SortNproc,
        Action::SortLoad,
        Action::SortCpu,
        Action::SortMem,
        Action::Freeze,
        Action::Slower,
        Action::Faster,
        Action::Tree,
        Action::Boot,
        Action::Shutdown,
        Action::Halt,
        Action::Reboot,
        Action::Destroy,
        Action::Create,
        Action::Zlogin,
        Action::Console,
    ];

    /// The name used in config.toml's `[keys]`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Up => "up",
            Action::Down => "down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Focus => "focus",
            Action::Filter => "filter",
            Action::Close => "close",
            Action::SortName => "sort_name",
            Action::SortId => "sort_id",
            Action::SortNproc => "sort_nproc",
            Action::SortLoad => "sort_load",
            Action::SortCpu => "sort_cpu",
            Action::SortMem => "sort_mem",
            Action::Freeze => "freeze",
            Action::Slower => "slower",
            Action::Faster => "faster",
            Action::Tree => "tree",
            Action::Boot => "boot",
            Action::Shutdown => "shutdown",
            Action::Halt => "halt",
            Action::Reboot => "reboot",
            Action::Destroy => "destroy",
            Action::Create => "create",
            Action::Zlogin => "zlogin",
            Action::Console => "console",
        }
    }

    /// What the help overlay says it does.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "this help",
            Action::Up => "zone above",
            Action::Down => "zone below",
            Action::PageUp => "a page up",
            Action::PageDown => "a page down",
            Action::Top => "first zone",
            Action::Bottom => "last zone",
            Action::Focus => "detail pane / table",
            Action::Filter => "filter zones by name",
            Action::Close => "close, back, unfilter",
            Action::SortName => "name",
            Action::SortId => "id",
            Action::SortNproc => "processes",
            Action::SortLoad => "load",
            Action::SortCpu => "CPU",
            Action::SortMem => "memory",
            Action::Freeze => "freeze the display",
            Action::Slower => "longer refresh interval",
            Action::Faster => "shorter refresh interval",
            Action::Tree => "processes: tree / list",
            Action::Boot => "boot",
            Action::Shutdown => "shut down",
            Action::Halt => "halt (asks y/n)",
            Action::Reboot => "reboot (asks y/n)",
            Action::Destroy => "destroy/uninstall (y/n)",
            Action::Create => "create from jail.conf",
            Action::Zlogin => "log in (zlogin)",
            Action::Console => "console (zlogin -C)",
        }
    }

    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn names() -> Vec<&'static str> {
        Action::ALL.iter().map(|a| a.name()).collect()
    }

    fn default_keys(self) -> &'static [&'static str] {
        match self {
            Action::Quit => &["q", "ctrl-c"],
            Action::Help => &["?", "f1"],
            Action::Up => &["up", "k"],
            Action::Down => &["down", "j"],
            Action::Top => &["g", "home"],
            Action::Bottom => &["G", "end"],
            Action::PageUp => &["pgup"],
            Action::PageDown => &["pgdn"],
            Action::Focus => &["enter", "tab"],
            Action::Filter => &["/"],
            Action::Close => &["esc"],
            Action::SortName => &["n"],
            Action::SortId => &["i"],
            Action::SortNproc => &["p"],
            Action::SortLoad => &["l"],
            Action::SortCpu => &["c"],
            Action::SortMem => &["m"],
            Action::Freeze => &["f"],
            Action::Slower => &["+"],
            Action::Faster => &["-"],
            Action::Tree => &["t"],
            Action::Boot => &["b"],
            Action::Shutdown => &["s"],
            Action::Halt => &["h"],
            Action::Reboot => &["r"],
            Action::Destroy => &["D"],
            Action::Create => &["C"],
            Action::Zlogin => &["z"],
            Action::Console => &["Z"],
        }
    }
}

/// A key as the map stores it: the code, and only Ctrl and Alt (Shift is
/// already in the character: `D` is shift-d).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn of(ev: KeyEvent) -> Key {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            KeyCode::BackTab => {
                mods = KeyModifiers::NONE;
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// Parse `q`, `ctrl-c`, `pgdn`, `f1`, ...
    pub fn parse(s: &str) -> Option<Key> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "esc" => KeyCode::Esc,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n: u8 = f[1..].parse().ok()?;
                if !(1..=12).contains(&n) {
                    return None;
                }
                KeyCode::F(n)
            }
            c => {
                let mut chars = c.chars();
                let ch = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                let ch = if mods.contains(KeyModifiers::CONTROL) {
                    ch.to_ascii_lowercase()
                } else {
                    ch
                };
                KeyCode::Char(ch)
            }
        };
        Some(Key { code, mods })
    }

    /// How the footer and help print the key.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push('^');
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("M-");
        }
        let k = match self.code {
            KeyCode::Enter => "Enter".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Backspace => "BS".into(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                c.to_ascii_uppercase().to_string()
            }
            KeyCode::Char(c) => c.to_string(),
            other => format!("{other:?}"),
        };
        s.push_str(&k);
        s
    }
}

/// Keys to actions, and actions back to their keys (for labels).
#[derive(Clone, Debug)]
pub struct KeyMap {
    by_key: HashMap<Key, Action>,
    by_action: HashMap<Action, Vec<Key>>,
}

impl Default for KeyMap {
    fn default() -> KeyMap {
        let mut m = KeyMap {
            by_key: HashMap::new(),
            by_action: HashMap::new(),
        };
        for a in Action::ALL {
            let keys: Vec<Key> = a
                .default_keys()
                .iter()
                .map(|k| Key::parse(k).expect("default key parses"))
                .collect();
            for k in &keys {
                m.by_key.insert(*k, a);
            }
            m.by_action.insert(a, keys);
        }
        m
    }
}

impl KeyMap {
    /// The action of a key press, if any.
    pub fn action(&self, ev: KeyEvent) -> Option<Action> {
        self.by_key.get(&Key::of(ev)).copied()
    }

    /// Replace `action`'s keys with `keys`. A key taken by another action
    /// moves to this one.
    pub fn rebind(&mut self, action: Action, keys: &[String]) -> anyhow::Result<()> {
        let mut parsed = Vec::new();
        for k in keys {
            parsed.push(Key::parse(k).ok_or_else(|| {
                anyhow::anyhow!("[keys] {}: cannot read key \"{k}\"", action.name())
            })?);
        }
        if let Some(old) = self.by_action.remove(&action) {
            for k in old {
                self.by_key.remove(&k);
            }
        }
        for k in &parsed {
            if let Some(prev) = self.by_key.insert(*k, action)
                && let Some(v) = self.by_action.get_mut(&prev)
            {
                v.retain(|x| x != k);
            }
        }
        self.by_action.insert(action, parsed);
        Ok(())
    }

    /// The first key of an action, as a label (`?` when it has none).
    pub fn label(&self, action: Action) -> String {
        self.by_action
            .get(&action)
            .and_then(|v| v.first())
            .map_or("—".into(), Key::label)
    }

    /// Every key of an action, as labels joined with `/`.
    pub fn labels(&self, action: Action) -> String {
        let v = self.by_action.get(&action).cloned().unwrap_or_default();
        if v.is_empty() {
            return "—".into();
        }
        v.iter().map(Key::label).collect::<Vec<_>>().join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn defaults_follow_ztop_md() {
        let m = KeyMap::default();
        let a = |c: char| m.action(ev(KeyCode::Char(c), KeyModifiers::NONE));
        assert_eq!(a('q'), Some(Action::Quit));
        assert_eq!(a('b'), Some(Action::Boot));
        assert_eq!(a('c'), Some(Action::SortCpu));
        assert_eq!(
            m.action(ev(KeyCode::Char('D'), KeyModifiers::SHIFT)),
            Some(Action::Destroy)
        );
        assert_eq!(
            m.action(ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            m.action(ev(KeyCode::Tab, KeyModifiers::NONE)),
            Some(Action::Focus)
        );
        assert_eq!(
            m.action(ev(KeyCode::PageDown, KeyModifiers::NONE)),
            Some(Action::PageDown)
        );
    }

    #[test]
    fn rebinding_moves_a_key_from_its_old_action() {
        let mut m = KeyMap::default();
        m.rebind(Action::Halt, &["b".into()]).unwrap();
        let a = |c: char| m.action(ev(KeyCode::Char(c), KeyModifiers::NONE));
        assert_eq!(a('b'), Some(Action::Halt));
        assert_eq!(a('h'), None);
        assert_eq!(m.labels(Action::Boot), "—");
    }

    #[test]
    fn key_labels_read_like_htop() {
        assert_eq!(Key::parse("ctrl-c").unwrap().label(), "^C");
        assert_eq!(Key::parse("pgdn").unwrap().label(), "PgDn");
        assert_eq!(Key::parse("f10").unwrap().label(), "F10");
        assert!(Key::parse("f13").is_none());
        assert!(Key::parse("ab").is_none());
    }
}
