//! A zone configuration as jail.conf parameters and back (the table in
//! the module comment of `zonecfg`), `verify`, and the atomic write of
//! the zone's file.

use super::{Res, Val, ZoneCfg};
use crate::jailconf::{Config, Jail};
use crate::param::{self, Kind};
use std::io::Write;
use std::path::Path;

/// The rctls that are a jail parameter of the same name (the others of
/// ours are capped-memory's and capped-cpu's).
const PLAIN_RCTLS: &[&str] = &["zone.max-processes", "zone.max-lwps", "zone.cpu-shares"];

/// What verify found: errors (commit refuses) and warnings (kept, not
/// enforced).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// The configuration as jail.conf parameters, in the order they are
/// written (name, values; no values: a bare boolean). What has no Linux
/// meaning is an error that names the property.
pub fn to_params(cfg: &ZoneCfg) -> (Vec<(String, Vec<String>)>, Findings) {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut f = Findings::default();
    let push = |out: &mut Vec<(String, Vec<String>)>, name: &str, v: String| match out
        .iter_mut()
        .find(|(n, _)| n == name)
    {
        Some(slot) => slot.1.push(v),
        None => out.push((name.to_string(), vec![v])),
    };
    let exclusive = cfg.global("ip-type") == Some("exclusive");
    let zonepath = cfg.global("zonepath").unwrap_or("").trim_end_matches('/');
    if cfg.global("zonepath").is_none() {
        f.errors
            .push("zonepath: required property not specified".to_string());
    }
    for g in super::GLOBALS {
        let Some(v) = cfg.global(g) else { continue };
        match *g {
            "zonepath" => {
                if !v.starts_with('/') {
                    f.errors
                        .push(format!("zonepath {v}: must be an absolute path"));
                }
                push(&mut out, "path", v.to_string());
            }
            "brand" => push(&mut out, "brand", v.to_string()),
            "autoboot" => match v {
                "true" | "false" => push(&mut out, "autoboot", v.to_string()),
                _ => f
                    .errors
                    .push(format!("autoboot {v}: must be true or false")),
            },
            "bootargs" => push(&mut out, "bootargs", v.to_string()),
            "limitpriv" => {
                for p in v.split(',').filter(|p| !p.is_empty()) {
                    push(&mut out, "limitpriv", p.to_string());
                }
            }
            "scheduling-class" => {
                f.warnings.push(format!(
                    "scheduling-class {v}: has no Linux meaning (kept as sched_class, not enforced)"
                ));
                push(&mut out, "sched_class", v.to_string());
            }
            "fs-allowed" => {
                f.warnings.push(format!(
                    "fs-allowed {v}: has no Linux meaning (kept as fs_allowed, not enforced)"
                ));
                for p in v.split(',').filter(|p| !p.is_empty()) {
                    push(&mut out, "fs_allowed", p.to_string());
                }
            }
            "ip-type" => match v {
                "exclusive" => push(&mut out, "vnet", "new".to_string()),
                "shared" => {}
                _ => f
                    .errors
                    .push(format!("ip-type {v}: must be shared or exclusive")),
            },
            "hostid" => {
                match u32::from_str_radix(v.trim_start_matches("0x").trim_start_matches("0X"), 16) {
                    Ok(n) => push(&mut out, "host.hostid", n.to_string()),
                    Err(_) => f
                        .errors
                        .push(format!("hostid {v}: not a hexadecimal number of 32 bits")),
                }
            }
            "pool" => f.errors.push(format!(
                "pool {v}: has no Linux meaning (use dedicated-cpu or capped-cpu)"
            )),
            _ => {}
        }
    }
    let mut routers: Vec<String> = Vec::new();
    let mut bridges = 0;
    for r in cfg.ordered() {
        let t = |p: &str| r.text(p);
        let what = describe(r);
        match r.kind {
            "capped-memory" => {
                for (p, name) in [
                    ("physical", "capped-memory.physical"),
                    ("swap", "zone.max-swap"),
                    ("locked", "zone.max-locked-memory"),
                ] {
                    if let Some(v) = t(p) {
                        push(&mut out, name, v);
                    }
                }
            }
            "capped-cpu" => match t("ncpus").map(|n| (n.parse::<f64>(), n)) {
                Some((Ok(n), _)) if n > 0.0 && n.is_finite() => {
                    push(&mut out, "zone.cpu-cap", format!("{}", (n * 100.0).round() as i64))
                }
                Some((_, n)) => f.errors.push(format!(
                    "capped-cpu ncpus {n}: must be a positive number"
                )),
                None => f
                    .errors
                    .push("capped-cpu: ncpus: required property not specified".to_string()),
            },
            "dedicated-cpu" => {
                match t("ncpus") {
                    Some(n) if n.parse::<u32>().is_ok_and(|n| n > 0) => {
                        push(&mut out, "dedicated-cpu.ncpus", n)
                    }
                    Some(n) => f.errors.push(format!(
                        "dedicated-cpu ncpus {n}: must be a positive integer (a range has no Linux meaning)"
                    )),
                    None => f.errors.push(
                        "dedicated-cpu: ncpus: required property not specified".to_string(),
                    ),
                }
                if let Some(i) = t("importance") {
                    f.errors.push(format!(
                        "dedicated-cpu importance {i}: has no Linux meaning (no pools)"
                    ));
                }
            }
            "net" => {
                let phys = t("physical");
                if phys.is_none() {
                    f.errors
                        .push(format!("{what}: physical: required property not specified"));
                }
                let phys = phys.unwrap_or_default();
                if exclusive {
                    if let Some(a) = t("address") {
                        f.errors.push(format!(
                            "{what}: address {a}: not allowed with ip-type exclusive (use allowed-address)"
                        ));
                    }
                    push(&mut out, "vnet.interface", phys.clone());
                    for a in t("allowed-address").iter().flat_map(|a| split_addrs(a)) {
                        push(&mut out, family(&a), format!("{phys}|{a}"));
                    }
                } else {
                    if let Some(a) = t("allowed-address") {
                        f.errors.push(format!(
                            "{what}: allowed-address {a}: only with ip-type exclusive (use address)"
                        ));
                    }
                    match t("address") {
                        Some(a) => push(&mut out, family(&a), format!("{phys}|{a}")),
                        None => f
                            .errors
                            .push(format!("{what}: address: required property not specified")),
                    }
                }
                routers.extend(t("defrouter"));
            }
            "anet" => {
                bridges += 1;
                if !exclusive {
                    f.errors
                        .push(format!("{what}: anet needs ip-type exclusive"));
                }
                if let Some(l) = t("linkname")
                    && l != crate::runtime::netcfg::BRIDGE_IFACE
                {
                    f.errors.push(format!(
                        "{what}: linkname {l}: has no Linux meaning (the zone's end is always {})",
                        crate::runtime::netcfg::BRIDGE_IFACE
                    ));
                }
                match t("lower-link") {
                    Some(l) => push(&mut out, "vnet.bridge", l),
                    None => f
                        .errors
                        .push(format!("{what}: lower-link: required property not specified")),
                }
                for a in t("allowed-address").iter().flat_map(|a| split_addrs(a)) {
                    push(
                        &mut out,
                        family(&a),
                        format!("{}|{a}", crate::runtime::netcfg::BRIDGE_IFACE),
                    );
                }
                routers.extend(t("defrouter"));
            }
            "fs" => {
                let (dir, special, ty) = (t("dir"), t("special"), t("type"));
                for (p, v) in [("dir", &dir), ("special", &special), ("type", &ty)] {
                    if v.is_none() {
                        f.errors
                            .push(format!("{what}: {p}: required property not specified"));
                    }
                }
                if let Some(raw) = t("raw") {
                    f.errors
                        .push(format!("{what}: raw {raw}: has no Linux meaning (no fsck)"));
                }
                if let Some(d) = &dir
                    && !d.starts_with('/')
                {
                    f.errors
                        .push(format!("{what}: dir {d}: must be an absolute path"));
                }
                let opts = match r.get("options") {
                    Some(Val::List(l)) if !l.is_empty() => l.join(","),
                    _ => "defaults".to_string(),
                };
                let fields = [&dir, &special, &ty];
                if fields
                    .iter()
                    .any(|v| v.as_ref().is_some_and(|s| s.contains(char::is_whitespace)))
                    || opts.contains(char::is_whitespace)
                {
                    f.errors
                        .push(format!("{what}: a field holds a blank, which fstab cannot"));
                }
                let ty = ty.unwrap_or_default();
                let ty = if ty == "lofs" { "nullfs".to_string() } else { ty };
                push(
                    &mut out,
                    "mount",
                    format!(
                        "{} {zonepath}{} {ty} {opts} 0 0",
                        special.unwrap_or_default(),
                        dir.unwrap_or_default()
                    ),
                );
            }
            "rctl" => {
                let name = t("name").unwrap_or_default();
                let values = match r.get("value") {
                    Some(Val::List(l)) => l.clone(),
                    _ => Vec::new(),
                };
                if name.is_empty() {
                    f.errors
                        .push("rctl: name: required property not specified".to_string());
                    continue;
                }
                let known = PLAIN_RCTLS.contains(&name.as_str())
                    || matches!(
                        name.as_str(),
                        "zone.max-swap" | "zone.max-locked-memory" | "zone.cpu-cap"
                    );
                if !known {
                    f.errors
                        .push(format!("rctl {name}: has no Linux meaning (not one of ours)"));
                    continue;
                }
                match values.as_slice() {
                    [one] => match rctl_limit(one) {
                        Ok(limit) => push(&mut out, &name, limit),
                        Err(e) => f.errors.push(format!("rctl {name}: value {one}: {e}")),
                    },
                    [] => f
                        .errors
                        .push(format!("rctl {name}: value: required property not specified")),
                    _ => f.errors.push(format!(
                        "rctl {name}: more than one value has no Linux meaning (one limit, action deny)"
                    )),
                }
            }
            "attr" => {
                let (Some(name), Some(value)) = (t("name"), t("value")) else {
                    f.errors
                        .push(format!("{what}: name and value: required properties"));
                    continue;
                };
                let ty = t("type").unwrap_or_else(|| "string".to_string());
                match param::resolve(&name) {
                    Err(_) => f.errors.push(format!(
                        "attr {name}: has no Linux meaning (not a jail or zone parameter)"
                    )),
                    Ok((spec, _)) => {
                        if !spec.enforced {
                            f.warnings.push(format!(
                                "attr {name}: has no Linux meaning (kept, not enforced)"
                            ));
                        }
                        if !matches!(ty.as_str(), "string" | "int" | "uint" | "boolean") {
                            f.errors.push(format!(
                                "attr {name}: type {ty}: must be string, int, uint or boolean"
                            ));
                        }
                        push(&mut out, &name, value);
                    }
                }
            }
            "device" | "dataset" => f.errors.push(format!(
                "{what}: has no Linux meaning (a zone's devices are its devfs_ruleset; no ZFS datasets)"
            )),
            _ => {}
        }
    }
    if bridges > 1 {
        f.errors
            .push("anet: more than one has no Linux meaning (one bridge per zone)".to_string());
    }
    if bridges > 0 && cfg.res.iter().any(|r| r.kind == "net") && exclusive {
        // vnet.interface and vnet.bridge may be combined: nothing to say.
    }
    for r in routers {
        push(&mut out, "zone.defrouter", r);
    }
    // Every value must be one the parameter takes (sizes, integers).
    for (name, values) in &out {
        if let Err(e) = param::typed(name, values)
            && !matches!(e, param::ParamError::Unknown(_))
        {
            f.errors.push(format!("{}: {e}", zonecfg_name(name)));
        }
        for v in values {
            if v.contains(['"', '\\', '$', '\n']) {
                f.errors.push(format!(
                    "{} {v}: a value may not hold \", \\, $ or a newline",
                    zonecfg_name(name)
                ));
            }
        }
    }
    (out, f)
}

