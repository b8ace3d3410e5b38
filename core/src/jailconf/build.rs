//! From sections to jails: wildcards, variables, types (FreeBSD's
//! load_config and add_param).
//!
//! Every block whose name has no wildcard component is a jail; the others
//! (`*`, `foo.*`, `*.bar`) and the statements outside blocks are wildcard
//! sections. A jail's parameters are, in order:
//!
//! 1. its name, implied by the block name (`name`; or `jid` when the name
//!    is all digits): it may not be redefined (`cannot redefine parameter`);
//! 2. the statements of every section that is the jail itself or a
//!    wildcard matching it, in file order. A statement about a parameter
//!    already present replaces its value where it stands (or appends to
//!    it with `+=`); the spelling last used is kept (`persist` then
//!    `nopersist` shows `nopersist`). So later definitions win.
//!
//! Then, per jail, each `$x` / `${x}` is replaced by the value of the
//! jail's parameter or variable `x` (variables are the `$x = ...;`
//! statements: they are dropped once used). A reference to nothing, a loop,
//! or a list inside a longer string is an error naming the jail, the
//! parameter and the place. Last, each parameter is typed by
//! [`crate::param::typed`]; a name that is in no table is kept as text and
//! listed as unknown (never enforced).

use super::parse::{Op, PStr, Piece, RawParam, Section};
use super::{Diag, Entry, Jail, Pos, select};
use crate::param::{self, ParamError, Params, Value};
use std::collections::{BTreeMap, HashMap};

/// The longest value a variable expansion may build (a guard against
/// files that double a string at each step).
const MAX_VALUE_LEN: usize = 1 << 20;
/// The most values one parameter may expand to.
const MAX_VALUES: usize = 1 << 16;
/// The deepest chain of variables referring to variables.
const MAX_VAR_DEPTH: usize = 200;

/// The key two statements share when they set the same parameter: the
/// canonical name (aliases and the `no` prefix resolved), else the name.
pub(crate) fn param_key(name: &str) -> String {
    match param::resolve(name) {
        Ok((spec, _)) => spec.name.to_string(),
        Err(ParamError::NotBool(_)) => {
            let (head, last) = match name.rsplit_once('.') {
                Some((h, l)) => (Some(h), l),
                None => (None, name),
            };
            let last = last.strip_prefix("no").unwrap_or(last);
            let positive = match head {
                Some(h) => format!("{h}.{last}"),
                None => last.to_string(),
            };
            param::lookup(&positive).map_or(positive, |s| s.name.to_string())
        }
        Err(_) => name.to_string(),
    }
}

/// A parameter (or variable) of one jail during the merge.
#[derive(Clone, Debug)]
struct Merged {
    name: String,
    key: String,
    var: bool,
    immutable: bool,
    values: Vec<PStr>,
    pos: Pos,
}

/// The merged parameters of one jail, with an index by key so that each
/// statement finds the parameter it changes in constant time.
#[derive(Default)]
struct MergedList {
    list: Vec<Merged>,
    by_key: HashMap<String, usize>,
}

impl MergedList {
    fn push(&mut self, m: Merged) {
        self.by_key.insert(m.key.clone(), self.list.len());
        self.list.push(m);
    }
}

fn add_param(jail: &str, merged: &mut MergedList, p: &RawParam) -> Result<(), Diag> {
    super::work::add(1);
    // A variable is keyed by its name as written, as jail(8) compares
    // them: `$root` is a variable of its own even though `root` is a
    // legacy alias of `path`. A parameter is keyed by its canonical name,
    // so `$path` and `path` still collide.
    let key = if p.var {
        p.name.clone()
    } else {
        param_key(&p.name)
    };
    if let Some(&i) = merged.by_key.get(&key) {
        let dp = &mut merged.list[i];
        if dp.var != p.var {
            return Err(Diag::jail(
                p.pos.clone(),
                jail,
                format!(
                    "variable \"${}\" cannot have the same name as a parameter.",
                    p.name
                ),
            ));
        }
        if dp.immutable {
            return Err(Diag::jail(
                p.pos.clone(),
                jail,
                format!("cannot redefine parameter \"{}\".", dp.name),
            ));
        }
        dp.name = p.name.clone();
        if p.op != Op::Append || p.values.is_empty() {
            dp.values.clear();
        }
        dp.values.extend(p.values.iter().cloned());
        dp.pos = p.pos.clone();
    } else {
        merged.push(Merged {
            name: p.name.clone(),
            key,
            var: p.var,
            immutable: false,
            values: p.values.clone(),
            pos: p.pos.clone(),
        });
    }
    Ok(())
}

#[derive(Clone)]
enum State {
    Todo,
    Busy,
    Done(Vec<Vec<u8>>),
    /// Its expansion failed (already reported).
    Failed,
}

