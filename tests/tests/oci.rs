//! Issue 19 items 1–3, end to end as root: zones as an OCI runtime.
//!
//! * **Podman**: `podman --runtime <zones-oci> run --rm --rootfs <root>`
//!   prints what the command prints; `run -d`, `exec`, `stop`, `rm` work;
//!   while the container runs, `zoneadm list -v` lists its zone and
//!   `jls -n` shows the rctls of `--memory`, `--pids-limit`, `--cpus`.
//! * **runc on the same bundle**: the exit codes of create / start /
//!   state / kill / delete / exec for missing ids, a second create, a
//!   start of a running container, and the fields and statuses of
//!   `state`, are runc's (runc runs here, in the same test).
//! * **containerd**: a private containerd (its own config, root, state
//!   and socket), an OCI image layout tarball the test builds and `ctr
//!   image import`s, `ctr run --runtime io.containerd.runc.v2
//!   --runc-binary <zones-oci>`, `ctr task kill`, `ctr task delete`; the
//!   zone is gone afterwards.
//! * **seccomp**: a bundle's `linux.seccomp` (a profile refusing mkdir
//!   with ENOSYS, Podman's default, `seccomp=unconfined`) is loaded on
//!   top of the zone's filter for the program and `exec`: the profile's
//!   refusals and the zone's (keyctl, bpf) both hold; a broken profile
//!   fails `create` naming the field; `seccomp.profile` on a plain zone
//!   stacks on init and entered processes.
//! * **single-file binds**: Podman's /etc/hosts, /etc/hostname,
//!   /run/.containerenv and `-v FILE:FILE[:ro]` land on files made in
//!   the root; a link planted at the target is refused (Podman and a
//!   zone's own `mount` line), a link on the way resolves inside the
//!   root.
//!
//! Everything is private ([`zones_e2e::Host`]: state directory, no
//! daemon, relative cgroup root; Podman's storage and run roots, the OCI
//! `--root` and containerd's directories under the host's temporary
//! directory) and local: `--network none`, no registry. The runtime is
//! given to Podman and containerd as a small script that sets the host's
//! environment and the OCI root, then execs zones-oci.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use zones_e2e::{Host, bin};

/// A private host with a zones-oci wrapper and a sparse rootfs.
struct World {
    host: Host,
    /// The wrapper podman / containerd call as their runtime.
    runtime: PathBuf,
    /// zones-oci's --root.
    oci_root: PathBuf,
}

impl World {
    fn new(tag: &str) -> World {
        let host = Host::new(tag);
        let d = host.dir.path().to_path_buf();
        let oci_root = d.join("oci");
        let runtime = d.join("zones-oci.sh");
        std::fs::write(
            &runtime,
            format!(
                "#!/bin/sh\nexport ZONES_STATE_DIR={} ZONED_SOCKET={} ZONES_CGROUP_ROOT={} ZONES_ZSCHED={}\nexec {} --root {} \"$@\"\n",
                d.join("state").display(),
                host.socket().display(),
                host.cgroup_root,
                bin("zsched").display(),
                bin("zones-oci").display(),
                oci_root.display(),
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        World {
            host,
            runtime,
            oci_root,
        }
    }

    fn dir(&self) -> &Path {
        self.host.dir.path()
    }

    /// An empty rootfs for a sparse zone (the brand binds the host's /usr).
    fn sparse_rootfs(&self, name: &str) -> PathBuf {
        let r = self.dir().join(name);
        std::fs::create_dir_all(&r).unwrap();
        r
    }

    /// A rootfs with busybox-static alone (a whole zone, and runc's root).
    fn busybox_rootfs(&self, name: &str) -> PathBuf {
        let r = self.dir().join(name);
        std::fs::create_dir_all(r.join("bin")).unwrap();
        for d in ["proc", "dev", "sys", "tmp", "etc"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::copy("/bin/busybox", r.join("bin/busybox")).expect("busybox-static");
        for app in ["sh", "sleep", "cat", "echo", "true", "hostname", "id"] {
            std::os::unix::fs::symlink("busybox", r.join("bin").join(app)).unwrap();
        }
        std::fs::write(r.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n").unwrap();
        r
    }

    /// A zones tool with the host's environment.
    fn tool(&self, tool: &str, args: &[&str]) -> Output {
        self.host.run(tool, args)
    }

    /// No zone cgroup is left beneath the host's cgroup root.
    fn host_cgroups_empty(&self) -> bool {
        zones_e2e::cgroup_dirs(&self.host.cgroup_root)
            .iter()
            .all(|d| walk(d).len() == 1)
    }

    /// The zone names `zoneadm list` shows.
    fn zones(&self) -> Vec<String> {
        let o = self.tool("zoneadm", &["list"]);
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .filter(|l| l != "global")
            .collect()
    }
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Podman with private storage, run and events, our runtime.
struct Podman<'a> {
    w: &'a World,
}

impl Podman<'_> {
    fn cmd(&self, args: &[&str]) -> Command {
        let d = self.w.dir().join("podman");
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("run"))
            .args([
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
            ])
            .arg("--tmpdir")
            .arg(d.join("tmp"))
            .arg("--runtime")
            .arg(&self.w.runtime)
            .args(args.iter().take(1))
            .args(self.extra(args))
            .args(args.iter().skip(1))
            .stdin(Stdio::null());
        c
    }
    /// `run` gets a cgroup parent beneath the test's cgroup root, so
    /// that conmon's cgroup (`<parent>/conmon`) is the test's to remove.
    fn extra(&self, args: &[&str]) -> Vec<String> {
        if args.first() == Some(&"run") {
            vec![format!("--cgroup-parent=/{}", self.parent())]
        } else {
            vec![]
        }
    }
    fn parent(&self) -> String {
        format!("{}-podman", self.w.host.cgroup_root)
    }
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("podman")
    }
    /// `podman run FLAGS… --rootfs ROOT /bin/sh -c SCRIPT` of a sparse zone.
    fn run_sh(&self, flags: &[&str], root: &str, script: &str) -> Output {
        let mut a = vec!["run"];
        a.extend_from_slice(flags);
        a.extend_from_slice(&[
            "--annotation",
            "zones.brand=sparse",
            "--rootfs",
            root,
            "/bin/sh",
            "-c",
            script,
        ]);
        self.run(&a)
    }
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.status.success(), "podman {args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for Podman<'_> {
    fn drop(&mut self) {
        let _ = self.run(&["rm", "-af", "-t", "0"]);
        // Whatever podman left mounted under its directories.
        let d = self.w.dir().join("podman");
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut under: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| Path::new(m).starts_with(&d))
            .collect();
        under.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in under {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
        let mut dirs = zones_e2e::cgroup_dirs(&self.parent());
        dirs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for d in dirs {
            let mut sub: Vec<PathBuf> = walk(&d);
            sub.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
            for s in sub {
                let _ = std::fs::remove_dir(&s);
            }
        }
    }
}

/// `d` and every directory beneath it.
fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = vec![d.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(walk(&e.path()));
            }
        }
    }
    out
}

