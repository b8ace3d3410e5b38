//! # The list of zones as `zoneadm list` reads it
//!
//! `zoneadm list` shows, of each kernel zone, its id, name, state, path,
//! brand, uuid and IP type — nothing of the counters, processes,
//! privileges or reference counts a snapshot carries. At a thousand zones
//! the full snapshot is a megabyte of JSON, and even the snapshot without
//! those (the older [`super::Request::ListSnapshot`]) is some 740 bytes a
//! zone, most of it the zone's parameters and counters left at zero; each
//! byte is encoded by zoned and decoded by the tool on every list.
//!
//! [`Listing`] is what the list needs and nothing else: one [`ListRow`] a
//! zone, each encoded as a JSON array rather than an object (no field
//! names repeated a thousand times): `[7,"web","running","/zones/web",
//! "sparse",null,"shared"]`, some 60 bytes. The uuid is sent only when the
//! zone sets `host.hostuuid`; otherwise the tool derives it from the
//! host's machine id and the name, as it does for a configured zone, so
//! the two agree. The IP column is computed where the parameters are
//! ([`NetMode::of`]), so the parameters need not travel.
//!
//! The engine builds a listing from a snapshot at most once per snapshot
//! (crate::engine's `listing`): a burst of lists between two sampler
//! ticks shares one build, and each list encodes some 60 kB at a thousand
//! zones instead of 740.

use crate::runtime::NetMode;
use crate::snapshot::{Snapshot, ZoneSnapshot};
use crate::zone::{Brand, Status, ZoneId, ZoneName};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Serialize, Serializer};
use std::path::PathBuf;

/// One kernel zone as `zoneadm list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRow {
    pub id: ZoneId,
    pub name: ZoneName,
    pub status: Status,
    pub root: PathBuf,
    pub brand: Brand,
    /// `host.hostuuid` when the zone sets it (non-empty); else none, and
    /// the reader derives the uuid from the name.
    pub hostuuid: Option<String>,
    /// The IP column ([`NetMode::ip_type`]): `shared`, `excl` or `inherit`.
    pub ip_type: &'static str,
}

/// The IP types a row may carry, as [`NetMode::ip_type`] names them.
const IP_TYPES: [NetMode; 3] = [NetMode::Own, NetMode::Vnet, NetMode::Inherit];

impl ListRow {
    /// The row of a zone in a snapshot.
    pub fn of(z: &ZoneSnapshot) -> ListRow {
        ListRow {
            id: z.id,
            name: z.name.clone(),
            status: z.status,
            root: z.root.clone(),
            brand: z.brand,
            hostuuid: z
                .params
                .str("host.hostuuid")
                .filter(|u| !u.is_empty())
                .map(str::to_string),
            ip_type: NetMode::of(&z.params).ip_type(),
        }
    }
}

/// On the wire: `[id, name, status, root, brand, hostuuid, ip_type]`.
type RowWire = (
    ZoneId,
    ZoneName,
    Status,
    PathBuf,
    Brand,
    Option<String>,
    String,
);

