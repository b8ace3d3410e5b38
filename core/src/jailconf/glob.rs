//! A small glob(3) for `.include`: `*`, `?`, `[...]` (with `!`/`^` and
//! ranges) and `\` escapes, matched one path component at a time. A
//! wildcard does not match a leading `.` unless the pattern has one.
//! Matches come back sorted, as glob(3) sorts them. A pattern without
//! wildcards names one file, which must exist; a pattern with wildcards
//! may match nothing (an empty `/etc/jail.conf.d` is no error).

use std::io;
use std::path::{Component, Path, PathBuf};

fn has_meta(s: &[u8]) -> bool {
    s.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// fnmatch(3) of one component.
pub(crate) fn fnmatch(pat: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pat.first() != Some(&b'.') {
        return false;
    }
    let (mut p, mut n) = (0usize, 0usize);
    // Where to resume after the last `*`: (pattern index, name index).
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pat.get(p) {
            Some(b'*') => {
                star = Some((p + 1, n));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => match class(&pat[p..], name[n]) {
                Some((true, len)) => Some(p + len),
                Some((false, _)) => None,
                // An unclosed `[` is a literal.
                None => (name[n] == b'[').then_some(p + 1),
            },
            Some(b'\\') if p + 1 < pat.len() => (pat[p + 1] == name[n]).then_some(p + 2),
            Some(&c) => (c == name[n]).then_some(p + 1),
            None => None,
        };
        match step {
            Some(np) => {
                p = np;
                n += 1;
            }
            None => match star {
                Some((sp, sn)) => {
                    p = sp;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&b| b == b'*')
}

/// Match `c` against the bracket expression at the start of `pat`:
/// (matched, length of the expression), or None if it is not closed.
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pat.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *pat.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if pat.get(i + 1) == Some(&b'-') && pat.get(i + 2).is_some_and(|&h| h != b']') {
            let hi = pat[i + 2];
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
}

/// Expand a pattern into the regular files that exist (a plain name
/// that is not a regular file is an error: a FIFO or a device would
/// block the parse).
pub(crate) fn glob(pattern: &Path) -> io::Result<Vec<PathBuf>> {
    use std::os::unix::ffi::OsStrExt;
    if !has_meta(pattern.as_os_str().as_bytes()) {
        if !std::fs::metadata(pattern)?.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        return Ok(vec![pattern.to_path_buf()]);
    }
    let mut current: Vec<PathBuf> = vec![PathBuf::new()];
    for comp in pattern.components() {
        match comp {
            Component::Normal(part) if has_meta(part.as_bytes()) => {
                let mut next = Vec::new();
                for dir in &current {
                    let read_from = if dir.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        dir.as_path()
                    };
                    let Ok(rd) = std::fs::read_dir(read_from) else {
                        continue;
                    };
                    let mut names: Vec<_> = rd
                        .filter_map(Result::ok)
                        .map(|e| e.file_name())
                        .filter(|n| fnmatch(part.as_bytes(), n.as_bytes()))
                        .collect();
                    names.sort();
                    next.extend(names.into_iter().map(|n| dir.join(n)));
                }
                current = next;
            }
            other => {
                for dir in &mut current {
                    dir.push(other.as_os_str());
                }
            }
        }
    }
    current.retain(|p| p.is_file());
    Ok(current)
}

/// Match a path against a pattern component by component (for sources
/// that are not the file system).
pub(crate) fn path_match(pattern: &Path, path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let pc: Vec<_> = pattern.components().collect();
    let qc: Vec<_> = path.components().collect();
    pc.len() == qc.len()
        && pc.iter().zip(&qc).all(|(p, q)| match (p, q) {
            (Component::Normal(p), Component::Normal(q)) => fnmatch(p.as_bytes(), q.as_bytes()),
            (p, q) => p == q,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_handles_stars_classes_and_dots() {
        assert!(fnmatch(b"*.conf", b"www.conf"));
        assert!(!fnmatch(b"*.conf", b"www.conf~"));
        assert!(!fnmatch(b"*.conf", b".hidden.conf"));
        assert!(fnmatch(b"jail[.]conf", b"jail.conf"));
        assert!(fnmatch(b"a?c", b"abc"));
        assert!(fnmatch(b"[!x]b*", b"abzzz"));
        assert!(!fnmatch(b"[a-c]", b"d"));
        assert!(fnmatch(b"*a*b", b"xaxxab"));
        assert!(fnmatch(b"[", b"["));
    }

    #[test]
    fn glob_lists_matches_sorted_and_tolerates_none() {
        let d = tempfile::tempdir().unwrap();
        for n in ["b.conf", "a.conf", "c.txt"] {
            std::fs::write(d.path().join(n), "").unwrap();
        }
        let got = glob(&d.path().join("*.conf")).unwrap();
        assert_eq!(got, vec![d.path().join("a.conf"), d.path().join("b.conf")]);
        assert!(glob(&d.path().join("*.none")).unwrap().is_empty());
        assert!(glob(&d.path().join("missing.conf")).is_err());
    }
}