/// A tool needed here that is not installed fails the test (CI installs it).
fn require(tool: &str) {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "{tool} is not installed (see .ci/run)");
}

#[test]
fn podman_run_rm_prints_ok_and_leaves_nothing() {
    require("podman");
    let w = World::new("oci-rm");
    let p = Podman { w: &w };
    let rootfs = w.sparse_rootfs("rootfs");
    let root = rootfs.to_str().unwrap();
    let o = p.run_sh(
        &["--rm", "--network", "none"],
        root,
        "echo ok; cat /proc/1/comm",
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out, "ok\nzsched\n", "{out}");
    assert!(w.zones().is_empty(), "zones left: {:?}", w.zones());
    let left: Vec<_> = std::fs::read_dir(&w.oci_root)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "OCI state left: {left:?}");
    // The exit status of the container is podman's.
    let o = p.run_sh(&["--rm", "--network", "none"], root, "exit 7");
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    // -t: conmon's console socket gets a pty of the zone's own devpts.
    let o = p.run_sh(
        &["--rm", "-t", "--network", "none"],
        root,
        "test -t 0 && test -t 1 && tty",
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out.replace('\r', ""), "/dev/pts/0\n", "{out:?}");
}

#[test]
fn podman_detached_exec_stop_rm_and_the_zone_has_the_rctls() {
    require("podman");
    let w = World::new("oci-d");
    let p = Podman { w: &w };
    let rootfs = w.sparse_rootfs("rootfs");
    let id = p.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--memory",
        "256m",
        "--pids-limit",
        "77",
        "--cpus",
        "1.5",
        "--annotation",
        "zones.brand=sparse",
        "--rootfs",
        rootfs.to_str().unwrap(),
        "/bin/sh",
        "-c",
        "trap 'exit 0' TERM; while :; do sleep 0.1; done",
    ]);
    let id = id.trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    // A podman id is a valid zone name as it is.
    let list = String::from_utf8_lossy(&w.tool("zoneadm", &["list", "-v"]).stdout).into_owned();
    let line = list
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("{id} not in zoneadm list -v:\n{list}"));
    assert!(
        line.contains("running") && line.contains("sparse"),
        "{line}"
    );
    let jls = w.tool("jls", &["-n", "-j", &id]);
    let params = String::from_utf8_lossy(&jls.stdout).into_owned();
    for want in [
        "zone.max-processes=77",
        "capped-memory.physical=268435456",
        "zone.cpu-cap=150",
    ] {
        assert!(
            params.contains(want),
            "{want} not in jls -n:\n{}",
            text(&jls)
        );
    }
    let out = p.ok(&["exec", &id, "/bin/sh", "-c", "echo in-exec; hostname"]);
    assert_eq!(out, format!("in-exec\n{}\n", &id[..12]), "{out}");
    let o = p.run(&["exec", &id, "/bin/sh", "-c", "exit 3"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let t = Instant::now();
    p.ok(&["stop", "-t", "10", &id]);
    // The trap made it exit on SIGTERM: no 10 s wait for SIGKILL.
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    let inspect = p.ok(&[
        "inspect",
        "--format",
        "{{.State.Status}} {{.State.ExitCode}}",
        &id,
    ]);
    assert_eq!(inspect.trim(), "exited 0", "{inspect}");
    p.ok(&["rm", &id]);
    assert!(w.zones().is_empty(), "zones left: {:?}", w.zones());
}

/// Run an OCI runtime (`zones-oci` through the wrapper, or runc). Its
/// output goes through files, not pipes: the container's process keeps
/// the stdio `create` had, and a pipe would never end.
fn oci(runtime: &Path, root: &Path, args: &[&str]) -> Output {
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let status = Command::new(runtime)
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .status()
        .expect("runtime");
    let read = |mut f: std::fs::File| {
        use std::io::{Read, Seek};
        let mut v = Vec::new();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut v).unwrap();
        v
    };
    Output {
        status,
        stdout: read(out),
        stderr: read(err),
    }
}

/// `create` of BUNDLE as ID must fail with runc's exit code 1 and a
/// message containing WANT.
fn create_refused(w: &World, bundle: &Path, id: &str, want: &str) {
    let o = oci(
        &w.runtime,
        &w.oci_root,
        &["create", "--bundle", bundle.to_str().unwrap(), id],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(want), "{}", text(&o));
}

