//! # Standard output that ends quietly when the reader goes away
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe returns EPIPE and
//! `print!` panics on it (`kstat -p 1 3 | head -1` used to end with
//! "failed printing to stdout" and status 101). A C tool simply dies of
//! SIGPIPE, which a shell reports as 141 and pipelines expect. Every tool
//! writes its output through [`print`] (or the [`out!`](crate::out) and
//! [`outln!`](crate::outln) macros): on EPIPE it restores the default
//! SIGPIPE action and raises the signal, so the tool ends exactly as its
//! C model would — without a message, without a panic.
//!
//! SIGPIPE stays ignored for the rest of the process on purpose: an
//! embedded engine writes to sockets and pipes of its own (zsched's
//! control socket, a zone's supervisor), and a peer that went away there
//! is an error to report, not a reason to die.

use std::io::Write;

/// Write `text` to standard output and flush it; when the reader has
/// gone (EPIPE), end the process as a C tool would ([`stdout_closed`]).
/// Any other write error ends the tool with status 1.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            stdout_closed();
        }
        let tool = std::env::args()
            .next()
            .and_then(|a| a.rsplit('/').next().map(str::to_string))
            .unwrap_or_else(|| "zones".into());
        eprintln!(
            "{tool}: write error on standard output: {}",
            super::os_msg(&e)
        );
        std::process::exit(super::exit::FAILED);
    }
}

/// The reader of standard output went away: die of SIGPIPE as a C tool
/// does (a shell sees 128 + 13 = 141), else exit 141.
pub fn stdout_closed() -> ! {
    // SAFETY: resetting a signal's disposition to its default and raising
    // it in this thread have no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(128 + libc::SIGPIPE)
}

/// `print!` for the tools: formats, then [`print`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::tool::out::print(&::std::format!($($arg)*))
    };
}

/// `println!` for the tools: formats with a newline, then [`print`].
#[macro_export]
macro_rules! outln {
    () => {
        $crate::tool::out::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::tool::out::print(&{
            let mut s = ::std::format!($($arg)*);
            s.push('\n');
            s
        })
    };
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    /// The real thing, in a child: a shell pipeline whose reader quits
    /// after one line, and a writer that must die of SIGPIPE, not panic.
    #[test]
    fn a_closed_pipe_ends_the_writer_by_sigpipe() {
        // The test binary re-runs itself as the writer.
        if std::env::var_os("ZONES_OUT_WRITER").is_some() {
            loop {
                crate::outln!("line");
            }
        }
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new(exe)
            .args([
                "--exact",
                "tool::out::tests::a_closed_pipe_ends_the_writer_by_sigpipe",
                "--nocapture",
            ])
            .env("ZONES_OUT_WRITER", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 5];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
    }
}
