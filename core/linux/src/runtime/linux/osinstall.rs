//! # Installing an OS into a whole zone
//!
//! illumos' `zoneadm install` puts an operating system into the zone;
//! FreeBSD's `bsdinstall jail` does the same for a jail. Here a `whole`
//! zone whose root holds no OS gets a Debian: [`install`] builds it with
//! mmdebstrap (Debian's own tool) from the host's apt sources and release
//! (/etc/apt/sources.list{,.d}, /etc/os-release), or takes it from
//! elsewhere, as illumos' install options do:
//!
//! * `-a ARCHIVE`: unpack a tarball (of a root) the administrator gives;
//! * `-d DIR`: copy a tree (by descriptors, links never followed:
//!   [`inroot::copy_tree`]);
//! * `-r SUITE`: another Debian release than the host's;
//! * `-e PKG[,PKG...]`: extra packages.
//!
//! ## The cache
//!
//! The first build of a suite for an architecture and a set of extra
//! packages keeps its tarball under the cache directory
//! (`STATE/cache/debian-SUITE-ARCH[+PKG...].tar.zst`; `$ZONES_INSTALL_CACHE`
//! replaces the directory). zstd, because an install reads the whole
//! archive: a third of the bytes to read from a busy disk, and
//! decompression costs less than the reads it saves. Every later install of the same suite and
//! extras only unpacks it: seconds, and no network at all. Extras are part
//! of the key, not installed afterwards with apt inside the zone: an
//! install from the cache never needs the network, and a package's
//! maintainer scripts never run inside a zone that is not booted. The
//! tarball is written beside its final name and renamed into place, so an
//! interrupted build leaves no half archive that a later install would
//! trust.
//!
//! ## Install states
//!
//! As illumos marks a zone `incomplete` while its install runs (and leaves
//! it so when the install fails or is killed), [`install`] first writes a
//! marker beside the root ([`incomplete_marker`]: outside the root, so
//! nothing in the zone can make or remove it) and removes it only when the
//! root is complete. A zone with the marker is `incomplete`:
//! `zoneadm uninstall` removes root and marker; `zoneadm install` removes
//! what the broken install left and installs again.
//!
//! mmdebstrap runs with the parent-death signal set, so killing zoneadm
//! stops the build too.

use super::inroot;
use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where an OS comes from (`zoneadm install` options).
#[derive(Debug, Default, Clone)]
pub struct Source {
    /// `-a ARCHIVE`.
    pub archive: Option<PathBuf>,
    /// `-d DIR`.
    pub dir: Option<PathBuf>,
    /// `-e PKG,...`.
    pub extras: Vec<String>,
    /// `-r SUITE` (default: the host's release).
    pub suite: Option<String>,
}

impl Source {
    /// Whether any of -a, -d, -e, -r was given (they are for whole zones).
    pub fn is_given(&self) -> bool {
        self.archive.is_some()
            || self.dir.is_some()
            || !self.extras.is_empty()
            || self.suite.is_some()
    }
}

/// The packages every Debian zone gets beyond minbase: an init that boots
/// in a container (systemd), dbus for systemctl's bus, and ps for zlogin.
pub const BASE_PACKAGES: &[&str] = &["systemd-sysv", "dbus", "procps"];

/// What a zone's root leaves out (documentation and translations, as
/// Debian's own container images do): a smaller root unpacks faster.
const SLIM: &[&str] = &[
    "/usr/share/man/*",
    "/usr/share/doc/*",
    "/usr/share/info/*",
    "/usr/share/locale/*",
    "/usr/share/lintian/*",
];

/// The marker of an incomplete install of `root`: a file beside it,
/// `.NAME.incomplete` in the root's parent directory.
pub fn incomplete_marker(root: &Path) -> PathBuf {
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into());
    root.parent()
        .unwrap_or(Path::new("/"))
        .join(format!(".{name}.incomplete"))
}

/// Whether an install of `root` began and did not finish.
pub fn is_incomplete(root: &Path) -> bool {
    fs::symlink_metadata(incomplete_marker(root)).is_ok()
}

