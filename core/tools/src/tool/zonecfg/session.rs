//! The zonecfg interpreter: one session on one zone. It holds the
//! configuration being edited (`cfg`), the one on disk (`saved`), and
//! the resource being added or changed (the resource scope, whose prompt
//! is `zonecfg:ZONE:RES>`). Each command either succeeds, printing what
//! it prints on `out`, or fails with a message the caller prints as
//! `zonecfg:ZONE: message`. `exit` (and the end of the input) commits a
//! changed configuration, as illumos' does; `exit -F` does not.

use super::jailfile::{self, Findings};
use super::lex::{Token, show};
use super::{GLOBALS, RESOURCES, Res, Val, ZoneCfg, is_list_prop, res_spec};
use std::io::Write;
use std::path::PathBuf;

/// Where the commands come from (it decides whether zonecfg asks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A person at a terminal: questions are asked.
    Interactive,
    /// `-f FILE` or commands on the command line: nothing is asked.
    Batch,
}

/// The resource being edited: a new one, or a copy of `res[index]`.
struct Scope {
    res: Res,
    index: Option<usize>,
}

/// One zonecfg session.
pub struct Session {
    pub zone: String,
    pub file: PathBuf,
    pub mode: Mode,
    cfg: Option<ZoneCfg>,
    saved: Option<ZoneCfg>,
    scope: Option<Scope>,
    /// `exit` was given: read no more commands.
    pub exited: bool,
    /// Asks a yes/no question (interactive mode).
    pub ask: Box<dyn FnMut(&str) -> bool>,
    /// Where the zone is configured when that is not zonecfg's file
    /// (`FILE line N` of jail.conf): zonecfg does not write a second
    /// block for it.
    pub elsewhere: Option<String>,
}

const NO_ZONE: &str = "No such zone configured";

impl Session {
    /// A session on `zone`, whose file is `file` (read now).
    pub fn open(zone: &str, file: PathBuf, mode: Mode) -> Result<Session, String> {
        let saved = jailfile::read_zone(&file, zone)?;
        Ok(Session {
            zone: zone.to_string(),
            file,
            mode,
            cfg: saved.clone(),
            saved,
            scope: None,
            exited: false,
            ask: Box::new(|_| false),
            elsewhere: None,
        })
    }

    /// The prompt: `zonecfg:ZONE> ` or `zonecfg:ZONE:RES> `.
    pub fn prompt(&self) -> String {
        match &self.scope {
            Some(s) => format!("zonecfg:{}:{}> ", self.zone, s.res.kind),
            None => format!("zonecfg:{}> ", self.zone),
        }
    }

