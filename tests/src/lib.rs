//! Shared helpers of the end-to-end tests.
//!
//! Every test runs as root (and fails, not skips, otherwise: [`require_root`]),
//! and builds its zone through [`TestZone`]: a unique zone name, a private
//! run directory, a private *relative* cgroup root (beneath the cgroup the
//! test runs in, never at a hierarchy's top), and a guard that destroys the
//! zone and removes its cgroups when dropped, also when the test failed.
//!
//! Commands run in a zone through the `zenter` binary of this package
//! (entering forks and setns'es; doing it from the multithreaded test
//! harness is possible but a separate process keeps the test's own state
//! out of the zone's cgroups).

pub mod lan;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use zones::param::{Params, Value};
use zones::zone::{Brand, ZoneId, ZoneName};
use zones_linux::runtime::linux::{LinuxRuntime, cgroup, install};
use zones_linux::runtime::{Handle, Runtime, ZoneSpec};

/// Copy an executable (`cp`, a process of its own): the copy is never
/// open for writing in this process, where a thread that forks at that
/// moment (another test, a runtime's spare launcher) would hold it open
/// until its exec, and the exec of the copy would fail with ETXTBSY.
pub fn copy_exe(src: impl AsRef<Path>, dst: impl AsRef<Path>) {
    let (src, dst) = (src.as_ref(), dst.as_ref());
    let st = Command::new("cp")
        .arg("--")
        .arg(src)
        .arg(dst)
        .status()
        .expect("run cp");
    assert!(st.success(), "cp {} {}", src.display(), dst.display());
}

/// A benchmark's median of its samples.
pub fn median(mut v: Vec<std::time::Duration>) -> std::time::Duration {
    v.sort();
    v[v.len() / 2]
}

/// A benchmark's number of samples: its first numeric argument, else
/// `default` (`cargo bench ... -- N`).
pub fn bench_count(default: usize) -> usize {
    std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(default)
}

/// Fail the test when not root.
pub fn require_root() {
    assert_eq!(
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() },
        0,
        "the end-to-end tests boot real zones and must run as root"
    );
}

/// A binary of the workspace: target/debug/NAME, one directory above the
/// test executable (`cargo test --workspace` builds them all first). The
/// end-to-end tests of zoned, zonefs and ztop use it too.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} is not built (cargo build --workspace)",
        p.display()
    );
    p
}

