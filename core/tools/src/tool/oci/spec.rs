//! # config.json: the part of the OCI runtime spec a zone honours
//!
//! The bundle's `config.json` is read into the structs below — only the
//! fields this runtime acts on or reports, each optional as the spec makes
//! it; unknown fields are ignored, as runc does for fields of newer specs.
//! (Not the `oci-spec` crate: its builders and getters pull a derive stack
//! into the engine crate for a dozen fields we read once; these structs
//! are the spec's JSON names, nothing else.)
//!
//! [`zone_params`] turns it into the zone's parameters; [`Process`] is
//! what the holder enters the zone with. What maps where:
//!
//! | config.json | zone |
//! | --- | --- |
//! | `root.path` (relative: to the bundle) | `path` |
//! | `hostname` | `host.hostname` |
//! | `annotations."zones.brand"` | `brand` (`sparse`, `whole`; default whole: the rootfs as it is) |
//! | `linux.resources.pids.limit` | `zone.max-processes` |
//! | `linux.resources.memory.limit` | `capped-memory.physical` |
//! | `linux.resources.memory.swap` | `zone.max-swap` |
//! | `linux.resources.cpu.shares` | `zone.cpu-shares` |
//! | `linux.resources.cpu.quota` / `period` | `zone.cpu-cap` (percent of one CPU, rounded up) |
//! | `linux.resources.cpu.cpus` | `zone.cpuset` |
//! | `process.args`, `env`, `cwd`, `user.uid` | the entered program, its environment, directory and user |
//! | `process.terminal` (with `--console-socket`) | a pty of the zone's devpts |
//! | `hooks` (prestart, createRuntime, poststart, poststop) | run on the host with the state on stdin |
//!
//! Not mapped (the zone's own settings stand, see docs/oci.md): mounts
//! beyond the zone's own /proc, /dev and /dev/pts; a network namespace
//! path (the zone gets its own empty one); seccomp (the zone's filter);
//! capabilities (the zone's set); rlimits; masked and read-only paths
//! (the zone's /proc view already hides the host's).

