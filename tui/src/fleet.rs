//! # A fleet: the zones of many hosts in one table (`ztop -H`)
//!
//! With `-H [user@]host[:SOCKET]` (repeatable, or `hosts = [...]` in
//! config.toml) ztop shows the zones of every named host in one table and
//! acts on each as on one host. Each host's zoned publishes its own
//! [`Snapshot`]s, reached through an ssh tunnel (tunnel.rs); this module
//! is the plain data those many sources are merged into, with no I/O:
//!
//! * a [`HostSpec`] is one `-H` argument, parsed, with the *label* the
//!   console shows in its HOST column (the host name; a host named twice
//!   — two zoned sockets on one machine — gets `host#2`, `host#3`…);
//! * a [`Fleet`] is what the console draws: per host its state
//!   ([`HostState`]: connecting, connected, unreachable and why) and its
//!   last snapshot. An unreachable host keeps no rows (its zones are not
//!   known now) but keeps its header line, so it does not vanish from view;
//! * [`rows`] turns a fleet into the table's rows, each tagged with its
//!   host, and [`HostLine`]s are the per-host header lines.
//!
//! A zone is named to the rest of the console as `LABEL/zone`
//! ([`crate::model::Row::key`]): neither a label nor a zone name may hold a
//! `/`, so [`split_key`] finds the host of an operation unambiguously.
//!
//! Which hosts: exactly those named. The local engine is not added by
//! `-H`; name this host too (`-H localhost`) to see its zones beside the
//! others — it is reached through ssh like every other host, so all rows
//! come the same way and act the same way.

use crate::model::{self, Row};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use zones::snapshot::Snapshot;
use zones::zone::AdminState;

/// One `-H` argument: `[user@]host[:SOCKET]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSpec {
    /// What the HOST column shows; unique among the hosts.
    pub label: String,
    pub user: Option<String>,
    pub host: String,
    /// zoned's socket on that host (default `/run/zones/zoned.sock`).
    pub socket: PathBuf,
}

impl HostSpec {
    /// Parse one argument. The socket must be absolute (a `:` followed by
    /// anything else is a mistake, not an IPv6 address: write those in
    /// brackets, `[::1]:/run/zones/zoned.sock`).
    pub fn parse(arg: &str) -> Result<HostSpec, String> {
        let bad = |why: &str| format!("ztop: -H {arg}: {why}");
        let (user, rest) = match arg.split_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
            Some(_) => return Err(bad("an empty user name before '@'")),
            None => (None, arg),
        };
        let (host, socket) = if let Some(r) = rest.strip_prefix('[') {
            let (h, after) = r
                .split_once(']')
                .ok_or_else(|| bad("'[' without its ']'"))?;
            match after.strip_prefix(':') {
                Some(s) => (h.to_string(), Some(s)),
                None if after.is_empty() => (h.to_string(), None),
                None => return Err(bad("text after ']' that is not ':SOCKET'")),
            }
        } else {
            match rest.split_once(':') {
                Some((h, s)) => (h.to_string(), Some(s)),
                None => (rest.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host name"));
        }
        if host.starts_with('-') || host.contains(['/', ' ', '\t']) {
            return Err(bad("not a host name"));
        }
        let socket = match socket {
            None => PathBuf::from(zones::api::DEFAULT_SOCKET),
            Some(s) if s.starts_with('/') => PathBuf::from(s),
            Some(s) => return Err(bad(&format!("socket {s:?}: must be an absolute path"))),
        };
        Ok(HostSpec {
            label: host.clone(),
            user,
            host,
            socket,
        })
    }

    /// Parse every argument and make the labels unique: the second
    /// `127.0.0.1` is `127.0.0.1#2`.
    pub fn parse_all<S: AsRef<str>>(args: &[S]) -> Result<Vec<HostSpec>, String> {
        let mut out: Vec<HostSpec> = Vec::new();
        for a in args {
            let mut h = HostSpec::parse(a.as_ref())?;
            let same = out.iter().filter(|o| o.host == h.host).count();
            if same > 0 {
                h.label = format!("{}#{}", h.host, same + 1);
            }
            if out
                .iter()
                .any(|o| o.host == h.host && o.user == h.user && o.socket == h.socket)
            {
                return Err(format!("ztop: -H {}: named twice", a.as_ref()));
            }
            out.push(h);
        }
        Ok(out)
    }

    /// ssh's destination: `user@host` or `host`.
    pub fn destination(&self) -> String {
        match &self.user {
            Some(u) => format!("{u}@{}", self.host),
            None => self.host.clone(),
        }
    }
}

/// Split `LABEL/zone` into its host label and zone name.
pub fn split_key(key: &str) -> Option<(&str, &str)> {
    key.rsplit_once('/')
}

/// Where a host's connection stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "lowercase")]
pub enum HostState {
    /// ssh and the first hello are under way.
    Connecting,
    Connected,
    /// ssh or zoned did not answer; why (ssh's last word, or zoned's).
    /// Retried by itself.
    Unreachable(String),
}

impl HostState {
    pub fn word(&self) -> &'static str {
        match self {
            HostState::Connecting => "connecting",
            HostState::Connected => "connected",
            HostState::Unreachable(_) => "unreachable",
        }
    }
}

