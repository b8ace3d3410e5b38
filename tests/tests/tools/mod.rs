//! Entering a zone the way an administrator does: the real `jail`,
//! `zlogin` and `jexec` binaries over an embedded engine (no daemon) with a
//! private state directory and a private relative cgroup root; a guard
//! removes every jail of the world (`jail -r '*'`) and its cgroups when
//! the test ends, also when it failed. Shared by isolation.rs and
//! limits.rs. The binaries come from target/debug (`cargo build
//! --workspace` first, as for counters.rs).

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use zones_e2e::{bin, pass_fd};
use zones_linux::runtime::linux::{cgroup, install};

pub struct World {
    pub dir: tempfile::TempDir,
    pub cgroup_root: String,
    pub name: String,
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl World {
    /// A persistent sparse jail `<tag>-<pid>` on a fresh root, made with
    /// `jail -c` and these extra parameters (`zone.max-processes=20`).
    pub fn jail(tag: &str, params: &[&str]) -> World {
        zones_e2e::require_root();
        let dir = zones_e2e::zonepath(&format!("zones-e2e-{tag}-"));
        let name = format!("{tag}-{}", std::process::id());
        let w = World {
            cgroup_root: format!(
                "zones-e2e-{tag}-{}",
                dir.path().file_name().unwrap().to_string_lossy()
            ),
            dir,
            name,
        };
        let root = w.root();
        std::fs::create_dir(&root).unwrap();
        install::sparse(&root, &w.name).expect("install sparse root");
        zones_e2e::copy_exe(bin("zprobe"), root.join("zprobe"));
        let mut args = vec![
            "-c".to_string(),
            format!("name={}", w.name),
            format!("path={}", root.display()),
            "persist".into(),
            "brand=sparse".into(),
        ];
        args.extend(params.iter().map(|p| p.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = w.run("jail", &args, &[]);
        assert_eq!(o.code, 0, "jail -c: {o:?}");
        w
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Run a tool of the world with `leak` open in it without
    /// close-on-exec (each descriptor given its own number: (fd, number)).
    pub fn run(&self, tool: &str, args: &[&str], leak: &[(RawFd, RawFd)]) -> Out {
        let mut c = Command::new(bin(tool));
        c.args(args)
            .stdin(Stdio::null())
            .env("ZONES_STATE_DIR", self.dir.path().join("state"))
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root)
            .env("ZONED_SOCKET", self.dir.path().join("no-such.sock"))
            .env("ZONES_ZSCHED", bin("zsched"))
            .env_remove("ZONES_CONFIG");
        for &(fd, at) in leak {
            pass_fd(&mut c, fd, at);
        }
        let o = c.output().unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&o.stdout).into_owned(),
            err: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// The zone's cgroup directories (one per hierarchy).
    pub fn zone_cgroups(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for d in self.cgroup_roots() {
            if let Ok(rd) = std::fs::read_dir(&d) {
                out.extend(rd.flatten().filter(|e| e.path().is_dir()).map(|e| e.path()));
            }
        }
        out
    }

    fn cgroup_roots(&self) -> Vec<PathBuf> {
        cgroup::root_dirs(Path::new(&self.cgroup_root)).expect("cgroup hierarchies")
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.run("jail", &["-q", "-r", "*"], &[]);
        let _ = cgroup::remove(&self.cgroup_roots());
    }
}

/// A descriptor on `path` opened without close-on-exec in this process
/// (closed by the guard). Directories are opened read-only, files for
/// appending.
pub struct Leak(pub RawFd);

impl Leak {
    pub fn open(path: &std::path::Path) -> Leak {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        let flags = if path.is_dir() {
            libc::O_RDONLY | libc::O_DIRECTORY
        } else {
            libc::O_WRONLY | libc::O_APPEND
        };
        // SAFETY: open of a NUL-terminated path.
        let fd = unsafe { libc::open(c.as_ptr(), flags) };
        assert!(fd >= 0, "open {}", path.display());
        Leak(fd)
    }
}

impl Drop for Leak {
    fn drop(&mut self) {
        // SAFETY: the descriptor is this guard's.
        unsafe { libc::close(self.0) };
    }
}
