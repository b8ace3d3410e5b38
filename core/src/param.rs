//! # Parameters: one model for jail parameters and zone attributes
//!
//! FreeBSD's jail(2) and illumos' zone attributes describe the same object
//! with two vocabularies. Here there is one table, [`PARAMS`]: every name a
//! caller may use, its type, whether it may change once the zone exists, and
//! whether Linux enforces it. Where the two families mean the same thing they
//! share one entry and the zone name is an alias (`root` is `path`,
//! `hostname` is `host.hostname`, `phys_mcap` is `capped-memory.physical`).
//!
//! Values are typed ([`Value`]): booleans (a `no` prefix on the last name
//! component negates: `nopersist`, `allow.nomount`), integers, strings,
//! lists and sizes with the K/M/G/T suffixes (powers of 1024). A parameter
//! that has no Linux meaning is still kept and shown; the engine reports it
//! once as not enforced. A name that is in no table is refused (EINVAL), as
//! jail(2) refuses it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The type of a parameter's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Str,
    List,
    /// Bytes, written with an optional K/M/G/T suffix.
    Size,
}

/// When a parameter may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    /// Set at creation and on update.
    Changeable,
    /// Set at creation only (jail(8): "cannot be changed after creation").
    CreateOnly,
    /// Kept by the engine; never set by a caller.
    ReadOnly,
}

/// One entry of the parameter table.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub mutability: Mutability,
    /// Linux enforces it (else kept, shown and reported once as not enforced).
    pub enforced: bool,
}

const fn p(name: &'static str, kind: Kind, mutability: Mutability, enforced: bool) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        mutability,
        enforced,
    }
}

use Kind::*;
use Mutability::*;