/// One host as the console shows it.
#[derive(Clone, Debug)]
pub struct HostView {
    pub label: String,
    pub state: HostState,
    /// The host's last snapshot while connected; the default (empty)
    /// snapshot otherwise.
    pub snap: Arc<Snapshot>,
}

/// Every host, in the order they were named.
#[derive(Clone, Debug, Default)]
pub struct Fleet {
    /// Grows with every change of any host.
    pub seq: u64,
    pub hosts: Vec<HostView>,
}

impl Fleet {
    pub fn host(&self, label: &str) -> Option<&HostView> {
        self.hosts.iter().find(|h| h.label == label)
    }

    /// The newest wall clock among the hosts' snapshots.
    pub fn time(&self) -> f64 {
        self.hosts.iter().map(|h| h.snap.time).fold(0.0, f64::max)
    }
}

/// The table's rows of every connected host, each tagged with its host,
/// the hosts in their order (model::sort keeps them grouped).
pub fn rows(fleet: &Fleet) -> Vec<Row> {
    let mut out = Vec::new();
    for h in &fleet.hosts {
        if h.state != HostState::Connected {
            continue;
        }
        for mut r in model::rows(&h.snap) {
            r.host = Some(h.label.clone());
            out.push(r);
        }
    }
    out
}

/// A host's header line, in plain data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostLine {
    pub host: String,
    #[serde(flatten)]
    pub state: HostState,
    /// The zones by state (`2 running, 1 installed`), when connected.
    pub zones: Vec<(AdminState, usize)>,
    pub load: [f64; 3],
    pub mem_used: u64,
    pub mem_total: u64,
    /// zoned's host name, when it differs from the label.
    pub hostname: String,
}

impl HostLine {
    pub fn of(h: &HostView) -> HostLine {
        let connected = h.state == HostState::Connected;
        HostLine {
            host: h.label.clone(),
            state: h.state.clone(),
            zones: if connected {
                h.snap.count_by_state()
            } else {
                Vec::new()
            },
            load: h.snap.host.loadavg,
            mem_used: h.snap.host.mem_used,
            mem_total: h.snap.host.mem_total,
            hostname: h.snap.host.hostname.clone(),
        }
    }
}

/// Every host's header line.
pub fn host_lines(fleet: &Fleet) -> Vec<HostLine> {
    fleet.hosts.iter().map(HostLine::of).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_arguments_parse() {
        let h = HostSpec::parse("root@db1:/run/z.sock").unwrap();
        assert_eq!(h.user.as_deref(), Some("root"));
        assert_eq!(h.host, "db1");
        assert_eq!(h.socket, PathBuf::from("/run/z.sock"));
        assert_eq!(h.destination(), "root@db1");
        let h = HostSpec::parse("web2").unwrap();
        assert_eq!(h.user, None);
        assert_eq!(h.socket, PathBuf::from(zones::api::DEFAULT_SOCKET));
        let h = HostSpec::parse("[::1]:/s").unwrap();
        assert_eq!(h.host, "::1");
        assert_eq!(h.socket, PathBuf::from("/s"));
        for bad in ["", "@h", "h:rel.sock", "-oProxyCommand=x", "[::1", "a/b"] {
            assert!(HostSpec::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn one_host_named_twice_gets_numbered_labels() {
        let hs = HostSpec::parse_all(&["root@127.0.0.1:/a", "root@127.0.0.1:/b", "x"]).unwrap();
        let labels: Vec<_> = hs.iter().map(|h| h.label.as_str()).collect();
        assert_eq!(labels, ["127.0.0.1", "127.0.0.1#2", "x"]);
        assert!(HostSpec::parse_all(&["h:/a", "h:/a"]).is_err());
    }

    #[test]
    fn keys_split_at_the_last_slash() {
        assert_eq!(split_key("127.0.0.1#2/web"), Some(("127.0.0.1#2", "web")));
        assert_eq!(split_key("web"), None);
    }

    #[test]
    fn rows_are_tagged_with_their_host_and_unreachable_hosts_have_none() {
        let s = Arc::new(crate::testdata::few_zones());
        let fleet = Fleet {
            seq: 1,
            hosts: vec![
                HostView {
                    label: "a".into(),
                    state: HostState::Connected,
                    snap: s.clone(),
                },
                HostView {
                    label: "b".into(),
                    state: HostState::Unreachable("Connection refused".into()),
                    snap: s.clone(),
                },
            ],
        };
        let r = rows(&fleet);
        assert_eq!(r.len(), model::rows(&s).len());
        assert!(r.iter().all(|r| r.host.as_deref() == Some("a")));
        assert_eq!(r[0].key(), format!("a/{}", r[0].name));
        let lines = host_lines(&fleet);
        assert_eq!(lines[1].state.word(), "unreachable");
        assert!(lines[1].zones.is_empty());
    }
}