/// The zonecfg name of a jail parameter, for messages.
fn zonecfg_name(param: &str) -> String {
    match param {
        "path" => "zonepath",
        "host.hostid" => "hostid",
        "capped-memory.physical" => "capped-memory physical",
        "zone.max-swap" => "capped-memory swap",
        "zone.max-locked-memory" => "capped-memory locked",
        "zone.cpu-cap" => "capped-cpu ncpus",
        "dedicated-cpu.ncpus" => "dedicated-cpu ncpus",
        "mount" => "fs",
        "vnet.bridge" => "anet lower-link",
        "vnet.interface" => "net physical",
        "ip4.addr" | "ip6.addr" => "net address",
        "zone.defrouter" => "defrouter",
        other => other,
    }
    .to_string()
}

/// A resource named for messages: `net address=...`, `fs dir=...`.
fn describe(r: &Res) -> String {
    let key = match r.kind {
        "net" => "physical",
        "anet" => "linkname",
        "fs" => "dir",
        "device" => "match",
        _ => "name",
    };
    match r.text(key) {
        Some(v) => format!("{} {key}={v}", r.kind),
        None => r.kind.to_string(),
    }
}

fn split_addrs(a: &str) -> Vec<String> {
    a.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn family(addr: &str) -> &'static str {
    if addr.contains(':') {
        "ip6.addr"
    } else {
        "ip4.addr"
    }
}

