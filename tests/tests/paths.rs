//! Host-side paths beneath a zone root (issue 12): root inside a zone
//! plants symbolic links to host directories, then the administrator
//! reinstalls, clones, boots with fstab lines, installs a nested zone —
//! and every time the host directory is left as it was (its files, and no
//! mount on it). A zone whose root other users can reach is refused at
//! boot, leaving nothing behind.
//!
//! The tools run as the administrator would run them (zoneadm, zlogin),
//! with the embedded engine over a private state directory, cgroup root
//! and jail.conf; the guard halts every zone and removes the cgroups.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use zones_e2e::cgroup_dirs;

/// A private host ([`zones_e2e::Host`]) for these tests, with no zoned:
/// every tool runs an embedded engine.
struct Host(zones_e2e::Host);

struct Out {
    ok: bool,
    out: String,
    err: String,
}

impl Host {
    /// `conf` is jail.conf with `@DIR@` for the host's directory; `zones`
    /// are halted (the last first) when the host is dropped.
    fn new(tag: &str, zones: &[&str], conf: &str) -> Host {
        let mut h = zones_e2e::Host::new(&format!("paths-{tag}"));
        let d = h.dir.path().display().to_string();
        h.write_conf(&conf.replace("@DIR@", &d));
        h.halt_on_drop = zones.iter().map(|z| z.to_string()).collect();
        Host(h)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.dir.path().join(rel)
    }