    /// The resource type being edited, if any (for completion).
    pub fn scope_kind(&self) -> Option<&'static str> {
        self.scope.as_ref().map(|s| s.res.kind)
    }

    /// Is the configuration changed since it was read or committed?
    pub fn dirty(&self) -> bool {
        self.cfg != self.saved
    }

    /// The configuration being edited.
    pub fn config(&self) -> Option<&ZoneCfg> {
        self.cfg.as_ref()
    }

    fn cfg_mut(&mut self) -> Result<&mut ZoneCfg, String> {
        self.cfg
            .as_mut()
            .ok_or_else(|| format!("{NO_ZONE}\nUse 'create' to begin configuring a new zone."))
    }

    /// Run one command.
    pub fn run(&mut self, cmd: &[Token], out: &mut dyn Write) -> Result<(), String> {
        let Some(Token::Word(verb)) = cmd.first() else {
            return Err("syntax error".to_string());
        };
        let args = &cmd[1..];
        let in_scope = self.scope.is_some();
        match verb.as_str() {
            "create" | "delete" | "commit" | "revert" | "export" | "select" | "verify"
                if in_scope =>
            {
                Err(format!(
                    "{verb}: not allowed in resource scope (use end or cancel first)"
                ))
            }
            "create" => self.create(args),
            "set" => self.set(args),
            "clear" => self.clear(args),
            "add" => self.add(args),
            "remove" => self.remove(args),
            "select" => self.select(args),
            "end" => self.end(),
            "cancel" => match self.scope.take() {
                Some(_) => Ok(()),
                None => Err("cancel: only in resource scope".to_string()),
            },
            "info" => {
                let text = self.info(args)?;
                out.write_all(text.as_bytes()).map_err(|e| e.to_string())
            }
            "verify" => self.verify_cmd(out),
            "commit" => self.commit(out),
            "revert" => {
                let force = flags(args, &["-F"])?.contains(&"-F".to_string());
                if !force
                    && self.mode == Mode::Interactive
                    && !(self.ask)("Are you sure you want to revert")
                {
                    return Ok(());
                }
                self.cfg = self.saved.clone();
                Ok(())
            }
            "export" => {
                let file = match args {
                    [] => None,
                    [Token::Word(f), Token::Word(p)] if f == "-f" => Some(p.clone()),
                    _ => return Err("usage: export [-f output-file]".to_string()),
                };
                let text = self.export()?;
                match file {
                    None => out.write_all(text.as_bytes()).map_err(|e| e.to_string()),
                    Some(p) => std::fs::write(&p, text)
                        .map_err(|e| format!("{p}: {}", crate::tool::os_msg(&e))),
                }
            }
            "delete" => self.delete(args),
            "exit" => {
                let force = flags(args, &["-F"])?.contains(&"-F".to_string());
                if in_scope && !force {
                    return Err(
                        "exit: resource incomplete (use end, cancel or exit -F)".to_string()
                    );
                }
                if !force && self.dirty() {
                    self.commit(out)?;
                }
                self.exited = true;
                Ok(())
            }
            "help" => out.write_all(HELP.as_bytes()).map_err(|e| e.to_string()),
            other => Err(format!("syntax error at '{other}'")),
        }
    }

    /// The end of the input: as `exit` (a changed configuration is
    /// committed), but a resource left open is an error.
    pub fn finish(&mut self, out: &mut dyn Write) -> Result<(), String> {
        if self.exited {
            return Ok(());
        }
        if let Some(s) = &self.scope {
            return Err(format!(
                "{}: resource incomplete at the end of the input (no end)",
                s.res.kind
            ));
        }
        self.exited = true;
        if self.dirty() {
            self.commit(out)?;
        }
        Ok(())
    }

    fn create(&mut self, args: &[Token]) -> Result<(), String> {
        let mut blank = false;
        let mut force = false;
        let mut template: Option<String> = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a {
                Token::Word(w) if w == "-b" => blank = true,
                Token::Word(w) if w == "-F" => force = true,
                Token::Word(w) if w == "-t" => match it.next() {
                    Some(Token::Word(t)) => template = Some(t.clone()),
                    _ => return Err(CREATE_USAGE.to_string()),
                },
                _ => return Err(CREATE_USAGE.to_string()),
            }
        }
        if blank && template.is_some() {
            return Err(CREATE_USAGE.to_string());
        }
        if (self.cfg.is_some() || self.saved.is_some()) && !force {
            let q = format!("Zone {} already exists; create anyway", self.zone);
            if self.mode == Mode::Batch {
                return Err(format!("Zone {} already exists; use create -F", self.zone));
            }
            if !(self.ask)(&q) {
                return Ok(());
            }
        }
        self.not_elsewhere()?;
        let mut cfg = ZoneCfg::default();
        if !blank {
            match template.as_deref().unwrap_or("SYSdefault") {
                "SYSdefault" | "SYSwhole" => {
                    cfg.set_global("brand", "whole");
                    cfg.set_global("autoboot", "false");
                    cfg.set_global("ip-type", "shared");
                }
                "SYSsparse" => {
                    cfg.set_global("brand", "sparse");
                    cfg.set_global("autoboot", "false");
                    cfg.set_global("ip-type", "shared");
                }
                "SYSblank" => {}
                other => {
                    let dir = self.file.parent().unwrap_or(std::path::Path::new("."));
                    let f = super::zone_file(dir, other);
                    match jailfile::read_zone(&f, other)? {
                        Some(mut c) => {
                            // A template gives everything but its place.
                            c.clear_global("zonepath");
                            cfg = c;
                        }
                        None => return Err(format!("{other}: {NO_ZONE}")),
                    }
                }
            }
        }
        self.cfg = Some(cfg);
        Ok(())
    }

    fn set(&mut self, args: &[Token]) -> Result<(), String> {
        let (prop, val) = match args {
            [Token::Word(p), Token::Eq, Token::Word(v)] => (p.clone(), Val::Simple(v.clone())),
            [Token::Word(p), Token::Eq, Token::Value(v)] => (p.clone(), v.clone()),
            _ => return Err("usage: set property-name=property-value".to_string()),
        };
        if let Some(s) = self.scope.as_mut() {
            let spec = res_spec(s.res.kind).expect("scope of a known resource");
            if !spec.props.contains(&prop.as_str()) {
                return Err(format!(
                    "{prop}: unknown property of resource {} (one of {})",
                    s.res.kind,
                    spec.props.join(", ")
                ));
            }
            let val = match (is_list_prop(s.res.kind, &prop), val) {
                (true, Val::Simple(v)) => Val::List(vec![v]),
                (false, Val::List(_)) => {
                    return Err(format!("{prop}: takes one value, not a list"));
                }
                (_, v) => v,
            };
            s.res.set(&prop, val);
            return Ok(());
        }
        let v = match val {
            Val::Simple(v) => v,
            Val::List(_) => return Err(format!("{prop}: takes one value, not a list")),
        };
        if prop == "zonename" {
            return Err("zonename: a zone is renamed by hand: move its file and block".to_string());
        }
        if !GLOBALS.contains(&prop.as_str()) {
            if res_spec(&prop).is_some() {
                return Err(format!("{prop}: is a resource: use add {prop}"));
            }
            return Err(format!("{prop}: unknown property"));
        }
        let ok = match prop.as_str() {
            "brand" => matches!(v.as_str(), "sparse" | "whole"),
            "autoboot" => matches!(v.as_str(), "true" | "false"),
            "ip-type" => matches!(v.as_str(), "shared" | "exclusive"),
            "zonepath" => v.starts_with('/'),
            _ => true,
        };
        if !ok {
            let want = match prop.as_str() {
                "brand" => "sparse or whole",
                "autoboot" => "true or false",
                "ip-type" => "shared or exclusive",
                _ => "an absolute path",
            };
            return Err(format!("{prop} {v}: invalid value (must be {want})"));
        }
        // hostid is kept as illumos shows it: hexadecimal, no 0x.
        let v = if prop == "hostid" {
            let hex = v.trim_start_matches("0x").trim_start_matches("0X");
            match u32::from_str_radix(hex, 16) {
                Ok(n) => format!("{n:x}"),
                Err(_) => {
                    return Err(format!(
                        "hostid {v}: invalid value (must be a hexadecimal number of 32 bits)"
                    ));
                }
            }
        } else {
            v
        };
        self.cfg_mut()?.set_global(&prop, &v);
        Ok(())
    }

    fn clear(&mut self, args: &[Token]) -> Result<(), String> {
        let [Token::Word(prop)] = args else {
            return Err("usage: clear property-name".to_string());
        };
        if let Some(s) = self.scope.as_mut() {
            s.res.clear(prop);
            return Ok(());
        }
        if !GLOBALS.contains(&prop.as_str()) || prop == "zonename" {
            return Err(format!("{prop}: unknown property"));
        }
        self.cfg_mut()?.clear_global(prop);
        Ok(())
    }

    fn add(&mut self, args: &[Token]) -> Result<(), String> {
        if let Some(s) = self.scope.as_mut() {
            let (prop, val) = match args {
                [Token::Word(p), Token::Word(v)] => (p, Val::Simple(v.clone())),
                [Token::Word(p), Token::Value(v)] => (p, v.clone()),
                _ => return Err("usage: add property-name property-value".to_string()),
            };
            if !is_list_prop(s.res.kind, prop) {
                return Err(format!(
                    "add {prop}: only a list property takes add (fs options, rctl value); use set"
                ));
            }
            let mut list = match s.res.get(prop) {
                Some(Val::List(l)) => l.clone(),
                _ => Vec::new(),
            };
            match val {
                Val::Simple(v) => list.push(v),
                Val::List(l) => list.extend(l),
            }
            s.res.set(prop, Val::List(list));
            return Ok(());
        }
        let [Token::Word(kind)] = args else {
            return Err("usage: add resource-type".to_string());
        };
        let Some(spec) = res_spec(kind) else {
            return Err(format!(
                "{kind}: unknown resource type (one of {})",
                RESOURCES
                    .iter()
                    .map(|r| r.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        let cfg = self.cfg_mut()?;
        if spec.single && cfg.res.iter().any(|r| r.kind == spec.name) {
            return Err(format!(
                "{kind}: a zone has one at most: use select {kind} to change it"
            ));
        }
        self.scope = Some(Scope {
            res: Res::new(spec.name),
            index: None,
        });
        Ok(())
    }

    fn end(&mut self) -> Result<(), String> {
        let Some(s) = self.scope.as_ref() else {
            return Err("end: only in resource scope".to_string());
        };
        let required: &[&str] = match s.res.kind {
            "fs" => &["dir", "special", "type"],
            "net" => &["physical"],
            "anet" => &["lower-link"],
            "rctl" => &["name", "value"],
            "attr" => &["name", "type", "value"],
            "dedicated-cpu" | "capped-cpu" => &["ncpus"],
            "device" => &["match"],
            "dataset" => &["name"],
            _ => &[],
        };
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|p| s.res.get(p).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{}: insufficient specification: {} not specified",
                s.res.kind,
                missing.join(", ")
            ));
        }
        if s.res.kind == "capped-memory" && s.res.props.is_empty() {
            return Err(
                "capped-memory: insufficient specification: physical, swap or locked".to_string(),
            );
        }
        let s = self.scope.take().expect("checked above");
        let cfg = self.cfg_mut()?;
        match s.index {
            Some(i) if i < cfg.res.len() => cfg.res[i] = s.res,
            _ => cfg.res.push(s.res),
        }
        Ok(())
    }

    /// The resources of type `kind` matching `prop=value ...`.
    fn matching(&self, args: &[Token]) -> Result<(&'static str, Vec<usize>), String> {
        let Some(Token::Word(kind)) = args.first() else {
            return Err("resource type missing".to_string());
        };
        let Some(spec) = res_spec(kind) else {
            return Err(format!("{kind}: unknown resource type"));
        };
        let sel = selectors(&args[1..])?;
        let cfg = self
            .cfg
            .as_ref()
            .ok_or_else(|| format!("{NO_ZONE}\nUse 'create' to begin configuring a new zone."))?;
        let found = cfg
            .res
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == spec.name && r.matches(&sel))
            .map(|(i, _)| i)
            .collect();
        Ok((spec.name, found))
    }

    fn select(&mut self, args: &[Token]) -> Result<(), String> {
        let (kind, found) = self.matching(args)?;
        match found.as_slice() {
            [i] => {
                let res = self.cfg.as_ref().expect("matched").res[*i].clone();
                self.scope = Some(Scope {
                    res,
                    index: Some(*i),
                });
                Ok(())
            }
            [] => Err(format!("{kind}: No such resource with that id")),
            _ => Err(format!(
                "{kind}: More than one resource matches; qualify it with property=value"
            )),
        }
    }

    fn remove(&mut self, args: &[Token]) -> Result<(), String> {
        if let Some(s) = self.scope.as_mut() {
            let (prop, val) = match args {
                [Token::Word(p), Token::Word(v)] => (p, v.clone()),
                [Token::Word(p), Token::Value(Val::Simple(v))] => (p, v.clone()),
                _ => return Err("usage: remove property-name property-value".to_string()),
            };
            let Some(Val::List(l)) = s.res.get(prop).cloned() else {
                return Err(format!(
                    "remove {prop}: only a list property takes remove; use clear"
                ));
            };
            if !l.contains(&val) {
                return Err(format!("{prop}: no value {val}"));
            }
            s.res.set(
                prop,
                Val::List(l.into_iter().filter(|x| *x != val).collect()),
            );
            return Ok(());
        }
        let force = matches!(args.first(), Some(Token::Word(w)) if w == "-F");
        let args = if force { &args[1..] } else { args };
        let (kind, found) = self.matching(args)?;
        if found.is_empty() {
            return Err(format!("{kind}: No such resource with that id"));
        }
        if found.len() > 1 && !force {
            return Err(format!(
                "{kind}: There are multiple instances of this resource. Either qualify the \
                 resource to remove a single instance or use the -F option to remove all instances."
            ));
        }
        let cfg = self.cfg_mut()?;
        let mut i = 0;
        cfg.res.retain(|_| {
            let keep = !found.contains(&i);
            i += 1;
            keep
        });
        Ok(())
    }

    fn info(&self, args: &[Token]) -> Result<String, String> {
        if let Some(s) = &self.scope {
            return Ok(info_res(&s.res));
        }
        let cfg = self
            .cfg
            .as_ref()
            .ok_or_else(|| format!("{NO_ZONE}\nUse 'create' to begin configuring a new zone."))?;
        let mut o = String::new();
        match args.first() {
            None => {
                o.push_str(&format!("zonename: {}\n", self.zone));
                for g in &GLOBALS[1..] {
                    o.push_str(&format!("{g}: {}\n", cfg.global(g).unwrap_or("")));
                }
                for r in cfg.ordered() {
                    o.push_str(&info_res(r));
                }
            }
            Some(Token::Word(w)) if w == "zonename" => {
                o.push_str(&format!("zonename: {}\n", self.zone))
            }
            Some(Token::Word(w)) if GLOBALS.contains(&w.as_str()) => {
                o.push_str(&format!("{w}: {}\n", cfg.global(w).unwrap_or("")))
            }
            Some(_) => {
                let (_, found) = self.matching(args)?;
                for i in found {
                    o.push_str(&info_res(&cfg.res[i]));
                }
            }
        }
        Ok(o)
    }

    /// The commands that recreate this configuration.
    pub fn export(&self) -> Result<String, String> {
        let cfg = self
            .cfg
            .as_ref()
            .ok_or_else(|| format!("{NO_ZONE}\nUse 'create' to begin configuring a new zone."))?;
        Ok(export_text(cfg))
    }

    /// What verify finds in the configuration being edited.
    pub fn findings(&self) -> Result<Findings, String> {
        let cfg = self
            .cfg
            .as_ref()
            .ok_or_else(|| format!("{NO_ZONE}\nUse 'create' to begin configuring a new zone."))?;
        Ok(jailfile::to_params(cfg).1)
    }

    fn verify_cmd(&mut self, _out: &mut dyn Write) -> Result<(), String> {
        let f = self.findings()?;
        report(&self.zone, &f)
    }

    fn commit(&mut self, _out: &mut dyn Write) -> Result<(), String> {
        if self.scope.is_some() {
            return Err("commit: not allowed in resource scope".to_string());
        }
        let cfg = self
            .cfg
            .as_ref()
            .ok_or_else(|| format!("{NO_ZONE}\nUse 'create' to begin configuring a new zone."))?;
        self.not_elsewhere()?;
        let (params, f) = jailfile::to_params(cfg);
        report(&self.zone, &f).map_err(|e| format!("{e}\n{}: commit not done", self.zone))?;
        let text = jailfile::jail_text(&self.zone, &params);
        // What is written must read back as this zone, or it is not written.
        crate::jailconf::Config::parse_str(&text, &self.file.display().to_string())
            .map_err(|e| format!("{e}\ncommit not done"))?;
        jailfile::write_atomic(&self.file, &text)?;
        self.saved = jailfile::read_zone(&self.file, &self.zone)?;
        self.cfg = self.saved.clone();
        Ok(())
    }

    /// Refuse to write a zone configured in a file not zonecfg's.
    fn not_elsewhere(&self) -> Result<(), String> {
        match &self.elsewhere {
            Some(at) => Err(format!(
                "Zone {} is configured in {at}, not by zonecfg: change it there",
                self.zone
            )),
            None => Ok(()),
        }
    }

    fn delete(&mut self, args: &[Token]) -> Result<(), String> {
        let force = flags(args, &["-F"])?.contains(&"-F".to_string());
        if self.saved.is_none() && self.cfg.is_none() {
            return Err(NO_ZONE.to_string());
        }
        // As illumos: only a zone that is merely configured is deleted.
        let path = self
            .saved
            .as_ref()
            .and_then(|c| c.global("zonepath"))
            .map(std::path::PathBuf::from);
        if let Some(p) = path
            && crate::tool::is_installed(&p)
        {
            return Err(format!(
                "Zone {z} is installed ({}): uninstall it first (zoneadm -z {z} uninstall)",
                p.display(),
                z = self.zone
            ));
        }
        if !force {
            if self.mode == Mode::Batch {
                return Err("delete: use delete -F when not at a terminal".to_string());
            }
            let q = format!("Are you sure you want to delete zone {}", self.zone);
            if !(self.ask)(&q) {
                return Ok(());
            }
        }
        match std::fs::remove_file(&self.file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(format!(
                    "{}: {}",
                    self.file.display(),
                    crate::tool::os_msg(&e)
                ));
            }
        }
        self.cfg = None;
        self.saved = None;
        Ok(())
    }
}