/// The limit of an rctl value `(priv=privileged,limit=N,action=deny)`.
fn rctl_limit(v: &str) -> Result<String, String> {
    let body = v.trim_start_matches('(').trim_end_matches(')');
    let (mut priv_, mut limit, mut action) = (None, None, None);
    for pair in body.split(',') {
        let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "priv" => priv_ = Some(val),
            "limit" => limit = Some(val),
            "action" => action = Some(val),
            _ => return Err(format!("unknown field {k}")),
        }
    }
    if priv_ != Some("privileged") {
        return Err("only priv=privileged has a Linux meaning".to_string());
    }
    if action != Some("deny") {
        return Err("only action=deny has a Linux meaning".to_string());
    }
    limit
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .ok_or_else(|| "limit: not specified".to_string())
}

fn rctl_value(limit: &str) -> Val {
    Val::List(vec![format!("(priv=privileged,limit={limit},action=deny)")])
}

/// A value in jail.conf double quotes (`to_params` refused `"`, `\` and
/// `$`, so nothing needs escaping).
fn dq(s: &str) -> String {
    format!("\"{s}\"")
}

/// The zone's file: a comment saying whose it is, and one block.
pub fn jail_text(zone: &str, params: &[(String, Vec<String>)]) -> String {
    let mut s = format!(
        "# Zone {zone}, kept by zonecfg(8): change it with `zonecfg -z {zone}`.\n\
         # Hand edits in jail.conf(5) grammar are read back; parameters\n\
         # zonecfg has no property for come back as attr resources.\n\
         {zone} {{\n"
    );
    for (name, values) in params {
        let vals: Vec<String> = values.iter().map(|v| dq(v)).collect();
        s.push_str(&format!("\t{name} = {};\n", vals.join(", ")));
    }
    s.push_str("}\n");
    s
}

