//! Which jails a command names, and in which order to act on them.
//!
//! Names are dotted paths (`foo.bar` is `bar` inside `foo`). A name is a
//! wildcard when one of its components is exactly `*`. A non-final `*`
//! matches one component; a final `*` matches one or more, so `foo.*`
//! matches `foo.bar` and `foo.bar.baz` but not `foo`, and `*` matches all
//! (jail(8)'s wild_jail_match).
//!
//! Order: a jail depends on the jails its `depend` parameter names and on
//! its parent (`a` for `a.b`) when the parent is configured. Creation runs
//! dependencies first; removal runs dependents first. A dependency cycle
//! or a `depend` on a jail that is not configured is an error.

use super::{Config, Diag};
use std::collections::HashMap;

/// Does this block name have a wildcard component?
pub fn is_wildcard(name: &str) -> bool {
    name.split('.').any(|c| c == "*")
}

/// jail(8)'s matching of a jail name against a wildcard name.
pub fn wild_match(jail: &str, wild: &str) -> bool {
    let mut j = jail;
    let mut w = wild;
    loop {
        match (j.split_once('.'), w.split_once('.')) {
            (Some((jc, jr)), Some((wc, wr))) => {
                if jc != wc && wc != "*" {
                    return false;
                }
                j = jr;
                w = wr;
            }
            _ => return j == w || w == "*",
        }
    }
}

/// The jails a command line names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Indices into [`Config::jails`], in configuration order.
    pub jails: Vec<usize>,
    /// Plain names (not wildcards) that no configured jail has: for `-r`
    /// these may still name running jails; otherwise they are errors
    /// (jail(8): `"NAME" not found`).
    pub missing: Vec<String>,
}

impl Config {
    /// Resolve the targets of a command as jail(8) does: no target (or
    /// `*`) is every configured jail; a wildcard selects the jails it
    /// matches; a name selects that jail, and an all-digit name that is no
    /// jail's name selects the jail configured with that `jid`.
    pub fn select<S: AsRef<str>>(&self, targets: &[S]) -> Selection {
        let mut sel = Selection::default();
        let mut chosen = vec![false; self.jails.len()];
        if targets.is_empty() {
            chosen.iter_mut().for_each(|c| *c = true);
        }
        for t in targets {
            let t = t.as_ref();
            if is_wildcard(t) {
                for (i, j) in self.jails.iter().enumerate() {
                    if wild_match(&j.name, t) {
                        chosen[i] = true;
                    }
                }
            } else if let Some(i) = self.find(t) {
                chosen[i] = true;
            } else if !sel.missing.iter().any(|m| m == t) {
                sel.missing.push(t.to_string());
            }
        }
        sel.jails = (0..self.jails.len()).filter(|&i| chosen[i]).collect();
        sel
    }

    /// The index of the jail with this name (or, for an all-digit name,
    /// this jid).
    pub fn find(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.jails.iter().position(|j| j.name == name) {
            return Some(i);
        }
        let jid: i64 = name.parse().ok().filter(|&n| n > 0)?;
        self.jails
            .iter()
            .position(|j| j.params.int("jid") == Some(jid))
    }

    /// The jails each jail depends on (indices), explicit `depend` first,
    /// then the parent.
    pub fn dependencies(&self, i: usize) -> Vec<usize> {
        self.deps_in(&NameIndex::new(self), i)
    }

    /// [`Config::dependencies`] with a name index built once, so that the
    /// dependencies of every jail cost time linear in the file, not the
    /// square of its jails.
    fn deps_in(&self, ix: &NameIndex, i: usize) -> Vec<usize> {
        let j = &self.jails[i];
        super::work::add(1);
        let mut deps = Vec::new();
        for d in j.params.list("depend") {
            if let Some(k) = ix.find(&d)
                && k != i
                && !deps.contains(&k)
            {
                deps.push(k);
            }
        }
        if let Some((parent, _)) = j.name.rsplit_once('.')
            && let Some(&k) = ix.by_name.get(parent)
            && !deps.contains(&k)
        {
            deps.push(k);
        }
        deps
    }

    /// [`Config::dependencies`] of every jail, by index.
    pub fn all_dependencies(&self) -> Vec<Vec<usize>> {
        let ix = NameIndex::new(self);
        (0..self.jails.len())
            .map(|i| self.deps_in(&ix, i))
            .collect()
    }