/// verify's findings: warnings printed, errors returned as one message.
fn report(zone: &str, f: &Findings) -> Result<(), String> {
    for w in &f.warnings {
        eprintln!("zonecfg:{zone}: warning: {w}");
    }
    if f.errors.is_empty() {
        Ok(())
    } else {
        Err(f.errors.join(&format!("\nzonecfg:{zone}: ")))
    }
}

/// The flags of a command, each one of `allowed`.
fn flags(args: &[Token], allowed: &[&str]) -> Result<Vec<String>, String> {
    args.iter()
        .map(|a| match a {
            Token::Word(w) if allowed.contains(&w.as_str()) => Ok(w.clone()),
            Token::Word(w) => Err(format!("syntax error at '{w}'")),
            _ => Err("syntax error".to_string()),
        })
        .collect()
}

/// `prop=value ...` of select, remove and info.
fn selectors(args: &[Token]) -> Result<Vec<(String, Val)>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match &args[i..] {
            [Token::Word(p), Token::Eq, Token::Word(v), ..] => {
                out.push((p.clone(), Val::Simple(v.clone())))
            }
            [Token::Word(p), Token::Eq, Token::Value(v), ..] => {
                let v = match v {
                    Val::Simple(s) if p == "value" => Val::List(vec![s.clone()]),
                    v => v.clone(),
                };
                out.push((p.clone(), v))
            }
            _ => return Err("syntax error: expected property=value".to_string()),
        }
        i += 3;
    }
    Ok(out)
}