/// Wait until `state` says `status`.
fn wait_status(runtime: &Path, root: &Path, id: &str, status: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = oci(runtime, root, &["state", id]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        if v["status"] == status {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{id} never {status}: {}",
            text(&o)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The same steps on one runtime: each step's exit code, and the state
/// JSON after create, after start and once stopped.
fn lifecycle(
    runtime: &Path,
    root: &Path,
    bundle: &Path,
    id: &str,
) -> (Vec<(String, i32)>, Vec<serde_json::Value>) {
    let b = bundle.to_str().unwrap();
    let mut codes = Vec::new();
    let mut states = Vec::new();
    let mut step = |what: &str, args: &[&str]| -> Output {
        let o = oci(runtime, root, args);
        codes.push((what.to_string(), o.status.code().unwrap_or(-1)));
        o
    };
    step("state missing", &["state", "nope"]);
    step("start missing", &["start", "nope"]);
    step("kill missing", &["kill", "nope", "KILL"]);
    step("delete missing", &["delete", "nope"]);
    step("delete --force missing", &["delete", "--force", "nope"]);
    step("ps missing", &["ps", "nope"]);
    step("exec missing", &["exec", "nope", "true"]);
    step("unknown command", &["frobnicate"]);
    let o = step("create", &["create", "--bundle", b, id]);
    assert!(
        o.status.success(),
        "{}: create: {}",
        runtime.display(),
        text(&o)
    );
    step("create again", &["create", "--bundle", b, id]);
    states.push(wait_status(runtime, root, id, "created"));
    // runc deletes a created container without --force.
    step("delete created", &["delete", id]);
    step("state after delete", &["state", id]);
    let o = step("create after delete", &["create", "--bundle", b, id]);
    assert!(
        o.status.success(),
        "{}: create: {}",
        runtime.display(),
        text(&o)
    );
    step("start", &["start", id]);
    states.push(wait_status(runtime, root, id, "running"));
    step("start running", &["start", id]);
    step("delete running", &["delete", id]);
    step("kill", &["kill", id, "KILL"]);
    states.push(wait_status(runtime, root, id, "stopped"));
    step("kill stopped", &["kill", id, "KILL"]);
    step("start stopped", &["start", id]);
    step("delete", &["delete", id]);
    step("state deleted", &["state", id]);
    (codes, states)
}

#[test]
fn exit_codes_and_state_are_runcs_on_the_same_bundle() {
    require("runc");
    let w = World::new("oci-runc");
    let rootfs = w.busybox_rootfs("rootfs");
    let bundle = w.dir().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    let spec = serde_json::json!({
        "ociVersion": "1.0.2",
        "root": {"path": rootfs},
        "hostname": "cmp",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["/bin/sleep", "1000"],
            "env": ["PATH=/bin"],
            "cwd": "/",
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
            "noNewPrivileges": true
        },
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network"}],
            "resources": {"pids": {"limit": 20}},
            "maskedPaths": ["/proc/kcore"],
            "readonlyPaths": ["/proc/sys"]
        }
    });
    std::fs::write(
        bundle.join("config.json"),
        serde_json::to_vec_pretty(&spec).unwrap(),
    )
    .unwrap();
    let runc_root = w.dir().join("runc-root");
    let (runc_codes, runc_states) = lifecycle(Path::new("runc"), &runc_root, &bundle, "cmp-runc");
    let (our_codes, our_states) = lifecycle(&w.runtime, &w.oci_root, &bundle, "cmp-zones");
    assert_eq!(
        our_codes, runc_codes,
        "exit codes: zones-oci (left) against runc (right)"
    );
    for (ours, theirs) in our_states.iter().zip(&runc_states) {
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(
            keys(ours),
            keys(theirs),
            "state fields\nours {ours}\nrunc {theirs}"
        );
        assert_eq!(ours["status"], theirs["status"]);
        assert_eq!(ours["bundle"], theirs["bundle"]);
        assert_eq!(
            ours["ociVersion"].as_str().map(|s| s.starts_with("1.0")),
            Some(true)
        );
        assert_eq!(
            ours["pid"].as_u64() == Some(0),
            theirs["pid"].as_u64() == Some(0),
            "pid zero when stopped only\nours {ours}\nrunc {theirs}"
        );
    }
    // While it ran, the pid state gave was the program's, in the zone.
    assert!(w.zones().is_empty(), "zones left: {:?}", w.zones());
}

/// sha256 of a file, in hex (sha256sum(1): no hash crate in the tests).
fn sha256(p: &Path) -> String {
    let o = Command::new("sha256sum")
        .arg(p)
        .output()
        .expect("sha256sum");
    assert!(o.status.success(), "sha256sum {}", p.display());
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// An OCI image layout of `rootfs` (one layer) as a tarball, its image
/// named `name`: what `ctr image import` reads, made here with tar(1).
fn image_tarball(dir: &Path, rootfs: &Path, name: &str) -> PathBuf {
    let layout = dir.join("layout");
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |p: &Path| -> (String, u64) {
        let h = sha256(p);
        let size = std::fs::metadata(p).unwrap().len();
        std::fs::rename(p, blobs.join(&h)).unwrap();
        (h, size)
    };
    let layer = dir.join("layer.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .args(["--numeric-owner", "-cf"])
        .arg(&layer)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success(), "tar the layer");
    let (lh, ls) = put(&layer);
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{lh}")]}
        })
        .to_string(),
    )
    .unwrap();
    let (ch, cs) = put(&config);
    let manifest = dir.join("manifest.json");
    std::fs::write(
        &manifest,
        serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{ch}"), "size": cs},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{lh}"), "size": ls}]
        })
        .to_string(),
    )
    .unwrap();
    let (mh, ms) = put(&manifest);
    std::fs::write(
        layout.join("index.json"),
        serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": format!("sha256:{mh}"), "size": ms,
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": "1"}
            }]
        })
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let tarball = dir.join("image.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(&layout)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success(), "tar the layout");
    tarball
}

/// A private containerd: killed, its mounts undone, when dropped.
struct Containerd {
    child: std::process::Child,
    dir: PathBuf,
    sock: PathBuf,
    /// containerd 1.6 keeps its shims' sockets in /run/containerd/s
    /// whatever its state directory: removed (when empty) if we made it.
    made_run_dir: bool,
}