/// Every parameter the engine knows. Zone-side names that mean the same
/// as a jail parameter are in [`ALIASES`].
pub const PARAMS: &[ParamSpec] = &[
    // identity and hierarchy (jail(8) "Parameters")
    p("jid", Int, CreateOnly, true),
    p("name", Str, CreateOnly, true),
    p("path", Str, CreateOnly, true),
    p("parent", Int, ReadOnly, true),
    p("children.max", Int, Changeable, true),
    p("children.cur", Int, ReadOnly, true),
    p("persist", Bool, Changeable, true),
    p("dying", Bool, ReadOnly, true),
    // UTS
    p("host", Str, CreateOnly, true),
    p("host.hostname", Str, Changeable, true),
    p("host.domainname", Str, Changeable, true),
    p("host.hostuuid", Str, Changeable, true),
    p("host.hostid", Int, Changeable, true),
    // network
    p("vnet", Str, CreateOnly, true),
    p("vnet.interface", List, CreateOnly, true),
    // network.md: made at ready (the zone's links and addresses), so fixed
    // from then on.
    p("vnet.bridge", Str, CreateOnly, true),
    // runtime/linux/netns.rs: join a network namespace made elsewhere.
    p("vnet.netns", Str, CreateOnly, true),
    // runtime/linux/seccomp_oci.rs: a file holding an OCI seccomp profile,
    // loaded on top of the zone's own system call filter.
    p("seccomp.profile", Str, CreateOnly, true),
    p("ip4", Str, CreateOnly, true),
    p("ip6", Str, CreateOnly, true),
    p("ip4.addr", List, CreateOnly, true),
    p("ip6.addr", List, CreateOnly, true),
    p("ip4.saddrsel", Bool, Changeable, false),
    p("ip6.saddrsel", Bool, Changeable, false),
    p("interface", Str, CreateOnly, true),
    p("zone.defrouter", List, CreateOnly, true),
    // file systems
    p("mount", List, CreateOnly, true),
    p("mount.fstab", List, CreateOnly, true),
    p("mount.devfs", Bool, CreateOnly, true),
    p("devfs_ruleset", Int, CreateOnly, true),
    p("mount.procfs", Bool, CreateOnly, true),
    p("mount.fdescfs", Bool, CreateOnly, true),
    p("securelevel", Int, Changeable, false),
    p("enforce_statfs", Int, Changeable, true),
    p("osrelease", Str, CreateOnly, false),
    p("osreldate", Int, CreateOnly, false),
    p("sysvmsg", Str, Changeable, false),
    p("sysvsem", Str, Changeable, false),
    p("sysvshm", Str, Changeable, false),
    p("cpuset.id", Int, ReadOnly, false),
    // allow.* (capabilities kept in the bounding set)
    p("allow.set_hostname", Bool, Changeable, true),
    p("allow.sysvipc", Bool, Changeable, true),
    p("allow.raw_sockets", Bool, Changeable, true),
    p("allow.chflags", Bool, Changeable, true),
    p("allow.mount", Bool, Changeable, true),
    p("allow.mount.devfs", Bool, Changeable, false),
    p("allow.mount.fdescfs", Bool, Changeable, false),
    p("allow.mount.nullfs", Bool, Changeable, false),
    p("allow.mount.procfs", Bool, Changeable, false),
    p("allow.mount.linprocfs", Bool, Changeable, false),
    p("allow.mount.linsysfs", Bool, Changeable, false),
    p("allow.mount.tmpfs", Bool, Changeable, false),
    p("allow.mount.zfs", Bool, Changeable, false),
    p("allow.mlock", Bool, Changeable, true),
    p("allow.reserved_ports", Bool, Changeable, true),
    p("allow.suser", Bool, Changeable, true),
    p("allow.adjtime", Bool, Changeable, true),
    p("allow.settime", Bool, Changeable, true),
    p("allow.routing", Bool, Changeable, true),
    p("allow.quotas", Bool, Changeable, false),
    p("allow.socket_af", Bool, Changeable, false),
    p("allow.read_msgbuf", Bool, Changeable, false),
    p("allow.unprivileged_proc_debug", Bool, Changeable, false),
    p("allow.nfsd", Bool, Changeable, false),
    p("allow.vmm", Bool, Changeable, false),
    // jail(8) pseudo-parameters: run on the host or in the jail by jail(8)
    p("exec.prepare", List, Changeable, true),
    p("exec.prestart", List, Changeable, true),
    p("exec.created", List, Changeable, true),
    p("exec.start", List, Changeable, true),
    p("command", List, Changeable, true),
    p("exec.poststart", List, Changeable, true),
    p("exec.prestop", List, Changeable, true),
    p("exec.stop", List, Changeable, true),
    p("exec.poststop", List, Changeable, true),
    p("exec.release", List, Changeable, true),
    p("exec.clean", Bool, Changeable, true),
    p("exec.jail_user", Str, Changeable, true),
    p("exec.system_jail_user", Bool, Changeable, true),
    p("exec.system_user", Str, Changeable, true),
    p("exec.timeout", Int, Changeable, true),
    p("exec.consolelog", Str, Changeable, true),
    p("exec.fib", Int, Changeable, false),
    p("stop.timeout", Int, Changeable, true),
    p("ip_hostname", Bool, Changeable, false),
    p("depend", List, Changeable, true),
    // zone side (config.md "Zone parameters", zone.c zone_getattr)
    p("zone.max-processes", Int, Changeable, true),
    p("zone.max-lwps", Int, Changeable, true),
    p("zone.max-locked-memory", Size, Changeable, true),
    p("zone.max-swap", Size, Changeable, true),
    p("zone.cpu-shares", Int, Changeable, true),
    p("zone.cpu-cap", Int, Changeable, true),
    p("capped-memory.physical", Size, Changeable, true),
    p("limitpriv", List, CreateOnly, true),
    p("brand", Str, CreateOnly, true),
    p("autoboot", Bool, Changeable, true),
    p("initname", Str, Changeable, true),
    p("bootargs", Str, Changeable, true),
    p("initnorestart", Bool, Changeable, true),
    p("sched_class", Str, Changeable, false),
    p("fs_allowed", List, Changeable, false),
    p("secflags", Str, Changeable, false),
    // zone attributes the engine keeps
    p("uniqid", Int, ReadOnly, true),
    p("status", Str, ReadOnly, true),
    p("initpid", Int, ReadOnly, true),
    p("privset", List, ReadOnly, true),
    p("flags", Int, ReadOnly, true),
    p("network", Str, ReadOnly, true),
    p("lastjid", Int, ReadOnly, true),
    // The zone's CPUs (config.md, view.md); last, so that the zonefs
    // inodes of the parameters above (their table order) do not move.
    p("dedicated-cpu.ncpus", Int, CreateOnly, true),
    p("zone.cpuset", Str, CreateOnly, true),
];

