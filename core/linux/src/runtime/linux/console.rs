//! # The zone's console
//!
//! An illumos zone has a console device (zcons) that its init writes to
//! and that `zlogin -C` attaches to; it keeps what was written while
//! nobody was attached. Here every zone that boots an init has one: a pty
//! pair of the zone's own devpts, made by zsched at the first boot (or
//! the first `zlogin -C`, so that one can watch a boot from its start):
//!
//! * zsched holds the master and, so that the master never reads EIO
//!   between two inits, a descriptor of the slave (O_NOCTTY); both are
//!   close-on-exec and never passed on: nothing of the zone can read
//!   the backlog or type on the console except through the slave;
//! * the slave is bound over the zone's /dev/console in zsched's mount
//!   namespace (the zone's; a nested init's is copied from it), so what
//!   the zone writes to /dev/console is console output ([`Pty::open`]);
//! * init gets the slave as its stdio ([`attach_init`]): a shell as init
//!   reads the console, a console getty and systemd's status output find
//!   a real terminal. Only systemd also gets it as controlling terminal
//!   (it takes the console as its own anyway): another init does not,
//!   because when a session leader that holds a terminal exits the
//!   kernel sends SIGHUP to the terminal's foreground group, which would
//!   kill what an init script started in the background each time init
//!   exits or is restarted (tests/tests/follow.rs). With
//!   `exec.consolelog` (FreeBSD's jail(8): init's output goes to that
//!   file) init's stdout and stderr stay the pipe zsched copies into the
//!   log byte for byte, stdin is the console, and what comes through the
//!   pipe is also the console's output ([`Pty::record`]);
//! * everything read from the master goes into a ring buffer of
//!   [`BACKLOG`] bytes, into the `exec.consolelog` file when set, and to
//!   each attached client.
//!
//! `zlogin -C` attaches over zsched's control socket by a *relay*: the
//! request `console` answers `ok N` (the pts number), then the backlog,
//! then the live output; what the client sends after the request is
//! written to the master. The master never leaves zsched, so the backlog
//! stays complete whoever attaches, and a detach (the client closing)
//! changes nothing for the zone.
//!
//! Cost per boot: an open of /dev/ptmx, two ioctls, an open of the slave
//! and one bind mount (tests/benches/zone_cycle.rs measures the cycle).

use std::collections::VecDeque;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};

/// How much console output is kept while nobody is attached.
pub const BACKLOG: usize = 64 * 1024;

/// The console pty as zsched holds it.
pub struct Pty {
    pub master: File,
    /// Held so the master never reads EIO while no init has the slave open.
    _slave: File,
    /// The slave's number in the zone's devpts (/dev/pts/N).
    pub number: u32,
    backlog: VecDeque<u8>,
}

fn last() -> io::Error {
    io::Error::last_os_error()
}

