//! # The console's state machine
//!
//! [`App`] holds what the user did (selection, sort, filter, focus, freeze,
//! interval, the open dialog) and what the engine last said (the snapshot on
//! display, the load history of each zone, the selected zone's processes,
//! the operations in flight and the last one's result). It does no I/O and
//! draws nothing: keys, mouse events, snapshots, process tables and
//! operation results come in through methods, and what the outside world
//! must do comes back as an [`Effect`] (run an operation, log into a zone,
//! quit). So every rule here is tested by calling methods.
//!
//! ## Modes
//!
//! ```text
//!            '/'            Enter (keep) / Esc (clear)
//!   Normal ───────▶ Filter ───────────────────────────▶ Normal
//!   Normal ── '?' ─▶ Help ── any key ─────────────────▶ Normal
//!   Normal ── h/r/D ─▶ Confirm(op) ── y ─▶ Normal + Effect::Run(op)
//!                                   └── n/Esc/other ─▶ Normal
//! ```
//!
//! The selection follows the zone's *name* across snapshots and sorts; when
//! the zone disappears the selection stays at the same index.
//!
//! ## Many hosts
//!
//! With `ztop -H` the app holds a [`Fleet`] beside the snapshot
//! ([`App::on_fleet`]): the rows are every connected host's, tagged with
//! their host and grouped by it, and a zone is named by its row's
//! [`Row::key`] (`HOST/zone`) — in the selection, the load history and the
//! operations, which the fleet's control sends to that host. Processes are
//! read from this host's /proc, so the detail pane lists none for a zone
//! of another host.
//!
//! ## Freeze
//!
//! Frozen, [`App::on_snapshot`] is not called (the event loop keeps the
//! newest snapshot in its channel); keys still work on the frozen view.

use crate::config::Config;
use crate::fleet::{self, Fleet};
use crate::keys::Action;
use crate::model::{self, Row, SortKey};
use crate::procs::{ProcRequest, ProcTable};
use crate::source::{Op, OpResult};
use crate::ui::Viewport;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use zones::snapshot::{ConfiguredZone, Snapshot, ZoneSnapshot};

/// How many load samples a zone's history keeps (two minutes at 1 s).
pub const HISTORY: usize = 120;

/// The shortest and longest refresh interval `+`/`-` reach.
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Normal,
    Filter,
    Help,
    Confirm(Op),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Table,
    Detail,
}

/// A line for the footer: an operation's result, or ztop's own complaint.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

/// What the event loop must do after an input.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Quit,
    Run(Op),
    Zlogin(String),
    /// `Z`: attach to the zone's console (zlogin -C), back on detach.
    Console(String),
    Interval(Duration),
}

pub struct App {
    pub config: Config,
    pub snap: Arc<Snapshot>,
    /// The rows on display: filtered and sorted.
    pub rows: Vec<Row>,
    pub selected: usize,
    selected_name: Option<String>,
    pub table_offset: usize,
    pub sort: SortKey,
    pub reverse: bool,
    pub filter: String,
    pub mode: Mode,
    pub focus: Focus,
    pub frozen: bool,
    pub interval: Duration,
    pub tree: bool,
    pub message: Option<Message>,
    pub in_flight: Vec<Op>,
    pub history: HashMap<String, VecDeque<u64>>,
    pub procs: Option<ProcTable>,
    pub proc_offset: usize,
    pub engine_gone: bool,
    pub viewport: Viewport,
    /// The hosts, with `ztop -H` (fleet.rs); `None` on one host.
    pub fleet: Option<Arc<Fleet>>,
    /// Formats the snapshot's wall clock (local time; UTC in tests).
    pub clock: fn(f64) -> String,
}

impl App {
    pub fn new(config: Config) -> App {
        App {
            sort: config.sort,
            reverse: config.sort_reverse,
            interval: config.interval,
            config,
            snap: Arc::new(Snapshot::default()),
            rows: Vec::new(),
            selected: 0,
            selected_name: None,
            table_offset: 0,
            filter: String::new(),
            mode: Mode::Normal,
            focus: Focus::Table,
            frozen: false,
            tree: false,
            message: None,
            in_flight: Vec::new(),
            history: HashMap::new(),
            procs: None,
            proc_offset: 0,
            engine_gone: false,
            viewport: Viewport::default(),
            fleet: None,
            clock: crate::fmt::clock,
        }
    }

