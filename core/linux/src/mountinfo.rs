//! # /proc/PID/mountinfo: the one parser of the mount table
//!
//! Everything the runtime learns about mounts it reads here: the cgroup
//! hierarchies (cgroup.rs, cpuset.rs), the zonefs mounts to detach and the
//! fstab path decoder (mounts.rs), what is mounted under a zone root
//! (install.rs), the zone's VFS references (refs.rs), the mounts the host
//! made in a zone's user namespace (userns.rs), zsched's `down`
//! (zsched.rs) and the stacked mqueue check (ipc.rs).
//!
//! A line of the file (proc(5)) is
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//! (1)(2) (3)   (4)   (5)      (6)      (7)   (8) (9)    (10)         (11)
//! ```
//!
//! mount id, parent id, major:minor, root of the mount in its file system,
//! mount point, per-mount options, zero or more optional fields
//! (`shared:N`, `master:N`, `propagate_from:N`, `unbindable`) ended by a
//! lone `-`, then file system type, source and super-block options. The
//! kernel writes space, tab, newline and backslash of the path fields (and
//! of the source) as `\ooo` octal ([`unescape`]), so splitting on a space
//! is exact; an empty source shows as an empty field (two spaces).
//!
//! [`parse_line`] takes one line and gives `None` for one that does not
//! have that shape; [`parse`] takes a whole text (so that recorded tables
//! can be tested) and skips such lines; [`read`] reads a process's table.
//! The parsers hold no lock and open nothing, so zsched and a forked
//! child may call them on a text they read themselves.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// One line of /proc/PID/mountinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountInfo {
    /// Mount id (1): unique in the namespace, may be reused after umount.
    pub id: u64,
    /// The parent mount's id (2); the root of a namespace names a mount
    /// outside the table (or itself).
    pub parent: u64,
    /// `st_dev` of the file system (3).
    pub major: u32,
    pub minor: u32,
    /// The directory of the file system that is the root of this mount (4).
    pub root: PathBuf,
    /// Where it is mounted, relative to the reader's root (5).
    pub mount_point: PathBuf,
    /// Per-mount options (6), comma-separated as in the file.
    pub options: String,
    /// Optional fields (7), in order (`shared:1`, `master:2`, ...).
    pub optional: Vec<String>,
    /// File system type (9), `fuse.zonefs` style subtypes included.
    pub fstype: String,
    /// Source (10), unescaped; `none` or empty where there is none.
    pub source: String,
    /// Super-block options (11).
    pub super_options: String,
}

impl MountInfo {
    /// Is `opt` among the super-block options (a v1 cgroup's controllers
    /// are there: `rw,cpu,cpuacct`)?
    pub fn has_super_option(&self, opt: &str) -> bool {
        self.super_options.split(',').any(|o| o == opt)
    }
}