/// The host's Debian release (VERSION_CODENAME of /etc/os-release).
pub fn host_suite() -> io::Result<String> {
    let text = fs::read_to_string("/etc/os-release")
        .map_err(|e| io::Error::new(e.kind(), format!("/etc/os-release: {e}")))?;
    suite_of_os_release(&text).ok_or_else(|| {
        io::Error::other(
            "/etc/os-release: no VERSION_CODENAME; give the release with -r SUITE".to_string(),
        )
    })
}

fn suite_of_os_release(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix("VERSION_CODENAME=")?;
        let v = v.trim().trim_matches('"');
        (!v.is_empty()).then(|| v.to_string())
    })
}

/// One apt source: a URI, its suites and components.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AptSource {
    uri: String,
    suites: Vec<String>,
    components: Vec<String>,
}

/// The `deb` sources of one-line (sources.list) and deb822 (.sources)
/// text. `deb-src` entries and options in brackets are dropped.
fn parse_sources(text: &str, deb822: bool) -> Vec<AptSource> {
    let mut out = Vec::new();
    if !deb822 {
        for l in text.lines() {
            let l = l.split('#').next().unwrap_or("").trim();
            let mut w = l.split_whitespace().peekable();
            if w.next() != Some("deb") {
                continue;
            }
            if w.peek().is_some_and(|s| s.starts_with('[')) {
                for s in w.by_ref() {
                    if s.ends_with(']') {
                        break;
                    }
                }
            }
            let (Some(uri), Some(suite)) = (w.next(), w.next()) else {
                continue;
            };
            out.push(AptSource {
                uri: uri.into(),
                suites: vec![suite.into()],
                components: w.map(String::from).collect(),
            });
        }
        return out;
    }
    for stanza in text.split("\n\n") {
        let mut types = Vec::new();
        let mut src = AptSource {
            uri: String::new(),
            suites: Vec::new(),
            components: Vec::new(),
        };
        let mut enabled = true;
        for l in stanza.lines() {
            if l.starts_with('#') {
                continue;
            }
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let words: Vec<String> = v.split_whitespace().map(String::from).collect();
            match k.trim().to_ascii_lowercase().as_str() {
                "types" => types = words,
                "uris" => src.uri = words.first().cloned().unwrap_or_default(),
                "suites" => src.suites = words,
                "components" => src.components = words,
                "enabled" => enabled = v.trim() != "no",
                _ => {}
            }
        }
        if enabled && types.iter().any(|t| t == "deb") && !src.uri.is_empty() {
            out.push(src);
        }
    }
    out
}

/// The host's apt sources.
fn host_sources() -> Vec<AptSource> {
    let mut out = Vec::new();
    if let Ok(t) = fs::read_to_string("/etc/apt/sources.list") {
        out.extend(parse_sources(&t, false));
    }
    if let Ok(rd) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for p in names {
            let deb822 = p.extension().is_some_and(|e| e == "sources");
            if !deb822 && p.extension().is_none_or(|e| e != "list") {
                continue;
            }
            if let Ok(t) = fs::read_to_string(&p) {
                out.extend(parse_sources(&t, deb822));
            }
        }
    }
    out
}

