//! `zoneadm list` formats and zoneadm's illumos messages (cli.md,
//! illumos zoneadm(8)).
//!
//! * no flag: every kernel zone (running, ready, shutting down: what the
//!   kernel knows), global first; `-i` adds installed zones, `-c` every
//!   configured one;
//! * `-z NAME list` (or `-u UUID list`): that zone alone, whatever its
//!   state (`-c`/`-i` refused there);
//! * `-v`: `%*s %-16s %-10s %-30s %-8s %-6s` (ID width 4, `-` for a zone
//!   with no kernel zone), padded exactly as printf pads, trailing blanks too;
//! * `-p`: `zoneid:zonename:state:zonepath:uuid:brand:ip-type`, with `:`
//!   in a path written `\:`; `-p` and `-v` are mutually exclusive;
//! * `--json`: the `-p` fields as a JSON array of objects (ours: cli.md
//!   promises a JSON form of every list).
//!
//! Every zone has a uuid, as illumos gives each one at configuration:
//! `host.hostuuid` when the zone sets it, else one derived from the host's
//! machine id and the zone's name ([`zone_uuid`]), so it is the same for
//! the configured zone and its kernel zone, across boots and tools.
//!
//! **Which engine.** zoneadm talks to zoned, as illumos' zoneadm talks to
//! zoneadmd ([`open`]): when zoned's socket exists, zoned is the engine,
//! and if it refuses the connection or does not say hello in time,
//! zoneadm says so, naming the socket, and exits 1 — it never starts a
//! second engine on the state zoned owns (or owned: a socket left by a
//! killed zoned means the admin runs zoned, and restarting it is the
//! fix). Only when there is no socket at all is the engine embedded in
//! zoneadm for the one command, the documented mode without a daemon.
//!
//! Errors follow illumos' zerror: `zoneadm: zone 'NAME': message`, but an
//! unknown zone is `zoneadm: NAME: No such zone configured` ([`NO_SUCH_ZONE`]),
//! and a usage error prints illumos' `usage:` block ([`USAGE`]), exit 2.

use crate::api::Listing;
use crate::runtime::NetMode;
use crate::snapshot::{ConfiguredZone, Snapshot};
use crate::zone::{AdminState, Status, ZoneId};
use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

/// What `zoneadm list` lists: the kernel zones as the engine lists them
/// (one compact row each, [`Listing`]) and the configured zones without
/// one, from the tool's own configuration.
#[derive(Clone, Debug, Default)]
pub struct ZoneList {
    pub zones: Arc<Listing>,
    pub configured: Vec<ConfiguredZone>,
}

impl ZoneList {
    /// The list of a snapshot (its kernel zones and configured zones).
    pub fn of(snap: &Snapshot) -> ZoneList {
        ZoneList {
            zones: Arc::new(Listing::of(snap)),
            configured: snap.configured.clone(),
        }
    }

    /// The names of the kernel zones not yet dying: a configured zone of
    /// one of these names is that kernel zone, not a zone of its own.
    pub fn live_names(&self) -> std::collections::HashSet<&str> {
        self.zones
            .zones
            .iter()
            .filter(|r| r.status < Status::Dying)
            .map(|r| r.name.as_str())
            .collect()
    }
}

/// Which zones `zoneadm list` shows, and how.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListFlags {
    pub configured: bool,
    pub installed: bool,
    pub parsable: bool,
    pub verbose: bool,
    pub json: bool,
}

/// The message of a zone neither configured nor known to the kernel; the
/// tool prints it as illumos' zperror does: `zoneadm: NAME: No such zone
/// configured`.
pub const NO_SUCH_ZONE: &str = "no such zone configured";

/// illumos' usage block (what `zoneadm` prints on a usage error, after
/// the message).
pub const USAGE: &str = "\
usage:\tzoneadm help
\tzoneadm [-z <zone>] [-u <uuid-match>] list
\tzoneadm {-z <zone>|-u <uuid-match>} <subcommand>

Subcommands:

boot [-- boot_arguments]
shutdown [-r]
halt
ready
reboot
list [-cipv] [--json]
verify
install
uninstall [-F]
clone zonename
";