impl Serialize for ListRow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(7)?;
        t.serialize_element(&self.id)?;
        t.serialize_element(&self.name)?;
        t.serialize_element(&self.status)?;
        t.serialize_element(&self.root)?;
        t.serialize_element(&self.brand)?;
        t.serialize_element(&self.hostuuid)?;
        t.serialize_element(self.ip_type)?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for ListRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ListRow, D::Error> {
        ListRow::try_from(RowWire::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<RowWire> for ListRow {
    type Error = String;
    fn try_from(w: RowWire) -> Result<ListRow, String> {
        let (id, name, status, root, brand, hostuuid, ip) = w;
        let ip_type = IP_TYPES
            .iter()
            .map(|m| m.ip_type())
            .find(|t| *t == ip)
            .ok_or_else(|| format!("zone {name}: unknown ip type {ip:?}"))?;
        Ok(ListRow {
            id,
            name,
            status,
            root,
            brand,
            hostuuid,
            ip_type,
        })
    }
}

/// Every kernel zone a caller may see, ordered by id (the global zone
/// first), as of snapshot `seq`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub seq: u64,
    pub zones: Vec<ListRow>,
}

impl Listing {
    /// The listing of a snapshot's kernel zones.
    pub fn of(s: &Snapshot) -> Listing {
        Listing {
            seq: s.seq,
            zones: s.zones.iter().map(|z| ListRow::of(z)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::{Params, Value};
    use std::sync::Arc;

    fn zone(id: u32, name: &str, params: &[(&str, &str)]) -> Arc<ZoneSnapshot> {
        let mut p = Params::new();
        for (k, v) in params {
            p.0.insert(k.to_string(), Value::Str(v.to_string()));
        }
        Arc::new(ZoneSnapshot {
            id: ZoneId(id),
            name: ZoneName::new(name).unwrap(),
            uniqid: id as u64 + 100,
            status: Status::Running,
            root: format!("/zones/{name}").into(),
            brand: Brand::Sparse,
            hostname: name.to_string(),
            parent: ZoneId::GLOBAL,
            init_pid: 4242,
            zsched_pid: 4241,
            boot_time: 1_700_000_000,
            crtime: 5,
            privileges: vec!["cap_chown".into()],
            params: p,
            refs: Default::default(),
            kstat: Default::default(),
            procs: vec![4241, 4242],
        })
    }

    #[test]
    fn a_row_is_a_seven_element_array() {
        let z = zone(7, "web", &[("vnet", "new")]);
        let json = serde_json::to_string(&ListRow::of(&z)).unwrap();
        assert_eq!(
            json,
            r#"[7,"web","running","/zones/web","sparse",null,"excl"]"#
        );
        let z = zone(8, "db", &[("host.hostuuid", "u-1"), ("ip4", "inherit")]);
        let json = serde_json::to_string(&ListRow::of(&z)).unwrap();
        assert_eq!(
            json,
            r#"[8,"db","running","/zones/db","sparse","u-1","inherit"]"#
        );
    }

    #[test]
    fn rows_round_trip_and_carry_what_the_list_shows() {
        let snap = Snapshot {
            seq: 9,
            zones: vec![
                zone(1, "a", &[]),
                zone(2, "b", &[("host.hostuuid", "")]),
                zone(3, "c", &[("host.hostuuid", "x"), ("vnet", "new")]),
            ],
            ..Default::default()
        };
        let l = Listing::of(&snap);
        let back: Listing = serde_json::from_slice(&serde_json::to_vec(&l).unwrap()).unwrap();
        assert_eq!(back, l);
        assert_eq!(l.seq, 9);
        let r = &back.zones;
        assert_eq!(
            r.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        // An empty hostuuid is no hostuuid (the name-based one is shown).
        assert_eq!(r[1].hostuuid, None);
        assert_eq!(r[2].hostuuid.as_deref(), Some("x"));
        assert_eq!(
            r.iter().map(|r| r.ip_type).collect::<Vec<_>>(),
            ["shared", "shared", "excl"]
        );
    }

    #[test]
    fn a_row_is_a_tenth_of_the_zone_it_lists() {
        let mut z = (*zone(12, "z12", &[])).clone();
        for (k, v) in [
            ("path", "/zones/z12"),
            ("brand", "sparse"),
            ("initname", "/bin/sleep"),
            ("bootargs", "100000"),
            ("host.hostname", "z12"),
        ] {
            z.params.0.insert(k.into(), Value::Str(v.into()));
        }
        let full = serde_json::to_vec(&z).unwrap().len();
        let row = serde_json::to_vec(&ListRow::of(&z)).unwrap().len();
        assert!(row * 8 < full, "row {row} bytes, zone {full} bytes");
    }

    #[test]
    fn a_row_with_an_unknown_ip_type_or_length_is_refused() {
        let bad = r#"[7,"web","running","/zones/web","sparse",null,"bogus"]"#;
        let e = serde_json::from_str::<ListRow>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("web") && e.contains("bogus"), "{e}");
        let short = r#"[7,"web","running","/zones/web","sparse",null]"#;
        assert!(serde_json::from_str::<ListRow>(short).is_err());
    }
}