    /// Check that every `depend` names a configured jail and that there is
    /// no cycle.
    pub(crate) fn check_dependencies(&self) -> Vec<Diag> {
        let mut errors = Vec::new();
        let ix = NameIndex::new(self);
        for j in &self.jails {
            for d in j.params.list("depend") {
                if ix.find(&d).is_none() {
                    let pos = j.positions.get("depend").unwrap_or(&j.pos).clone();
                    errors.push(Diag::jail(
                        pos,
                        &j.name,
                        format!("depends on undefined jail \"{d}\""),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return errors;
        }
        // Depth-first search for a cycle (iterative: files may be large).
        let n = self.jails.len();
        let deps = self.all_dependencies();
        let mut color = vec![0u8; n]; // 0 white, 1 on the stack, 2 done
        for start in 0..n {
            if color[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            color[start] = 1;
            while let Some(&mut (v, ref mut k)) = stack.last_mut() {
                if let Some(&w) = deps[v].get(*k) {
                    *k += 1;
                    match color[w] {
                        0 => {
                            color[w] = 1;
                            stack.push((w, 0));
                        }
                        1 => {
                            let j = &self.jails[w];
                            let pos = j.positions.get("depend").unwrap_or(&j.pos).clone();
                            errors.push(Diag::jail(pos, &j.name, "dependency loop"));
                            return errors;
                        }
                        _ => {}
                    }
                } else {
                    color[v] = 2;
                    stack.pop();
                }
            }
        }
        errors
    }

    /// The order to create `selected` in: with every jail they depend on
    /// (transitively), dependencies first, otherwise in configuration
    /// order. The caller skips jails that already run.
    pub fn create_order(&self, selected: &[usize]) -> Vec<usize> {
        self.closure_order(selected, &self.all_dependencies())
    }

    /// The order to remove `selected` in: with every jail that depends on
    /// them (transitively), dependents first.
    pub fn remove_order(&self, selected: &[usize]) -> Vec<usize> {
        let n = self.jails.len();
        let mut rdeps: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, deps) in self.all_dependencies().into_iter().enumerate() {
            for d in deps {
                rdeps[d].push(i);
            }
        }
        self.closure_order(selected, &rdeps)
    }

    /// The closure of `selected` under `edges`, each jail after the jails
    /// its edges lead to (a post-order, roots in configuration order).
    fn closure_order(&self, selected: &[usize], edges: &[Vec<usize>]) -> Vec<usize> {
        let n = self.jails.len();
        let mut want: Vec<usize> = selected.iter().copied().filter(|&i| i < n).collect();
        want.sort_unstable();
        want.dedup();
        let mut done = vec![false; n];
        let mut on_stack = vec![false; n];
        let mut out = Vec::new();
        for start in want {
            if done[start] {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            on_stack[start] = true;
            while let Some(&mut (v, ref mut k)) = stack.last_mut() {
                if let Some(&w) = edges[v].get(*k) {
                    *k += 1;
                    if !done[w] && !on_stack[w] {
                        on_stack[w] = true;
                        stack.push((w, 0));
                    }
                } else {
                    stack.pop();
                    on_stack[v] = false;
                    done[v] = true;
                    out.push(v);
                }
            }
        }
        out
    }
}

/// The jails by name and by jid, as [`Config::find`] resolves them.
struct NameIndex<'a> {
    by_name: HashMap<&'a str, usize>,
    by_jid: HashMap<i64, usize>,
}

impl<'a> NameIndex<'a> {
    fn new(cfg: &'a Config) -> NameIndex<'a> {
        let mut ix = NameIndex {
            by_name: HashMap::with_capacity(cfg.jails.len()),
            by_jid: HashMap::new(),
        };
        for (i, j) in cfg.jails.iter().enumerate() {
            ix.by_name.entry(&j.name).or_insert(i);
            if let Some(jid) = j.params.int("jid") {
                ix.by_jid.entry(jid).or_insert(i);
            }
        }
        ix
    }

    fn find(&self, name: &str) -> Option<usize> {
        if let Some(&i) = self.by_name.get(name) {
            return Some(i);
        }
        let jid: i64 = name.parse().ok().filter(|&n| n > 0)?;
        self.by_jid.get(&jid).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_jail_8() {
        assert!(wild_match("foo.bar", "foo.*"));
        assert!(wild_match("foo.bar.baz", "foo.*"));
        assert!(!wild_match("foo", "foo.*"));
        assert!(wild_match("anything.at.all", "*"));
        assert!(wild_match("a.x", "*.x"));
        assert!(!wild_match("a.b.x", "*.x"));
        assert!(wild_match("a.b.c", "a.*.c"));
        assert!(!wild_match("a.b", "a.*.c"));
        assert!(!wild_match("foobar", "foo*"));
        assert!(is_wildcard("*") && is_wildcard("foo.*") && is_wildcard("*.x"));
        assert!(!is_wildcard("foo*") && !is_wildcard("www"));
    }
}
