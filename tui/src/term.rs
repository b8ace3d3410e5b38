//! # The terminal: raw mode, the alternate screen, and getting them back
//!
//! [`enter`] switches the terminal into raw mode on the alternate screen
//! (with mouse reporting unless `--no-mouse`); [`restore`] undoes it and may
//! be called any number of times. A panic hook ([`install_panic_hook`])
//! restores before the panic message prints, so a crash never leaves the
//! user's shell in raw mode; the event loop restores on SIGTERM, SIGHUP,
//! SIGINT and SIGQUIT. [`suspend`] and [`resume`] bracket `z` (zlogin):
//! the child gets a cooked terminal on the main screen.

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{Stdout, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Raw mode, alternate screen, hidden cursor, mouse reporting if asked.
pub fn enter(mouse: bool) -> std::io::Result<Tui> {
    MOUSE.store(mouse, Ordering::SeqCst);
    setup()?;
    // The alternate screen starts blank and the new terminal's buffers are
    // empty, so the first draw is a full one. (Terminal::clear would ask the
    // terminal for the cursor position: a read that races the event stream.)
    Terminal::new(CrosstermBackend::new(stdout()))
}

fn setup() -> std::io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = stdout();
    execute!(out, EnterAlternateScreen, cursor::Hide)?;
    if MOUSE.load(Ordering::SeqCst) {
        execute!(out, EnableMouseCapture)?;
    }
    Ok(())
}

/// Give the terminal back as it was. Safe to call more than once, and from
/// a panic hook.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = stdout();
    if MOUSE.load(Ordering::SeqCst) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
}

/// Restore the terminal before any panic message is printed.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Leave the console for a child (zlogin): main screen, cooked mode.
pub fn suspend() {
    restore();
}

/// Back from the child: raw mode, alternate screen, and a full redraw.
/// The screen is cleared by hand and one blank frame is drawn, so that the
/// next frame rewrites every cell; no cursor position is asked for.
pub fn resume(t: &mut Tui) -> std::io::Result<()> {
    setup()?;
    execute!(stdout(), Clear(ClearType::All))?;
    t.draw(|f| f.render_widget(ratatui::widgets::Clear, f.area()))?;
    Ok(())
}