fn info_res(r: &Res) -> String {
    let spec = res_spec(r.kind).expect("known resource");
    let mut o = format!("{}:\n", r.kind);
    for p in spec.props {
        match r.get(p) {
            None => o.push_str(&format!("\t{p} not specified\n")),
            Some(Val::List(l)) if *p == "value" => {
                for v in l {
                    o.push_str(&format!("\t{p}: {v}\n"));
                }
            }
            Some(v) => o.push_str(&format!("\t{p}: {}\n", show(v))),
        }
    }
    o
}

/// `export`'s text for a configuration.
pub fn export_text(cfg: &ZoneCfg) -> String {
    let mut o = String::from("create -b\n");
    for g in &GLOBALS[1..] {
        if let Some(v) = cfg.global(g) {
            o.push_str(&format!("set {g}={}\n", super::lex::quote(v)));
        }
    }
    for r in cfg.ordered() {
        o.push_str(&format!("add {}\n", r.kind));
        let spec = res_spec(r.kind).expect("known resource");
        for p in spec.props {
            match r.get(p) {
                None => {}
                Some(Val::List(l)) if *p == "value" => {
                    for v in l {
                        o.push_str(&format!("add value {v}\n"));
                    }
                }
                Some(v) => o.push_str(&format!("set {p}={}\n", show(v))),
            }
        }
        o.push_str("end\n");
    }
    o
}