/// Parse zoneadm's command line with clap, but answer a usage error as
/// illumos does: `zoneadm: what was wrong`, then the `usage:` block, exit 2.
pub fn parse_args<T: clap::Parser>() -> T {
    T::try_parse().unwrap_or_else(|e| {
        if !e.use_stderr() {
            crate::tool::out::print(&e.render().to_string());
            std::process::exit(super::exit::OK)
        }
        usage_exit(&clap_message(&e))
    })
}

/// `zoneadm: MSG`, the usage block, exit 2.
pub fn usage_exit(msg: &str) -> ! {
    eprintln!("zoneadm: {msg}");
    eprint!("{USAGE}");
    std::process::exit(super::exit::USAGE)
}

/// The first line of clap's error, without its `error: ` prefix.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("");
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// An error of zoneadm about zone `name`, as illumos prints it: the
/// unknown zone as zperror does, anything else as zerror does.
pub fn error_text(name: &str, msg: &str) -> String {
    if msg == NO_SUCH_ZONE {
        format!("zoneadm: {name}: No such zone configured")
    } else {
        format!("zoneadm: zone '{name}': {msg}")
    }
}

/// A zone's uuid: `host.hostuuid` when set, else a name-based one (see
/// the module comment).
pub fn zone_uuid(name: &str, params: &crate::param::Params) -> String {
    uuid_of(name, params.str("host.hostuuid"))
}

/// The uuid of zone `name` whose `host.hostuuid` is `hostuuid`.
fn uuid_of(name: &str, hostuuid: Option<&str>) -> String {
    if let Some(u) = hostuuid.filter(|u| !u.is_empty()) {
        return u.to_string();
    }
    // Read once per process: a list of a thousand zones derives a
    // thousand uuids from the same host id.
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let host = HOST.get_or_init(|| {
        std::fs::read_to_string("/etc/machine-id")
            .unwrap_or_default()
            .trim()
            .to_string()
    });
    derived_uuid(host, name)
}

/// A UUID (version 8, RFC 9562's vendor form) from 128 bits of FNV-1a
/// over the host's id and the zone name: stable and distinct per zone.
pub fn derived_uuid(host: &str, name: &str) -> String {
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in host.bytes().chain([0]).chain(name.bytes()) {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    let mut b = h.to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{x:02x}");
    }
    out
}

/// Is `s` a uuid as `-u` takes it (8-4-4-4-12 hex digits)?
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// One line of the list, borrowed from the listing or the configuration:
/// nothing is copied, and the uuid is derived only by the formats that
/// show it (a plain list of a thousand names derives none).
struct Row<'a> {
    id: Option<ZoneId>,
    name: &'a str,
    state: AdminState,
    path: &'a Path,
    hostuuid: Option<&'a str>,
    brand: &'static str,
    ip: &'static str,
}

impl Row<'_> {
    fn uuid(&self) -> String {
        uuid_of(self.name, self.hostuuid)
    }
}

/// Every zone `l` knows: the kernel zones, then the configured ones that
/// have none.
fn all_rows(l: &ZoneList) -> Vec<Row<'_>> {
    let mut rows: Vec<Row> = Vec::with_capacity(l.zones.zones.len() + l.configured.len());
    rows.extend(l.zones.zones.iter().map(|z| Row {
        id: Some(z.id),
        name: z.name.as_str(),
        state: z.status.admin(),
        path: &z.root,
        hostuuid: z.hostuuid.as_deref(),
        brand: if z.id.is_global() {
            "linux"
        } else {
            z.brand.as_str()
        },
        ip: z.ip_type,
    }));
    if l.configured.is_empty() {
        return rows;
    }
    // Kernel zones' names, so that each configured zone is checked in
    // O(1), not against every row (a thousand zones of each kind).
    let kernel: std::collections::HashSet<&str> =
        l.zones.zones.iter().map(|z| z.name.as_str()).collect();
    for c in &l.configured {
        if kernel.contains(c.name.as_str()) {
            continue;
        }
        rows.push(Row {
            id: None,
            name: c.name.as_str(),
            state: c.state,
            path: &c.root,
            hostuuid: c.params.str("host.hostuuid"),
            brand: c.brand.as_str(),
            ip: NetMode::of(&c.params).ip_type(),
        });
    }
    rows
}

