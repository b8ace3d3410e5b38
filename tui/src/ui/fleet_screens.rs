//! Screens across hosts (`ztop -H`) drawn on a `TestBackend` from
//! hand-built fleets, compared with the reviewed `.snap` files: the
//! per-host header lines, the HOST column and the rows grouped by host.

use crate::app::{App, Effect};
use crate::batch;
use crate::config::Config;
use crate::fleet::{Fleet, HostState, HostView};
use crate::fmt::clock_utc;
use crate::model::{Column, SortKey};
use crate::source::Op;
use crate::testdata;
use crate::ui::{self, theme::Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use std::sync::Arc;

fn fleet() -> Fleet {
    let mut b = testdata::one_zone();
    b.host.hostname = "beta".into();
    b.host.loadavg = [0.5, 0.25, 0.125];
    Fleet {
        seq: 7,
        hosts: vec![
            HostView {
                label: "alpha".into(),
                state: HostState::Connected,
                snap: Arc::new(testdata::few_zones()),
            },
            HostView {
                label: "alpha#2".into(),
                state: HostState::Connected,
                snap: Arc::new(b),
            },
            HostView {
                label: "gamma".into(),
                state: HostState::Unreachable(
                    "ssh: connect to host gamma port 22: Connection refused".into(),
                ),
                snap: Arc::default(),
            },
        ],
    }
}

fn app(f: Fleet) -> App {
    let mut a = App::new(Config {
        theme: Theme::mono(),
        ..Config::default()
    });
    a.clock = clock_utc;
    a.on_fleet(Arc::new(f));
    a
}

fn screen(a: &mut App, w: u16, h: u16) -> String {
    let areas = ui::app_layout(Rect::new(0, 0, w, h), a);
    a.set_viewport(ui::viewport(&areas));
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, a)).unwrap();
    let s = t.backend().to_string();
    for line in s.lines() {
        assert!(line.chars().count() <= w as usize + 2, "{line}");
    }
    s
}

fn key(a: &mut App, c: char) -> Option<Effect> {
    a.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn two_hosts_and_an_unreachable_one_in_one_table() {
    let mut a = app(fleet());
    let s = screen(&mut a, 120, 36);
    insta::assert_snapshot!(s);
    assert!(s.contains("gamma   unreachable  ssh: connect"), "{s}");
}

#[test]
fn the_fleet_header_alone() {
    let a = app(fleet());
    let d = ui::hosts::FleetHeaderData::of(&a).expect("a fleet");
    let mut t = Terminal::new(TestBackend::new(100, 4)).unwrap();
    t.draw(|f| ui::hosts::draw(f, f.area(), &d, &Theme::mono()))
        .unwrap();
    insta::assert_snapshot!(t.backend().to_string());
}

#[test]
fn rows_are_grouped_by_host_in_the_order_named_whatever_the_sort() {
    let mut a = app(fleet());
    let hosts = |a: &App| -> Vec<String> {
        let mut h: Vec<String> = a.rows.iter().map(|r| r.host.clone().unwrap()).collect();
        h.dedup();
        h
    };
    assert_eq!(hosts(&a), ["alpha", "alpha#2"]);
    key(&mut a, 'n');
    key(&mut a, 'n');
    assert_eq!(hosts(&a), ["alpha", "alpha#2"]);
    assert!(a.rows.iter().filter(|r| r.is_global()).count() == 2);
}

#[test]
fn a_halt_goes_to_the_zone_of_its_own_host() {
    let mut a = app(fleet());
    // the second host's first non-global zone
    let i = a
        .rows
        .iter()
        .position(|r| r.host.as_deref() == Some("alpha#2") && !r.is_global())
        .unwrap();
    while a.selected < i {
        key(&mut a, 'j');
    }
    let name = a.rows[i].name.clone();
    assert_eq!(key(&mut a, 'h'), None, "asks first");
    assert_eq!(
        key(&mut a, 'y'),
        Some(Effect::Run(Op::Halt(format!("alpha#2/{name}"))))
    );
    // no process request for another host's zone
    assert!(a.proc_request().is_none());
    // the selection follows HOST/zone across a new fleet
    let mut f = fleet();
    f.seq = 8;
    a.on_fleet(Arc::new(f));
    assert_eq!(a.selected_row().unwrap().key(), format!("alpha#2/{name}"));
}

#[test]
fn an_unreachable_host_keeps_its_line_and_loses_its_rows() {
    let mut f = fleet();
    f.hosts[1].state = HostState::Unreachable("zoned went away".into());
    let mut a = app(f);
    assert!(a.rows.iter().all(|r| r.host.as_deref() == Some("alpha")));
    let s = screen(&mut a, 120, 30);
    assert!(s.contains("alpha#2 unreachable  zoned went away"), "{s}");
}

#[test]
fn batch_text_across_hosts() {
    let o = batch::Options {
        columns: &Column::ALL,
        sort: SortKey::Id,
        reverse: false,
        width: 100,
        clock: clock_utc,
    };
    let t = batch::fleet_text(&fleet(), &o);
    for l in t.lines() {
        assert!(l.chars().count() <= 100, "{l}");
    }
    insta::assert_snapshot!(t);
}

#[test]
fn batch_json_across_hosts_names_every_host_and_every_row_its_host() {
    let j = batch::fleet_json(&fleet(), SortKey::Id, false);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3);
    assert_eq!(hosts[0]["host"], "alpha");
    assert_eq!(hosts[0]["state"], "connected");
    assert_eq!(hosts[2]["state"], "unreachable");
    assert!(hosts[2]["reason"].as_str().unwrap().contains("refused"));
    assert!(hosts[2].get("info").is_none());
    let zones = v["zones"].as_array().unwrap();
    assert!(!zones.is_empty());
    assert!(
        zones
            .iter()
            .all(|z| z["host"] == "alpha" || z["host"] == "alpha#2")
    );
}