/// What a runtime's run directory holds beyond the view directory of its
/// waiting spare launcher (`spare-<pid>.view`, pid alive: see
/// `zones_linux::runtime::linux::spare`): what a zone left behind.
pub fn run_dir_left(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    !zones_linux::runtime::linux::view::spare_owner(&e.file_name())
                        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Every cgroup directory named `root` under /sys/fs/cgroup (a test's
/// private cgroup root, in each hierarchy), to check and clean leftovers.
pub fn cgroup_dirs(root: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, needle: &str, out: &mut Vec<PathBuf>, depth: usize) {
        if depth > 4 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let p = e.path();
                if p.file_name().is_some_and(|n| n.to_string_lossy() == needle) {
                    out.push(p);
                } else {
                    walk(&p, needle, out, depth + 1);
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
        for h in rd.flatten() {
            walk(&h.path(), root, &mut out, 0);
        }
    }
    out
}

static SEQ: AtomicU64 = AtomicU64::new(1);

/// A temporary directory to hold zone roots: 0700, as a zone path must be
/// (a root other host users can reach is refused at ready and install).
pub fn zonepath(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .expect("tempdir")
}

/// A zone of a test and everything made for it.
pub struct TestZone {
    pub rt: LinuxRuntime,
    pub spec: ZoneSpec,
    pub handle: Option<Handle>,
    pub tmp: tempfile::TempDir,
    pub cgroup_root: PathBuf,
}

/// What a command in the zone did.
#[derive(Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TestZone {
    /// A sparse zone booted with `/bin/sleep 1000` as init and each of
    /// the `allow` flags (`allow.mount`, ...) set.
    pub fn booted_allowing(tag: &str, allow: &[&str]) -> TestZone {
        let mut z = TestZone::sparse(tag);
        z.set("initname", Value::Str("/bin/sleep".into()))
            .set("bootargs", Value::Str("1000".into()));
        for a in allow {
            z.set(a, Value::Bool(true));
        }
        z.ready().expect("ready");
        z.boot().expect("boot");
        z
    }

    /// A sparse zone, installed, not ready yet. `tag` names the test.
    pub fn sparse(tag: &str) -> TestZone {
        let z = TestZone::with_root(tag, Brand::Sparse, None);
        install::sparse(&z.spec.root, z.spec.name.as_str()).expect("install sparse root");
        z
    }

    /// A zone of `brand` whose root is `root` (default: an empty directory
    /// in the test's temporary directory).
    pub fn with_root(tag: &str, brand: Brand, root: Option<PathBuf>) -> TestZone {
        require_root();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let tmp = zonepath("zones-e2e-");
        let name = format!("{tag}-{pid}-{n}");
        let root = root.unwrap_or_else(|| {
            let r = tmp.path().join("root");
            std::fs::create_dir(&r).unwrap();
            r
        });
        let cgroup_root = PathBuf::from(format!("zones-e2e-{pid}-{n}"));
        let rt = LinuxRuntime::new(tmp.path().join("run"), &cgroup_root)
            .with_zsched(bin("zones-zsched"));
        let spec = ZoneSpec {
            id: ZoneId((n % 900_000) as u32 + 1),
            name: ZoneName::new(&name).expect("zone name"),
            uniqid: pid as u64 * 1000 + n,
            root,
            brand,
            params: Params::new(),
            parent: None,
        };
        TestZone {
            rt,
            spec,
            handle: None,
            tmp,
            cgroup_root,
        }
    }

    pub fn set(&mut self, name: &str, v: Value) -> &mut TestZone {
        self.spec.params.insert(name, v);
        self
    }

    pub fn ready(&mut self) -> Result<&Handle, zones_linux::runtime::RuntimeError> {
        let h = self.rt.ready(&self.spec)?;
        self.handle = Some(h);
        Ok(self.handle.as_ref().unwrap())
    }

    pub fn handle(&self) -> &Handle {
        self.handle.as_ref().expect("zone is ready")
    }

    pub fn boot(&mut self) -> Result<u32, zones_linux::runtime::RuntimeError> {
        let pid = self.rt.boot(&self.spec, self.handle(), true)?;
        self.handle.as_mut().unwrap().init_pid = pid;
        Ok(pid)
    }

    /// Run a command in the zone through zenter.
    pub fn run(&self, cmd: &[&str]) -> Output {
        let hf = self.tmp.path().join("handle.json");
        std::fs::write(&hf, serde_json::to_string(self.handle()).unwrap()).unwrap();
        let out = Command::new(bin("zenter"))
            .arg(&hf)
            .arg("--")
            .args(cmd)
            .output()
            .expect("run zenter");
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    /// Run a shell command line in the zone.
    pub fn sh(&self, line: &str) -> Output {
        self.run(&["/bin/sh", "-c", line])
    }

    /// Copy the zprobe binary into the zone root as /zprobe.
    pub fn install_probe(&self) {
        let dst = self.spec.root.join("zprobe");
        copy_exe(bin("zprobe"), &dst);
    }

    pub fn probe(&self, args: &[&str]) -> Output {
        let mut cmd = vec!["/zprobe"];
        cmd.extend_from_slice(args);
        self.run(&cmd)
    }

    /// Nothing of this zone is left on the host: no cgroup beneath its
    /// cgroup roots, no control socket in its run directory, no process
    /// in its pid namespace `ns` (read from zsched before the halt).
    pub fn assert_gone(&self, ns: &Path, what: &str) {
        let kids = self.cgroups_left();
        assert!(kids.is_empty(), "{what}: cgroups left: {kids:?}");
        let socks = run_dir_left(&self.tmp.path().join("run"));
        assert!(socks.is_empty(), "{what}: control sockets left: {socks:?}");
        let left = procs_in_ns(ns);
        assert!(
            left.is_empty(),
            "{what}: processes of the zone left: {left:?}"
        );
    }

    /// The cgroups beneath the test's cgroup root in every hierarchy:
    /// none once the zone is gone.
    pub fn cgroups_left(&self) -> Vec<PathBuf> {
        let mut kids = Vec::new();
        for d in self.cgroup_roots() {
            if let Ok(rd) = std::fs::read_dir(&d) {
                kids.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
            }
        }
        kids
    }

    /// The test's cgroup root in every hierarchy.
    pub fn cgroup_roots(&self) -> Vec<PathBuf> {
        cgroup::root_dirs(Path::new(&self.cgroup_root)).expect("cgroup hierarchies")
    }

    /// Halt cleanly: shutdown, down, destroy.
    pub fn halt(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt
                .shutdown(&h, std::time::Duration::from_secs(5))
                .expect("shutdown");
            self.rt.down(&h).expect("down");
            self.rt.destroy(&h).expect("destroy");
        }
    }
}

impl Drop for TestZone {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = self.rt.destroy(&h);
        }
        let roots = self.cgroup_roots();
        let _ = cgroup::remove(&roots);
    }
}