/// The configuration of jail `j` as zonecfg sees it.
pub fn from_jail(j: &Jail) -> ZoneCfg {
    let mut cfg = ZoneCfg::default();
    let mut res: Vec<Res> = Vec::new();
    let single = |res: &mut Vec<Res>, kind: &'static str| -> usize {
        match res.iter().position(|r| r.kind == kind) {
            Some(i) => i,
            None => {
                res.push(Res::new(kind));
                res.len() - 1
            }
        }
    };
    let exclusive = j.params.str("vnet") == Some("new");
    cfg.set_global("ip-type", if exclusive { "exclusive" } else { "shared" });
    let path = j.params.str("path").unwrap_or("").trim_end_matches('/');
    let ifaces = j.params.list("vnet.interface");
    let mut nets: Vec<Res> = Vec::new();
    let mut anet: Option<Res> = None;
    let mut routers: Vec<String> = Vec::new();
    for e in &j.entries {
        let v0 = e.values.first().cloned().unwrap_or_default();
        let joined = e.values.join(",");
        match e.key.as_str() {
            "name" => {}
            "path" => cfg.set_global("zonepath", &v0),
            "brand" => cfg.set_global("brand", &v0),
            "autoboot" => {
                let b = j.params.bool("autoboot").unwrap_or(false);
                cfg.set_global("autoboot", if b { "true" } else { "false" });
            }
            "bootargs" => cfg.set_global("bootargs", &v0),
            "limitpriv" => cfg.set_global("limitpriv", &joined),
            "sched_class" => cfg.set_global("scheduling-class", &v0),
            "fs_allowed" => cfg.set_global("fs-allowed", &joined),
            "host.hostid" => match j.params.int("host.hostid") {
                Some(n) => cfg.set_global("hostid", &format!("{n:x}")),
                None => cfg.set_global("hostid", &v0),
            },
            "vnet" if exclusive => {}
            "capped-memory.physical" | "zone.max-swap" | "zone.max-locked-memory" => {
                let i = single(&mut res, "capped-memory");
                let p = match e.key.as_str() {
                    "capped-memory.physical" => "physical",
                    "zone.max-swap" => "swap",
                    _ => "locked",
                };
                res[i].set(p, Val::Simple(v0));
            }
            "zone.cpu-cap" => {
                let i = single(&mut res, "capped-cpu");
                let n = match v0.parse::<i64>() {
                    Ok(cap) if cap % 100 == 0 => (cap / 100).to_string(),
                    Ok(cap) => {
                        let s = format!("{}.{:02}", cap / 100, cap % 100);
                        s.trim_end_matches('0').to_string()
                    }
                    Err(_) => v0,
                };
                res[i].set("ncpus", Val::Simple(n));
            }
            "dedicated-cpu.ncpus" => {
                let i = single(&mut res, "dedicated-cpu");
                res[i].set("ncpus", Val::Simple(v0));
            }
            k if PLAIN_RCTLS.contains(&k) => {
                let mut r = Res::new("rctl");
                r.set("name", Val::Simple(k.to_string()));
                r.set("value", rctl_value(&v0));
                res.push(r);
            }
            "vnet.interface" => {
                for p in &e.values {
                    let mut r = Res::new("net");
                    r.set("physical", Val::Simple(p.clone()));
                    nets.push(r);
                }
            }
            "vnet.bridge" => {
                let r = anet.get_or_insert_with(|| {
                    let mut r = Res::new("anet");
                    r.set(
                        "linkname",
                        Val::Simple(crate::runtime::netcfg::BRIDGE_IFACE.to_string()),
                    );
                    r
                });
                r.set("lower-link", Val::Simple(v0));
            }
            "ip4.addr" | "ip6.addr" => {
                for a in &e.values {
                    let (phys, addr) = a.split_once('|').unwrap_or(("", a.as_str()));
                    let to_anet = exclusive
                        && phys == crate::runtime::netcfg::BRIDGE_IFACE
                        && !ifaces.iter().any(|i| i == phys);
                    if to_anet {
                        if anet.is_none() {
                            let mut r = Res::new("anet");
                            r.set(
                                "linkname",
                                Val::Simple(crate::runtime::netcfg::BRIDGE_IFACE.to_string()),
                            );
                            anet = Some(r);
                        }
                        if let Some(r) = anet.as_mut() {
                            append(r, "allowed-address", addr);
                        }
                    } else if exclusive {
                        match nets
                            .iter_mut()
                            .find(|n| n.text("physical").as_deref() == Some(phys))
                        {
                            Some(n) => append(n, "allowed-address", addr),
                            None => {
                                let mut r = Res::new("net");
                                r.set("physical", Val::Simple(phys.to_string()));
                                r.set("allowed-address", Val::Simple(addr.to_string()));
                                nets.push(r);
                            }
                        }
                    } else {
                        let mut r = Res::new("net");
                        r.set("address", Val::Simple(addr.to_string()));
                        if !phys.is_empty() {
                            r.set("physical", Val::Simple(phys.to_string()));
                        }
                        nets.push(r);
                    }
                }
            }
            "zone.defrouter" => routers.extend(e.values.iter().cloned()),
            "mount" => {
                for line in &e.values {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    let mut r = Res::new("fs");
                    let target = f.get(1).copied().unwrap_or("");
                    let dir = match target.strip_prefix(path) {
                        Some(rest) if !path.is_empty() && rest.starts_with('/') => rest,
                        _ => target,
                    };
                    r.set("dir", Val::Simple(dir.to_string()));
                    r.set(
                        "special",
                        Val::Simple(f.first().copied().unwrap_or("").to_string()),
                    );
                    let ty = f.get(2).copied().unwrap_or("");
                    let ty = if ty == "nullfs" { "lofs" } else { ty };
                    r.set("type", Val::Simple(ty.to_string()));
                    let opts = f.get(3).copied().unwrap_or("defaults");
                    if opts != "defaults" {
                        r.set(
                            "options",
                            Val::List(opts.split(',').map(str::to_string).collect()),
                        );
                    }
                    res.push(r);
                }
            }
            _ => {
                let kind = param::lookup(&e.key).map(|s| s.kind);
                let ty = match kind {
                    Some(Kind::Bool) => "boolean",
                    Some(Kind::Int) => "int",
                    _ => "string",
                };
                let values: Vec<String> = match kind {
                    Some(Kind::Bool) => vec![
                        j.params
                            .bool(&e.key)
                            .map_or("true", |b| if b { "true" } else { "false" })
                            .to_string(),
                    ],
                    _ if e.values.is_empty() => vec![String::new()],
                    _ => e.values.clone(),
                };
                for v in values {
                    let mut r = Res::new("attr");
                    r.set("name", Val::Simple(e.key.clone()));
                    r.set("type", Val::Simple(ty.to_string()));
                    r.set("value", Val::Simple(v));
                    res.push(r);
                }
            }
        }
    }
    // A default router goes to the net whose address it shares a /24 or
    // the prefix with (illumos requires it on the net's subnet), else to
    // the first net without one.
    let mut all: Vec<Res> = nets;
    all.extend(anet);
    for r in routers {
        let i = all
            .iter()
            .position(|n| n.get("defrouter").is_none() && same_subnet(n, &r))
            .or_else(|| all.iter().position(|n| n.get("defrouter").is_none()));
        if let Some(i) = i {
            all[i].set("defrouter", Val::Simple(r));
        } else if let Some(n) = all.first_mut() {
            let t = n.text("defrouter").unwrap_or_default();
            n.set("defrouter", Val::Simple(format!("{t},{r}")));
        }
    }
    res.extend(all);
    cfg.res = res;
    cfg
}