/// Zone attribute names that are another name for a jail parameter.
pub const ALIASES: &[(&str, &str)] = &[
    ("root", "path"),
    ("hostname", "host.hostname"),
    ("hostid", "host.hostid"),
    ("phys_mcap", "capped-memory.physical"),
    ("ip-type", "vnet"),
    ("zonename", "name"),
];

/// The resource controls, in the order tools show them.
pub const RCTLS: &[&str] = &[
    "zone.max-processes",
    "zone.max-lwps",
    "zone.max-locked-memory",
    "zone.max-swap",
    "zone.cpu-shares",
    "zone.cpu-cap",
    "capped-memory.physical",
];

/// Look a parameter up by any of its names; the answer carries the
/// canonical (jail) name.
pub fn lookup(name: &str) -> Option<&'static ParamSpec> {
    let canonical = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, c)| *c);
    PARAMS.iter().find(|s| s.name == canonical)
}

/// Why a parameter or value was refused (each maps to EINVAL, as in jail(2)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ParamError {
    #[error("unknown parameter: {0}")]
    Unknown(String),
    #[error("{name}: unknown boolean value \"{value}\"")]
    BadBool { name: String, value: String },
    #[error("{name}: non-integer value \"{value}\"")]
    BadInt { name: String, value: String },
    #[error("{name}: bad size \"{value}\"")]
    BadSize { name: String, value: String },
    #[error("{name}: value out of range \"{value}\"")]
    OutOfRange { name: String, value: String },
    #[error("{0}: not a boolean parameter, \"no\" prefix not allowed")]
    NotBool(String),
    #[error("{name}: value longer than {max} bytes")]
    TooLong { name: String, max: usize },
}

/// A typed parameter value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

impl Value {
    /// The value a parameter of this kind has when it is not set (what
    /// jail_get answers for it).
    pub fn empty(kind: Kind) -> Value {
        match kind {
            Kind::Bool => Value::Bool(false),
            Kind::Int | Kind::Size => Value::Int(0),
            Kind::Str => Value::Str(String::new()),
            Kind::List => Value::List(Vec::new()),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The value as a list: a list as is, a single string as one element.
    pub fn as_list(&self) -> Vec<String> {
        match self {
            Value::List(l) => l.clone(),
            Value::Str(s) => vec![s.clone()],
            other => vec![other.to_string()],
        }
    }
}

impl fmt::Display for Value {
    /// The text jls and zonefs show: `true`/`false`, decimal, the string, a
    /// list joined with `,`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => f.write_str(s),
            Value::List(l) => f.write_str(&l.join(",")),
        }
    }
}

/// Parse a size: decimal bytes with an optional K, M, G or T suffix (1024-based).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        b't' | b'T' => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// Parse a boolean word as jail(8) does.
fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// Resolve a parameter name the way jail(8) does, including the `no`
/// prefix on the last component of a boolean (`nopersist`,
/// `allow.nomount`). Returns the spec and whether the name negated it.
pub fn resolve(name: &str) -> Result<(&'static ParamSpec, bool), ParamError> {
    if let Some(spec) = lookup(name) {
        return Ok((spec, false));
    }
    let (head, last) = match name.rsplit_once('.') {
        Some((h, l)) => (Some(h), l),
        None => (None, name),
    };
    if let Some(stripped) = last.strip_prefix("no") {
        let positive = match head {
            Some(h) => format!("{h}.{stripped}"),
            None => stripped.to_string(),
        };
        if let Some(spec) = lookup(&positive) {
            if spec.kind != Kind::Bool {
                return Err(ParamError::NotBool(name.to_string()));
            }
            return Ok((spec, true));
        }
    }
    Err(ParamError::Unknown(name.to_string()))
}