/// The host's mounts that mention `path`.
pub fn host_mounts_under(path: &Path) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&*path.to_string_lossy()))
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------
// The escape suite's helpers (tests/tests/escape.rs): commands in a zone
// that can run concurrently and carry extra descriptors, the attack
// binary, zones that live for the whole test process, and a private
// world for the admin tools (zoneadm, zlogin, jexec) on an embedded
// engine.

static CALL: AtomicU64 = AtomicU64::new(1);

impl TestZone {
    /// Another runtime on this zone's run directory and cgroup root: what
    /// a new engine makes after the old one is gone, or an engine of the
    /// test's own drives zones with.
    pub fn new_runtime(&self) -> LinuxRuntime {
        LinuxRuntime::new(self.rt.run_dir(), &self.cgroup_root).with_zsched(bin("zones-zsched"))
    }

    /// An engine with the default configuration over [`Self::new_runtime`]
    /// (call it inside a tokio runtime).
    pub fn engine(&self) -> zones::engine::Engine {
        zones::engine::Engine::new(std::sync::Arc::new(self.new_runtime()), Default::default())
    }

    /// A zenter command for `cmd` in this zone, not started: the caller
    /// sets its descriptors and standard streams. Each call writes its
    /// own handle file, so that commands may run concurrently.
    pub fn enter_command(&self, cmd: &[&str]) -> Command {
        let n = CALL.fetch_add(1, Ordering::SeqCst);
        let hf = self.tmp.path().join(format!("handle-{n}.json"));
        std::fs::write(&hf, serde_json::to_string(self.handle()).unwrap()).unwrap();
        let mut c = Command::new(bin("zenter"));
        c.arg(&hf).arg("--").args(cmd);
        c
    }

    /// Copy the zattack binary into the zone root as /zattack.
    pub fn install_attack(&self) {
        copy_exe(bin("zattack"), self.spec.root.join("zattack"));
    }

    /// Run /zattack ARGS in the zone (concurrently with other calls).
    pub fn attack(&self, args: &[&str]) -> Output {
        let mut cmd = vec!["/zattack"];
        cmd.extend_from_slice(args);
        output_of(self.enter_command(&cmd))
    }

    /// What [`Drop`] does, for a zone that is never dropped (a fixture
    /// shared by a whole test process, ended at exit).
    pub fn cleanup(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = self.rt.destroy(&h);
        }
        let _ = cgroup::remove(&self.cgroup_roots());
        let _ = std::fs::remove_dir_all(self.tmp.path());
    }
}