struct Expander<'a> {
    jail: &'a str,
    list: &'a [Merged],
    by_key: &'a HashMap<String, usize>,
    state: Vec<State>,
}

impl Expander<'_> {
    /// `${var}`: a variable or parameter of exactly that name, else the
    /// parameter the name is an alias of.
    fn find(&self, var: &str) -> Option<usize> {
        self.by_key
            .get(var)
            .or_else(|| self.by_key.get(&param_key(var)))
            .copied()
    }

    /// Expand entry `i`; on failure mark it failed. `Err(None)`: it
    /// failed because something it uses failed (reported there).
    fn expand(&mut self, i: usize, depth: usize) -> Result<Vec<Vec<u8>>, Option<Diag>> {
        let r = self.expand_inner(i, depth);
        if r.is_err() {
            self.state[i] = State::Failed;
        }
        r
    }

    fn expand_inner(&mut self, i: usize, depth: usize) -> Result<Vec<Vec<u8>>, Option<Diag>> {
        match &self.state[i] {
            State::Done(v) => return Ok(v.clone()),
            State::Busy | State::Failed => return Err(None),
            State::Todo => {}
        }
        let list = self.list;
        let jail = self.jail;
        let m = &list[i];
        let err = |msg: String| Some(Diag::jail(m.pos.clone(), jail, msg));
        if depth > MAX_VAR_DEPTH {
            return Err(err(format!("{}: variables nested too deeply", m.name)));
        }
        self.state[i] = State::Busy;
        let mut out: Vec<Vec<u8>> = Vec::new();
        for s in &m.values {
            let lone_var = matches!(s.as_slice(), [Piece::Var(_)]);
            let mut text: Vec<u8> = Vec::new();
            let mut spliced = false;
            for piece in s {
                match piece {
                    Piece::Lit(l) => text.extend_from_slice(l),
                    Piece::Var(v) => {
                        let Some(t) = self.find(v) else {
                            return Err(err(format!("{}: variable \"{v}\" not found", m.name)));
                        };
                        match self.state[t] {
                            State::Busy => return Err(err(format!("{v}: variable loop"))),
                            State::Failed => return Err(None),
                            _ => {}
                        }
                        let vals = self.expand(t, depth + 1)?;
                        match vals.len() {
                            0 => {
                                return Err(err(format!("{}: variable \"{v}\" not found", m.name)));
                            }
                            1 => text.extend_from_slice(&vals[0]),
                            _ if lone_var => {
                                if out.len() + vals.len() > MAX_VALUES {
                                    return Err(err(format!("{}: too many values", m.name)));
                                }
                                out.extend(vals);
                                spliced = true;
                            }
                            _ => {
                                return Err(err(format!(
                                    "{}: array cannot be substituted inline",
                                    m.name
                                )));
                            }
                        }
                        if text.len() > MAX_VALUE_LEN {
                            return Err(err(format!("{}: value too long", m.name)));
                        }
                    }
                }
            }
            if !spliced {
                out.push(text);
            }
            if out.len() > MAX_VALUES {
                return Err(err(format!("{}: too many values", m.name)));
            }
        }
        self.state[i] = State::Done(out.clone());
        Ok(out)
    }
}

/// jail(2)'s "jailsys" parameters: `new`, `inherit` (and for some
/// `disable`), also written as booleans: `vnet;` is `vnet = new`,
/// `novnet;` is `vnet = inherit` (`noip4;` is `ip4 = disable`).
const JAILSYS: &[(&str, &str)] = &[
    ("vnet", "inherit"),
    ("host", "inherit"),
    ("ip4", "disable"),
    ("ip6", "disable"),
    ("sysvmsg", "disable"),
    ("sysvsem", "disable"),
    ("sysvshm", "disable"),
];