use crate::param::Params;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    #[serde(default)]
    pub oci_version: String,
    pub root: Option<Root>,
    pub process: Option<Process>,
    pub hostname: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub hooks: Option<Hooks>,
    pub linux: Option<Linux>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Root {
    pub path: String,
    #[serde(default)]
    pub readonly: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    #[serde(default)]
    pub terminal: bool,
    #[serde(default)]
    pub user: User,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub cwd: String,
    #[serde(default)]
    pub no_new_privileges: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    #[serde(default)]
    pub additional_gids: Vec<u32>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Hook {
    pub path: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    pub timeout: Option<u64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    #[serde(default)]
    pub prestart: Vec<Hook>,
    #[serde(default)]
    pub create_runtime: Vec<Hook>,
    #[serde(default)]
    pub create_container: Vec<Hook>,
    #[serde(default)]
    pub start_container: Vec<Hook>,
    #[serde(default)]
    pub poststart: Vec<Hook>,
    #[serde(default)]
    pub poststop: Vec<Hook>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Linux {
    pub resources: Option<Resources>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Resources {
    pub pids: Option<Pids>,
    pub memory: Option<Memory>,
    pub cpu: Option<Cpu>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Pids {
    pub limit: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Memory {
    pub limit: Option<i64>,
    pub swap: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cpu {
    pub shares: Option<u64>,
    pub quota: Option<i64>,
    pub period: Option<u64>,
    pub cpus: Option<String>,
}

/// Read `config.json` of `bundle`; the error names the file.
pub fn load(bundle: &Path) -> Result<Spec, String> {
    let p = bundle.join("config.json");
    let text = std::fs::read_to_string(&p)
        .map_err(|e| format!("open {}: {}", p.display(), crate::tool::os_msg(&e)))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// The container's root: `root.path`, relative to the bundle when it is
/// relative; the error names the bundle.
pub fn rootfs(spec: &Spec, bundle: &Path) -> Result<PathBuf, String> {
    let Some(r) = &spec.root else {
        return Err(format!(
            "{}: root.path is not set",
            bundle.join("config.json").display()
        ));
    };
    let p = Path::new(&r.path);
    Ok(if p.is_absolute() {
        p.to_path_buf()
    } else {
        bundle.join(p)
    })
}

/// The zone's parameters for container `spec` named `name` (module
/// comment); an error names the parameter.
pub fn zone_params(spec: &Spec, name: &str, root: &Path) -> Result<Params, String> {
    let mut params = Params::new();
    let mut set = |arg: String| -> Result<(), String> {
        params
            .set_arg(&arg)
            .map_err(|e| format!("config.json: {arg}: {e}"))
    };
    set(format!("name={name}"))?;
    set(format!("path={}", root.display()))?;
    set("persist=true".into())?;
    if let Some(h) = spec.hostname.as_deref().filter(|h| !h.is_empty()) {
        set(format!("host.hostname={h}"))?;
    }
    if let Some(b) = spec.annotations.get("zones.brand") {
        set(format!("brand={b}"))?;
    }
    let res = spec.linux.as_ref().and_then(|l| l.resources.as_ref());
    if let Some(r) = res {
        if let Some(p) = &r.pids
            && p.limit > 0
        {
            set(format!("zone.max-processes={}", p.limit))?;
        }
        if let Some(m) = &r.memory {
            if let Some(l) = m.limit.filter(|l| *l > 0) {
                set(format!("capped-memory.physical={l}"))?;
            }
            if let Some(s) = m.swap.filter(|s| *s > 0) {
                set(format!("zone.max-swap={s}"))?;
            }
        }
        if let Some(c) = &r.cpu {
            if let Some(s) = c.shares.filter(|s| *s > 0) {
                set(format!("zone.cpu-shares={s}"))?;
            }
            if let Some(q) = c.quota.filter(|q| *q > 0) {
                let period = c.period.filter(|p| *p > 0).unwrap_or(100_000);
                let pct = (q as u64 * 100).div_ceil(period);
                set(format!("zone.cpu-cap={}", pct.max(1)))?;
            }
            if let Some(cpus) = c.cpus.as_deref().filter(|c| !c.is_empty()) {
                set(format!("zone.cpuset={cpus}"))?;
            }
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_become_rctls() {
        let spec: Spec = serde_json::from_str(
            r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"hostname":"h1",
            "annotations":{"zones.brand":"sparse"},
            "linux":{"resources":{"pids":{"limit":64},
              "memory":{"limit":268435456,"swap":536870912},
              "cpu":{"shares":512,"quota":150000,"period":100000,"cpus":"0"}}},
            "process":{"args":["/bin/sh"],"env":["A=b"],"cwd":"/","user":{"uid":0,"gid":0}},
            "mounts":[{"destination":"/proc","type":"proc"}]}"#,
        )
        .unwrap();
        let root = rootfs(&spec, Path::new("/b")).unwrap();
        assert_eq!(root, Path::new("/b/rootfs"));
        let p = zone_params(&spec, "c1", &root).unwrap();
        assert_eq!(p.str("name"), Some("c1"));
        assert_eq!(p.str("host.hostname"), Some("h1"));
        assert_eq!(p.int("zone.max-processes"), Some(64));
        assert_eq!(p.int("capped-memory.physical"), Some(268435456));
        assert_eq!(p.int("zone.max-swap"), Some(536870912));
        assert_eq!(p.int("zone.cpu-shares"), Some(512));
        assert_eq!(p.int("zone.cpu-cap"), Some(150));
        assert_eq!(p.bool("persist"), Some(true));
    }

    #[test]
    fn a_bad_brand_names_the_parameter() {
        let spec: Spec =
            serde_json::from_str(r#"{"annotations":{"zones.brand":"nope"},"root":{"path":"/r"}}"#)
                .unwrap();
        let e = zone_params(&spec, "c", Path::new("/r")).unwrap_err();
        assert!(e.contains("brand=nope"), "{e}");
    }
}