/// A path field of mountinfo or fstab, with space, tab, newline and
/// backslash written as `\ooo` (octal): the one decoder for both. A
/// backslash not followed by three octal digits stays as it is.
pub fn unescape(s: &str) -> PathBuf {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], oct) {
            (b'\\', Some(d)) => {
                // Three octal digits: at most 0o777, which wraps as the
                // kernel never writes it (it escapes bytes only).
                let v = u32::from(d[0] - b'0') * 64
                    + u32::from(d[1] - b'0') * 8
                    + u32::from(d[2] - b'0');
                out.push(v as u8);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

/// One line of mountinfo; `None` when it lacks a field or the `-`.
pub fn parse_line(line: &str) -> Option<MountInfo> {
    let mut f = line.split(' ');
    let id = f.next()?.parse().ok()?;
    let parent = f.next()?.parse().ok()?;
    let (major, minor) = f.next()?.split_once(':')?;
    let (major, minor) = (major.parse().ok()?, minor.parse().ok()?);
    let root = unescape(f.next()?);
    let mount_point = unescape(f.next()?);
    let options = f.next()?.to_string();
    let mut optional = Vec::new();
    loop {
        match f.next()? {
            "-" => break,
            o => optional.push(o.to_string()),
        }
    }
    let fstype = f.next()?.to_string();
    let source = unescape(f.next()?).to_string_lossy().into_owned();
    let super_options = f.next().unwrap_or("").to_string();
    Some(MountInfo {
        id,
        parent,
        major,
        minor,
        root,
        mount_point,
        options,
        optional,
        fstype,
        source,
        super_options,
    })
}

/// Every well-formed line of a mountinfo text, in the table's order.
pub fn parse(text: &str) -> impl Iterator<Item = MountInfo> + '_ {
    text.lines().filter_map(parse_line)
}

/// The mount table of a process (`"self"`, `"thread-self"` or a pid), as
/// `/proc/<pid>/mountinfo` says; the error names the file.
pub fn read(pid: &str) -> io::Result<Vec<MountInfo>> {
    let path = format!("/proc/{pid}/mountinfo");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    Ok(parse(&text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_line_with_optional_fields_and_escaped_spaces() {
        let l = r"36 35 98:0 /mnt\0401 /mnt/a\040b rw,noatime shared:1 master:2 - ext3 /dev/my\040disk rw,errors=continue";
        let m = parse_line(l).unwrap();
        assert_eq!((m.id, m.parent, m.major, m.minor), (36, 35, 98, 0));
        assert_eq!(m.root, Path::new("/mnt 1"));
        assert_eq!(m.mount_point, Path::new("/mnt/a b"));
        assert_eq!(m.options, "rw,noatime");
        assert_eq!(m.optional, ["shared:1", "master:2"]);
        assert_eq!(m.fstype, "ext3");
        assert_eq!(m.source, "/dev/my disk");
        assert_eq!(m.super_options, "rw,errors=continue");
    }

    #[test]
    fn a_line_without_optional_fields() {
        let l = "1573 1572 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu,cpuacct";
        let m = parse_line(l).unwrap();
        assert!(m.optional.is_empty());
        assert_eq!(m.mount_point, Path::new("/sys/fs/cgroup/cpu,cpuacct"));
        assert!(m.has_super_option("cpuacct"));
        assert!(!m.has_super_option("cpuset"));
    }

    #[test]
    fn an_empty_source_and_tab_newline_backslash() {
        let l = r"40 1 0:50 / /a\011b\012c\134d rw - tmpfs  rw,size=1k";
        let m = parse_line(l).unwrap();
        assert_eq!(m.mount_point, Path::new("/a\tb\nc\\d"));
        assert_eq!(m.source, "");
        assert_eq!(m.super_options, "rw,size=1k");
    }

    #[test]
    fn a_dash_in_a_path_is_not_the_separator() {
        // Only a lone "-" field ends the optional fields.
        let l = "41 1 0:51 / /a-b rw - tmpfs - rw";
        let m = parse_line(l).unwrap();
        assert_eq!(m.mount_point, Path::new("/a-b"));
        assert_eq!((m.fstype.as_str(), m.source.as_str()), ("tmpfs", "-"));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        assert!(parse_line("").is_none());
        assert!(parse_line("x 1 0:1 / / rw - tmpfs none rw").is_none());
        assert!(parse_line("1 1 01 / / rw - tmpfs none rw").is_none());
        assert!(parse_line("1 1 0:1 / / rw shared:1").is_none());
        let text = "junk\n22 1 0:2 / / rw - ext4 /dev/sda1 rw\n";
        assert_eq!(parse(text).count(), 1);
    }

    #[test]
    fn unescape_leaves_a_lone_backslash() {
        assert_eq!(unescape(r"a\b\04"), Path::new(r"a\b\04"));
        assert_eq!(unescape(r"\101"), Path::new("A"));
    }

    #[test]
    fn this_process_table_has_its_root() {
        let all = read("self").unwrap();
        assert!(all.iter().any(|m| m.mount_point == Path::new("/")));
        assert!(all.iter().all(|m| !m.fstype.is_empty()));
        let e = read("999999999").unwrap_err();
        assert!(e.to_string().contains("/proc/999999999/mountinfo"));
    }
}