/// Turn text values (a command line's `name=value`, a jail.conf entry) into a
/// typed value for `name`. `values` is empty for a bare `name;`.
pub fn typed(name: &str, values: &[String]) -> Result<(&'static str, Value), ParamError> {
    let (spec, negated) = resolve(name)?;
    let bad_int = || ParamError::BadInt {
        name: name.to_string(),
        value: values.join(","),
    };
    let v = match spec.kind {
        Kind::Bool => {
            let b = match values {
                [] => true,
                [one] => parse_bool(one).ok_or_else(|| ParamError::BadBool {
                    name: name.to_string(),
                    value: one.clone(),
                })?,
                _ => {
                    return Err(ParamError::BadBool {
                        name: name.to_string(),
                        value: values.join(","),
                    });
                }
            };
            Value::Bool(b != negated)
        }
        _ if negated => return Err(ParamError::NotBool(name.to_string())),
        Kind::Int => match values {
            [one] => Value::Int(one.trim().parse::<i64>().map_err(|_| bad_int())?),
            _ => return Err(bad_int()),
        },
        Kind::Size => match values {
            [one] => {
                let n = parse_size(one).ok_or_else(|| ParamError::BadSize {
                    name: name.to_string(),
                    value: one.clone(),
                })?;
                Value::Int(i64::try_from(n).map_err(|_| ParamError::OutOfRange {
                    name: name.to_string(),
                    value: one.clone(),
                })?)
            }
            _ => {
                return Err(ParamError::BadSize {
                    name: name.to_string(),
                    value: values.join(","),
                });
            }
        },
        Kind::Str => Value::Str(values.join(",")),
        Kind::List => Value::List(values.to_vec()),
    };
    check_range(spec, name, &v)?;
    Ok((spec.name, v))
}

fn check_range(spec: &ParamSpec, name: &str, v: &Value) -> Result<(), ParamError> {
    let out = || ParamError::OutOfRange {
        name: name.to_string(),
        value: v.to_string(),
    };
    let max_len = match spec.name {
        // The UTS namespace's limits (HOST_NAME_MAX, the domain name's).
        "host.hostname" | "host.domainname" => 64,
        "path" | "exec.consolelog" | "mount.fstab" => 4095,
        _ => usize::MAX,
    };
    if let Value::Str(s) = v
        && s.len() > max_len
    {
        return Err(ParamError::TooLong {
            name: name.to_string(),
            max: max_len,
        });
    }
    match (spec.name, v) {
        ("jid", Value::Int(i)) if !(0..=crate::zone::ZoneId::MAX as i64).contains(i) => Err(out()),
        ("children.max" | "devfs_ruleset" | "stop.timeout" | "exec.timeout", Value::Int(i))
            if *i < 0 =>
        {
            Err(out())
        }
        ("enforce_statfs", Value::Int(i)) if !(0..=2).contains(i) => Err(out()),
        ("securelevel", Value::Int(i)) if !(-1..=3).contains(i) => Err(out()),
        (
            "zone.cpu-cap"
            | "zone.cpu-shares"
            | "zone.max-processes"
            | "zone.max-lwps"
            | "dedicated-cpu.ncpus",
            Value::Int(i),
        ) if *i <= 0 => Err(out()),
        ("zone.cpuset", Value::Str(s))
            if crate::kstat::view::parse_cpu_list(s).is_err() || s.trim().is_empty() =>
        {
            Err(out())
        }
        ("host" | "vnet", Value::Str(s)) if s != "inherit" && s != "new" => Err(out()),
        ("brand", Value::Str(s)) if crate::zone::Brand::parse(s).is_none() => Err(out()),
        _ => Ok(()),
    }
}