impl Pty {
    /// Open a pty pair on the zone's /dev/ptmx and bind the slave over
    /// the zone's /dev/console (zsched, after the pivot, in the zone's
    /// mount namespace).
    pub fn open() -> io::Result<Pty> {
        // SAFETY: a static path; the new descriptor is ours.
        let m = unsafe {
            libc::open(
                c"/dev/ptmx".as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC | libc::O_NONBLOCK,
            )
        };
        if m < 0 {
            return Err(io::Error::new(
                last().kind(),
                format!("console: open /dev/ptmx: {}", last()),
            ));
        }
        // SAFETY: a descriptor just opened, ours alone.
        let master = unsafe { File::from_raw_fd(m) };
        let mut n: libc::c_uint = 0;
        let unlock: libc::c_int = 0;
        // SAFETY: ioctls on our master with pointers to locals.
        unsafe {
            if libc::ioctl(m, libc::TIOCSPTLCK, &unlock) != 0
                || libc::ioctl(m, libc::TIOCGPTN, &mut n) != 0
            {
                return Err(io::Error::new(
                    last().kind(),
                    format!("console: unlock pty: {}", last()),
                ));
            }
        }
        let path = CString::new(format!("/dev/pts/{n}")).unwrap();
        // SAFETY: a NUL-terminated path; the new descriptor is ours.
        let s = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        if s < 0 {
            return Err(io::Error::new(
                last().kind(),
                format!("console: open /dev/pts/{n}: {}", last()),
            ));
        }
        // SAFETY: a descriptor just opened, ours alone.
        let slave = unsafe { File::from_raw_fd(s) };
        // SAFETY: NUL-terminated paths; a bind mount in our own namespace.
        if unsafe {
            libc::mount(
                path.as_ptr(),
                c"/dev/console".as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        } != 0
        {
            return Err(io::Error::new(
                last().kind(),
                format!("console: bind /dev/pts/{n} over /dev/console: {}", last()),
            ));
        }
        Ok(Pty {
            master,
            _slave: slave,
            number: n,
            backlog: VecDeque::with_capacity(BACKLOG),
        })
    }

    /// Read what the console has (the master is nonblocking), keep it in
    /// the backlog and return it.
    pub fn pump(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        // At most 1 MiB a turn, so that a chatty zone cannot hold zsched.
        for _ in 0..64 {
            match self.master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        push_ring(&mut self.backlog, &out);
        out
    }

    /// Output that reached the console another way (init's stdout and
    /// stderr with `exec.consolelog`, a pipe): kept in the backlog as the
    /// terminal would have shown it (a newline becomes CR LF, the slave's
    /// ONLCR) and returned for the attached clients.
    pub fn record(&mut self, data: &[u8]) -> Vec<u8> {
        let out = onlcr(data);
        push_ring(&mut self.backlog, &out);
        out
    }

    /// What the console said lately (at most [`BACKLOG`] bytes).
    pub fn backlog(&self) -> Vec<u8> {
        self.backlog.iter().copied().collect()
    }

    /// Type `data` on the console.
    pub fn input(&mut self, data: &[u8]) {
        let _ = self.master.write_all(data);
    }

    /// The slave's path inside the zone.
    pub fn slave_path(&self) -> CString {
        CString::new(format!("/dev/pts/{}", self.number)).unwrap()
    }
}

/// A terminal's output processing of `\n`: CR LF.
fn onlcr(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for &b in data {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn push_ring(ring: &mut VecDeque<u8>, data: &[u8]) {
    let data = &data[data.len().saturating_sub(BACKLOG)..];
    let over = (ring.len() + data.len()).saturating_sub(BACKLOG);
    ring.drain(..over);
    ring.extend(data);
}

/// Give init, about to be spawned by `cmd`, the console ([`attach_init`]
/// in its child).
pub fn give_init(cmd: &mut std::process::Command, pty: &Pty, output: bool, ctty: bool) {
    use std::os::unix::process::CommandExt;
    let slave = pty.slave_path();
    // SAFETY: runs in the forked child before exec; system calls only, on
    // a path made before the fork.
    unsafe {
        cmd.pre_exec(move || attach_init(&slave, output, ctty));
    }
}

/// In init's child, before its exec: a new session with the console
/// slave as stdin, and as stdout and stderr too unless `output` is false
/// (exec.consolelog's pipe is those); as controlling terminal when `ctty`
/// (systemd). Async-signal-safe (the path was made before the fork).
pub fn attach_init(slave: &CString, output: bool, ctty: bool) -> io::Result<()> {
    // SAFETY: system calls with a NUL-terminated path made before the
    // fork and descriptors of our own table.
    unsafe {
        libc::setsid();
        let fd = libc::open(slave.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        if fd < 0 {
            return Err(last());
        }
        if ctty && libc::ioctl(fd, libc::TIOCSCTTY, 0) != 0 {
            return Err(last());
        }
        for t in 0..if output { 3 } else { 1 } {
            if libc::dup2(fd, t) < 0 {
                return Err(last());
            }
        }
        if fd > 2 {
            libc::close(fd);
        }
    }
    Ok(())
}

/// illumos zlogin's escape: `~.` at the start of a line (after a return
/// or newline, or first of all) detaches; `~~` sends one `~`; the escape
/// followed by anything else sends both. `None`: no escape (`-E`).
pub struct Escape {
    ch: Option<u8>,
    at_line_start: bool,
    pending: bool,
}

impl Escape {
    pub fn new(ch: Option<u8>) -> Escape {
        Escape {
            ch,
            at_line_start: true,
            pending: false,
        }
    }

    /// What of `input` goes to the zone, and whether the user detached
    /// (what came before the escape is still sent).
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut send = Vec::with_capacity(input.len() + 1);
        let Some(esc) = self.ch else {
            send.extend_from_slice(input);
            return (send, false);
        };
        for &b in input {
            if self.pending {
                self.pending = false;
                if b == b'.' {
                    return (send, true);
                }
                if b != esc {
                    send.push(esc);
                }
                send.push(b);
            } else if self.at_line_start && b == esc {
                self.pending = true;
                continue;
            } else {
                send.push(b);
            }
            self.at_line_start = b == b'\r' || b == b'\n';
        }
        (send, false)
    }
}

/// The client side of `zlogin -C`: relay the terminal to zsched's
/// console until the escape (`~.` at the start of a line, `escape` being
/// `~` unless changed) or until the console closes. Returns why it ended.
pub fn relay(
    mut sock: std::os::unix::net::UnixStream,
    escape: Option<u8>,
) -> io::Result<&'static str> {
    let stdin = 0;
    let mut esc = Escape::new(escape);
    let mut buf = [0u8; 8192];
    loop {
        let mut pfds = [
            libc::pollfd {
                fd: stdin,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on an array we own, with its length.
        if unsafe { libc::poll(pfds.as_mut_ptr(), 2, -1) } < 0 {
            let e = last();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if pfds[1].revents != 0 {
            let n = sock.read(&mut buf)?;
            if n == 0 {
                return Ok("closed");
            }
            let mut out = io::stdout().lock();
            out.write_all(&buf[..n])?;
            out.flush()?;
        }
        if pfds[0].revents != 0 {
            // SAFETY: read into a buffer we own, with its length.
            let n = unsafe { libc::read(stdin, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                return Ok("eof");
            }
            let (send, detach) = esc.feed(&buf[..n as usize]);
            sock.write_all(&send)?;
            if detach {
                return Ok("detached");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escape_detaches_only_at_the_start_of_a_line() {
        let mut e = Escape::new(Some(b'~'));
        assert_eq!(e.feed(b"ls ~.\r"), (b"ls ~.\r".to_vec(), false));
        assert_eq!(e.feed(b"~~x"), (b"~x".to_vec(), false));
        assert_eq!(e.feed(b"\n~y"), (b"\n~y".to_vec(), false));
        assert_eq!(e.feed(b"\rab\r~"), (b"\rab\r".to_vec(), false));
        assert_eq!(e.feed(b".rest"), (Vec::new(), true));
        let mut e = Escape::new(Some(b'#'));
        assert_eq!(e.feed(b"~.#."), (b"~.#.".to_vec(), false));
        assert_eq!(e.feed(b"\r#."), (b"\r".to_vec(), true));
        let mut e = Escape::new(None);
        assert_eq!(e.feed(b"~."), (b"~.".to_vec(), false));
    }

    #[test]
    fn piped_output_is_recorded_as_the_terminal_shows_it() {
        assert_eq!(onlcr(b"a\nb\n\n"), b"a\r\nb\r\n\r\n");
        assert_eq!(onlcr(b"no newline"), b"no newline");
    }

    #[test]
    fn the_backlog_keeps_the_last_64k() {
        let mut r = VecDeque::new();
        push_ring(&mut r, b"hello ");
        push_ring(&mut r, &vec![b'x'; BACKLOG - 3]);
        assert_eq!(r.len(), BACKLOG);
        assert_eq!(&r.iter().take(3).copied().collect::<Vec<_>>(), b"lo ");
        push_ring(&mut r, &vec![b'y'; 2 * BACKLOG]);
        assert!(r.iter().all(|b| *b == b'y') && r.len() == BACKLOG);
    }
}