fn append(r: &mut Res, prop: &str, v: &str) {
    let t = match r.text(prop) {
        Some(t) if !t.is_empty() => format!("{t},{v}"),
        _ => v.to_string(),
    };
    r.set(prop, Val::Simple(t));
}

/// Does router `r` lie in the subnet of the net's address (IPv4, its
/// prefix or /24 when none)?
fn same_subnet(n: &Res, r: &str) -> bool {
    let a = n
        .text("address")
        .or_else(|| n.text("allowed-address"))
        .unwrap_or_default();
    let a = a.split(',').next().unwrap_or("");
    let (addr, len) = a.split_once('/').unwrap_or((a, "24"));
    let (Ok(addr), Ok(router), Ok(len)) = (
        addr.parse::<std::net::Ipv4Addr>(),
        r.parse::<std::net::Ipv4Addr>(),
        len.parse::<u32>(),
    ) else {
        return false;
    };
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - len.min(32))
    };
    u32::from(addr) & mask == u32::from(router) & mask
}

/// Read zone `zone`'s file: `Ok(None)` when there is none.
pub fn read_zone(file: &Path, zone: &str) -> Result<Option<ZoneCfg>, String> {
    match std::fs::metadata(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {}", file.display(), crate::tool::os_msg(&e))),
        Ok(_) => {}
    }
    let conf = Config::parse_file(file).map_err(|e| e.to_string())?;
    match conf.get(zone) {
        Some(j) => Ok(Some(from_jail(j))),
        None => Err(format!(
            "{}: holds no block for zone {zone}",
            file.display()
        )),
    }
}

/// Write `text` as `file` atomically: a temporary file beside it,
/// flushed, renamed over it, and the directory flushed. Nothing is left
/// behind on failure.
pub fn write_atomic(file: &Path, text: &str) -> Result<(), String> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let err =
        |what: &Path, e: std::io::Error| format!("{}: {}", what.display(), crate::tool::os_msg(&e));
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Not `*.conf`: a reader globbing the directory meanwhile skips it.
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let done = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| err(&tmp, e))?;
        f.write_all(text.as_bytes()).map_err(|e| err(&tmp, e))?;
        f.sync_all().map_err(|e| err(&tmp, e))?;
        std::fs::rename(&tmp, file).map_err(|e| err(file, e))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}