    /// A new snapshot to show. Returns the process request for the selected
    /// zone, when it is a kernel zone with processes to read.
    pub fn on_snapshot(&mut self, snap: Arc<Snapshot>) -> Option<ProcRequest> {
        if snap.seq != self.snap.seq || self.history.is_empty() {
            for z in &snap.zones {
                let h = self.history.entry(z.name.as_str().to_string()).or_default();
                h.push_back(z.kstat.avenrun[0] as u64);
                while h.len() > HISTORY {
                    h.pop_front();
                }
            }
            self.history
                .retain(|name, _| snap.zones.iter().any(|z| z.name.as_str() == name));
        }
        self.snap = snap;
        self.refresh_rows();
        self.proc_request()
    }

    /// The hosts' newest state, with `ztop -H`. The app's own snapshot
    /// becomes the newest host snapshot's clock (for the header), and the
    /// load history is kept per `HOST/zone`.
    pub fn on_fleet(&mut self, fl: Arc<Fleet>) {
        if self.fleet.as_ref().is_none_or(|f| f.seq != fl.seq) {
            let mut seen = Vec::new();
            for h in fl
                .hosts
                .iter()
                .filter(|h| h.state == fleet::HostState::Connected)
            {
                for z in &h.snap.zones {
                    let key = format!("{}/{}", h.label, z.name.as_str());
                    let hist = self.history.entry(key.clone()).or_default();
                    hist.push_back(z.kstat.avenrun[0] as u64);
                    while hist.len() > HISTORY {
                        hist.pop_front();
                    }
                    seen.push(key);
                }
            }
            self.history.retain(|k, _| seen.contains(k));
        }
        self.snap = Arc::new(Snapshot {
            seq: fl.seq,
            time: fl.time(),
            ..Snapshot::default()
        });
        self.fleet = Some(fl);
        self.refresh_rows();
    }