impl Containerd {
    fn start(dir: &Path) -> Containerd {
        let dir = dir.join("containerd");
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("containerd.sock");
        let conf = dir.join("config.toml");
        std::fs::write(
            &conf,
            format!(
                "version = 2\nroot = \"{r}\"\nstate = \"{s}\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = \"{a}\"\n[ttrpc]\n  address = \"{a}.ttrpc\"\n[debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"{o}\"\n",
                o = dir.join("opt").display(),
                r = dir.join("root").display(),
                s = dir.join("state").display(),
                a = sock.display()
            ),
        )
        .unwrap();
        let made_run_dir = !Path::new("/run/containerd").exists();
        let log = std::fs::File::create(dir.join("containerd.log")).unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("containerd");
        let c = Containerd {
            child,
            dir,
            sock,
            made_run_dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while c.ctr(&["version"]).status.code() != Some(0) {
            assert!(
                Instant::now() < deadline,
                "containerd does not answer: {}",
                c.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        c
    }
    fn ctr(&self, args: &[&str]) -> Output {
        Command::new("ctr")
            .arg("--address")
            .arg(&self.sock)
            .args(["--namespace", "zones-test"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("ctr")
    }
    fn ok(&self, args: &[&str]) -> String {
        let o = self.ctr(args);
        assert!(
            o.status.success(),
            "ctr {args:?}: {}\n{}",
            text(&o),
            self.log()
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Shims it left, and mounts under its directories.
        // Shims of this containerd: their command line names its socket.
        let sock = self.sock.to_string_lossy().into_owned();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd);
            if cmd.starts_with("/usr/bin/containerd-shim-runc-v2") && cmd.contains(&sock) {
                // SAFETY: kill(2) of a shim this test's containerd started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut under: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| Path::new(m).starts_with(&self.dir))
            .collect();
        under.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in under {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
        if self.made_run_dir {
            let _ = std::fs::remove_dir("/run/containerd/s");
            let _ = std::fs::remove_dir("/run/containerd");
        }
    }
}

#[test]
fn containerd_runs_an_imported_image_as_a_zone_and_delete_leaves_nothing() {
    require("containerd");
    require("ctr");
    let w = World::new("oci-ctrd");
    let rootfs = w.busybox_rootfs("image-root");
    let img = "localhost/zones-test:1";
    let tarball = image_tarball(w.dir(), &rootfs, img);
    let c = Containerd::start(w.dir());
    c.ok(&[
        "image",
        "import",
        "--snapshotter",
        "native",
        tarball.to_str().unwrap(),
    ]);
    assert!(c.ok(&["image", "ls", "-q"]).contains(img));
    let runtime = w.runtime.to_str().unwrap();
    // The shim's runtime root and ctr's fifos in the test's directory
    // (their defaults are under /run/containerd).
    let runc_root = w.oci_root.to_string_lossy().into_owned();
    let fifo_dir = w.dir().join("fifo").to_string_lossy().into_owned();
    // Detached, its output to /dev/null: the task runs until killed.
    c.ok(&[
        "run",
        "-d",
        "--null-io",
        "--snapshotter",
        "native",
        "--runtime",
        "io.containerd.runc.v2",
        "--runc-binary",
        runtime,
        "--runc-root",
        &runc_root,
        "--fifo-dir",
        &fifo_dir,
        img,
        "ctr-zone",
        "/bin/sleep",
        "1000",
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let tasks = c.ok(&["task", "ls"]);
        if tasks
            .lines()
            .any(|l| l.starts_with("ctr-zone") && l.contains("RUNNING"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "task not running: {tasks}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        w.zones().contains(&"ctr-zone".to_string()),
        "{:?}",
        w.zones()
    );
    // Output of a task: ctr run without -d waits and relays it.
    let out = c.ok(&[
        "run",
        "--rm",
        "--snapshotter",
        "native",
        "--runc-binary",
        runtime,
        "--runc-root",
        &runc_root,
        "--fifo-dir",
        &fifo_dir,
        img,
        "ctr-once",
        "/bin/sh",
        "-c",
        "echo hello from $(hostname)",
    ]);
    assert_eq!(out.trim(), "hello from ctr-once", "{out}");
    c.ok(&["task", "kill", "--signal", "KILL", "ctr-zone"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let tasks = c.ok(&["task", "ls"]);
        if tasks
            .lines()
            .any(|l| l.starts_with("ctr-zone") && l.contains("STOPPED"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "task not stopped: {tasks}");
        std::thread::sleep(Duration::from_millis(50));
    }
    c.ok(&["task", "delete", "ctr-zone"]);
    c.ok(&["container", "delete", "ctr-zone"]);
    assert!(w.zones().is_empty(), "zones left: {:?}", w.zones());
    // The shim's root is --runc-root/<namespace>.
    let left: Vec<_> = std::fs::read_dir(w.oci_root.join("zones-test"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "OCI state left: {left:?}");
    assert!(w.host_cgroups_empty(), "zone cgroups left");
}

#[test]
fn through_zoned_a_halt_from_zoneadm_is_the_containers_exit() {
    require("podman");
    let mut w = World::new("oci-halt");
    w.host.write_conf("");
    // zoned serving /zones on a private mount point (unmounted by the
    // guard below, which names that one path).
    let mnt = w.dir().join("zones-mnt");
    std::fs::create_dir(&mnt).unwrap();
    let _unmount = Unmount(mnt.clone());
    let mut c = Command::new(zones_e2e::bin("zoned"));
    w.host.env(&mut c);
    c.arg("--zonefs")
        .arg(&mnt)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(w.dir().join("zoned.log")).unwrap());
    w.host.zoned = Some(c.spawn().expect("zoned"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !mnt.join("global/status").exists() {
        assert!(Instant::now() < deadline, "zoned --zonefs: no /zones");
        std::thread::sleep(Duration::from_millis(20));
    }
    let p = Podman { w: &w };
    let rootfs = w.sparse_rootfs("rootfs");
    let id = p
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--memory",
            "256m",
            "--pids-limit",
            "100",
            "--cpus",
            "1.5",
            "--annotation",
            "zones.brand=sparse",
            "--rootfs",
            rootfs.to_str().unwrap(),
            "/bin/sh",
            "-c",
            "while :; do sleep 0.1; done",
        ])
        .trim()
        .to_string();
    // zoned made it: zoneadm (through the socket) lists it running.
    let list = String::from_utf8_lossy(&w.tool("zoneadm", &["list", "-v"]).stdout).into_owned();
    assert!(
        list.lines()
            .any(|l| l.contains(&id) && l.contains("running")),
        "{list}\nzoned: {}",
        w.host.zoned_log()
    );
    // /zones shows the container's zone, running, with the rctls its
    // --pids-limit, --cpus and --memory asked for.
    let z = mnt.join(&id);
    let read = |f: &str| std::fs::read_to_string(z.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    assert_eq!(read("status"), "running\n");
    assert_eq!(read("rctl/zone.max-processes"), "100\n");
    assert_eq!(read("rctl/zone.cpu-cap"), "150\n");
    let mem: Vec<String> = std::fs::read_dir(z.join("rctl"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(mem.iter().any(|v| v == "268435456\n"), "{mem:?}");
    let o = w.tool("zoneadm", &["-z", &id, "halt"]);
    assert!(o.status.success(), "zoneadm halt: {}", text(&o));
    // Podman sees the container's process end, killed by the halt's
    // signal (128 + SIGTERM or SIGKILL).
    let code = p.ok(&["wait", &id]);
    assert!(matches!(code.trim(), "143" | "137"), "{code}");
    // Podman's state says the container ended: "exited" once conmon's
    // `podman container cleanup` ran, "stopped" until then. In some runs
    // (2 of 5 here at load 3-5, with the same exit code and "died"
    // event) that cleanup never comes and Podman leaves it "stopped"
    // until `podman rm`, which cleans up itself: both are an end.
    let t = std::time::Instant::now();
    let st = loop {
        let st = p.ok(&["inspect", "--format", "{{.State.Status}}", &id]);
        if st.trim() != "stopped" || t.elapsed() > std::time::Duration::from_secs(5) {
            break st;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        matches!(st.trim(), "exited" | "stopped"),
        "podman's state: {}\nzones-oci state: {}",
        p.ok(&["inspect", "--format", "{{json .State}}", &id]),
        text(&oci(&w.runtime, &w.oci_root, &["state", &id])),
    );
    p.ok(&["rm", &id]);
    assert!(w.zones().is_empty(), "zones left: {:?}", w.zones());
}

/// config.json's process and mounts through Podman: capabilities dropped,
/// rlimits, no_new_privs, user and groups, a bind of a host directory, a
/// read-only root; a network namespace joined by path is refused, clearly.
#[test]
fn podman_process_settings_mounts_and_read_only_root_are_honoured() {
    require("podman");
    let w = World::new("oci-cfg");
    let p = Podman { w: &w };
    let rootfs = w.sparse_rootfs("rootfs");
    let hostdir = w.dir().join("shared");
    std::fs::create_dir_all(&hostdir).unwrap();
    std::fs::write(hostdir.join("from-host"), "hello\n").unwrap();
    let root = rootfs.to_str().unwrap();
    let run = |extra: &[&str], script: &str| -> String {
        let mut a = vec!["run", "--rm", "--network", "none"];
        a.extend_from_slice(extra);
        a.extend_from_slice(&[
            "--annotation",
            "zones.brand=sparse",
            "--rootfs",
            root,
            "/bin/sh",
            "-c",
            script,
        ]);
        p.ok(&a)
    };
    // --cap-drop: the program's sets lose the capability (CAP_CHOWN is
    // bit 0), and it cannot chown.
    let out = run(
        &["--cap-drop", "CHOWN"],
        "grep -E '^Cap(Eff|Bnd)' /proc/self/status; mkdir -p /tmp; touch /tmp/f; chown 1 /tmp/f && echo chowned || echo refused",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for l in &lines[..2] {
        let hex = l.split_whitespace().nth(1).unwrap();
        let v = u64::from_str_radix(hex, 16).unwrap();
        assert_eq!(v & 1, 0, "CAP_CHOWN kept: {out}");
        assert_ne!(v, 0, "{out}");
    }
    assert_eq!(lines[2], "refused", "{out}");
    // Without --cap-drop the zone's default set chowns: the test can fail.
    let out = run(
        &[],
        "mkdir -p /tmp; touch /tmp/f; chown 1 /tmp/f 2>&1 && echo chowned || grep -E '^Cap(Eff|Bnd)' /proc/self/status",
    );
    assert_eq!(out, "chowned\n", "{out}");
    // --cap-add of a capability the zone has not (CAP_SYS_ADMIN, bit 21,
    // is not in the default limitpriv): never more than the zone.
    let out = run(&["--cap-add", "SYS_ADMIN"], "grep CapEff /proc/self/status");
    let hex = out.split_whitespace().nth(1).unwrap();
    let eff = u64::from_str_radix(hex, 16).unwrap();
    assert_eq!(eff & (1 << 21), 0, "{out}");
    assert_ne!(eff & 1, 0, "{out}");
    // --umask.
    let out = run(&["--umask", "0027"], "umask");
    assert_eq!(out, "0027\n", "{out}");
    // --ulimit: lowered as asked.
    let out = run(&["--ulimit", "nofile=100:200"], "ulimit -n; ulimit -Hn");
    assert_eq!(out, "100\n200\n", "{out}");
    // no-new-privileges.
    let out = run(
        &["--security-opt", "no-new-privileges"],
        "grep NoNewPrivs /proc/self/status",
    );
    assert_eq!(out.split_whitespace().nth(1), Some("1"), "{out}");
    let out = run(&[], "grep NoNewPrivs /proc/self/status");
    assert_eq!(out.split_whitespace().nth(1), Some("0"), "{out}");
    // --user UID:GID and --group-add: the ids and groups are the spec's.
    let out = run(
        &["--user", "1000:1000", "--group-add", "2000"],
        "id -u; id -g; id -G; grep CapEff /proc/self/status",
    );
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(&l[..2], &["1000", "1000"], "{out}");
    assert!(l[2].split_whitespace().any(|g| g == "2000"), "{out}");
    assert!(l[3].ends_with("0000000000000000"), "{out}");
    // -v: a host directory bound at /mnt.
    let v = format!("{}:/mnt", hostdir.display());
    let out = run(&["-v", &v], "cat /mnt/from-host; echo x > /mnt/from-zone");
    assert_eq!(out, "hello\n", "{out}");
    assert_eq!(
        std::fs::read_to_string(hostdir.join("from-zone")).unwrap(),
        "x\n"
    );
    // --read-only: the root is read-only (its /dev, /proc stay the zone's).
    let out = run(
        &["--read-only", "--read-only-tmpfs=false"],
        "touch /newfile 2>/dev/null && echo wrote || echo read-only; test -c /dev/null && echo dev",
    );
    assert_eq!(out, "read-only\ndev\n", "{out}");
    assert!(!rootfs.join("newfile").exists());
    // --network ns:PATH: the zone joins the namespace Podman names
    // (vnet.netns), with the link the test made there; the namespace
    // outlives the container.
    let ns = format!("zt-oci-{}", std::process::id());
    let made = Command::new("ip")
        .args(["netns", "add", &ns])
        .status()
        .unwrap();
    assert!(made.success());
    let link = Command::new("ip")
        .args([
            "-n", &ns, "link", "add", "ztoci0", "type", "veth", "peer", "name", "ztoci1",
        ])
        .status()
        .unwrap();
    let o = p.run(&[
        "run",
        "--rm",
        "--network",
        &format!("ns:/run/netns/{ns}"),
        "--annotation",
        "zones.brand=sparse",
        "--rootfs",
        root,
        "/bin/sh",
        "-c",
        "cut -d: -f1 /proc/net/dev | tr -d ' ' | sort | tr '\\n' ' '",
    ]);
    let still = Path::new("/run/netns").join(&ns).exists();
    let _ = Command::new("ip").args(["netns", "delete", &ns]).status();
    assert!(link.success());
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ztoci0 ztoci1"), "{out}");
    assert!(still, "the zone removed the namespace it joined");
    // A namespace of another kind joined by path is refused, by name.
    let bundle = w.dir().join("bundle-ns");
    std::fs::create_dir_all(bundle.join("rootfs")).unwrap();
    std::fs::write(
        bundle.join("config.json"),
        r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},
        "annotations":{"zones.brand":"sparse"},
        "process":{"args":["/bin/true"],"cwd":"/","user":{"uid":0,"gid":0}},
        "linux":{"namespaces":[{"type":"ipc","path":"/proc/1/ns/ipc"}]}}"#,
    )
    .unwrap();
    create_refused(
        &w,
        &bundle,
        "ns-refused",
        "joining the ipc namespace /proc/1/ns/ipc is not supported",
    );
    assert!(w.zones().is_empty(), "zones left: {:?}", w.zones());
}

/// Detach the mount at exactly this path (never a pattern) when dropped.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() && self.0.is_absolute() {
            use std::os::unix::ffi::OsStrExt;
            let c = std::ffi::CString::new(self.0.as_os_str().as_bytes()).unwrap();
            // SAFETY: umount2 of a NUL-terminated path we own.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

/// `python3 -c` that prints, for each system call number given, the
/// return value and errno of `syscall(nr, args…)` (ctypes: the sparse
/// zone has the host's /usr).
fn syscalls_py(calls: &[(i64, &[i64])]) -> String {
    let mut py = String::from("import ctypes;l=ctypes.CDLL(None,use_errno=True);r=[]\n");
    for (nr, args) in calls {
        let a: Vec<String> = args.iter().map(|x| x.to_string()).collect();
        py.push_str(&format!(
            "ctypes.set_errno(0);v=l.syscall({nr}{}{});r.append('%d/%d'%(v,ctypes.get_errno()))\n",
            if a.is_empty() { "" } else { "," },
            a.join(",")
        ));
    }
    py.push_str("print(' '.join(r))\n");
    format!("python3 -c \"{py}\"")
}

#[test]
fn a_containers_seccomp_profile_is_stacked_on_the_zone_filter() {
    require("podman");
    require("python3");
    let w = World::new("oci-scmp");
    let p = Podman { w: &w };
    let rootfs = w.sparse_rootfs("rootfs");
    let root = rootfs.to_str().unwrap();
    // keyctl (250): the zone's ENOSYS; bpf (321): the zone's EPERM;
    // sysfs(3) (139): allowed by the zone (a count of file system
    // types), refused with EPERM by Podman's default profile.
    let probe = format!(
        "grep Seccomp_filters /proc/self/status; {}",
        syscalls_py(&[(250, &[0, 0, 0, 0, 0]), (321, &[0, 0, 0]), (139, &[3])])
    );
    let answers = |out: &str| -> (String, Vec<String>) {
        let l: Vec<&str> = out.lines().collect();
        assert_eq!(l.len(), 2, "{out}");
        let filters = l[0].split_whitespace().nth(1).unwrap().to_string();
        (filters, l[1].split(' ').map(str::to_string).collect())
    };
    // A profile that refuses mkdir with ENOSYS (errnoRet 38) and allows
    // the rest: mkdir fails with that errno, the zone's refusals hold.
    let profile = w.dir().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
           "syscalls":[{"names":["mkdir","mkdirat","no_such_call"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]}"#,
    )
    .unwrap();
    let sec = format!("seccomp={}", profile.display());
    let o = p.run_sh(
        &["--rm", "--network", "none", "--security-opt", &sec],
        root,
        &format!("mkdir /tmp/d 2>&1; test -d /tmp/d && echo made; {probe}"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let (first, rest) = out.split_once('\n').unwrap();
    assert!(first.contains("Function not implemented"), "{out}");
    let (filters, a) = answers(rest);
    assert_eq!(filters, "2", "{out}");
    assert_eq!(a[0], "-1/38", "keyctl: {out}");
    assert_eq!(a[1], "-1/1", "bpf: {out}");
    assert!(
        a[2].parse::<String>()
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 0,
        "sysfs: {out}"
    );
    // `podman exec` enters with the same profile on top.
    let id = p
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--security-opt",
            &sec,
            "--annotation",
            "zones.brand=sparse",
            "--rootfs",
            root,
            "/bin/sleep",
            "100",
        ])
        .trim()
        .to_string();
    let o = p.run(&[
        "exec",
        &id,
        "/bin/sh",
        "-c",
        "mkdir /tmp/e 2>&1; grep Seccomp_filters /proc/self/status",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let _ = p.run(&["rm", "-f", "-t", "0", &id]);
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l.len(), 2, "{}", text(&o));
    assert!(l[0].contains("Function not implemented"), "{out}");
    assert_eq!(l[1].split_whitespace().nth(1), Some("2"), "{out}");
    // Podman's default profile: the program runs, the profile refuses
    // what it refuses (sysfs), the zone what the zone refuses.
    let o = p.run_sh(
        &["--rm", "--network", "none"],
        root,
        &format!("echo ok; {probe}"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let rest = out.strip_prefix("ok\n").unwrap_or_else(|| panic!("{out}"));
    let (filters, a) = answers(rest);
    assert_eq!(filters, "2", "{out}");
    assert_eq!(a, ["-1/38", "-1/1", "-1/1"], "{out}");
    // unconfined: the zone's filter alone.
    let o = p.run_sh(
        &[
            "--rm",
            "--network",
            "none",
            "--security-opt",
            "seccomp=unconfined",
        ],
        root,
        &probe,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let (filters, a) = answers(&out);
    assert_eq!(filters, "1", "{out}");
    assert_eq!(&a[..2], ["-1/38", "-1/1"], "{out}");
    assert!(!a[2].starts_with('-'), "sysfs: {out}");
    // A profile that cannot be compiled is refused at create, naming the
    // field, with runc's exit code; nothing is left.
    let bundle = w.dir().join("bundle-scmp");
    std::fs::create_dir_all(bundle.join("rootfs")).unwrap();
    std::fs::write(
        bundle.join("config.json"),
        r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},
        "annotations":{"zones.brand":"sparse"},
        "process":{"args":["/bin/true"],"cwd":"/","user":{"uid":0,"gid":0}},
        "linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW",
          "syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},
                      {"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}}}"#,
    )
    .unwrap();
    create_refused(
        &w,
        &bundle,
        "scmp-bad",
        "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY",
    );
    assert!(!w.oci_root.join("scmp-bad").exists());
    assert!(w.zones().is_empty(), "zones left: {:?}", w.zones());
    // --rm removed every container's state, seccomp.json included.
    let left: Vec<_> = std::fs::read_dir(&w.oci_root)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "OCI state left: {left:?}");
}

#[test]
fn single_file_binds_land_on_files_and_a_link_there_is_refused() {
    require("podman");
    let w = World::new("oci-file");
    let p = Podman { w: &w };
    let rootfs = w.sparse_rootfs("rootfs");
    let root = rootfs.to_str().unwrap();
    // Podman's generated files: /etc/hosts (with --add-host), /etc/hostname,
    // /run/.containerenv, made in the empty rootfs where missing.
    let o = p.run_sh(
        &[
            "--rm",
            "--network",
            "none",
            "--hostname",
            "filezone",
            "--add-host",
            "db.example:10.1.2.3",
        ],
        root,
        "cat /etc/hosts; echo ---; echo \"$(cat /etc/hostname)\"; test -f /run/.containerenv && echo containerenv",
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let (hosts, rest) = out.split_once("---\n").unwrap_or_else(|| panic!("{out}"));
    assert!(
        hosts
            .lines()
            .any(|l| l.split_whitespace().eq(["10.1.2.3", "db.example"])),
        "{out}"
    );
    assert_eq!(rest, "filezone\ncontainerenv\n", "{out}");
    // The mount points were made as empty files; nothing of Podman's was
    // written into the rootfs itself.
    assert_eq!(std::fs::read(rootfs.join("etc/hosts")).unwrap(), b"");
    // -v FILE:FILE:ro reads and cannot write; rw writes through.
    let src = w.dir().join("x");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("file"), "from host\n").unwrap();
    std::fs::write(src.join("rw"), "").unwrap();
    let ro = format!("{}:/data/file:ro", src.join("file").display());
    let rw = format!("{}:/data/rw", src.join("rw").display());
    let o = p.run_sh(
        &["--rm", "--network", "none", "-v", &ro, "-v", &rw],
        root,
        "cat /data/file; (echo x > /data/file) 2>/dev/null && echo wrote || echo refused; echo y > /data/rw",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "from host\nrefused\n");
    assert_eq!(
        std::fs::read_to_string(src.join("file")).unwrap(),
        "from host\n"
    );
    assert_eq!(std::fs::read_to_string(src.join("rw")).unwrap(), "y\n");
    // Escape: the zone's root holds a link at the target to a host file.
    // The bind is refused (it would otherwise land on the host's file in
    // the zone's namespace), the container does not start, the host file
    // is untouched and nothing is mounted over it.
    let victim = w.dir().join("victim");
    std::fs::write(&victim, "host secret\n").unwrap();
    std::fs::create_dir_all(rootfs.join("data")).unwrap();
    std::os::unix::fs::symlink(&victim, rootfs.join("data/evil")).unwrap();
    let evil = format!("{}:/data/evil", src.join("file").display());
    let o = p.run_sh(
        &["--rm", "--network", "none", "-v", &evil],
        root,
        "cat /data/evil",
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("is a symbolic link"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "host secret\n");
    // A link on the way (`/lnk -> <host dir>`) is resolved inside the
    // root, as the zone sees it: the file is made under the rootfs's copy
    // of that path, never beside the victim.
    std::os::unix::fs::symlink(w.dir(), rootfs.join("lnk")).unwrap();
    let inside = rootfs.join(w.dir().strip_prefix("/").unwrap());
    std::fs::create_dir_all(&inside).unwrap();
    let via = format!("{}:/lnk/victim", src.join("file").display());
    let o = p.run_sh(
        &["--rm", "--network", "none", "-v", &via],
        root,
        "cat /lnk/victim",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "from host\n");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "host secret\n");
    let inside = rootfs
        .join(w.dir().strip_prefix("/").unwrap())
        .join("victim");
    assert!(inside.is_file(), "{} not made", inside.display());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(victim.to_str().unwrap()), "{mounts}");
    assert!(w.zones().is_empty(), "zones left: {:?}", w.zones());
}

/// `seccomp.profile` on a zone of its own (no zones-oci): zsched loads the
/// profile on top of the zone's filter before init, the entering process
/// before the command; a zone whose profile file is missing is not made
/// ready.
#[test]
fn the_seccomp_profile_parameter_stacks_on_init_and_entered_processes() {
    use zones_linux::runtime::linux::seccomp;
    let mut z = zones_e2e::TestZone::sparse("oci-scmp-param");
    let profile = z.tmp.path().join("profile.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
    )
    .unwrap();
    z.set(
        "seccomp.profile",
        zones::param::Value::Str(profile.display().to_string()),
    )
    .set("initname", zones::param::Value::Str("/bin/sleep".into()))
    .set("bootargs", zones::param::Value::Str("1000".into()));
    z.ready().expect("ready");
    z.boot().expect("boot");
    let init = z.handle().init_pid;
    assert_eq!(seccomp::status(init).expect("init's status"), (2, 2));
    let o = z.sh(&format!(
        "mkdir /tmp/x 2>&1; grep Seccomp_filters /proc/self/status; {}",
        syscalls_py(&[(250, &[0, 0, 0, 0, 0])])
    ));
    let l: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(l.len(), 3, "{o:?}");
    assert!(l[0].contains("Permission denied"), "{o:?}");
    assert_eq!(l[1].split_whitespace().nth(1), Some("2"), "{o:?}");
    assert_eq!(l[2], "-1/38", "keyctl keeps the zone's answer: {o:?}");
    // The profile is read at each entry: gone, the entry fails (never an
    // entry without it), naming the file.
    std::fs::remove_file(&profile).unwrap();
    let o = z.sh("echo entered");
    assert_ne!(o.status, 0, "{o:?}");
    assert!(!o.stdout.contains("entered"), "{o:?}");
    assert!(o.stderr.contains(&profile.display().to_string()), "{o:?}");
    z.halt();
    // A zone whose profile is missing is not made ready, naming the file.
    let mut z = zones_e2e::TestZone::sparse("oci-scmp-miss");
    z.set(
        "seccomp.profile",
        zones::param::Value::Str(profile.display().to_string()),
    );
    let e = z.ready().expect_err("ready without the profile file");
    assert!(e.message.contains(&profile.display().to_string()), "{e:?}");
}

/// A zone's own `mount` line with a file source (no zones-oci): bound onto
/// a file made in the root, read-only as asked — in a zone on the host's
/// ids, and in a zone of its own user namespace (`allow.mount`: the line
/// is an idmapped mount there, onto a file that exists).
#[test]
fn a_file_mount_line_binds_onto_a_file_with_or_without_a_user_namespace() {
    use zones::param::Value;
    for own_userns in [false, true] {
        let mut z = zones_e2e::TestZone::sparse("oci-fileline");
        let src = z.tmp.path().join("src-file");
        std::fs::write(&src, "from the host\n").unwrap();
        let line = format!(
            "{} {}/srv/conf/app.conf nullfs ro 0 0",
            src.display(),
            z.spec.root.display()
        );
        z.set("mount", Value::List(vec![line]))
            .set("initname", Value::Str("/bin/sleep".into()))
            .set("bootargs", Value::Str("1000".into()));
        if own_userns {
            // The root is an idmapped mount by then, on which host root
            // cannot make files: the mount point must exist, as for a
            // directory's line.
            z.set("allow.mount", Value::Bool(true));
            std::fs::create_dir_all(z.spec.root.join("srv/conf")).unwrap();
            std::fs::write(z.spec.root.join("srv/conf/app.conf"), "").unwrap();
        }
        z.ready().expect("ready");
        z.boot().expect("boot");
        let o = z.sh(
            "cat /srv/conf/app.conf; (echo y > /srv/conf/app.conf) 2>/dev/null && echo wrote || echo refused",
        );
        assert_eq!(
            o.stdout, "from the host\nrefused\n",
            "userns {own_userns}: {o:?}"
        );
        assert_eq!(std::fs::read_to_string(&src).unwrap(), "from the host\n");
        assert!(z.spec.root.join("srv/conf/app.conf").is_file());
        z.halt();
    }
}

/// Escape: a zone's root holds a link where a file `mount` line goes,
/// pointing at a host file. Ready is refused naming the link; the host
/// file keeps its content and nothing is mounted over it.
#[test]
fn a_file_mount_line_onto_a_planted_link_to_a_host_file_is_refused() {
    use zones::param::Value;
    let mut z = zones_e2e::TestZone::sparse("oci-filelink");
    let src = z.tmp.path().join("src-file");
    std::fs::write(&src, "bound\n").unwrap();
    let victim = z.tmp.path().join("host-victim");
    std::fs::write(&victim, "host file\n").unwrap();
    std::fs::create_dir_all(z.spec.root.join("etc")).unwrap();
    let planted = z.spec.root.join("etc/planted");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let line = format!("{} {} nullfs 0 0", src.display(), planted.display());
    z.set("mount", Value::List(vec![line]))
        .set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    let e = z.ready().expect_err("ready onto a planted link");
    assert!(
        e.message.contains("is a symbolic link") && e.message.contains("etc/planted"),
        "{e:?}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "host file\n");
    assert!(
        std::fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(victim.to_str().unwrap()), "{mounts}");
}