    fn tool(&self, tool: &str, args: &[&str]) -> Out {
        let out = self.0.run(tool, args);
        Out {
            ok: out.status.success(),
            out: String::from_utf8_lossy(&out.stdout).into(),
            err: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    fn ok(&self, tool: &str, args: &[&str]) -> String {
        let o = self.tool(tool, args);
        assert!(o.ok, "{tool} {args:?}: {}", o.err);
        o.out
    }

    /// Run a shell line as root in a zone.
    fn zsh(&self, zone: &str, line: &str) -> String {
        self.ok("zlogin", &[zone, "/bin/sh", "-c", line])
    }

    /// A host directory holding one file: what the zone aims at.
    fn host_dir(&self) -> PathBuf {
        let h = self.path("hostdir");
        std::fs::create_dir(&h).unwrap();
        std::fs::write(h.join("passwd"), "host\n").unwrap();
        h
    }
}

/// The host directory holds its one file, unchanged, and nothing is
/// mounted on it in the host's namespace.
fn untouched(h: &Path) {
    let mut names: Vec<_> = std::fs::read_dir(h)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["passwd"], "{}", h.display());
    assert_eq!(std::fs::read_to_string(h.join("passwd")).unwrap(), "host\n");
    let mounted = zones_e2e::host_mounts_under(h);
    assert!(mounted.is_empty(), "{mounted:?}");
}

impl Drop for Host {
    /// Before the shared host halts the zones: a mount an attack left on
    /// the host (only when a test failed) is detached.
    fn drop(&mut self) {
        for l in zones_e2e::host_mounts_under(self.0.dir.path()) {
            if let Some(mp) = l.split(' ').nth(4) {
                let _ = Command::new("umount").arg("-l").arg(mp).status();
            }
        }
    }
}

fn sparse_zone(name: &str, extra: &str) -> String {
    format!(
        "{name} {{\n  path = \"@DIR@/zones/{name}/root\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n{extra}}}\n"
    )
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn install_makes_the_zonepath_private_and_reinstall_writes_nothing_through_a_planted_etc() {
    let h = Host::new("ri", &["pri"], &sparse_zone("pri", ""));
    let hostdir = h.host_dir();
    h.ok("zoneadm", &["-z", "pri", "install"]);
    assert_eq!(mode(&h.path("zones")), 0o700);
    assert_eq!(mode(&h.path("zones/pri")), 0o700);
    assert_eq!(mode(&h.path("zones/pri/root")), 0o755);
    // An unprivileged host user cannot reach the root (nor a setuid file in it).
    let st = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg("/bin/ls")
        .arg(h.path("zones/pri/root/etc"))
        .output()
        .unwrap();
    assert!(!st.status.success(), "nobody listed the zone's /etc");
    h.ok("zoneadm", &["-z", "pri", "boot"]);
    h.zsh(
        "pri",
        &format!("rm -rf /etc && ln -s {} /etc", hostdir.display()),
    );
    h.ok("zoneadm", &["-z", "pri", "halt"]);
    let o = h.tool("zoneadm", &["-z", "pri", "install"]);
    assert!(!o.ok, "reinstall went through a link");
    assert!(
        o.err.contains("zone 'pri'") && o.err.contains("/etc: a symbolic link"),
        "{}",
        o.err
    );
    untouched(&hostdir);
    // A link at a file is replaced, never written through.
    std::fs::remove_file(h.path("zones/pri/root/etc")).unwrap();
    std::fs::create_dir(h.path("zones/pri/root/etc")).unwrap();
    std::os::unix::fs::symlink(hostdir.join("passwd"), h.path("zones/pri/root/etc/passwd"))
        .unwrap();
    h.ok("zoneadm", &["-z", "pri", "install"]);
    untouched(&hostdir);
    assert!(
        std::fs::symlink_metadata(h.path("zones/pri/root/etc/passwd"))
            .unwrap()
            .is_file()
    );
}

#[test]
fn clone_copies_links_as_links_and_never_writes_hostname_through_one() {
    let conf = format!(
        "{}{}{}",
        sparse_zone("pcs", ""),
        sparse_zone("pcd", ""),
        sparse_zone("pce", "")
    );
    let h = Host::new("cl", &["pcs"], &conf);
    let hostdir = h.host_dir();
    h.ok("zoneadm", &["-z", "pcs", "install"]);
    h.ok("zoneadm", &["-z", "pcs", "boot"]);
    h.zsh(
        "pcs",
        &format!(
            "ln -s {p} /srv/leak && ln -s {d} /srv/dir",
            p = hostdir.join("passwd").display(),
            d = hostdir.display()
        ),
    );
    h.ok("zoneadm", &["-z", "pcs", "halt"]);
    h.ok("zoneadm", &["-z", "pcd", "clone", "pcs"]);
    let dst = h.path("zones/pcd/root");
    assert_eq!(mode(&h.path("zones/pcd")), 0o700);
    assert_eq!(
        std::fs::read_to_string(dst.join("etc/hostname")).unwrap(),
        "pcd\n"
    );
    // The links came over as links: no host file was read in.
    assert_eq!(
        std::fs::read_link(dst.join("srv/leak")).unwrap(),
        hostdir.join("passwd")
    );
    assert_eq!(std::fs::read_link(dst.join("srv/dir")).unwrap(), hostdir);
    untouched(&hostdir);
    // The source's etc made a link to the host directory: the clone's
    // etc/hostname is not written there.
    h.ok("zoneadm", &["-z", "pcs", "boot"]);
    h.zsh(
        "pcs",
        &format!("rm -rf /etc && ln -s {} /etc", hostdir.display()),
    );
    h.ok("zoneadm", &["-z", "pcs", "halt"]);
    let o = h.tool("zoneadm", &["-z", "pce", "clone", "pcs"]);
    assert!(!o.ok, "clone wrote through a link");
    assert!(o.err.contains("symbolic link"), "{}", o.err);
    untouched(&hostdir);
}

#[test]
fn an_fstab_target_the_zone_made_a_link_never_mounts_on_the_host() {
    let fstab = "tmpfs @DIR@/zones/pfs/root/mnt/x tmpfs rw,size=1m 0 0\n";
    let h = Host::new(
        "fs",
        &["pfs"],
        &sparse_zone("pfs", "  mount.fstab = \"@DIR@/pfs.fstab\";\n"),
    );
    std::fs::write(
        h.path("pfs.fstab"),
        fstab.replace("@DIR@", &h.0.dir.path().display().to_string()),
    )
    .unwrap();
    let hostdir = h.host_dir();
    h.ok("zoneadm", &["-z", "pfs", "install"]);
    h.ok("zoneadm", &["-z", "pfs", "boot"]);
    let mi = h.zsh("pfs", "cat /proc/self/mountinfo");
    assert!(mi.contains(" /mnt/x "), "{mi}");
    // The mount point itself a link to the host directory: refused. (The
    // zone cannot unmount /mnt/x, but it can move /mnt aside.)
    h.zsh(
        "pfs",
        &format!(
            "mv /mnt /mnt.old && mkdir /mnt && ln -s {} /mnt/x",
            hostdir.display()
        ),
    );
    h.ok("zoneadm", &["-z", "pfs", "halt"]);
    let o = h.tool("zoneadm", &["-z", "pfs", "boot"]);
    assert!(!o.ok, "booted with a linked mount point");
    assert!(o.err.contains("symbolic link"), "{}", o.err);
    untouched(&hostdir);
    // A link in the middle (mnt -> the host directory's parent): followed
    // inside the root, where that path does not exist: refused.
    std::fs::remove_file(h.path("zones/pfs/root/mnt/x")).unwrap();
    std::fs::remove_dir(h.path("zones/pfs/root/mnt")).unwrap();
    std::os::unix::fs::symlink(h.0.dir.path(), h.path("zones/pfs/root/mnt")).unwrap();
    std::fs::write(
        h.path("pfs.fstab"),
        format!(
            "tmpfs {}/zones/pfs/root/mnt/hostdir tmpfs rw,size=1m 0 0\n",
            h.0.dir.path().display()
        ),
    )
    .unwrap();
    let o = h.tool("zoneadm", &["-z", "pfs", "boot"]);
    assert!(!o.ok, "booted through a link out of the root");
    untouched(&hostdir);
    // A link that stays in the zone (mnt -> /real) is followed there.
    std::fs::remove_file(h.path("zones/pfs/root/mnt")).unwrap();
    std::fs::create_dir(h.path("zones/pfs/root/real")).unwrap();
    std::os::unix::fs::symlink("/real", h.path("zones/pfs/root/mnt")).unwrap();
    h.ok("zoneadm", &["-z", "pfs", "boot"]);
    let mi = h.zsh("pfs", "cat /proc/self/mountinfo");
    assert!(mi.contains(" /real/hostdir "), "{mi}");
    assert!(!Path::new("/real").exists());
    untouched(&hostdir);
    h.ok("zoneadm", &["-z", "pfs", "halt"]);
}

#[test]
fn a_nested_zones_root_is_resolved_inside_its_parents_root() {
    let conf = "pnp {\n  path = \"@DIR@/zones/pnp/root\";\n  brand = sparse;\n  children.max = 2;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n  kid {\n    path = \"@DIR@/zones/pnp/root/kid\";\n  }\n}\n";
    let h = Host::new("np", &["pnp"], conf);
    let hostdir = h.host_dir();
    h.ok("zoneadm", &["-z", "pnp", "install"]);
    h.ok("zoneadm", &["-z", "pnp", "boot"]);
    // The parent's root user points the child's directory at the host's.
    h.zsh("pnp", &format!("ln -s {} /kid", hostdir.display()));
    let o = h.tool("zoneadm", &["-z", "pnp.kid", "install"]);
    assert!(!o.ok, "installed the child through its parent's link");
    assert!(o.err.contains("zone 'pnp.kid'"), "{}", o.err);
    untouched(&hostdir);
    let o = h.tool("zoneadm", &["-z", "pnp.kid", "uninstall", "-F"]);
    assert!(!o.ok, "uninstalled through the parent's link");
    untouched(&hostdir);
    // jail(8) installs the child itself before creating it: refused too.
    let conf = h.path("jail.conf").display().to_string();
    let o = h.tool("jail", &["-f", &conf, "-c", "pnp.kid"]);
    assert!(!o.ok, "jail(8) created the child through its parent's link");
    untouched(&hostdir);
    h.ok("zoneadm", &["-z", "pnp", "halt"]);
}

#[test]
fn a_root_other_users_can_reach_is_refused_at_boot_leaving_nothing() {
    let conf = format!(
        "{}{}",
        "pop {\n  path = \"@DIR@/open/pop/root\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n}\n",
        "pop2 {\n  path = \"@DIR@/open/pop2\";\n  brand = sparse;\n}\n"
    );
    let h = Host::new("op", &["pop"], &conf);
    // An administrator's tree open to everyone down to the root.
    let root = h.path("open/pop/root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    for p in ["", "open", "open/pop", "open/pop/root"] {
        std::fs::set_permissions(h.path(p), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let o = h.tool("zoneadm", &["-z", "pop", "boot"]);
    // Closed again before any assertion can fail.
    std::fs::set_permissions(h.0.dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(!o.ok, "booted a zone other users can reach");
    let want = format!(
        "root: {} is reachable by other users through {} (mode 0755): make a parent directory of the root 0700 (illumos: zonepath 0700 with the root beneath it)",
        root.display(),
        h.path("open/pop").display()
    );
    assert!(
        o.err.starts_with("zoneadm: zone 'pop': ") && o.err.contains(&want),
        "{}\nwant: {want}",
        o.err
    );
    // Nothing left: no zone, no cgroup, no control socket, no process.
    assert_eq!(h.ok("zoneadm", &["list"]).trim(), "global");
    let cg: Vec<_> = cgroup_dirs(&h.0.cgroup_root)
        .into_iter()
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    assert!(cg.is_empty(), "{cg:?}");
    let socks: Vec<_> = walk(&h.path("state"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sock"))
        .collect();
    assert!(socks.is_empty(), "{socks:?}");
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(r) = std::fs::read_link(p.path().join("root")) {
            assert_ne!(
                r,
                root,
                "process {:?} lives in the refused root",
                p.file_name()
            );
        }
    }
    // Once a parent directory is closed, the same zone boots.
    std::fs::set_permissions(h.path("open/pop"), std::fs::Permissions::from_mode(0o700)).unwrap();
    h.ok("zoneadm", &["-z", "pop", "boot"]);
    h.ok("zoneadm", &["-z", "pop", "halt"]);
    // install refuses to make a root there, and makes nothing.
    std::fs::set_permissions(h.0.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = h.tool("zoneadm", &["-z", "pop2", "install"]);
    std::fs::set_permissions(h.0.dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(!o.ok);
    assert!(o.err.contains("reachable by other users"), "{}", o.err);
    assert!(!h.path("open/pop2").exists());
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn jail_8s_host_side_mount_never_follows_a_link_the_zone_made() {
    let conf = "pjm {\n  path = \"@DIR@/zones/pjm/root\";\n  brand = sparse;\n  persist;\n  mount = \"tmpfs @DIR@/zones/pjm/root/mnt/x tmpfs rw,size=1m 0 0\";\n}\n";
    let h = Host::new("jm", &["pjm"], conf);
    let hostdir = h.host_dir();
    let jconf = h.path("jail.conf").display().to_string();
    h.ok("zoneadm", &["-z", "pjm", "install"]);
    std::fs::create_dir(h.path("zones/pjm/root/mnt/x")).unwrap();
    h.ok("jail", &["-f", &jconf, "-c", "pjm"]);
    h.ok("jail", &["-f", &jconf, "-r", "pjm"]);
    // What the zone's root user can do to its own tree: the mount point
    // becomes a link to a host directory.
    std::fs::remove_dir(h.path("zones/pjm/root/mnt/x")).unwrap();
    std::os::unix::fs::symlink(&hostdir, h.path("zones/pjm/root/mnt/x")).unwrap();
    let o = h.tool("jail", &["-f", &jconf, "-c", "pjm"]);
    assert!(!o.ok, "jail(8) mounted through a link");
    assert!(o.err.contains("symbolic link"), "{}", o.err);
    untouched(&hostdir);
    let _ = h.tool("jail", &["-f", &jconf, "-r", "pjm"]);
}
