//! # A launcher started ahead of time
//!
//! `ready` needs a fresh single-threaded process to make a zone's pid 1
//! (`zsched launch`, [`super::launch`]). Starting one is an exec and a
//! program's start: the kernel maps the binary, the dynamic loader maps
//! libc and libgcc, the Rust runtime sets up its main thread; then the
//! launcher makes the zone's view directory (ten entries: ~0.4 ms on an
//! ext4 run directory). About 1 ms of a zone's boot on the 2-CPU test
//! host, none of which depends on the zone. So the runtime keeps one
//! launcher started ahead, its view directory made under a name of its
//! own (`spare-<pid>.view` in the run directory, renamed to the zone's
//! when the request comes: [`super::view::prepare`]), blocked on its
//! first read of stdin:
//!
//! * only for an engine that lasts (`LinuxRuntime::with_spare`: zoned,
//!   ztop's own engine, the benchmarks); a tool that makes one zone and
//!   exits starts its launcher when it needs it;
//! * `ready` takes the spare when there is one for the same zsched
//!   binary ([`Spare::take`]), and otherwise starts one as before;
//! * when `ready` is done with it (the zone made or not) it asks for the
//!   next ([`Spare::want`]): a thread of the runtime's own
//!   (`zsched-spare`, started at the first `ready`, so a tool that never
//!   boots a zone starts none) runs `zsched launch` while nothing waits
//!   on it;
//! * the thread starts it [`PAUSE`] (3 ms) after the `ready`, as
//!   `zsched launch RUN_DIR spare`: the launcher makes its view directory
//!   at `SCHED_IDLE` and goes back to the normal policy before its first
//!   read ([`idle_start`], [`wake_normal`]; [`Spare::take`] does it too,
//!   for one taken before its start is done): the next launcher should
//!   not slow the zone that boots right after its `ready` (the boot that
//!   follows, init's fork and exec, maps the same libraries the
//!   launcher's loader maps). On the
//!   2-CPU test host a launcher started at once, at the normal policy,
//!   took 0.7 ms from that boot, at `SCHED_IDLE` 0.4 ms, after the pause
//!   nothing (`ZONES_BENCH_PHASES=1` of tests/benches/zone_cycle.rs). A
//!   `ready` that comes sooner (a burst) starts its own launcher, as
//!   without a spare. The exec runs at the normal policy: until it, the
//!   child holds a copy of the engine's descriptor table (its state
//!   directory's lock among them), which an idle child starved by a busy
//!   host would hold for seconds — past the engine's death, so that the
//!   next engine found its state directory locked. And what it does once
//!   woken does too: its exit when the engine is gone must not wait on a
//!   busy host (it holds the engine's stderr);
//! * a spare waits with nothing of a zone made: no cgroup or socket,
//!   only its empty view directory. When the runtime goes (or the engine
//!   dies, even by SIGKILL), its stdin closes: it reads an empty request,
//!   removes its directory, answers "bad request" to nobody and exits.
//!   When dropped, the runtime reaps it. The directory of a spare killed
//!   while it waited is removed when the next runtime's thread starts
//!   ([`super::view::sweep_spares`]).
//!
//! What the spare inherits is what a launcher started by `ready` would:
//! the engine's environment, cgroups, limits and stdio as they were when
//! it started (its descriptors are close-on-exec pipes; whatever else it
//! got is closed before zsched runs, [`super::launch`]'s table). A
//! binary replaced on disk is picked up by the launcher started after
//! the one already waiting.
//!
//! One spare at a time: a burst of `ready`s (a host booting its zones)
//! takes it for the first and starts the others' launchers itself, as
//! without a spare.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};

