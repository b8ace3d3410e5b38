//! # One thread for every zone's event connection
//!
//! Each running zone keeps one connection to its zsched open, on which
//! zsched writes a line per event (`init-started PID`, `init-exited
//! STATUS`, `empty`; see [`super::LinuxRuntime`]'s `watch`). A blocked
//! reader thread per connection made zoned hold a thread per zone: 1,009
//! threads with 1,000 zones, each with its stack and its kernel task, for
//! connections that speak a few lines in a zone's lifetime.
//!
//! Here one thread per process (started with the first connection) waits
//! on all of them with epoll. A connection is non-blocking; its bytes are
//! gathered until a newline and each whole line is handed to its
//! [`Watcher`]. At end of file (zsched closed it: it is exiting) or on a
//! read error the connection is dropped and its watcher's
//! [`Watcher::closed`] runs on a short-lived thread of its own: it waits
//! for zsched to finish exiting (which may mean emptying the zone's
//! cgroups, [`super::wait_exit`]), and must not hold up the other zones'
//! events meanwhile. So the threads of the events are one, plus one for
//! each zone whose zsched is exiting just now.

use std::collections::HashMap;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, OnceLock};

/// What a zone's connection does with its lines and its end.
pub(crate) trait Watcher: Send + 'static {
    /// One line, without its newline.
    fn line(&mut self, line: &str);
    /// The connection ended (run on a thread of its own).
    fn closed(self: Box<Self>);
    /// A name for the closing thread and for errors.
    fn name(&self) -> String;
}

struct Conn {
    stream: UnixStream,
    pending: Vec<u8>,
    watcher: Box<dyn Watcher>,
}

struct Reactor {
    epfd: OwnedFd,
    conns: Mutex<HashMap<u64, Conn>>,
    next: Mutex<u64>,
}

fn reactor() -> io::Result<&'static Arc<Reactor>> {
    static R: OnceLock<Arc<Reactor>> = OnceLock::new();
    if let Some(r) = R.get() {
        return Ok(r);
    }
    // SAFETY: epoll_create1 takes a flag and returns a new descriptor (or
    // -1), which we own from here on.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    let epfd = unsafe { OwnedFd::from_raw_fd(fd) };
    let r = Arc::new(Reactor {
        epfd,
        conns: Mutex::new(HashMap::new()),
        next: Mutex::new(0),
    });
    // Two callers racing here: one reactor wins, the other's epoll
    // descriptor is dropped before any thread waits on it.
    let mut started = false;
    let won = R.get_or_init(|| {
        started = true;
        r.clone()
    });
    if started {
        let me = won.clone();
        std::thread::Builder::new()
            .name("zsched-events".into())
            .spawn(move || me.run())?;
    }
    Ok(won)
}

/// Follow `stream` (connected, its handshake read) with `watcher`.
/// `already` holds bytes read past the handshake: its whole lines are
/// handed over at once.
pub(crate) fn follow(
    stream: UnixStream,
    already: &[u8],
    watcher: Box<dyn Watcher>,
) -> io::Result<()> {
    let r = reactor()?;
    stream.set_nonblocking(true)?;
    let mut conn = Conn {
        stream,
        pending: already.to_vec(),
        watcher,
    };
    conn.lines();
    let fd = conn.stream.as_raw_fd();
    let token = {
        let mut n = r.next.lock().unwrap();
        *n += 1;
        *n
    };
    // In the table before epoll can report it.
    r.conns.lock().unwrap().insert(token, conn);
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLRDHUP) as u32,
        u64: token,
    };
    // SAFETY: epoll_ctl on our epoll descriptor with a live socket
    // descriptor (owned by the connection in the table) and a valid event.
    let rc = unsafe { libc::epoll_ctl(r.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        r.conns.lock().unwrap().remove(&token);
        return Err(e);
    }
    Ok(())
}

impl Conn {
    /// Hand over the whole lines gathered so far.
    fn lines(&mut self) {
        while let Some(nl) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&line[..nl]);
            self.watcher.line(text.trim());
        }
    }

    /// Read what is there; false once the connection has ended.
    fn drain(&mut self) -> bool {
        let mut chunk = [0u8; 512];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.pending.extend_from_slice(&chunk[..n]);
                    self.lines();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }
}

impl Reactor {
    fn run(&self) {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 64];
        loop {
            // SAFETY: epoll_wait fills at most `events.len()` entries of
            // the buffer we own.
            let n = unsafe {
                libc::epoll_wait(
                    self.epfd.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    -1,
                )
            };
            if n < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!("zsched events: epoll_wait: {}", io::Error::last_os_error());
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
            for ev in &events[..n as usize] {
                let token = ev.u64;
                let ended = {
                    let mut conns = self.conns.lock().unwrap();
                    let open = conns.get_mut(&token).is_none_or(Conn::drain);
                    if open { None } else { conns.remove(&token) }
                };
                if let Some(conn) = ended {
                    // Closing the socket takes it out of the epoll set.
                    let Conn {
                        stream, watcher, ..
                    } = conn;
                    drop(stream);
                    let name = watcher.name();
                    let spawned = std::thread::Builder::new()
                        .name(name.clone())
                        .spawn(move || watcher.closed());
                    if let Err(e) = spawned {
                        tracing::error!("{name}: thread: {e}");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::mpsc;

    struct Lines(mpsc::Sender<Option<String>>, &'static str);

    impl Watcher for Lines {
        fn line(&mut self, line: &str) {
            let _ = self.0.send(Some(line.to_string()));
        }
        fn closed(self: Box<Self>) {
            let _ = self.0.send(None);
        }
        fn name(&self) -> String {
            format!("events-test-{}", self.1)
        }
    }

    /// Many connections on the one thread: lines split across writes and
    /// bytes given at the start arrive whole and in order, per
    /// connection, and each end is told once.
    #[test]
    fn lines_and_ends_of_many_connections() {
        let threads = || {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim() == "zsched-events")
                })
                .count()
        };
        let mut ends = vec![];
        let mut rxs = vec![];
        for i in 0..50 {
            let (a, b) = UnixStream::pair().unwrap();
            let (tx, rx) = mpsc::channel();
            follow(a, b"first\nhal", Box::new(Lines(tx, "x"))).unwrap();
            ends.push((i, b));
            rxs.push(rx);
        }
        // (The thread names itself once it runs.)
        let mut seen = threads();
        for _ in 0..100 {
            if seen > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            seen = threads();
        }
        assert_eq!(seen, 1, "one reactor thread for 50 connections");
        let next = |rx: &mpsc::Receiver<Option<String>>| {
            rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap()
        };
        for ((i, b), rx) in ends.iter_mut().zip(&rxs) {
            assert_eq!(next(rx).as_deref(), Some("first"));
            b.write_all(format!("f {i}\nsecond").as_bytes()).unwrap();
            b.write_all(b" half\n").unwrap();
        }
        for ((i, _), rx) in ends.iter().zip(&rxs) {
            assert_eq!(next(rx), Some(format!("half {i}")));
            assert_eq!(next(rx).as_deref(), Some("second half"));
        }
        for ((_, b), rx) in ends.into_iter().zip(&rxs) {
            drop(b);
            assert_eq!(next(rx), None);
            assert!(
                rx.recv_timeout(std::time::Duration::from_millis(50))
                    .is_err()
            );
        }
    }
}