    /// Rebuild the rows after a snapshot, a sort or a filter change, keeping
    /// the selected zone selected.
    fn refresh_rows(&mut self) {
        let mut rows = match &self.fleet {
            Some(f) => fleet::rows(f),
            None => model::rows(&self.snap),
        };
        if !self.filter.is_empty() {
            let f = self.filter.to_lowercase();
            rows.retain(|r| r.is_global() || r.name.to_lowercase().contains(&f));
        }
        model::sort(&mut rows, self.sort, self.reverse);
        self.rows = rows;
        if let Some(name) = &self.selected_name
            && let Some(i) = self.rows.iter().position(|r| &r.key() == name)
        {
            self.selected = i;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.remember_selection();
        self.scroll_into_view();
    }

    fn remember_selection(&mut self) {
        let name = self.rows.get(self.selected).map(|r| r.key());
        if name != self.selected_name {
            self.proc_offset = 0;
        }
        self.selected_name = name;
    }

    /// Keep the selected row inside the table's visible rows.
    pub fn scroll_into_view(&mut self) {
        let visible = self.viewport.table_rows.max(1);
        if self.selected < self.table_offset {
            self.table_offset = self.selected;
        } else if self.selected >= self.table_offset + visible {
            self.table_offset = self.selected + 1 - visible;
        }
        let max_offset = self.rows.len().saturating_sub(visible);
        self.table_offset = self.table_offset.min(max_offset);
    }

    /// The terminal was resized or the layout changed.
    pub fn set_viewport(&mut self, v: Viewport) {
        self.viewport = v;
        self.scroll_into_view();
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }

    /// The kernel zone of the selected row.
    pub fn selected_zone(&self) -> Option<&Arc<ZoneSnapshot>> {
        let r = self.selected_row()?;
        let id = r.id?;
        self.snap_of(r)?.zone(zones::zone::ZoneId(id))
    }

    /// The table's columns: the configured ones, with HOST first across
    /// hosts (unless the configuration places it).
    pub fn columns(&self) -> Vec<crate::model::Column> {
        let mut c = self.config.columns.clone();
        if self.fleet.is_some() && !c.contains(&crate::model::Column::Host) {
            c.insert(0, crate::model::Column::Host);
        }
        c
    }

    /// The snapshot the selected row comes from (the app's own on one host).
    pub fn selected_snap(&self) -> &Snapshot {
        self.selected_row()
            .and_then(|r| self.snap_of(r))
            .map_or(&*self.snap, |s| &**s)
    }

    /// The snapshot a row comes from: its host's across hosts.
    fn snap_of(&self, r: &Row) -> Option<&Arc<Snapshot>> {
        match (&self.fleet, &r.host) {
            (Some(f), Some(h)) => f.host(h).map(|h| &h.snap),
            _ => Some(&self.snap),
        }
    }

    /// The configured zone of the selected row (no kernel zone).
    pub fn selected_configured(&self) -> Option<&ConfiguredZone> {
        let r = self.selected_row()?;
        if r.id.is_some() {
            return None;
        }
        self.snap_of(r)?
            .configured
            .iter()
            .find(|c| c.name.as_str() == r.name)
    }

    /// The processes to read for the detail pane, if any.
    pub fn proc_request(&self) -> Option<ProcRequest> {
        // none while the detail pane is hidden (a short terminal); before
        // the first layout the viewport is all zero: assume it shows
        let laid_out = self.viewport != Viewport::default();
        if laid_out && self.viewport.detail.height == 0 {
            return None;
        }
        // another host's processes are not in this host's /proc
        if self.fleet.is_some() {
            return None;
        }
        let z = self.selected_zone()?;
        let rows = if laid_out {
            self.viewport.proc_rows
        } else {
            50
        };
        Some(ProcRequest {
            zone: z.name.as_str().to_string(),
            seq: self.snap.seq,
            pids: z.procs.clone(),
            window: (!self.tree).then_some((self.proc_offset, rows.max(1))),
        })
    }

    /// How many processes the selected zone has.
    pub fn proc_count(&self) -> usize {
        self.selected_zone().map_or(0, |z| z.procs.len())
    }

    /// The collector answered.
    pub fn on_procs(&mut self, t: ProcTable) {
        if self.selected_row().is_some_and(|r| r.key() == t.zone) {
            self.procs = Some(t);
        }
    }

    /// The processes on display, when they belong to the selected zone.
    pub fn procs_of_selected(&self) -> Option<&ProcTable> {
        let name = self.selected_row()?.key();
        self.procs.as_ref().filter(|t| t.zone == name)
    }

    /// An operation ended.
    pub fn on_op_done(&mut self, op: &Op, result: OpResult) {
        if let Some(i) = self.in_flight.iter().position(|o| o == op) {
            self.in_flight.remove(i);
        }
        self.message = Some(match result {
            Ok(text) => Message {
                text: format!("{}: {text}", op.zone()),
                error: false,
            },
            Err(text) => Message {
                text: format!("{}: {} failed: {text}", op.zone(), op.verb()),
                error: true,
            },
        });
    }

    /// Tell the user something in the footer.
    pub fn say(&mut self, text: impl Into<String>, error: bool) {
        self.message = Some(Message {
            text: text.into(),
            error,
        });
    }

    /// The snapshot channel closed.
    pub fn on_engine_gone(&mut self) {
        self.engine_gone = true;
        self.say(
            "the engine is gone: the display shows its last snapshot",
            true,
        );
    }

    /// A key press. Returns what the event loop must do, if anything.
    pub fn on_key(&mut self, ev: KeyEvent) -> Option<Effect> {
        // A terminal sends Esc then a key typed quickly after it as Alt-key:
        // when Alt-key means nothing, it is Esc, then the key.
        if ev.modifiers.contains(KeyModifiers::ALT)
            && matches!(ev.code, KeyCode::Char(_))
            && self.config.keys.action(ev).is_none()
        {
            let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
            if let Some(e) = self.on_key(esc) {
                return Some(e);
            }
            let plain = KeyEvent::new(ev.code, ev.modifiers - KeyModifiers::ALT);
            return self.on_key(plain);
        }
        match self.mode.clone() {
            Mode::Filter => {
                self.filter_key(ev);
                None
            }
            Mode::Help => {
                if matches!(
                    self.config.keys.action(ev),
                    Some(Action::Quit) if ev.modifiers.contains(KeyModifiers::CONTROL)
                ) {
                    return Some(Effect::Quit);
                }
                self.mode = Mode::Normal;
                None
            }
            Mode::Confirm(op) => {
                self.mode = Mode::Normal;
                match ev.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') => Some(self.start(op)),
                    _ => {
                        self.say(format!("{}: {} cancelled", op.zone(), op.verb()), false);
                        None
                    }
                }
            }
            Mode::Normal => {
                let action = self.config.keys.action(ev)?;
                self.on_action(action)
            }
        }
    }