/// Start `zsched launch RUN_DIR [spare]` (its stdin and stdout piped to
/// us).
pub fn start(zsched: &Path, run_dir: &Path, spare: bool) -> std::io::Result<Child> {
    Command::new(zsched)
        .arg("launch")
        .arg(run_dir)
        .args(spare.then_some("spare"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
}

/// How long after a `ready` the next launcher is started: the zone just
/// made boots meanwhile (module comment).
const PAUSE: std::time::Duration = std::time::Duration::from_millis(3);

#[derive(Default)]
struct State {
    /// The launcher waiting, and the binary it runs.
    waiting: Option<(PathBuf, Child)>,
    /// The binary of the next one to start, when asked for.
    wanted: Option<PathBuf>,
    /// The thread runs.
    started: bool,
    /// The runtime is gone: the thread ends.
    closed: bool,
}

/// The runtime's spare launcher (module comment).
pub struct Spare {
    /// The runtime's run directory, where a launcher makes its view
    /// directory ahead ([`super::view::prepare_spare`]).
    run_dir: PathBuf,
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl Spare {
    pub fn new(run_dir: PathBuf) -> Spare {
        Spare {
            run_dir,
            shared: Arc::default(),
        }
    }

    /// The launcher waiting for `zsched`, if there is one, at the normal
    /// scheduling policy again.
    pub fn take(&self, zsched: &Path) -> Option<Child> {
        let mut st = self.shared.0.lock().unwrap();
        let (bin, mut child) = st.waiting.take()?;
        if bin == zsched
            && matches!(child.try_wait(), Ok(None))
            && set_policy(child.id(), libc::SCHED_OTHER)
        {
            return Some(child);
        }
        // Another binary (a runtime given a new path), one that died while
        // it waited (killed), or one that would stay idle: let it go.
        retire(child);
        None
    }

    /// Have a launcher of `zsched` started in the background, unless one
    /// waits already.
    pub fn want(&self, zsched: &Path) {
        let (lock, cv) = &*self.shared;
        let mut st = lock.lock().unwrap();
        if st.closed || st.waiting.as_ref().is_some_and(|(b, _)| b == zsched) {
            return;
        }
        st.wanted = Some(zsched.to_path_buf());
        if !st.started {
            let (shared, run_dir) = (self.shared.clone(), self.run_dir.clone());
            let spawned = std::thread::Builder::new()
                .name("zsched-spare".into())
                .spawn(move || run(&shared, &run_dir));
            // No thread: every ready starts its own launcher.
            st.started = spawned.is_ok();
        }
        cv.notify_one();
    }
}

impl Drop for Spare {
    fn drop(&mut self) {
        let (lock, cv) = &*self.shared;
        let mut st = lock.lock().unwrap();
        st.closed = true;
        if let Some((_, child)) = st.waiting.take() {
            retire(child);
        }
        cv.notify_one();
    }
}

/// In a spare launcher, first: the rest of its start (its view directory)
/// at `SCHED_IDLE` (module comment).
pub fn idle_start() {
    set_policy(0, libc::SCHED_IDLE);
}

/// In the launcher, before it reads its request: a spare ran its start at
/// `SCHED_IDLE`; what it does once woken (the request, or the end of its
/// stdin when its engine is gone, then its exit) runs at the normal
/// policy, so that a busy host does not keep it (and the engine's stderr
/// it holds) waiting.
pub fn wake_normal() {
    // SAFETY: sched_getscheduler takes a plain integer.
    if unsafe { libc::sched_getscheduler(0) } == libc::SCHED_IDLE {
        set_policy(0, libc::SCHED_OTHER);
    }
}

/// Set the scheduling policy of a thread (0: the caller), priority 0.
fn set_policy(tid: u32, policy: i32) -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler reads the struct we own.
    unsafe { libc::sched_setscheduler(tid as libc::pid_t, policy, &param) == 0 }
}

/// The thread: start a spare launcher whenever one is wanted.
fn run(shared: &(Mutex<State>, Condvar), run_dir: &Path) {
    super::view::sweep_spares(run_dir);
    let (lock, cv) = shared;
    let mut st = lock.lock().unwrap();
    loop {
        if st.closed {
            return;
        }
        let Some(bin) = st.wanted.take() else {
            st = cv.wait(st).unwrap();
            continue;
        };
        // The zone just made boots now: let it have the CPUs first.
        st = cv.wait_timeout_while(st, PAUSE, |s| !s.closed).unwrap().0;
        if st.closed {
            return;
        }
        drop(st);
        // Started outside the lock: `take` never waits for an exec.
        let child = start(&bin, run_dir, true);
        st = lock.lock().unwrap();
        match child {
            Ok(child) if !st.closed && st.waiting.is_none() => st.waiting = Some((bin, child)),
            Ok(child) => retire(child),
            // Not started (the binary is missing or cannot run): the
            // next ready starts its own and reports why.
            Err(_) => {}
        }
    }
}

/// A launcher not used: its stdin closed, it exits having made nothing;
/// reaped.
fn retire(mut child: Child) {
    drop(child.stdin.take());
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn waiting(s: &Spare) -> Option<u32> {
        let st = s.shared.0.lock().unwrap();
        st.waiting.as_ref().map(|(_, c)| c.id())
    }

    fn until_waiting(s: &Spare) -> u32 {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(p) = waiting(s) {
                return p;
            }
            assert!(Instant::now() < end, "no spare started");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn started_on_demand_taken_once_and_reaped_when_dropped() {
        // A script stands in for the launcher: it waits on stdin too.
        let t = tempfile::tempdir().unwrap();
        let cat = t.path().join("launcher");
        // Idle while it waits, as a spare launcher is when taken early.
        std::fs::write(&cat, "#!/bin/sh\nexec chrt --idle 0 cat >/dev/null\n").unwrap();
        std::fs::set_permissions(&cat, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let cat = cat.as_path();
        let s = Spare::new(t.path().to_path_buf());
        assert!(s.take(cat).is_none(), "nothing before the first want");
        assert!(waiting(&s).is_none());
        s.want(cat);
        let pid = until_waiting(&s);
        // A spare of another binary is not handed out, and is retired.
        assert!(s.take(Path::new("/bin/sh")).is_none());
        assert!(waiting(&s).is_none());
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "the retired spare {pid} was reaped"
        );
        s.want(cat);
        let pid = until_waiting(&s);
        // SAFETY: sched_getscheduler takes a plain integer.
        let policy = || unsafe { libc::sched_getscheduler(pid as i32) };
        let end = Instant::now() + Duration::from_secs(10);
        while policy() != libc::SCHED_IDLE {
            assert!(Instant::now() < end, "the stand-in never went idle");
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut c = s.take(cat).expect("the spare");
        assert_eq!(c.id(), pid);
        assert_eq!(policy(), libc::SCHED_OTHER, "a taken spare is not");
        assert!(s.take(cat).is_none(), "taken once");
        drop(c.stdin.take());
        assert!(c.wait().unwrap().success());
        // One killed while it waited is not handed out.
        s.want(cat);
        let pid = until_waiting(&s);
        // SAFETY: a signal to our own child, not yet reaped.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        // Dead once a zombie (an idle process dies when it next runs).
        let end = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|st| st.rsplit(") ").next().is_some_and(|r| r.starts_with('Z')))
        {
            assert!(Instant::now() < end, "{pid} did not die");
            std::thread::sleep(Duration::from_millis(5));
        }
        let taken = s.take(cat).map(|c| c.id());
        assert!(
            taken.is_none(),
            "a dead spare {pid} is not taken ({taken:?})"
        );
        s.want(cat);
        let pid = until_waiting(&s);
        drop(s);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "the spare {pid} was reaped with the runtime"
        );
    }
}