fn rows(l: &ZoneList, f: ListFlags) -> Vec<Row<'_>> {
    let mut rows = all_rows(l);
    rows.retain(|r| {
        r.id.is_some() || f.configured || (f.installed && r.state != AdminState::Configured)
    });
    rows
}

/// The name of the zone whose uuid is `uuid`, among those `l` knows.
pub fn zone_by_uuid(l: &ZoneList, uuid: &str) -> Option<String> {
    all_rows(l)
        .into_iter()
        .find(|r| r.uuid().eq_ignore_ascii_case(uuid))
        .map(|r| r.name.to_string())
}

/// The text `zoneadm list` prints for these flags.
pub fn list(l: &ZoneList, f: ListFlags) -> String {
    render(rows(l, f), f)
}

/// `zoneadm -z NAME list`: that zone whatever its state, or `None` when
/// `l` does not know it.
pub fn list_one(l: &ZoneList, name: &str, f: ListFlags) -> Option<String> {
    let mut rows = all_rows(l);
    rows.retain(|r| r.name == name);
    (!rows.is_empty()).then(|| render(rows, f))
}

fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn render(rows: Vec<Row<'_>>, f: ListFlags) -> String {
    // A line is some 100 bytes at most in the formats with every field.
    let mut out = String::with_capacity(rows.len() * if f.json || f.parsable { 128 } else { 16 });
    if f.json {
        out.push('[');
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let id = r.id.map_or("null".to_string(), |i| i.to_string());
            let _ = write!(
                out,
                "\n  {{\"zoneid\": {id}, \"zonename\": {}, \"state\": {}, \"zonepath\": {}, \"uuid\": {}, \"brand\": {}, \"ip-type\": {}}}",
                json_str(r.name),
                json_str(r.state.as_str()),
                json_str(&r.path.display().to_string()),
                json_str(&r.uuid()),
                json_str(r.brand),
                json_str(r.ip)
            );
        }
        out.push_str(if rows.is_empty() { "]\n" } else { "\n]\n" });
    } else if f.parsable {
        for r in rows {
            let id = r.id.map_or("-".to_string(), |i| i.to_string());
            let _ = writeln!(
                out,
                "{id}:{}:{}:{}:{}:{}:{}",
                r.name,
                r.state,
                r.path.display().to_string().replace(':', "\\:"),
                r.uuid(),
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
                r.path.display().to_string(),
                r.brand,
                r.ip
            );
        }
    } else {
        for r in rows {
            out.push_str(r.name);
            out.push('\n');
        }
    }
    out
}

/// The usage of `list` alone, as illumos' sub_usage prints it.
pub const LIST_USAGE: &str = "\
usage:\tlist [-cipv] [--json]
\tLists the current zones, or a specific zone if indicated.  By default,
\tevery zone the kernel knows is listed (running, ready, shutting down);
\t-i adds installed zones and -c every configured zone.  With -z <zone>
\tor -u <uuid-match>, only that zone is listed, whatever its state, and
\t-i and -c are refused.  -v shows the zone's id, state, path, brand and
\tIP type; -p the same as colon-separated fields; --json as JSON.  -v and
\t-p are mutually exclusive.
";

/// `zoneadm [-z NAME | -u UUID] list [-cipv] [--json]` over `snap` (the
/// configured zones filled in): prints the list, or the error, and gives
/// the exit status.
pub fn list_command(
    snap: &ZoneList,
    zone: &Option<String>,
    uuid: &Option<String>,
    f: ListFlags,
) -> i32 {
    let mut target = zone.clone();
    if let Some(u) = uuid {
        if !is_uuid(u) {
            eprintln!("zoneadm: illegal UUID value specified");
            return super::exit::FAILED;
        }
        target = zone_by_uuid(snap, u).or(target);
    }
    let Some(name) = target else {
        if let Some(e) = exclusive(f) {
            eprintln!("zoneadm: {e}");
            return super::exit::FAILED;
        }
        super::out::print(&list(snap, f));
        return super::exit::OK;
    };
    let Some(text) = list_one(snap, &name, f) else {
        eprintln!("{}", error_text(&name, NO_SUCH_ZONE));
        return super::exit::FAILED;
    };
    if f.configured || f.installed {
        eprint!("{LIST_USAGE}");
        return super::exit::USAGE;
    }
    if let Some(e) = exclusive(f) {
        eprintln!("{}", error_text(&name, &e));
        return super::exit::FAILED;
    }
    super::out::print(&text);
    super::exit::OK
}

