//! `zoneadm list` formats (cli.md, illumos zoneadm(8)).
//!
//! * no flag: the names of running zones, global first;
//! * `-c`: every configured zone; `-i`: installed ones too;
//! * `-v`: `%*s %-16s %-10s %-30s %-8s %-6s` (ID width 4, `-` for a zone
//!   with no kernel zone), padded exactly as printf pads, trailing blanks too;
//! * `-p`: `zoneid:zonename:state:zonepath:uuid:brand:ip-type`, with `:`
//!   in a path written `\:`.

use crate::runtime::NetMode;
use crate::snapshot::Snapshot;
use crate::zone::{AdminState, ZoneId};
use std::fmt::Write;

/// Which zones `zoneadm list` shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListFlags {
    pub configured: bool,
    pub installed: bool,
    pub parsable: bool,
    pub verbose: bool,
}

struct Row {
    id: Option<ZoneId>,
    name: String,
    state: AdminState,
    path: String,
    uuid: String,
    brand: String,
    ip: &'static str,
}

fn rows(snap: &Snapshot, f: ListFlags) -> Vec<Row> {
    let mut rows: Vec<Row> = snap
        .zones
        .iter()
        .map(|z| Row {
            id: Some(z.id),
            name: z.name.to_string(),
            state: z.status.admin(),
            path: z.root.display().to_string(),
            uuid: z.params.str("host.hostuuid").unwrap_or("").to_string(),
            brand: if z.id.is_global() {
                "linux".to_string()
            } else {
                z.brand.to_string()
            },
            ip: NetMode::of(&z.params).ip_type(),
        })
        .filter(|r| {
            f.configured
                || f.installed
                || r.id == Some(ZoneId::GLOBAL)
                || r.state == AdminState::Running
        })
        .collect();
    if f.configured || f.installed {
        for c in &snap.configured {
            if !f.configured && c.state == AdminState::Configured {
                continue;
            }
            if rows.iter().any(|r| r.name == c.name.as_str()) {
                continue;
            }
            rows.push(Row {
                id: None,
                name: c.name.to_string(),
                state: c.state,
                path: c.root.display().to_string(),
                uuid: c.params.str("host.hostuuid").unwrap_or("").to_string(),
                brand: c.brand.to_string(),
                ip: NetMode::of(&c.params).ip_type(),
            });
        }
    }
    rows
}

/// The text `zoneadm list` prints for these flags.
pub fn list(snap: &Snapshot, f: ListFlags) -> String {
    let mut out = String::new();
    let rows = rows(snap, f);
    if f.parsable {
        for r in rows {
            let id = r.id.map_or("-".to_string(), |i| i.to_string());
            let _ = writeln!(
                out,
                "{id}:{}:{}:{}:{}:{}:{}",
                r.name,
                r.state,
                r.path.replace(':', "\\:"),
                r.uuid,
                r.brand,
                r.ip
            );
        }
    } else if f.verbose {
        let _ = writeln!(
            out,
            "{:>4} {:<16} {:<10} {:<30} {:<8} {:<6}",
            "ID", "NAME", "STATUS", "PATH", "BRAND", "IP"
        );
        for r in rows {
            let id = r.id.map_or("-".to_string(), |i| i.to_string());
            let _ = writeln!(
                out,
                "{id:>4} {:<16} {:<10} {:<30} {:<8} {:<6}",
                r.name,
                r.state.as_str(),
                r.path,
                r.brand,
                r.ip
            );
        }
    } else {
        for r in rows {
            let _ = writeln!(out, "{}", r.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::Params;
    use crate::snapshot::{ConfiguredZone, ZoneSnapshot};
    use crate::zone::{Brand, Status, ZoneName};
    use std::sync::Arc;

    fn zone(id: u32, name: &str, status: Status, root: &str, vnet: bool) -> Arc<ZoneSnapshot> {
        let b = if id == 0 {
            crate::testing::ZoneBuilder::global()
                .brand(Brand::Sparse)
                .init_pid(0)
                .hostname(name)
        } else {
            crate::testing::ZoneBuilder::new(id, name)
        };
        let b = b.status(status).root(root);
        Arc::new(if vnet { b.params(&["vnet=new"]) } else { b }.build())
    }

    fn snap() -> Snapshot {
        Snapshot {
            zones: vec![
                zone(0, "global", Status::Running, "/", false),
                zone(3, "web", Status::Running, "/zones/web", true),
                zone(4, "db", Status::Ready, "/zones/d:b", false),
            ],
            configured: vec![ConfiguredZone {
                name: ZoneName::new("cfg").unwrap(),
                root: "/zones/cfg".into(),
                brand: Brand::Whole,
                state: AdminState::Configured,
                params: Params::new(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn plain_list_names_running_zones_global_first() {
        assert_eq!(list(&snap(), ListFlags::default()), "global\nweb\n");
    }

    #[test]
    fn verbose_list_matches_the_illumos_columns() {
        let f = ListFlags {
            verbose: true,
            ..Default::default()
        };
        assert_eq!(
            list(&snap(), f),
            "  ID NAME             STATUS     PATH                           BRAND    IP    \n   0 global           running    /                              linux    shared\n   3 web              running    /zones/web                     sparse   excl  \n"
        );
    }

    #[test]
    fn parsable_list_escapes_colons_and_marks_configured_zones() {
        let f = ListFlags {
            configured: true,
            parsable: true,
            ..Default::default()
        };
        assert_eq!(
            list(&snap(), f),
            "0:global:running:/::linux:shared\n3:web:running:/zones/web::sparse:excl\n4:db:ready:/zones/d\\:b::sparse:shared\n-:cfg:configured:/zones/cfg::whole:shared\n"
        );
    }
}