/// The mirror lines for mmdebstrap: the host's sources that serve the
/// host's release (SUITE, SUITE-updates, SUITE-security, ...), rewritten
/// for `suite`. Third-party sources (other suite names) are left out: they
/// are the host's business, not the zone's.
fn mirror_lines(sources: &[AptSource], host: &str, suite: &str) -> Vec<String> {
    let mut out = Vec::new();
    for s in sources {
        for su in &s.suites {
            let Some(rest) = su.strip_prefix(host) else {
                continue;
            };
            if !(rest.is_empty() || rest.starts_with('-') || rest.starts_with('/')) {
                continue;
            }
            let comps = if s.components.is_empty() {
                "main".to_string()
            } else {
                s.components.join(" ")
            };
            let line = format!("deb {} {suite}{rest} {comps}", s.uri);
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

/// The architecture of dpkg (`amd64`), or of the machine.
fn arch() -> String {
    Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| match std::env::consts::ARCH {
            "x86_64" => "amd64".into(),
            "aarch64" => "arm64".into(),
            a => a.into(),
        })
}

/// The cached tarball of `suite` with `extras` under `cache`.
pub fn cache_path(cache: &Path, suite: &str, extras: &[String]) -> PathBuf {
    let mut e: Vec<&str> = extras.iter().map(String::as_str).collect();
    e.sort();
    e.dedup();
    let mut name = format!("debian-{suite}-{}", arch());
    for p in e {
        name.push('+');
        name.push_str(p);
    }
    name.push_str(".tar.zst");
    cache.join(name)
}

fn valid_word(what: &str, s: &str) -> io::Result<()> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.:_~".contains(c))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} '{s}': not a Debian name"),
        ));
    }
    Ok(())
}

/// A command that stops when its parent (zoneadm) dies.
fn with_pdeathsig(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Build (once) the cached tarball of `suite` + `extras`; its path.
pub fn cached_base(
    cache: &Path,
    suite: &str,
    extras: &[String],
    progress: bool,
) -> io::Result<PathBuf> {
    valid_word("release", suite)?;
    for p in extras {
        valid_word("package", p)?;
    }
    let tar = cache_path(cache, suite, extras);
    if tar.is_file() {
        return Ok(tar);
    }
    fs::create_dir_all(cache)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", cache.display())))?;
    let host = host_suite()?;
    let mirrors = mirror_lines(&host_sources(), &host, suite);
    if mirrors.is_empty() {
        return Err(io::Error::other(format!(
            "no apt source of the host serves '{host}' (/etc/apt/sources.list, sources.list.d)"
        )));
    }
    // mmdebstrap compresses by the name's extension: keep `.tar.zst` last.
    let stem = tar
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".tar.zst"))
        .unwrap_or("debian");
    let tmp = cache.join(format!("{stem}.{}.part.tar.zst", std::process::id()));
    let mut include: Vec<String> = BASE_PACKAGES.iter().map(|s| s.to_string()).collect();
    include.extend(extras.iter().cloned());
    let mut cmd = Command::new("mmdebstrap");
    cmd.arg("--variant=minbase")
        .args(SLIM.iter().map(|p| format!("--dpkgopt=path-exclude={p}")))
        .arg("--dpkgopt=path-include=/usr/share/doc/*/copyright")
        .arg(format!("--include={}", include.join(",")))
        .arg("--format=tar")
        .arg(if progress { "--verbose" } else { "--quiet" })
        .arg(suite)
        .arg(&tmp)
        .args(&mirrors)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if progress {
        eprintln!(
            "Building a Debian '{suite}' root with mmdebstrap (once; kept in {})",
            tar.display()
        );
    }
    let st = with_pdeathsig(&mut cmd).status().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("mmdebstrap: {e} (install Debian's mmdebstrap package)"),
        )
    })?;
    if !st.success() {
        let _ = fs::remove_file(&tmp);
        return Err(io::Error::other(format!(
            "mmdebstrap {suite} failed ({st})"
        )));
    }
    fs::rename(&tmp, &tar)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", tar.display())))?;
    Ok(tar)
}

/// Unpack `archive` into the (empty, private) root.
fn unpack(archive: &Path, root: &Path, progress: bool) -> io::Result<()> {
    if progress {
        eprintln!("Unpacking {} into {}", archive.display(), root.display());
    }
    let mut cmd = Command::new("tar");
    cmd.arg("--numeric-owner")
        .arg("--same-permissions")
        .arg("--xattrs")
        .arg("--xattrs-include=*")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(root)
        .stdin(Stdio::null());
    let st = with_pdeathsig(&mut cmd)
        .status()
        .map_err(|e| io::Error::new(e.kind(), format!("tar: {e}")))?;
    if !st.success() {
        return Err(io::Error::other(format!(
            "tar -xf {}: {st}",
            archive.display()
        )));
    }
    Ok(())
}