/// Run a command to its end and collect what it did.
pub fn output_of(mut c: Command) -> Output {
    let out = c.output().expect("run command");
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// The snapshot a daemon at `socket` serves (one `Snapshot` request).
pub fn daemon_snapshot(socket: &Path) -> std::sync::Arc<zones::snapshot::Snapshot> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = zones::api::Client::connect(socket).await.unwrap();
        match c.call(zones::api::Request::Snapshot).await.unwrap() {
            zones::api::Answer::Snapshot { snapshot } => snapshot,
            a => panic!("{a:?}"),
        }
    })
}

/// A two-worker tokio runtime for tests that drive an engine's async
/// operations (follow, halt) from plain `#[test]` functions.
pub fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The interface names of a `/proc/net/dev` text (its two header lines
/// skipped), in the file's order.
pub fn net_dev_names(dev: &str) -> Vec<String> {
    dev.lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_string())
        .collect()
}

/// Make `fd` (of this process) descriptor `at` of the command, without
/// close-on-exec: a host descriptor the caller of a tool had open.
pub fn pass_fd(c: &mut Command, fd: std::os::fd::RawFd, at: std::os::fd::RawFd) {
    use std::os::unix::process::CommandExt;
    // SAFETY: dup2 and fcntl are async-signal-safe, as pre_exec requires.
    unsafe {
        c.pre_exec(move || {
            if fd == at {
                let fl = libc::fcntl(at, libc::F_GETFD);
                libc::fcntl(at, libc::F_SETFD, fl & !libc::FD_CLOEXEC);
            } else if libc::dup2(fd, at) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A booted sparse zone (init: sleep) with `params`, zattack installed,
/// that lives until the test process exits (then it is destroyed and its
/// cgroups and files removed): for suites that run many attacks against
/// one zone. Later calls with the same `key` return the same zone.
pub fn shared_zone(key: &'static str, params: &[(&str, Value)]) -> &'static TestZone {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static ZONES: OnceLock<Mutex<HashMap<&'static str, &'static TestZone>>> = OnceLock::new();
    static LEAKED: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    extern "C" fn at_exit() {
        let all = std::mem::take(&mut *LEAKED.lock().unwrap_or_else(|e| e.into_inner()));
        for p in all {
            // SAFETY: p came from Box::leak below; the test harness has
            // finished every test when exit handlers run, so nothing
            // borrows the zone any more.
            let z = unsafe { &mut *(p as *mut TestZone) };
            z.cleanup();
        }
    }
    let map = ZONES.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(z) = map.get(key) {
        return z;
    }
    let mut z = TestZone::sparse(key);
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("100000".into()));
    for (k, v) in params {
        z.set(k, v.clone());
    }
    let z: &'static mut TestZone = Box::leak(Box::new(z));
    {
        let mut leaked = LEAKED.lock().unwrap_or_else(|e| e.into_inner());
        if leaked.is_empty() {
            // SAFETY: registering a plain extern "C" function.
            unsafe { libc::atexit(at_exit) };
        }
        leaked.push(z as *mut TestZone as usize);
    }
    z.ready()
        .unwrap_or_else(|e| panic!("ready shared zone {key}: {e}"));
    z.boot()
        .unwrap_or_else(|e| panic!("boot shared zone {key}: {e}"));
    z.install_attack();
    map.insert(key, z);
    z
}

/// A private world for the admin tools: a jail.conf, an embedded engine's
/// state directory, a relative cgroup root, no daemon. Every zone it
/// configured is halted (and its cgroups removed) when it is dropped.
pub struct ToolWorld {
    pub dir: tempfile::TempDir,
    pub cgroup_root: String,
    pub names: Vec<String>,
    conf: String,
}

impl ToolWorld {
    pub fn new(tag: &str) -> ToolWorld {
        require_root();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        ToolWorld {
            dir: tempfile::Builder::new()
                .prefix("zones-e2e-tools-")
                .tempdir()
                .expect("tempdir"),
            cgroup_root: format!("zones-e2e-{tag}-{}-{n}", std::process::id()),
            names: Vec::new(),
            conf: String::new(),
        }
    }

    /// A unique zone name for `tag`.
    pub fn name(&self, tag: &str) -> String {
        format!(
            "{tag}{}x{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        )
    }

    /// Configure zone `name` (a jail.conf block body) and rewrite jail.conf.
    pub fn configure(&mut self, name: &str, body: &str) {
        self.conf.push_str(&format!("{name} {{\n{body}\n}}\n"));
        self.names.push(name.to_string());
        std::fs::write(self.dir.path().join("jail.conf"), &self.conf).unwrap();
    }

    /// Configure `name` as a sparse zone at `path` whose init sleeps
    /// (`/bin/sleep 100000`), with `extra` jail.conf lines.
    pub fn configure_sleeper(&mut self, name: &str, path: &Path, extra: &str) {
        self.configure(
            name,
            &format!(
                "path = \"{}\";\nbrand = sparse;\ninitname = \"/bin/sleep\";\nbootargs = \"100000\";\n{extra}",
                path.display()
            ),
        );
    }

    /// `zlogin -C name` in a new detached tmux session `session`: see
    /// [`Self::zlogin_in_tmux`].
    pub fn attach_console(&self, name: &str, session: &str) -> Tmux {
        self.zlogin_in_tmux(session, &["-C", name])
    }

    /// `zlogin ARGS` with the world's environment in a new detached tmux
    /// session `session` of 160x50; after zlogin exits the pane shows
    /// `ZLOGIN-EXIT=<status>` for a minute. The session is killed when
    /// the returned guard drops.
    pub fn zlogin_in_tmux(&self, session: &str, args: &[&str]) -> Tmux {
        let zl = self.command("zlogin", args);
        let envs: Vec<String> = zl
            .get_envs()
            .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v?.to_str()?)))
            .collect();
        let line = format!(
            "env {} {} {}; echo ZLOGIN-EXIT=$?; sleep 60",
            envs.join(" "),
            bin("zlogin").display(),
            args.join(" ")
        );
        let st = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                session,
                "-x",
                "160",
                "-y",
                "50",
                &line,
            ])
            .status()
            .expect("tmux");
        assert!(st.success(), "tmux new-session");
        Tmux(session.to_string())
    }

    /// A tool's command with the world's environment, not started.
    pub fn command(&self, tool: &str, args: &[&str]) -> Command {
        let mut c = Command::new(bin(tool));
        c.args(args)
            .env("ZONES_STATE_DIR", self.dir.path().join("state"))
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root)
            .env("ZONED_SOCKET", self.dir.path().join("no-such.sock"))
            .env("ZONES_ZSCHED", bin("zsched"))
            .env("ZONES_CONFIG", self.dir.path().join("jail.conf"))
            .stdin(std::process::Stdio::null());
        c
    }

    pub fn run(&self, tool: &str, args: &[&str]) -> Output {
        output_of(self.command(tool, args))
    }

    /// The world's cgroup root in every hierarchy.
    pub fn cgroup_roots(&self) -> Vec<PathBuf> {
        cgroup::root_dirs(Path::new(&self.cgroup_root)).expect("cgroup hierarchies")
    }

    /// Host pids of every process in the world's zones.
    pub fn pids(&self) -> Vec<u32> {
        let mut out: Vec<u32> = self
            .cgroup_roots()
            .iter()
            .flat_map(|r| cgroup::procs(r))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// The root of a zone installed by `zoneadm install` at zone path `zp`:
/// `<zonepath>/root` in the illumos layout, else the path itself.
pub fn installed_root(zp: &Path) -> PathBuf {
    let r = zp.join("root");
    if r.join("etc").is_dir() {
        r
    } else {
        zp.to_path_buf()
    }
}

impl Drop for ToolWorld {
    fn drop(&mut self) {
        for n in self.names.clone() {
            let _ = self.run("zoneadm", &["-z", &n, "halt"]);
        }
        // Whatever a failed halt left: kill it, then remove the cgroups.
        for p in self.pids() {
            // SAFETY: kill takes no pointer; p is a process of this world.
            unsafe { libc::kill(p as i32, libc::SIGKILL) };
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let _ = cgroup::remove(&self.cgroup_roots());
    }
}

/// The pid namespace of a process (the link's text: `pid:[INODE]`).
pub fn pid_ns(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok()
}

/// Host pids of the processes in pid namespace `ns` (a zone's); a zombie
/// its reaper has not collected yet is not a process left.
pub fn procs_in_ns(ns: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            pid_ns(*pid).as_deref() == Some(ns)
                && zones_linux::runtime::linux::launch::start_time(*pid).is_some()
        })
        .collect()
}