/// A set of parameters by canonical name. Later settings win.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(pub BTreeMap<String, Value>);

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Set from text, as `jail -c name=value` does.
    pub fn set_text(&mut self, name: &str, values: &[String]) -> Result<(), ParamError> {
        let (canon, v) = typed(name, values)?;
        self.0.insert(canon.to_string(), v);
        Ok(())
    }

    /// Parse `name=value` or a bare `name` (a boolean) as jail(8)'s command line.
    pub fn set_arg(&mut self, arg: &str) -> Result<(), ParamError> {
        match arg.split_once('=') {
            Some((n, v)) => {
                let (spec, _) = resolve(n)?;
                let values: Vec<String> = if spec.kind == Kind::List {
                    v.split(',').map(str::to_string).collect()
                } else {
                    vec![v.to_string()]
                };
                self.set_text(n, &values)
            }
            None => self.set_text(arg, &[]),
        }
    }

    pub fn insert(&mut self, name: &str, v: Value) {
        let canon = lookup(name).map_or(name, |s| s.name);
        self.0.insert(canon.to_string(), v);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        let canon = lookup(name).map_or(name, |s| s.name);
        self.0.get(canon)
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let canon = lookup(name).map_or(name, |s| s.name);
        self.0.remove(canon)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_int)
    }
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name).map(Value::as_list).unwrap_or_default()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Parameters set here that Linux does not enforce.
    pub fn not_enforced(&self) -> Vec<&str> {
        self.0
            .keys()
            .filter(|k| lookup(k).is_some_and(|s| !s.enforced))
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn no_prefix_negates_the_last_component_of_a_boolean() {
        assert_eq!(
            typed("nopersist", &[]).unwrap(),
            ("persist", Value::Bool(false))
        );
        assert_eq!(
            typed("allow.nomount", &[]).unwrap(),
            ("allow.mount", Value::Bool(false))
        );
        assert_eq!(
            typed("persist", &[]).unwrap(),
            ("persist", Value::Bool(true))
        );
        assert_eq!(
            typed("nopersist", &s(&["false"])).unwrap(),
            ("persist", Value::Bool(true))
        );
        assert!(matches!(typed("nopath", &[]), Err(ParamError::NotBool(_))));
    }

    #[test]
    fn sizes_take_1024_based_suffixes() {
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("1k"), Some(1024));
        assert_eq!(parse_size("2T"), Some(2 << 40));
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("M"), None);
        assert_eq!(parse_size("1.5G"), None);
        assert_eq!(parse_size("99999999999T"), None);
        assert_eq!(
            typed("zone.max-swap", &s(&["1G"])).unwrap(),
            ("zone.max-swap", Value::Int(1 << 30))
        );
    }

    #[test]
    fn zone_attribute_names_are_jail_parameters() {
        assert_eq!(lookup("root").unwrap().name, "path");
        assert_eq!(lookup("hostname").unwrap().name, "host.hostname");
        assert_eq!(lookup("phys_mcap").unwrap().name, "capped-memory.physical");
        let mut p = Params::new();
        p.set_arg("root=/srv/a").unwrap();
        assert_eq!(p.str("path"), Some("/srv/a"));
    }

    #[test]
    fn unknown_bad_int_and_out_of_range_are_refused() {
        assert!(matches!(typed("bogus", &[]), Err(ParamError::Unknown(_))));
        assert!(matches!(
            typed("jid", &s(&["x"])),
            Err(ParamError::BadInt { .. })
        ));
        assert!(matches!(
            typed("jid", &s(&["1000000"])),
            Err(ParamError::OutOfRange { .. })
        ));
        assert!(matches!(
            typed("persist", &s(&["maybe"])),
            Err(ParamError::BadBool { .. })
        ));
        assert!(matches!(
            typed("vnet", &s(&["x"])),
            Err(ParamError::OutOfRange { .. })
        ));
    }

    #[test]
    fn lists_split_on_commas_from_the_command_line() {
        let mut p = Params::new();
        p.set_arg("ip4.addr=10.0.0.1,10.0.0.2").unwrap();
        assert_eq!(p.list("ip4.addr"), s(&["10.0.0.1", "10.0.0.2"]));
        assert!(p.not_enforced().is_empty());
        p.set_arg("ip4.saddrsel").unwrap();
        assert_eq!(p.not_enforced(), vec!["ip4.saddrsel"]);
    }

    #[test]
    fn cpuset_parameters_take_a_cpu_list_and_a_positive_count() {
        let mut p = Params::new();
        p.set_arg("zone.cpuset=0-1,3").unwrap();
        p.set_arg("dedicated-cpu.ncpus=2").unwrap();
        assert_eq!(p.str("zone.cpuset"), Some("0-1,3"));
        assert_eq!(p.int("dedicated-cpu.ncpus"), Some(2));
        for bad in [
            "zone.cpuset=x",
            "zone.cpuset=3-1",
            "zone.cpuset=",
            "dedicated-cpu.ncpus=0",
        ] {
            assert!(Params::new().set_arg(bad).is_err(), "{bad}");
        }
        assert_eq!(
            lookup("dedicated-cpu.ncpus").unwrap().mutability,
            Mutability::CreateOnly
        );
    }
}