    fn filter_key(&mut self, ev: KeyEvent) {
        match ev.code {
            KeyCode::Esc => {
                self.filter.clear();
                self.mode = Mode::Normal;
            }
            KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char('c') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.clear();
                self.mode = Mode::Normal;
            }
            KeyCode::Char(c) if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.push(c)
            }
            _ => return,
        }
        self.refresh_rows();
        // the selected zone filtered out: select the first match
        if self.selected_row().is_some_and(|r| r.is_global())
            && self.rows.len() > 1
            && !self.filter.is_empty()
        {
            self.selected = 1;
            self.remember_selection();
            self.scroll_into_view();
        }
    }

    fn start(&mut self, op: Op) -> Effect {
        self.in_flight.push(op.clone());
        Effect::Run(op)
    }

    /// An action from the key map.
    pub fn on_action(&mut self, action: Action) -> Option<Effect> {
        use Action::*;
        match action {
            Quit => return Some(Effect::Quit),
            Help => self.mode = Mode::Help,
            Up => self.move_by(-1),
            Down => self.move_by(1),
            PageUp => self.move_by(-(self.page() as isize)),
            PageDown => self.move_by(self.page() as isize),
            Top => self.move_to(0),
            Bottom => self.move_to(usize::MAX),
            Focus => {
                self.focus = match self.focus {
                    self::Focus::Table => self::Focus::Detail,
                    self::Focus::Detail => self::Focus::Table,
                }
            }
            Filter => self.mode = Mode::Filter,
            Close => {
                if self.focus == self::Focus::Detail {
                    self.focus = self::Focus::Table;
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                    self.refresh_rows();
                } else {
                    self.message = None;
                }
            }
            SortName => self.sort_by(SortKey::Name),
            SortId => self.sort_by(SortKey::Id),
            SortNproc => self.sort_by(SortKey::Nproc),
            SortLoad => self.sort_by(SortKey::Load),
            SortCpu => self.sort_by(SortKey::Cpu),
            SortMem => self.sort_by(SortKey::Mem),
            Freeze => self.frozen = !self.frozen,
            Slower => return self.set_interval(self.interval.mul_f64(2.0)),
            Faster => return self.set_interval(self.interval.div_f64(2.0)),
            Tree => self.tree = !self.tree,
            Boot | Shutdown | Halt | Reboot | Destroy | Create | Zlogin | Console => {
                return self.zone_action(action);
            }
        }
        None
    }

    fn page(&self) -> usize {
        match self.focus {
            Focus::Table => self.viewport.table_rows.max(1),
            Focus::Detail => self.viewport.proc_rows.max(1),
        }
    }

    fn move_by(&mut self, delta: isize) {
        match self.focus {
            Focus::Table => {
                let to = self.selected.saturating_add_signed(delta);
                self.move_to(to);
            }
            Focus::Detail => {
                let max = self
                    .proc_count()
                    .saturating_sub(self.viewport.proc_rows.max(1));
                self.proc_offset = self.proc_offset.saturating_add_signed(delta).min(max);
            }
        }
    }

    fn move_to(&mut self, i: usize) {
        match self.focus {
            Focus::Table => {
                self.selected = i.min(self.rows.len().saturating_sub(1));
                self.remember_selection();
                self.scroll_into_view();
            }
            Focus::Detail => {
                let max = self
                    .proc_count()
                    .saturating_sub(self.viewport.proc_rows.max(1));
                self.proc_offset = i.min(max);
            }
        }
    }

    fn sort_by(&mut self, key: SortKey) {
        if self.sort == key {
            self.reverse = !self.reverse;
        } else {
            self.sort = key;
            self.reverse = false;
        }
        self.refresh_rows();
    }

    fn set_interval(&mut self, d: Duration) -> Option<Effect> {
        let d = d.clamp(MIN_INTERVAL, MAX_INTERVAL);
        self.interval = d;
        self.say(format!("refresh every {:.2}s", d.as_secs_f64()), false);
        Some(Effect::Interval(d))
    }

    fn zone_action(&mut self, action: Action) -> Option<Effect> {
        let row = self.selected_row()?.clone();
        let name = row.key();
        if row.is_global() {
            self.say(
                "global: the global zone is the host; ztop does not act on it",
                true,
            );
            return None;
        }
        let kernel = row.is_kernel_zone();
        let op = match action {
            Action::Boot => Op::Boot(name),
            Action::Shutdown => Op::Shutdown(name),
            Action::Halt => Op::Halt(name),
            Action::Reboot => Op::Reboot(name),
            Action::Destroy => Op::Destroy(name),
            Action::Create if kernel => {
                self.say(
                    format!(
                        "{name}: already created (id {}); create works on a configured zone (id -)",
                        row.id.unwrap_or(0)
                    ),
                    true,
                );
                return None;
            }
            Action::Create => Op::Create(name),
            Action::Console if !kernel || row.status != "running" => {
                self.say(
                    format!("{name}: not running; its console needs a running zone"),
                    true,
                );
                return None;
            }
            Action::Console => return Some(Effect::Console(name)),
            Action::Zlogin if !kernel || row.status != "running" => {
                self.say(
                    format!("{name}: not running; zlogin needs a running zone"),
                    true,
                );
                return None;
            }
            Action::Zlogin => return Some(Effect::Zlogin(name)),
            _ => return None,
        };
        if self.in_flight.iter().any(|o| o.zone() == op.zone()) {
            self.say(
                format!("{}: an operation is still running", op.zone()),
                true,
            );
            return None;
        }
        if op.needs_confirmation() {
            self.mode = Mode::Confirm(op);
            return None;
        }
        Some(self.start(op))
    }

    /// A mouse event: a click selects the row under it, the wheel scrolls
    /// whatever is under the pointer.
    pub fn on_mouse(&mut self, m: MouseEvent) {
        if self.mode != Mode::Normal {
            return;
        }
        let v = self.viewport;
        let inside = |r: ratatui::layout::Rect| {
            m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
        };
        match m.kind {
            MouseEventKind::Down(_) if inside(v.table_body) => {
                let i = self.table_offset + (m.row - v.table_body.y) as usize;
                if i < self.rows.len() {
                    self.focus = Focus::Table;
                    self.move_to(i);
                }
            }
            MouseEventKind::Down(_) if inside(v.detail) => self.focus = Focus::Detail,
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta = if m.kind == MouseEventKind::ScrollDown {
                    1
                } else {
                    -1
                };
                let saved = self.focus;
                self.focus = if inside(v.detail) {
                    Focus::Detail
                } else {
                    Focus::Table
                };
                self.move_by(if self.focus == Focus::Detail {
                    delta * 3
                } else {
                    delta
                });
                self.focus = saved;
            }
            _ => {}
        }
    }

    /// The name of the selected zone.
    pub fn selection_name(&self) -> Option<&str> {
        self.selected_name.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn key(c: char) -> KeyEvent {
        let m = if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        KeyEvent::new(KeyCode::Char(c), m)
    }
    fn code(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }
    fn names(app: &App) -> Vec<&str> {
        app.rows.iter().map(|r| r.name.as_str()).collect()
    }
    fn app() -> App {
        let mut a = App::new(Config::default());
        a.on_snapshot(Arc::new(testdata::few_zones()));
        a
    }

    #[test]
    fn sort_key_again_reverses() {
        let mut a = app();
        assert_eq!(names(&a), ["global", "web", "db", "batch", "mail", "spare"]);
        a.on_key(key('n'));
        assert_eq!(names(&a), ["global", "batch", "db", "mail", "spare", "web"]);
        a.on_key(key('n'));
        assert!(a.reverse);
        assert_eq!(names(&a), ["global", "web", "spare", "mail", "db", "batch"]);
        a.on_key(key('c'));
        assert_eq!(a.sort, SortKey::Cpu);
        assert!(!a.reverse);
        assert_eq!(names(&a)[1], "batch", "busiest first");
    }

    #[test]
    fn selection_follows_the_zone_across_sorts() {
        let mut a = app();
        a.on_key(key('j'));
        a.on_key(key('j'));
        assert_eq!(a.selected_row().unwrap().name, "db");
        a.on_key(key('n'));
        assert_eq!(a.selected_row().unwrap().name, "db");
        a.on_key(key('G'));
        assert_eq!(a.selected_row().unwrap().name, "web");
        a.on_key(key('g'));
        assert_eq!(a.selected_row().unwrap().name, "global");
        a.on_key(key('k'));
        assert_eq!(a.selected, 0, "never above the first row");
    }

    #[test]
    fn filter_narrows_and_esc_clears() {
        let mut a = app();
        a.on_key(key('/'));
        assert_eq!(a.mode, Mode::Filter);
        a.on_key(key('d'));
        a.on_key(key('b'));
        assert_eq!(names(&a), ["global", "db"], "global always shows");
        assert_eq!(
            a.selected_row().unwrap().name,
            "db",
            "the first match is selected"
        );
        assert_eq!(a.on_key(key('q')), None, "q types into the filter");
        assert_eq!(names(&a), ["global"]);
        a.on_key(code(KeyCode::Backspace));
        a.on_key(code(KeyCode::Enter));
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(a.filter, "db");
        a.on_key(code(KeyCode::Esc));
        assert_eq!(a.filter, "");
        assert_eq!(a.rows.len(), 6);
    }

    #[test]
    fn esc_typed_fast_before_a_key_arrives_as_alt_key_and_still_works() {
        let mut a = app();
        a.on_key(key('/'));
        a.on_key(key('d'));
        a.on_key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::ALT));
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(a.filter, "");
        assert_eq!(a.sort, SortKey::Name, "the key after Esc is a key");
    }

    #[test]
    fn halt_asks_first_and_y_runs_it() {
        let mut a = app();
        a.on_key(key('j')); // web
        assert_eq!(a.on_key(key('h')), None);
        assert_eq!(a.mode, Mode::Confirm(Op::Halt("web".into())));
        assert_eq!(
            a.on_key(key('y')),
            Some(Effect::Run(Op::Halt("web".into())))
        );
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(a.in_flight, [Op::Halt("web".into())]);
        // a second operation on the same zone waits for the first
        assert_eq!(a.on_key(key('b')), None);
        assert!(a.message.as_ref().unwrap().error);
        a.on_op_done(&Op::Halt("web".into()), Ok("halted in 12 ms".into()));
        assert!(a.in_flight.is_empty());
        assert_eq!(
            a.message,
            Some(Message {
                text: "web: halted in 12 ms".into(),
                error: false
            })
        );
    }

    #[test]
    fn anything_but_y_cancels() {
        let mut a = app();
        a.on_key(key('j'));
        a.on_key(key('D'));
        assert_eq!(a.mode, Mode::Confirm(Op::Destroy("web".into())));
        assert_eq!(a.on_key(key('n')), None);
        assert_eq!(a.mode, Mode::Normal);
        assert!(a.in_flight.is_empty());
        a.on_key(key('r'));
        assert_eq!(a.on_key(code(KeyCode::Esc)), None);
        assert!(a.in_flight.is_empty());
    }

    #[test]
    fn boot_runs_without_asking_and_errors_show_in_the_footer() {
        let mut a = app();
        a.on_key(key('G')); // spare: installed, no kernel zone
        assert_eq!(a.selected_row().unwrap().id, None);
        assert_eq!(
            a.on_key(key('b')),
            Some(Effect::Run(Op::Boot("spare".into())))
        );
        a.on_op_done(
            &Op::Boot("spare".into()),
            Err("zone is not installed".into()),
        );
        let m = a.message.clone().unwrap();
        assert!(m.error);
        assert_eq!(m.text, "spare: boot failed: zone is not installed");
    }

    #[test]
    fn the_global_zone_is_not_acted_on() {
        let mut a = app();
        for c in ['b', 's', 'h', 'r', 'D', 'C', 'z'] {
            assert_eq!(a.on_key(key(c)), None);
            assert_eq!(a.mode, Mode::Normal);
        }
    }

    #[test]
    fn create_only_on_configured_zones_and_zlogin_only_on_running_ones() {
        let mut a = app();
        a.on_key(key('j')); // web, running
        assert_eq!(a.on_key(key('C')), None);
        assert_eq!(a.on_key(key('z')), Some(Effect::Zlogin("web".into())));
        assert_eq!(a.on_key(key('Z')), Some(Effect::Console("web".into())));
        a.on_key(key('G')); // spare
        assert_eq!(
            a.on_key(key('C')),
            Some(Effect::Run(Op::Create("spare".into())))
        );
        assert_eq!(a.on_key(key('z')), None);
        assert_eq!(a.on_key(key('Z')), None);
    }

    #[test]
    fn freeze_toggles_and_interval_is_clamped() {
        let mut a = app();
        a.on_key(key('f'));
        assert!(a.frozen);
        a.on_key(key('f'));
        assert!(!a.frozen);
        assert_eq!(
            a.on_key(key('+')),
            Some(Effect::Interval(Duration::from_secs(2)))
        );
        for _ in 0..10 {
            a.on_key(key('-'));
        }
        assert_eq!(a.interval, MIN_INTERVAL);
    }

    #[test]
    fn help_closes_on_any_key_and_q_quits_only_outside_it() {
        let mut a = app();
        a.on_key(key('?'));
        assert_eq!(a.mode, Mode::Help);
        assert_eq!(a.on_key(key('q')), None);
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(a.on_key(key('q')), Some(Effect::Quit));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(a.on_key(ctrl_c), Some(Effect::Quit));
    }

    #[test]
    fn load_history_keeps_the_last_samples_of_live_zones() {
        let mut a = App::new(Config::default());
        let mut s = testdata::few_zones();
        for i in 0..(HISTORY as u64 + 10) {
            s.seq = i + 1;
            a.on_snapshot(Arc::new(s.clone()));
        }
        assert_eq!(a.history["web"].len(), HISTORY);
        s.zones.retain(|z| z.name.as_str() != "web");
        s.seq += 1;
        a.on_snapshot(Arc::new(s));
        assert!(!a.history.contains_key("web"));
    }

    fn lay_out(a: &mut App, w: u16, h: u16) {
        let areas = crate::ui::layout(
            ratatui::layout::Rect::new(0, 0, w, h),
            a.focus,
            a.rows.len(),
        );
        a.set_viewport(crate::ui::viewport(&areas));
    }

    #[test]
    fn a_click_selects_the_row_under_it_and_the_wheel_moves() {
        use crossterm::event::MouseButton;
        let mut a = app();
        lay_out(&mut a, 100, 30);
        let body = a.viewport.table_body;
        let at = |kind, row| MouseEvent {
            kind,
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        };
        a.on_mouse(at(MouseEventKind::Down(MouseButton::Left), body.y + 2));
        assert_eq!(a.selected_row().unwrap().name, "db");
        a.on_mouse(at(MouseEventKind::ScrollDown, body.y));
        assert_eq!(a.selected_row().unwrap().name, "batch");
        a.on_mouse(at(MouseEventKind::ScrollUp, body.y));
        a.on_mouse(at(MouseEventKind::ScrollUp, body.y));
        assert_eq!(a.selected_row().unwrap().name, "web");
        // below the last row: nothing changes
        a.on_mouse(at(MouseEventKind::Down(MouseButton::Left), body.y + 20));
        assert_eq!(a.selected_row().unwrap().name, "web");
    }

    #[test]
    fn no_process_reading_while_the_detail_pane_is_hidden() {
        let mut a = app();
        a.on_key(key('j'));
        lay_out(&mut a, 80, 12);
        assert_eq!(a.viewport.detail.height, 0);
        assert!(a.proc_request().is_none());
        lay_out(&mut a, 80, 30);
        assert!(a.proc_request().is_some());
    }

    #[test]
    fn paging_moves_by_the_visible_rows() {
        let mut a = App::new(Config::default());
        a.on_snapshot(Arc::new(testdata::many(100)));
        lay_out(&mut a, 100, 40);
        let page = a.viewport.table_rows;
        assert!(page > 5);
        a.on_key(code(KeyCode::PageDown));
        assert_eq!(a.selected, page);
        assert!(a.table_offset > 0, "scrolled to keep the selection visible");
        a.on_key(code(KeyCode::PageUp));
        assert_eq!(a.selected, 0);
        assert_eq!(a.table_offset, 0);
    }

    #[test]
    fn proc_request_is_for_the_selected_zone_only() {
        let mut a = app();
        assert_eq!(a.proc_request().unwrap().zone, "global");
        a.on_key(key('j'));
        let r = a.proc_request().unwrap();
        assert_eq!(r.zone, "web");
        assert_eq!(r.pids, a.selected_zone().unwrap().procs);
        assert!(r.window.is_some(), "a list reads only what is on screen");
        a.on_key(key('t'));
        assert_eq!(a.proc_request().unwrap().window, None, "a tree reads all");
        a.on_key(key('G'));
        assert!(
            a.proc_request().is_none(),
            "a configured zone has no processes"
        );
    }
}
