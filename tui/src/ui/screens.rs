//! Whole screens drawn on a `TestBackend` from hand-built snapshots, and
//! compared with the reviewed `.snap` files beside this crate's sources.

use crate::app::{App, Focus};
use crate::config::Config;
use crate::fmt::clock_utc;
use crate::procs::{ProcRow, ProcTable};
use crate::testdata;
use crate::ui::{self, theme::Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use std::sync::Arc;
use zones::snapshot::Snapshot;

fn app(snap: Snapshot) -> App {
    let config = Config {
        theme: Theme::mono(),
        ..Config::default()
    };
    let mut a = App::new(config);
    a.clock = clock_utc;
    // a short load history, so the sparkline has a shape
    let mut s = snap;
    for i in 0..40u32 {
        let mut step = s.clone();
        step.seq = i as u64 + 1;
        step.zones = step
            .zones
            .iter()
            .map(|z| {
                let mut z = (**z).clone();
                let base = z.kstat.avenrun[0];
                z.kstat.avenrun[0] = base * (10 + (i * 7 % 11)) / 15;
                Arc::new(z)
            })
            .collect();
        a.on_snapshot(Arc::new(step));
    }
    s.seq = 100;
    a.on_snapshot(Arc::new(s));
    a
}

fn key(a: &mut App, c: char) {
    let m = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    a.on_key(KeyEvent::new(KeyCode::Char(c), m));
}

fn procs_for(a: &mut App) {
    let Some(z) = a.selected_zone().cloned() else {
        return;
    };
    let cmds = [
        "/sbin/init",
        "/usr/sbin/sshd -D",
        "nginx: master process /usr/sbin/nginx",
        "nginx: worker process",
        "nginx: worker process",
        "/usr/bin/python3 /srv/app/worker.py --queue default --concurrency 4",
        "sleep 3600",
    ];
    let rows = z
        .procs
        .iter()
        .enumerate()
        .map(|(i, &pid)| ProcRow {
            pid,
            ppid: match i {
                0 => 1,
                2 | 1 | 5 | 6 => z.procs[0],
                _ => z.procs[2],
            },
            user: if i == 3 || i == 4 {
                "www-data".into()
            } else {
                "root".into()
            },
            state: if i == 5 { 'R' } else { 'S' },
            cpu_pct: if i == 5 { 12.5 } else { i as f64 * 0.3 },
            rss: ((i as u64 + 1) * 3) << 20,
            command: cmds[i % cmds.len()].into(),
        })
        .collect();
    a.on_procs(ProcTable {
        zone: z.name.as_str().into(),
        seq: a.snap.seq,
        first: 0,
        rows,
    });
}

fn screen(a: &mut App, w: u16, h: u16) -> String {
    let areas = ui::layout(Rect::new(0, 0, w, h), a.focus, a.rows.len());
    a.set_viewport(ui::viewport(&areas));
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, a)).unwrap();
    let s = t.backend().to_string();
    for line in s.lines() {
        // the buffer view quotes each line: width + 2
        assert!(line.chars().count() <= w as usize + 2, "{line}");
    }
    s
}

#[test]
fn empty_host_shows_only_the_global_zone() {
    let mut a = app(testdata::global_only());
    procs_for(&mut a);
    insta::assert_snapshot!(screen(&mut a, 100, 30));
}

#[test]
fn one_zone_selected_with_its_processes() {
    let mut a = app(testdata::one_zone());
    key(&mut a, 'j');
    procs_for(&mut a);
    insta::assert_snapshot!(screen(&mut a, 120, 36));
}

#[test]
fn one_zone_processes_as_a_tree_with_the_detail_focused() {
    let mut a = app(testdata::one_zone());
    key(&mut a, 'j');
    procs_for(&mut a);
    key(&mut a, 't');
    a.on_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(a.focus, Focus::Detail);
    insta::assert_snapshot!(screen(&mut a, 120, 36));
}

#[test]
fn a_hundred_zones_scroll_to_the_selection() {
    let mut a = app(testdata::many(100));
    for _ in 0..30 {
        key(&mut a, 'j');
    }
    procs_for(&mut a);
    insta::assert_snapshot!(screen(&mut a, 120, 40));
}

