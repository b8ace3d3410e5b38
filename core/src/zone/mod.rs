//! # Zones: identity and status
//!
//! A zone (a jail, on the FreeBSD side) is named, numbered and moved through
//! a fixed sequence of kernel statuses. This module holds the vocabulary the
//! rest of the engine speaks; it has no state of its own.
//!
//! ## Identity
//!
//! * [`ZoneId`]: 0 is the global zone; user zones get 1..=[`ZoneId::MAX`].
//!   The registry hands out the lowest id that no live *or dying* zone holds
//!   (a dying zone's id is reused only once it is dead).
//! * [`ZoneName`]: at most [`ZONENAME_MAX`] bytes, first character
//!   alphanumeric, then alphanumerics, `-`, `_` and `.`; a dot separates the
//!   levels of a hierarchical jail (`foo.bar` is the child `bar` of `foo`);
//!   `global` is reserved.
//! * uniqid: a 64-bit number that grows with every zone the host ever made
//!   and is never reused (the registry keeps the counter; durable state
//!   carries it across engine restarts).
//!
//! ## Status
//!
//! [`Status`] is illumos' `zone_status_t` and only ever moves forward:
//!
//! ```text
//! uninitialized → initialized → ready → booting → running
//!      → shutting_down → empty → down → dying → dead
//! ```
//!
//! Steps may be skipped forward (a ready zone that is halted goes straight
//! to shutting_down) but never backwards: a reboot is a new life of the zone
//! (halt, then create and boot again, keeping the id when it is free).
//! [`AdminState`] is what `zoneadm list` shows, derived from the status.

mod name;

pub use name::{NameError, ZONENAME_MAX, ZoneName};

use serde::{Deserialize, Serialize};
use std::fmt;

/// A zone id (FreeBSD's jid). 0 is the global zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ZoneId(pub u32);

impl ZoneId {
    /// The global zone.
    pub const GLOBAL: ZoneId = ZoneId(0);
    /// The highest id a user zone may have (illumos MAX_ZONEID, FreeBSD JAIL_MAX).
    pub const MAX: u32 = 999_999;

    pub fn is_global(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for ZoneId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The kernel status of a zone, in the only order it may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Uninitialized,
    Initialized,
    Ready,
    Booting,
    Running,
    ShuttingDown,
    Empty,
    Down,
    Dying,
    Dead,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Uninitialized,
        Status::Initialized,
        Status::Ready,
        Status::Booting,
        Status::Running,
        Status::ShuttingDown,
        Status::Empty,
        Status::Down,
        Status::Dying,
        Status::Dead,
    ];

    /// The name illumos and our files use: `shutting_down`, `running`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Uninitialized => "uninitialized",
            Status::Initialized => "initialized",
            Status::Ready => "ready",
            Status::Booting => "booting",
            Status::Running => "running",
            Status::ShuttingDown => "shutting_down",
            Status::Empty => "empty",
            Status::Down => "down",
            Status::Dying => "dying",
            Status::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// May a zone in `self` move to `to`? Only forward, never to the same
    /// status, never back.
    pub fn can_move_to(self, to: Status) -> bool {
        to > self
    }

    /// Visible to lookups by name (initialized up to, not including, dying).
    pub fn is_visible(self) -> bool {
        self >= Status::Initialized && self < Status::Dying
    }

    /// Holds kernel objects that a sampler can read (ready to running).
    pub fn is_sampled(self) -> bool {
        self >= Status::Ready && self <= Status::Running
    }

    /// The administrative state `zoneadm list` shows for a kernel zone.
    pub fn admin(self) -> AdminState {
        match self {
            Status::Uninitialized | Status::Initialized => AdminState::Installed,
            Status::Ready | Status::Booting => AdminState::Ready,
            Status::Running => AdminState::Running,
            Status::ShuttingDown | Status::Empty | Status::Down => AdminState::ShuttingDown,
            Status::Dying | Status::Dead => AdminState::Down,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `zoneadm list` and `/zones/<name>/status` show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminState {
    /// A configuration exists; the root is missing or not populated.
    Configured,
    /// An install began and did not finish (illumos' `incomplete`).
    Incomplete,
    /// Configuration and root exist; no kernel zone.
    Installed,
    Ready,
    Running,
    ShuttingDown,
    Down,
}

impl AdminState {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminState::Configured => "configured",
            AdminState::Incomplete => "incomplete",
            AdminState::Installed => "installed",
            AdminState::Ready => "ready",
            AdminState::Running => "running",
            AdminState::ShuttingDown => "shutting_down",
            AdminState::Down => "down",
        }
    }
}

impl fmt::Display for AdminState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a zone's root is made (config.md "brand").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Brand {
    /// The host's /usr, /bin, /sbin, /lib, /lib64 read-only under the root and
    /// a minimal private /etc.
    Sparse,
    /// The root is used as it is (it may hold a whole OS, or nothing at all).
    #[default]
    Whole,
}

impl Brand {
    pub fn as_str(self) -> &'static str {
        match self {
            Brand::Sparse => "sparse",
            Brand::Whole => "whole",
        }
    }

    pub fn parse(s: &str) -> Option<Brand> {
        match s {
            "sparse" => Some(Brand::Sparse),
            "whole" => Some(Brand::Whole),
            _ => None,
        }
    }
}

impl fmt::Display for Brand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_moves_only_forward() {
        for (i, a) in Status::ALL.iter().enumerate() {
            for (j, b) in Status::ALL.iter().enumerate() {
                assert_eq!(a.can_move_to(*b), j > i, "{a} -> {b}");
            }
        }
    }

    #[test]
    fn admin_state_follows_lifecycle_table() {
        assert_eq!(Status::Ready.admin(), AdminState::Ready);
        assert_eq!(Status::Booting.admin(), AdminState::Ready);
        assert_eq!(Status::Running.admin(), AdminState::Running);
        assert_eq!(Status::Empty.admin(), AdminState::ShuttingDown);
        assert_eq!(Status::Down.admin(), AdminState::ShuttingDown);
        assert_eq!(Status::Dying.admin(), AdminState::Down);
        assert_eq!(Status::Dead.admin(), AdminState::Down);
    }

    #[test]
    fn status_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