/// A private host for the tools: a state directory, a socket, a relative
/// cgroup root, a jail.conf and maybe a zoned, all of this test's own.
/// Every tool run through it gets them in its environment (`ZONES_*`,
/// `ZONED_SOCKET`), never /etc/jail.conf or /var/lib/zones. When dropped
/// it halts the zones named in [`Host::halt_on_drop`] (the last first),
/// kills its zoned and removes its cgroups — also when the test failed.
pub struct Host {
    pub dir: tempfile::TempDir,
    pub cgroup_root: String,
    pub zoned: Option<std::process::Child>,
    /// Zones `zoneadm halt` is run for when the host is dropped.
    pub halt_on_drop: Vec<String>,
}

impl Host {
    /// A new host; `tag` names the test in the directory and cgroup names.
    pub fn new(tag: &str) -> Host {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix(&format!("zones-host-{tag}-"))
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .expect("tempdir");
        let cgroup_root = format!(
            "zones-test-{tag}-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        Host {
            dir,
            cgroup_root,
            zoned: None,
            halt_on_drop: Vec::new(),
        }
    }

    /// The host's jail.conf (`ZONES_CONFIG`).
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("jail.conf")
    }

    /// Write the host's jail.conf.
    pub fn write_conf(&self, text: &str) {
        std::fs::write(self.conf(), text).expect("write jail.conf");
    }

    /// Write a jail.conf of sparse zones whose init sleeps, rooted at
    /// `ROOTS/NAME` ([`Host::roots`]), each with its extra parameter lines
    /// (`"  zone.max-processes = 30;\n"`), and have them halted on drop.
    pub fn configure_sleepers(&mut self, zones: &[(&str, &str)]) {
        let mut conf = String::new();
        for (z, extra) in zones {
            conf.push_str(&format!(
                "{z} {{\n  path = \"{}\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n{extra}}}\n",
                self.roots().join(z).display()
            ));
            self.halt_on_drop.push(z.to_string());
        }
        self.write_conf(&conf);
    }

    /// Where [`Host::configure_sleepers`] puts the zones' roots.
    pub fn roots(&self) -> PathBuf {
        self.dir.path().join("roots")
    }

    /// This host's environment as a shell prefix (`env A='B' ...`), for a
    /// command typed into a terminal (tmux).
    pub fn env_prefix(&self) -> String {
        let mut c = Command::new("true");
        self.env(&mut c);
        let mut s = String::from("env");
        for (k, v) in c.get_envs() {
            s.push_str(&format!(
                " {}='{}'",
                k.to_string_lossy(),
                v.unwrap_or_default().to_string_lossy()
            ));
        }
        s
    }

    /// The host's zoned socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("zoned.sock")
    }

    /// The endpoint an in-process tool would resolve.
    pub fn endpoint(&self) -> zones_linux::api::Endpoint {
        zones_linux::api::Endpoint {
            socket: self.socket(),
            state_dir: self.dir.path().join("state"),
            cgroup_root: self.cgroup_root.clone(),
        }
    }

    /// Give a command this host's environment.
    pub fn env(&self, c: &mut Command) {
        c.env("ZONES_STATE_DIR", self.dir.path().join("state"))
            .env("ZONED_SOCKET", self.socket())
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root)
            .env("ZONES_CONFIG", self.conf())
            .env("ZONES_ZSCHED", bin("zsched"));
    }

    /// Run a tool of the workspace here.
    pub fn run(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let mut c = Command::new(bin(tool));
        self.env(&mut c);
        c.stdin(std::process::Stdio::null());
        c.args(args).output().expect("run tool")
    }

    /// Run a tool that must succeed; its stdout.
    pub fn ok(&self, tool: &str, args: &[&str]) -> String {
        let o = self.run(tool, args);
        assert!(
            o.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).expect("utf-8 output")
    }

    /// Start zoned here (its log to `zoned.log` in the host's directory)
    /// and wait until it answers.
    pub fn start_zoned(&mut self) {
        self.start_zoned_with(&[]);
    }

    /// [`Host::start_zoned`] with extra arguments (e.g. `--metrics ADDR`).
    pub fn start_zoned_with(&mut self, args: &[&str]) {
        let mut c = Command::new(bin("zoned"));
        self.env(&mut c);
        c.args(args);
        let log = std::fs::File::create(self.dir.path().join("zoned.log")).expect("zoned.log");
        c.stdout(std::process::Stdio::null()).stderr(log);
        self.zoned = Some(c.spawn().expect("spawn zoned"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(self.socket()).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "zoned does not answer"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// zoned's log so far.
    pub fn zoned_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("zoned.log")).unwrap_or_default()
    }

    /// Stop zoned (SIGTERM, then wait).
    pub fn stop_zoned(&mut self) {
        if let Some(mut d) = self.zoned.take() {
            // SAFETY: a signal to our own child, which we have not reaped.
            unsafe { libc::kill(d.id() as i32, libc::SIGTERM) };
            let _ = d.wait();
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // The last named first: a nested zone before its parent.
        for z in self.halt_on_drop.clone().iter().rev() {
            let _ = self.run("zoneadm", &["-z", z, "halt"]);
        }
        if let Some(mut d) = self.zoned.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        // Zones the test did not halt outlive zoned (by design): kill
        // what is left in this host's own cgroups, then remove them.
        let mut dirs = cgroup_dirs(&self.cgroup_root);
        dirs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        let _ = cgroup::remove(&dirs);
    }
}

/// `127.0.0.1:PORT` with a port that is free now (for a server the test
/// starts, e.g. `zoned --metrics`).
pub fn free_loopback_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").to_string()
}