/// The name and values to type: a jailsys parameter written as a
/// boolean becomes its value.
fn jailsys_as_value(name: &str, key: &str, values: &[String]) -> Option<(String, Vec<String>)> {
    if !values.is_empty() {
        return None;
    }
    let (_, off) = JAILSYS.iter().find(|(k, _)| *k == key)?;
    let value = if name == key { "new" } else { off };
    Some((key.to_string(), vec![value.to_string()]))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Build one jail from the sections that apply to it (indices into
/// `sections`, in file order).
fn build_jail(
    name: &str,
    pos: &Pos,
    sections: &[Section],
    applies: &[usize],
) -> Result<Jail, Vec<Diag>> {
    let mut merged = MergedList::default();
    let numeric = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_digit())
        && name.bytes().any(|b| b != b'0');
    let implied = if numeric { "jid" } else { "name" };
    merged.push(Merged {
        name: implied.to_string(),
        key: implied.to_string(),
        var: false,
        immutable: true,
        values: vec![vec![Piece::Lit(name.as_bytes().to_vec())]],
        pos: pos.clone(),
    });
    let mut errors = Vec::new();
    for &s in applies {
        for p in &sections[s].params {
            if let Err(e) = add_param(name, &mut merged, p) {
                errors.push(e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let MergedList { list, by_key } = merged;

    // Expand every parameter and variable.
    let mut ex = Expander {
        jail: name,
        list: &list,
        by_key: &by_key,
        state: vec![State::Todo; list.len()],
    };
    let mut expanded: Vec<Vec<Vec<u8>>> = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        match ex.expand(i, 0) {
            Ok(v) => expanded.push(v),
            Err(e) => {
                errors.extend(e);
                expanded.push(Vec::new());
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // Type the parameters; drop the variables.
    let mut jail = Jail {
        name: name.to_string(),
        pos: pos.clone(),
        params: Params::new(),
        positions: BTreeMap::new(),
        entries: Vec::new(),
        unknown: Vec::new(),
    };
    for (m, vals) in list.iter().zip(expanded) {
        if m.var {
            continue;
        }
        let values: Vec<String> = vals.iter().map(|v| lossy(v)).collect();
        let typed = match jailsys_as_value(&m.name, &m.key, &values) {
            Some((n, v)) => param::typed(&n, &v),
            None => param::typed(&m.name, &values),
        };
        match typed {
            Ok((canon, v)) => {
                jail.params.0.insert(canon.to_string(), v);
                jail.positions.insert(canon.to_string(), m.pos.clone());
            }
            Err(ParamError::Unknown(_)) => {
                let v = match values.as_slice() {
                    [] => Value::Bool(true),
                    [one] => Value::Str(one.clone()),
                    _ => Value::List(values.clone()),
                };
                jail.params.0.insert(m.name.clone(), v);
                jail.positions.insert(m.name.clone(), m.pos.clone());
                jail.unknown.push(m.name.clone());
            }
            Err(e) => errors.push(Diag::jail(m.pos.clone(), name, e.to_string())),
        }
        jail.entries.push(Entry {
            name: m.name.clone(),
            key: m.key.clone(),
            values,
            pos: m.pos.clone(),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(jail)
}

/// Build every jail of the parse, in the order their blocks first appear.
///
/// A jail's own sections are found through an index by name; the
/// sections of one wildcard name are matched once per jail, not once per
/// section, and only the wildcard names that could match it are tried:
/// those whose first level is `*` or the jail's own first level. So the
/// work is linear in the file plus the statements each jail receives,
/// except for files with many distinct wildcard names that begin with
/// `*` (`*.x1`, `*.x2`, ...): those are tried against every jail.
pub(crate) fn build(
    sections: &[Section],
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Result<Vec<Jail>, Vec<Diag>> {
    // Each jail's own sections, in file order; jails in first-block order.
    let mut own: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<(&str, &Pos, Vec<usize>)> = Vec::new();
    // Each distinct wildcard name and its sections, in first-seen order.
    let mut wild_idx: HashMap<&str, usize> = HashMap::new();
    let mut wilds: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, s) in sections.iter().enumerate() {
        if select::is_wildcard(&s.name) {
            // An empty wildcard block gives nothing to anyone.
            if s.params.is_empty() {
                continue;
            }
            let w = *wild_idx.entry(&s.name).or_insert_with(|| {
                wilds.push((&s.name, Vec::new()));
                wilds.len() - 1
            });
            wilds[w].1.push(i);
        } else {
            let j = *own.entry(&s.name).or_insert_with(|| {
                names.push((&s.name, &s.pos, Vec::new()));
                names.len() - 1
            });
            names[j].2.push(i);
        }
    }
    // The wildcard names by their first level (`*` apart).
    let first = |n: &'_ str| n.split_once('.').map_or(n, |(f, _)| f).to_string();
    let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
    let mut star_first: Vec<usize> = Vec::new();
    for (w, (wname, _)) in wilds.iter().enumerate() {
        match first(wname) {
            f if f == "*" => star_first.push(w),
            f => by_first.entry(f).or_default().push(w),
        }
    }
    let mut jails = Vec::new();
    let mut errors = Vec::new();
    for (n, (name, pos, mine)) in names.into_iter().enumerate() {
        if n % 256 == 255 && cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed)) {
            return Err(vec![Diag::plain(super::parse::CANCELLED)]);
        }
        let mut applies = mine;
        let same_first = by_first.get(&first(name)).map_or(&[][..], Vec::as_slice);
        super::work::add(1 + same_first.len() + star_first.len());
        for &w in same_first.iter().chain(&star_first) {
            let (wname, idx) = &wilds[w];
            if select::wild_match(name, wname) {
                applies.extend_from_slice(idx);
            }
        }
        applies.sort_unstable();
        super::work::add(applies.len());
        match build_jail(name, pos, sections, &applies) {
            Ok(j) => jails.push(j),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(jails)
    } else {
        Err(errors)
    }
}