/// illumos' "list -p and -v are mutually exclusive." (and ours for --json).
fn exclusive(f: ListFlags) -> Option<String> {
    let given: Vec<&str> = [(f.parsable, "-p"), (f.verbose, "-v"), (f.json, "--json")]
        .into_iter()
        .filter_map(|(on, o)| on.then_some(o))
        .collect();
    (given.len() > 1).then(|| format!("list {} are mutually exclusive.", given.join(" and ")))
}

/// The configured zone whose uuid is `uuid` (`-u`); an ill-formed uuid
/// ends zoneadm as illumos does.
pub fn resolve_uuid(cfg: &crate::jailconf::Config, uuid: &str) -> Option<String> {
    if !is_uuid(uuid) {
        super::die(
            "zoneadm",
            "illegal UUID value specified",
            super::exit::FAILED,
        );
    }
    super::configured_all(cfg)
        .into_iter()
        .find(|c| zone_uuid(c.name.as_str(), &c.params).eq_ignore_ascii_case(uuid))
        .map(|c| c.name.to_string())
}

/// Is `name` configured? `cfg` when it has the zone, else the
/// configuration read again quietly (operations that do not need it were
/// given an empty one). A file that does not parse cannot say no: the
/// zone counts as configured (zoneadm then says "not running", not "No
/// such zone configured").
pub fn is_configured(common: &super::Common, cfg: &crate::jailconf::Config, name: &str) -> bool {
    cfg.get(name).is_some()
        || common
            .load_config()
            .ok()
            .is_none_or(|c| c.get(name).is_some())
}

/// The kernel zones for `zoneadm list`, from the engine [`open`] picks.
/// Against zoned the list call goes out right behind the hello, so the
/// tool waits for the daemon once, not twice.
pub async fn listing(common: &super::Common) -> Result<Arc<Listing>, String> {
    use crate::api::{Answer, Client, Request};
    let ep = common.endpoint();
    if std::fs::symlink_metadata(&ep.socket).is_err() {
        let zones = open(common).await?;
        return zones.listing().await.map_err(|e| e.to_string());
    }
    match Client::connect_with(&ep.socket, Some(Request::ListRows)).await {
        Ok((_client, Some(first))) => match Client::answer(first).await {
            Ok(Answer::Rows { listing }) => Ok(listing),
            Ok(a) => Err(format!("unexpected answer from zoned: {a:?}")),
            Err(e) => Err(e.to_string()),
        },
        Ok((_, None)) => Err("no answer from zoned".to_string()),
        Err(e) => Err(not_answering(&ep, &e)),
    }
}

/// zoned did not answer on its socket: say so, and that no second engine
/// is started.
fn not_answering(ep: &crate::api::Endpoint, e: &dyn std::fmt::Display) -> String {
    format!(
        "zoned does not answer on {}: {e}; no second engine is started \
         on its state directory {} (start zoned, or remove the socket \
         if no zoned is to run)",
        ep.socket.display(),
        ep.state_dir.display()
    )
}

