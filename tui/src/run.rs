//! # The event loop
//!
//! One task waits on everything that can change the screen and redraws
//! only after one of them fired:
//!
//! * a key, a mouse event or a resize (crossterm's event stream);
//! * a new snapshot on the watch channel (a [`Feed`]: one engine's, or
//!   with `ztop -H` the hosts' merged into a fleet), taken at most once per refresh
//!   interval (the newest one wins; frozen, none is taken);
//! * the process collector's answer for the selected zone;
//! * the end of an operation (its result goes to the footer);
//! * SIGTERM, SIGHUP, SIGINT or SIGQUIT, which end ztop with the terminal
//!   restored.
//!
//! There is no frame timer: an idle console with a frozen display sleeps.
//! Operations are spawned as tasks; the loop never awaits one.

use crate::app::{App, Effect};
use crate::procs::{self, ProcRequest, ProcTable};
use crate::source::{Control, Op, OpResult, SnapshotRx};
use crate::term::{self, Tui};
use crate::tunnel::FleetRx;
use crate::ui;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use std::sync::Arc;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::sync::watch::{self, error::RecvError};
use tokio::time::Instant;

/// Where the console's data comes from: one engine's snapshots, or the
/// fleet of `ztop -H` (tunnel.rs). Both are watch channels; a feed knows
/// how to hand its newest value to the app.
pub trait Feed {
    /// There is something to show already.
    fn has_first(&self) -> bool;
    /// Wait for a new value; an error when the source is gone.
    fn changed(&mut self) -> impl std::future::Future<Output = Result<(), RecvError>>;
    /// Hand the newest value to the app.
    fn deliver(&mut self, app: &mut App);
}

impl Feed for SnapshotRx {
    fn has_first(&self) -> bool {
        self.borrow().seq > 0 || !self.borrow().zones.is_empty()
    }
    fn changed(&mut self) -> impl std::future::Future<Output = Result<(), RecvError>> {
        watch::Receiver::changed(self)
    }
    fn deliver(&mut self, app: &mut App) {
        let s = self.borrow_and_update().clone();
        app.on_snapshot(s);
    }
}

impl Feed for FleetRx {
    fn has_first(&self) -> bool {
        true
    }
    fn changed(&mut self) -> impl std::future::Future<Output = Result<(), RecvError>> {
        watch::Receiver::changed(self)
    }
    fn deliver(&mut self, app: &mut App) {
        let f = self.borrow_and_update().clone();
        app.on_fleet(f);
    }
}

/// Why the loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Signal(i32),
}

/// Run the console until the user quits or a signal arrives. The terminal
/// must have been entered; the caller restores it.
pub async fn run<F: Feed>(
    terminal: &mut Tui,
    mut app: App,
    mut rx: F,
    control: Arc<dyn Control>,
) -> anyhow::Result<Exit> {
    let (op_tx, mut op_rx) = mpsc::unbounded_channel::<(Op, OpResult)>();
    let (proc_tx, mut proc_rx) = mpsc::unbounded_channel::<ProcTable>();
    let collector = procs::spawn(move |t| {
        let _ = proc_tx.send(t);
    });
    // the last (zone, snapshot, window) whose processes were asked for:
    // after every draw, what the pane shows is asked for once per snapshot
    type Asked = (String, u64, Option<(usize, usize)>);
    let mut asked: Option<Asked> = None;
    let mut ask_procs = |req: Option<ProcRequest>| {
        if let Some(r) = req {
            let key = (r.zone.clone(), r.seq, r.window);
            if asked.as_ref() != Some(&key) {
                asked = Some(key);
                let _ = collector.send(r);
            }
        }
    };
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigquit = signal(SignalKind::quit())?;

    let mut events = EventStream::new();
    let mut next_take = Instant::now();
    let mut pending = false;
    let mut engine_open = true;
    let mut dirty = true;

    // the snapshot there already is
    if rx.has_first() {
        rx.deliver(&mut app);
        next_take = Instant::now() + app.interval;
    }

    loop {
        if dirty {
            let size = terminal.size()?;
            let areas = ui::app_layout(size.into(), &app);
            app.set_viewport(ui::viewport(&areas));
            terminal.draw(|f| ui::draw(f, &app))?;
            dirty = false;
            ask_procs(app.proc_request());
        }
        tokio::select! {
            ev = events.next() => {
                let Some(ev) = ev else { return Ok(Exit::Quit) };
                match ev? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => {
                        match app.on_key(k) {
                            Some(Effect::Quit) => return Ok(Exit::Quit),
                            Some(Effect::Run(op)) => {
                                let tx = op_tx.clone();
                                let fut = control.run(op.clone());
                                tokio::spawn(async move {
                                    let r = fut.await;
                                    let _ = tx.send((op, r));
                                });
                            }
                            Some(e @ (Effect::Zlogin(_) | Effect::Console(_))) => {
                                let (zone, cmd) = match e {
                                    Effect::Console(z) => { let c = control.console_command(&z); (z, c) }
                                    Effect::Zlogin(z) => { let c = control.zlogin_command(&z); (z, c) }
                                    _ => unreachable!(),
                                };
                                drop(events);
                                term::suspend();
                                let status = tokio::process::Command::from(cmd).status().await;
                                term::resume(terminal)?;
                                events = EventStream::new();
                                match status {
                                    Ok(s) if s.success() => app.say(format!("{zone}: back from zlogin"), false),
                                    Ok(s) => app.say(format!("{zone}: zlogin {s}"), true),
                                    Err(e) => app.say(format!("{zone}: zlogin: {e}"), true),
                                }
                            }
                            Some(Effect::Interval(d)) => {
                                control.refresh_interval_changed(d);
                                next_take = Instant::now() + d.min(next_take.saturating_duration_since(Instant::now()));
                            }
                            None => {}
                        }
                        dirty = true;
                    }
                    Event::Mouse(m) => {
                        app.on_mouse(m);
                        dirty = true;
                    }
                    Event::Resize(..) => dirty = true,
                    _ => {}
                }
            }
            changed = rx.changed(), if engine_open && !pending && !app.frozen => {
                match changed {
                    Ok(()) => pending = true,
                    Err(_) => {
                        engine_open = false;
                        app.on_engine_gone();
                        dirty = true;
                    }
                }
            }
            _ = tokio::time::sleep_until(next_take), if pending && !app.frozen => {
                pending = false;
                rx.deliver(&mut app);
                next_take = Instant::now() + app.interval;
                dirty = true;
            }
            Some(t) = proc_rx.recv() => {
                app.on_procs(t);
                dirty = true;
            }
            Some((op, r)) = op_rx.recv() => {
                app.on_op_done(&op, r);
                dirty = true;
            }
            _ = sigterm.recv() => return Ok(Exit::Signal(libc::SIGTERM)),
            _ = sighup.recv() => return Ok(Exit::Signal(libc::SIGHUP)),
            _ = sigint.recv() => return Ok(Exit::Signal(libc::SIGINT)),
            _ = sigquit.recv() => return Ok(Exit::Signal(libc::SIGQUIT)),
        }
    }
}