/// Install an OS into the whole zone `name` at `root` from `src`, using
/// (and filling) the tarball cache `cache`. The root must be missing or
/// empty, or be what an incomplete install left (removed first). On
/// failure the zone stays incomplete (module comment).
pub fn install(
    name: &str,
    root: &Path,
    src: &Source,
    cache: &Path,
    progress: bool,
) -> io::Result<()> {
    let marker = incomplete_marker(root);
    if is_incomplete(root) && root.exists() {
        if progress {
            eprintln!(
                "Removing what an incomplete install left in {}",
                root.display()
            );
        }
        super::install::uninstall(root)?;
    }
    let r = inroot::prepare(name, root).map_err(io::Error::other)?;
    if fs::read_dir(root)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", root.display())))?
        .next()
        .is_some()
    {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{}: is already populated", root.display()),
        ));
    }
    fs::write(&marker, format!("{name}\n"))
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", marker.display())))?;
    if let Some(dir) = &src.dir {
        if progress {
            eprintln!("Copying {} into {}", dir.display(), root.display());
        }
        let from = inroot::open_root(dir)?;
        inroot::copy_tree(&from, &r)?;
    } else if let Some(a) = &src.archive {
        unpack(a, root, progress)?;
    } else {
        let suite = match &src.suite {
            Some(s) => s.clone(),
            None => host_suite()?,
        };
        let tar = cached_base(cache, &suite, &src.extras, progress)?;
        unpack(&tar, root, progress)?;
    }
    // The zone's identity: its name, and a machine id systemd makes at
    // its first boot (an empty file: "not yet initialized").
    if r.lstat(Path::new("etc"))?.is_some() {
        r.write_file(
            Path::new("etc/hostname"),
            format!("{name}\n").as_bytes(),
            0o644,
        )?;
        r.write_file(Path::new("etc/machine-id"), b"", 0o444)?;
    }
    fs::remove_file(&marker)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", marker.display())))?;
    if progress {
        eprintln!("Zone '{name}' is installed.");
    }
    Ok(())
}

/// Remove an incomplete marker (uninstall).
pub fn clear_incomplete(root: &Path) -> io::Result<()> {
    match fs::remove_file(incomplete_marker(root)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_of_both_formats_and_mirrors_of_the_host_release() {
        let one = "deb http://deb.debian.org/debian bookworm main contrib # x\n\
                   deb-src http://deb.debian.org/debian bookworm main\n\
                   deb [arch=amd64 signed-by=/k.gpg] https://example.org/apt nodistro main\n";
        let s = parse_sources(one, false);
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].uri, "https://example.org/apt");
        let d822 = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n\
                    Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n\n\
                    Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n";
        let mut all = s;
        all.extend(parse_sources(d822, true));
        let m = mirror_lines(&all, "bookworm", "trixie");
        assert_eq!(
            m,
            [
                "deb http://deb.debian.org/debian trixie main contrib",
                "deb http://deb.debian.org/debian trixie main",
                "deb http://deb.debian.org/debian trixie-updates main",
                "deb http://deb.debian.org/debian-security trixie-security main",
            ]
        );
        assert_eq!(
            suite_of_os_release("NAME=x\nVERSION_CODENAME=bookworm\n").as_deref(),
            Some("bookworm")
        );
    }

    #[test]
    fn cache_key_and_marker() {
        let p = cache_path(
            Path::new("/c"),
            "bookworm",
            &["nginx".into(), "curl".into()],
        );
        let n = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            n.starts_with("debian-bookworm-") && n.ends_with("+curl+nginx.tar.zst"),
            "{n}"
        );
        assert_eq!(
            incomplete_marker(Path::new("/zones/web/root")),
            Path::new("/zones/web/.root.incomplete")
        );
        assert!(valid_word("package", "nginx;rm").is_err());
        assert!(valid_word("package", "libc6:amd64").is_ok());
    }
}