/// The engine zoneadm acts through (see "Which engine" above): zoned when
/// its socket exists — an error naming the socket when zoned does not
/// answer there — else an engine of zoneadm's own.
pub async fn open(common: &super::Common) -> Result<crate::api::Zones, String> {
    use crate::api::{Client, Zones, start_engine};
    let ep = common.endpoint();
    match std::fs::symlink_metadata(&ep.socket) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => start_engine(&ep, "embedded")
            .await
            .map(Zones::Embedded)
            .map_err(|e| e.to_string()),
        Err(e) => Err(format!("{}: {e}", ep.socket.display())),
        Ok(_) => match Client::connect(&ep.socket).await {
            Ok(c) => Ok(Zones::Daemon(std::sync::Arc::new(c))),
            Err(e) => Err(not_answering(&ep, &e)),
        },
    }
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
        let uuid = format!("host.hostuuid=00000000-0000-0000-0000-00000000000{id}");
        let mut words = vec![uuid.as_str()];
        if vnet {
            words.push("vnet=new");
        }
        Arc::new(b.status(status).root(root).params(&words).build())
    }

    fn snap() -> ZoneList {
        ZoneList::of(&Snapshot {
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
        })
    }

    #[test]
    fn plain_list_names_every_kernel_zone_global_first() {
        // db is ready, not running: illumos lists every kernel zone.
        assert_eq!(list(&snap(), ListFlags::default()), "global\nweb\ndb\n");
        let f = ListFlags {
            installed: true,
            ..Default::default()
        };
        assert_eq!(list(&snap(), f), "global\nweb\ndb\n");
        let f = ListFlags {
            configured: true,
            ..Default::default()
        };
        assert_eq!(list(&snap(), f), "global\nweb\ndb\ncfg\n");
    }

    #[test]
    fn one_zone_whatever_its_state() {
        let f = ListFlags {
            parsable: true,
            ..Default::default()
        };
        assert_eq!(
            list_one(&snap(), "web", ListFlags::default()).unwrap(),
            "web\n"
        );
        let cfg = list_one(&snap(), "cfg", f).unwrap();
        assert!(cfg.starts_with("-:cfg:configured:/zones/cfg:"), "{cfg}");
        assert_eq!(list_one(&snap(), "nope", f), None);
        assert_eq!(
            zone_by_uuid(&snap(), "00000000-0000-0000-0000-000000000003").as_deref(),
            Some("web")
        );
    }

    #[test]
    fn every_zone_has_a_uuid() {
        let a = derived_uuid("3d1219c7c4c5404aaa1f6d2a48adfda4", "web");
        assert_eq!(a, derived_uuid("3d1219c7c4c5404aaa1f6d2a48adfda4", "web"));
        assert_ne!(a, derived_uuid("3d1219c7c4c5404aaa1f6d2a48adfda4", "db"));
        assert_ne!(a, derived_uuid("another-host", "web"));
        assert!(is_uuid(&a), "{a}");
        assert_eq!(&a[14..15], "8", "version 8: {a}");
        assert!("89ab".contains(&a[19..20]), "variant: {a}");
        assert!(is_uuid(&zone_uuid("cfg", &Params::new())));
        assert!(!is_uuid("xyz") && !is_uuid("0000000-0000-0000-0000-000000000000"));
    }

    #[test]
    fn json_list_has_the_parsable_fields() {
        let f = ListFlags {
            configured: true,
            json: true,
            ..Default::default()
        };
        let text = list(&snap(), f);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 4);
        assert_eq!(v[1]["zonename"], "web");
        assert_eq!(v[1]["zoneid"], 3);
        assert_eq!(v[3]["zoneid"], serde_json::Value::Null);
        assert_eq!(v[2]["zonepath"], "/zones/d:b");
        assert!(
            text.starts_with(
                "[\n  {\"zoneid\": 0, \"zonename\": \"global\", \"state\": \"running\""
            ),
            "{text}"
        );
        assert_eq!(
            error_text("x", NO_SUCH_ZONE),
            "zoneadm: x: No such zone configured"
        );
        assert_eq!(
            error_text("x", "not running"),
            "zoneadm: zone 'x': not running"
        );
    }

    #[test]
    fn verbose_list_matches_the_illumos_columns() {
        let f = ListFlags {
            verbose: true,
            ..Default::default()
        };
        assert_eq!(
            list(&snap(), f),
            "  ID NAME             STATUS     PATH                           BRAND    IP    \n   0 global           running    /                              linux    shared\n   3 web              running    /zones/web                     sparse   excl  \n   4 db               ready      /zones/d:b                     sparse   shared\n"
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
            format!(
                "0:global:running:/:00000000-0000-0000-0000-000000000000:linux:shared\n3:web:running:/zones/web:00000000-0000-0000-0000-000000000003:sparse:excl\n4:db:ready:/zones/d\\:b:00000000-0000-0000-0000-000000000004:sparse:shared\n-:cfg:configured:/zones/cfg:{}:whole:shared\n",
                zone_uuid("cfg", &Params::new())
            )
        );
    }
}
