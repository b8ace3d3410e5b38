//! Zone names: ZONENAME_MAX, the charset, the hierarchy of jail names.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest zone name, in bytes (illumos ZONENAME_MAX less its NUL).
pub const ZONENAME_MAX: usize = 64;

/// Why a name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum NameError {
    #[error("zone name \"{0}\" is longer than {ZONENAME_MAX} bytes")]
    TooLong(String),
    #[error("zone name is empty")]
    Empty,
    #[error("zone name \"{0}\" is reserved")]
    Reserved(String),
    #[error(
        "zone name \"{0}\" is invalid: it must begin with a letter or digit and hold only letters, digits, '-', '_' and '.'"
    )]
    Charset(String),
}

/// A checked zone name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ZoneName(String);

impl ZoneName {
    /// The global zone's name; never accepted from a caller by [`ZoneName::new`].
    pub const GLOBAL: &'static str = "global";

    /// Check a name a caller asked for.
    pub fn new(s: &str) -> Result<ZoneName, NameError> {
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        if s.len() > ZONENAME_MAX {
            return Err(NameError::TooLong(s.to_string()));
        }
        if s == Self::GLOBAL {
            return Err(NameError::Reserved(s.to_string()));
        }
        let first_ok = s.as_bytes()[0].is_ascii_alphanumeric();
        let rest_ok = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        // An empty level (`a..b`, a trailing dot) names no jail.
        let levels_ok = s.split('.').all(|l| !l.is_empty());
        if !first_ok || !rest_ok || !levels_ok {
            return Err(NameError::Charset(s.to_string()));
        }
        Ok(ZoneName(s.to_string()))
    }

    /// The global zone's name.
    pub fn global() -> ZoneName {
        ZoneName(Self::GLOBAL.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parent's full name: `a.b` for `a.b.c`, `None` for a top-level name.
    pub fn parent(&self) -> Option<&str> {
        self.0.rsplit_once('.').map(|(p, _)| p)
    }

    /// The last level: `c` for `a.b.c`.
    pub fn leaf(&self) -> &str {
        self.0.rsplit_once('.').map_or(&self.0, |(_, l)| l)
    }

    /// The name cut to 30 bytes, as illumos names a zone's `zones` kstat.
    pub fn kstat_name(&self) -> &str {
        let mut end = self.0.len().min(30);
        while !self.0.is_char_boundary(end) {
            end -= 1;
        }
        &self.0[..end]
    }
}

impl TryFrom<String> for ZoneName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        if s == Self::GLOBAL {
            return Ok(ZoneName::global());
        }
        ZoneName::new(&s)
    }
}

impl From<ZoneName> for String {
    fn from(n: ZoneName) -> String {
        n.0
    }
}

impl fmt::Display for ZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for ZoneName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_zonename_max_bytes_and_refuses_one_more() {
        let ok = "a".repeat(ZONENAME_MAX);
        assert!(ZoneName::new(&ok).is_ok());
        let long = "a".repeat(ZONENAME_MAX + 1);
        assert_eq!(ZoneName::new(&long), Err(NameError::TooLong(long.clone())));
    }

    #[test]
    fn refuses_global_empty_and_bad_charset() {
        assert!(matches!(
            ZoneName::new("global"),
            Err(NameError::Reserved(_))
        ));
        assert_eq!(ZoneName::new(""), Err(NameError::Empty));
        for bad in ["-web", ".web", "we b", "web/x", "web.", "a..b", "wéb", "_x"] {
            assert!(
                matches!(ZoneName::new(bad), Err(NameError::Charset(_))),
                "{bad}"
            );
        }
        for good in ["web", "9", "w-e_b.x", "a.b.c", "Web2"] {
            assert!(ZoneName::new(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn hierarchy_of_dotted_names() {
        let n = ZoneName::new("a.b.c").unwrap();
        assert_eq!(n.parent(), Some("a.b"));
        assert_eq!(n.leaf(), "c");
        assert_eq!(ZoneName::new("a").unwrap().parent(), None);
    }

    #[test]
    fn kstat_name_is_cut_to_30_bytes() {
        let n = ZoneName::new(&"x".repeat(40)).unwrap();
        assert_eq!(n.kstat_name().len(), 30);
    }
}