/// `GET path` from the HTTP server at `addr` (`HOST:PORT`), HTTP/1.0: the
/// body of a 200 answer; an error names the address and what went wrong.
pub fn http_get(addr: &str, path: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut s =
        std::net::TcpStream::connect(addr).map_err(|e| format!("connect to {addr}: {e}"))?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .map_err(|e| format!("write to {addr}: {e}"))?;
    let mut text = String::new();
    s.read_to_string(&mut text)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{addr}{path}: no HTTP answer: {text:?}"))?;
    let status = head.lines().next().unwrap_or("");
    if !(status.starts_with("HTTP/1.") && status.split_whitespace().nth(1) == Some("200")) {
        return Err(format!("{addr}{path}: {status}"));
    }
    Ok(body.to_string())
}

/// A tmux session a test started, killed when the test ends (passed or
/// not): the terminal tests (zlogin -C, whole zones' consoles) look at a
/// program as a person does, through `tmux capture-pane`.
pub struct Tmux(pub String);

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

/// What tmux session `s` shows, with 200 lines of its scrollback.
pub fn pane(s: &str) -> String {
    let o = Command::new("tmux")
        .args(["capture-pane", "-p", "-S", "-200", "-t", s])
        .output()
        .expect("tmux capture-pane");
    String::from_utf8_lossy(&o.stdout).into()
}

/// Type `keys` (tmux key names) into tmux session `s`.
pub fn tmux_keys(s: &str, keys: &[&str]) {
    let st = Command::new("tmux")
        .args(["send-keys", "-t", s])
        .args(keys)
        .status()
        .expect("tmux send-keys");
    assert!(st.success(), "tmux send-keys -t {s}");
}

/// Wait until the pane of tmux session `s` shows `what` (or 10 s pass);
/// the pane.
pub fn wait_pane(s: &str, what: &str) -> String {
    let t = std::time::Instant::now();
    loop {
        let p = pane(s);
        if p.contains(what) || t.elapsed() > std::time::Duration::from_secs(10) {
            return p;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