#[test]
fn a_hundred_zones_sorted_by_cpu() {
    let mut a = app(testdata::many(100));
    key(&mut a, 'c');
    insta::assert_snapshot!(screen(&mut a, 120, 40));
}

#[test]
fn narrow_terminal_drops_columns_never_wraps() {
    let mut a = app(testdata::few_zones());
    key(&mut a, 'j');
    procs_for(&mut a);
    insta::assert_snapshot!(screen(&mut a, 60, 24));
}

#[test]
fn medium_terminal_80_by_24() {
    let mut a = app(testdata::few_zones());
    key(&mut a, 'j');
    procs_for(&mut a);
    insta::assert_snapshot!(screen(&mut a, 80, 24));
}

#[test]
fn zone_near_its_limits() {
    let mut a = app(testdata::near_limits());
    key(&mut a, 'j');
    procs_for(&mut a);
    let s = screen(&mut a, 120, 36);
    insta::assert_snapshot!(s);
}

#[test]
fn hot_cells_stand_out() {
    let mut a = app(testdata::near_limits());
    a.config.theme = Theme::new(ui::theme::ThemeName::Dark, false);
    let areas = ui::layout(Rect::new(0, 0, 120, 36), a.focus, a.rows.len());
    a.set_viewport(ui::viewport(&areas));
    let mut t = Terminal::new(TestBackend::new(120, 36)).unwrap();
    t.draw(|f| ui::draw(f, &a)).unwrap();
    let buf = t.backend().buffer();
    // the db row is the third line of the table (heading, global, db)
    let y = ui::HEADER_HEIGHT + 2;
    let line: String = (0..120).map(|x| buf[(x, y)].symbol().to_string()).collect();
    let x = line.find("95").expect("nproc 95 on the db row") as u16;
    assert_eq!(buf[(x, y)].style().fg, a.config.theme.hot.fg);
    let g = line.find("global");
    assert!(g.is_none(), "{line}");
    // and the global row's NPROC is not hot
    let gy = ui::HEADER_HEIGHT + 1;
    let gline: String = (0..120)
        .map(|x| buf[(x, gy)].symbol().to_string())
        .collect();
    let gx = gline.find("212").unwrap() as u16;
    assert_ne!(buf[(gx, gy)].style().fg, a.config.theme.hot.fg);
}

#[test]
fn help_overlay() {
    let mut a = app(testdata::few_zones());
    key(&mut a, '?');
    insta::assert_snapshot!(screen(&mut a, 100, 40));
}

#[test]
fn help_overlay_in_two_columns_on_80_by_24() {
    let mut a = app(testdata::few_zones());
    key(&mut a, '?');
    insta::assert_snapshot!(screen(&mut a, 80, 24));
}

#[test]
fn confirmation_dialog_before_halt() {
    let mut a = app(testdata::few_zones());
    key(&mut a, 'j');
    procs_for(&mut a);
    key(&mut a, 'h');
    insta::assert_snapshot!(screen(&mut a, 100, 30));
}

#[test]
fn error_in_the_footer() {
    let mut a = app(testdata::few_zones());
    key(&mut a, 'G');
    key(&mut a, 'b');
    a.on_op_done(
        &crate::source::Op::Boot("spare".into()),
        Err("cannot mount /zones/spare/root: No such file or directory".into()),
    );
    insta::assert_snapshot!(screen(&mut a, 100, 30));
}

#[test]
fn operation_in_flight_and_filter_prompt() {
    let mut a = app(testdata::few_zones());
    key(&mut a, 'j');
    key(&mut a, 's');
    key(&mut a, '/');
    key(&mut a, 'b');
    insta::assert_snapshot!(screen(&mut a, 100, 24));
}

#[test]
fn frozen_and_sorted_by_name_reversed() {
    let mut a = app(testdata::few_zones());
    key(&mut a, 'n');
    key(&mut a, 'n');
    key(&mut a, 'f');
    insta::assert_snapshot!(screen(&mut a, 100, 24));
}

#[test]
fn before_the_first_snapshot() {
    let mut a = App::new(Config {
        theme: Theme::mono(),
        ..Config::default()
    });
    let s = screen(&mut a, 80, 12);
    assert!(
        s.contains("waiting for the engine's first snapshot…"),
        "{s}"
    );
}