const CREATE_USAGE: &str = "usage: create [-F] [ -a path | -b | -t template ]";

/// `help`'s text.
pub const HELP: &str = "\
The following commands are available:
\tadd RESOURCE\t\t(global scope) begin a resource: fs, net, anet, rctl, attr,
\t\t\t\tcapped-memory, capped-cpu, dedicated-cpu, device, dataset
\tadd PROPERTY VALUE\t(resource scope) add to a list: fs options, rctl value
\tcancel\t\t\tleave the resource scope, dropping its changes
\tclear PROPERTY\t\tunset a property
\tcommit\t\t\tverify and write the zone's file under jail.conf.d
\tcreate [-F] [-b | -t TEMPLATE]\tbegin a configuration (templates: SYSdefault,
\t\t\t\tSYSsparse, SYSblank, or another zone's name)
\tdelete [-F]\t\tremove the zone's configuration
\tend\t\t\tfinish the resource being edited
\texit [-F]\t\tcommit if needed and leave (-F: without committing)
\texport [-f FILE]\tprint the commands that recreate the configuration
\thelp\t\t\tthis text
\tinfo [RESOURCE [PROPERTY=VALUE]] | info PROPERTY\tshow the configuration
\tremove [-F] RESOURCE [PROPERTY=VALUE ...]\tremove resources
\trevert [-F]\t\tgo back to the last committed configuration
\tselect RESOURCE PROPERTY=VALUE ...\tchange a resource
\tset PROPERTY=VALUE\tset a property
\tverify\t\t\tcheck the configuration (names what has no Linux meaning)
Global properties: zonepath, brand (sparse, whole), autoboot, bootargs, pool,
limitpriv, scheduling-class, ip-type (shared, exclusive), hostid, fs-allowed.
";
