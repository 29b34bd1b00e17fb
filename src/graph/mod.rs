//! The revision graph with alembic's semantics: building the map (labels, dependencies, heads,
//! bases, cycle checks, label inheritance). Identifier resolution lives in `resolve`, plans in
//! `plan`, drawing layout in `lanes`. Pure: no I/O.
//!
//! The reference is alembic's `RevisionMap` (alembic/script/revision.py); where alembic iterates a
//! Python `set` (an order that changes with the hash seed) we use load order, which is what
//! alembic's answers converge on in practice.

pub mod lanes;
pub mod plan;
pub mod resolve;

use std::collections::{HashMap, HashSet};
use std::fmt;

pub use plan::{Direction, Step};

/// Index of a revision in the map, in load order.
pub(crate) type Ix = u32;

/// One revision as the graph needs it, in load order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub id: String,
    pub down_revisions: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
}

/// A revision in the map, with its links resolved.
#[derive(Debug, Clone)]
pub struct Node {
    id: String,
    spec_index: usize,
    down: Vec<String>,
    declared_labels: Vec<String>,
    /// Declared plus inherited labels, as indices into the map's sorted label names.
    pub(crate) label_ids: Vec<u32>,
    declared_deps: Vec<String>,
    resolved_deps: Vec<String>,
    /// `down_revision` entries as map indices (a label there resolves like alembic's map lookup).
    pub(crate) down_ix: Vec<Ix>,
    pub(crate) resolved_deps_ix: Vec<Ix>,
    /// Dependencies not already declared by an ancestor (alembic's normalized dependencies).
    pub(crate) normalized_deps_ix: Vec<Ix>,
    /// dedupe(down + resolved deps): every edge downwards.
    pub(crate) all_down_ix: Vec<Ix>,
    /// dedupe(down + normalized deps): the edges used for ordering and ancestry "with deps".
    pub(crate) norm_down_ix: Vec<Ix>,
    /// Children through `down_revision` (alembic's `nextrev`), in load order.
    pub(crate) nextrev: Vec<Ix>,
    /// Children through `down_revision` or `depends_on` (alembic's `_all_nextrev`).
    pub(crate) all_nextrev: Vec<Ix>,
}

impl Node {
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Position of this revision's `NodeSpec` in the vector the map was built from.
    pub fn spec_index(&self) -> usize {
        self.spec_index
    }
    pub fn down_revisions(&self) -> &[String] {
        &self.down
    }
    /// `depends_on` resolved to revision ids (labels replaced by their revision), declared order.
    pub fn depends_on(&self) -> &[String] {
        &self.resolved_deps
    }
    /// `depends_on` as written in the file.
    pub fn declared_depends_on(&self) -> &[String] {
        &self.declared_deps
    }
    /// Branch labels declared by this revision's own file.
    pub fn declared_branch_labels(&self) -> &[String] {
        &self.declared_labels
    }
    pub fn is_head(&self) -> bool {
        self.nextrev.is_empty()
    }
    pub fn is_base(&self) -> bool {
        self.down.is_empty()
    }
    pub fn is_branch_point(&self) -> bool {
        self.nextrev.len() > 1
    }
    pub fn is_merge_point(&self) -> bool {
        self.down.len() > 1
    }
    pub(crate) fn is_real_branch_point(&self) -> bool {
        self.all_nextrev.len() > 1
    }
}

/// Things alembic only warns about; the caller decides how to show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphWarning {
    /// Two files declare the same revision id; the later one replaces the earlier.
    DuplicateRevision { revision: String },
}

impl fmt::Display for GraphWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphWarning::DuplicateRevision { revision } => write!(
                f,
                "revision {revision} is present more than once; the file loaded last wins"
            ),
        }
    }
}

/// Everything alembic refuses, one variant per kind of refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("revision id {revision:?} contains {chars:?}, which alembic does not allow in ids")]
    BadRevisionId { revision: String, chars: String },
    #[error("revision {revision} names itself as its down_revision")]
    SelfLoop { revision: String },
    #[error("revision {revision} names itself in depends_on")]
    SelfDependency { revision: String },
    #[error("branch label {label:?} of revision {revision} is already used by revision {used_by}")]
    BranchLabelConflict {
        label: String,
        revision: String,
        used_by: String,
    },
    #[error("revision {revision} depends on {dependency:?}, which is no revision or branch label")]
    UnknownDependency {
        revision: String,
        dependency: String,
    },
    #[error("revision {missing} referenced from {referenced_from} is not present")]
    MissingDownRevision {
        missing: String,
        referenced_from: String,
    },
    #[error("cycle detected in revisions: {}", revisions.join(", "))]
    CycleDetected { revisions: Vec<String> },
    #[error("dependency cycle detected in revisions: {}", revisions.join(", "))]
    DependencyCycleDetected { revisions: Vec<String> },
    #[error("no such revision or branch {ident:?}{}", if ident.len() < 4 { " (partial ids need at least four characters to match reliably)" } else { "" })]
    NoSuchRevision { ident: String },
    #[error("no such branch: {label:?}")]
    NoSuchBranch { label: String },
    #[error("multiple revisions start with {prefix:?}: {}", candidates.join(", "))]
    AmbiguousPrefix {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("multiple heads are present for {argument:?} ({}); name a revision, '<branch>@{argument}', or 'heads'", heads.join(", "))]
    MultipleHeads {
        argument: String,
        heads: Vec<String>,
    },
    #[error("revision {revision} is not a member of branch {branch:?}")]
    NotMemberOfBranch { revision: String, branch: String },
    #[error("ambiguous walk: more than one revision is one step away")]
    AmbiguousWalk,
    #[error("ambiguous upgrade from multiple current revisions")]
    AmbiguousUpgrade,
    #[error("relative revision {relative} didn't produce {steps} migrations")]
    RelativeNotProduced { relative: String, steps: u64 },
    #[error("{ident}: walking down from a head reaches the base before that many steps (alembic's show fails on it too)")]
    WalkedPastBase { ident: String },
    #[error("walked too far: {target:?} goes past the end of the history")]
    WalkedTooFar { target: String },
    #[error("requested revision {revision} overlaps with other requested revisions {}", others.join(", "))]
    Overlap {
        revision: String,
        others: Vec<String>,
    },
    #[error("requested range {lower}:{upper} does not refer to ancestor/descendant revisions along the same branch")]
    NotAncestor { lower: String, upper: String },
    #[error("destination {target} is not a valid downgrade target from current head(s)")]
    NotValidDowngradeTarget { target: String },
    #[error("destination {target} is not a valid upgrade target from current head(s)")]
    NotValidUpgradeTarget { target: String },
    #[error("the version table names {revision}, which no revision file defines")]
    UnknownCurrentRevision { revision: String },
    #[error("{what}: alembic stops here too (an internal assertion of its revision map)")]
    Unsupported { what: String },
}

/// What a map key names: alembic keeps revision ids and branch labels in one dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Rev(Ix),
    Label(Ix),
}

impl Key {
    pub(crate) fn ix(self) -> Ix {
        match self {
            Key::Rev(ix) | Key::Label(ix) => ix,
        }
    }
}

/// alembic's `RevisionMap`, built once from the revisions in load order.
#[derive(Debug, Clone)]
pub struct RevisionMap {
    pub(crate) nodes: Vec<Node>,
    pub(crate) keys: HashMap<String, Key>,
    /// Map keys in alembic's dictionary order: ids in load order, then labels.
    pub(crate) key_order: Vec<String>,
    pub(crate) heads: Vec<Ix>,
    pub(crate) real_heads: Vec<Ix>,
    pub(crate) bases: Vec<Ix>,
    /// Every declared branch label, sorted; nodes refer to them by index.
    pub(crate) label_names: Vec<String>,
}

/// Removes repeats, keeping the first occurrence (alembic's `dedupe_tuple`).
fn dedupe(items: impl IntoIterator<Item = Ix>) -> Vec<Ix> {
    let mut out: Vec<Ix> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

impl RevisionMap {
    /// Builds the map as alembic's `_revision_map` does, with its errors.
    pub fn new(specs: Vec<NodeSpec>) -> Result<(RevisionMap, Vec<GraphWarning>), GraphError> {
        let mut warnings = Vec::new();
        let mut nodes: Vec<Node> = Vec::with_capacity(specs.len());
        let mut keys: HashMap<String, Key> = HashMap::with_capacity(specs.len() * 2);
        let mut key_order: Vec<String> = Vec::with_capacity(specs.len());

        for (spec_index, spec) in specs.into_iter().enumerate() {
            check_spec(&spec)?;
            let node = Node {
                label_ids: Vec::new(),
                declared_labels: spec.branch_labels,
                id: spec.id,
                spec_index,
                down: spec.down_revisions,
                declared_deps: spec.depends_on,
                resolved_deps: Vec::new(),
                down_ix: Vec::new(),
                resolved_deps_ix: Vec::new(),
                normalized_deps_ix: Vec::new(),
                all_down_ix: Vec::new(),
                norm_down_ix: Vec::new(),
                nextrev: Vec::new(),
                all_nextrev: Vec::new(),
            };
            match keys.get(&node.id) {
                // alembic's ordered dict keeps the first position and takes the later value.
                Some(Key::Rev(ix)) => {
                    warnings.push(GraphWarning::DuplicateRevision {
                        revision: node.id.clone(),
                    });
                    nodes[*ix as usize] = node;
                }
                _ => {
                    let ix = nodes.len() as Ix;
                    keys.insert(node.id.clone(), Key::Rev(ix));
                    key_order.push(node.id.clone());
                    nodes.push(node);
                }
            }
        }

        // Labels become extra keys of the same map; a clash with any key is an error.
        for ix in 0..nodes.len() {
            for label in nodes[ix].declared_labels.clone() {
                if let Some(existing) = keys.get(&label) {
                    return Err(GraphError::BranchLabelConflict {
                        label,
                        revision: nodes[ix].id.clone(),
                        used_by: nodes[existing.ix() as usize].id.clone(),
                    });
                }
                keys.insert(label.clone(), Key::Label(ix as Ix));
                key_order.push(label);
            }
        }

        // depends_on entries are looked up as map keys: ids or labels, never prefixes.
        for node in &mut nodes {
            let mut resolved = Vec::with_capacity(node.declared_deps.len());
            for dep in &node.declared_deps {
                let key = keys.get(dep).ok_or_else(|| GraphError::UnknownDependency {
                    revision: node.id.clone(),
                    dependency: dep.clone(),
                })?;
                resolved.push(key.ix());
            }
            node.resolved_deps_ix = resolved;
        }
        for ix in 0..nodes.len() {
            let ids = nodes[ix]
                .resolved_deps_ix
                .iter()
                .map(|d| nodes[*d as usize].id.clone())
                .collect();
            nodes[ix].resolved_deps = ids;
        }

        // Link children; a down revision that is not a key is an error naming both ends.
        let mut is_head = vec![true; nodes.len()];
        let mut is_real_head = vec![true; nodes.len()];
        for ix in 0..nodes.len() {
            let mut down_ix = Vec::with_capacity(nodes[ix].down.len());
            for down in &nodes[ix].down {
                let key = keys
                    .get(down)
                    .ok_or_else(|| GraphError::MissingDownRevision {
                        missing: down.clone(),
                        referenced_from: nodes[ix].id.clone(),
                    })?;
                down_ix.push(key.ix());
            }
            let all_down = dedupe(
                down_ix
                    .iter()
                    .copied()
                    .chain(nodes[ix].resolved_deps_ix.iter().copied()),
            );
            for &parent in &all_down {
                let parent_id = nodes[parent as usize].id.clone();
                let versioned = nodes[ix].down.contains(&parent_id);
                let child = ix as Ix;
                let p = &mut nodes[parent as usize];
                if !p.all_nextrev.contains(&child) {
                    p.all_nextrev.push(child);
                }
                if versioned && !p.nextrev.contains(&child) {
                    p.nextrev.push(child);
                }
                if versioned {
                    is_head[parent as usize] = false;
                }
                is_real_head[parent as usize] = false;
            }
            // A down_revision naming a label reaches its revision as a dependency would.
            for (name, &d) in nodes[ix].down.clone().iter().zip(&down_ix) {
                if nodes[d as usize].id != *name {
                    is_head[d as usize] = false;
                }
            }
            nodes[ix].down_ix = down_ix;
            nodes[ix].all_down_ix = all_down;
        }

        let mut map = RevisionMap {
            nodes,
            keys,
            key_order,
            heads: Vec::new(),
            real_heads: Vec::new(),
            bases: Vec::new(),
            label_names: Vec::new(),
        };
        map.normalize_depends_on();
        let n = map.nodes.len() as Ix;
        map.heads = (0..n).filter(|&i| is_head[i as usize]).collect();
        map.real_heads = (0..n).filter(|&i| is_real_head[i as usize]).collect();
        map.bases = (0..n)
            .filter(|&i| map.nodes[i as usize].down.is_empty())
            .collect();
        map.detect_cycles()?;
        map.inherit_branch_labels();
        Ok((map, warnings))
    }

    /// Dependencies already declared by a down_revision ancestor do not count again.
    fn normalize_depends_on(&mut self) {
        for ix in 0..self.nodes.len() {
            if self.nodes[ix].resolved_deps_ix.is_empty() {
                // Deduplicated as alembic's is: `down_revision = ('c3', 'c3')` is one edge.
                self.nodes[ix].norm_down_ix = dedupe(self.nodes[ix].down_ix.iter().copied());
                continue;
            }
            let mut implied = vec![false; self.nodes.len()];
            for anc in self.walk(&[ix as Ix], |n| &n.down_ix) {
                if anc as usize == ix {
                    continue;
                }
                for &d in &self.nodes[anc as usize].resolved_deps_ix {
                    implied[d as usize] = true;
                }
            }
            let node = &self.nodes[ix];
            let normalized: Vec<Ix> = dedupe(
                node.resolved_deps_ix
                    .iter()
                    .copied()
                    .filter(|d| !implied[*d as usize]),
            );
            let norm_down = dedupe(
                node.down_ix
                    .iter()
                    .copied()
                    .chain(normalized.iter().copied()),
            );
            let node = &mut self.nodes[ix];
            node.normalized_deps_ix = normalized;
            node.norm_down_ix = norm_down;
        }
    }

    /// Revisions not reachable both from the heads and from the bases are on a cycle.
    fn detect_cycles(&self) -> Result<(), GraphError> {
        if self.nodes.is_empty() {
            return Ok(());
        }
        let all_ids = || self.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
        if self.heads.is_empty() || self.bases.is_empty() {
            return Err(GraphError::CycleDetected {
                revisions: all_ids(),
            });
        }
        let unreached = self.unreached(&self.heads, |n| &n.down_ix, &self.bases, |n| &n.nextrev);
        if !unreached.is_empty() {
            return Err(GraphError::CycleDetected {
                revisions: unreached,
            });
        }
        let real_bases: Vec<Ix> = (0..self.nodes.len() as Ix)
            .filter(|&i| {
                let n = &self.nodes[i as usize];
                n.down.is_empty() && n.declared_deps.is_empty()
            })
            .collect();
        if self.real_heads.is_empty() || real_bases.is_empty() {
            return Err(GraphError::DependencyCycleDetected {
                revisions: all_ids(),
            });
        }
        let unreached = self.unreached(
            &self.real_heads,
            |n| &n.all_down_ix,
            &real_bases,
            |n| &n.all_nextrev,
        );
        if !unreached.is_empty() {
            return Err(GraphError::DependencyCycleDetected {
                revisions: unreached,
            });
        }
        Ok(())
    }

    /// Sorted ids of revisions missing from (reached down from `tops`) ∩ (reached up from `roots`).
    fn unreached(
        &self,
        tops: &[Ix],
        down: impl Fn(&Node) -> &Vec<Ix>,
        roots: &[Ix],
        up: impl Fn(&Node) -> &Vec<Ix>,
    ) -> Vec<String> {
        let mut reached = vec![0u8; self.nodes.len()];
        for ix in self.walk(tops, down) {
            reached[ix as usize] |= 1;
        }
        for ix in self.walk(roots, up) {
            reached[ix as usize] |= 2;
        }
        let mut missing: Vec<String> = reached
            .iter()
            .enumerate()
            .filter(|(_, r)| **r != 3)
            .map(|(i, _)| self.nodes[i].id.clone())
            .collect();
        missing.sort();
        missing
    }

    /// Labels spread to descendants, and down from the last of them to the nearest branch or merge
    /// point (alembic's `_add_branches`). Label sets are bitsets while they spread: a revision
    /// passes on everything it carries at that moment, as alembic's does, and long histories
    /// with many labels would otherwise copy strings quadratically.
    fn inherit_branch_labels(&mut self) {
        let mut names: Vec<String> = self
            .nodes
            .iter()
            .flat_map(|n| n.declared_labels.iter().cloned())
            .collect();
        names.sort();
        names.dedup();
        let words = names.len().div_ceil(64);
        if words == 0 {
            return;
        }
        let mut bits = vec![0u64; words * self.nodes.len()];
        for (ix, node) in self.nodes.iter().enumerate() {
            for label in &node.declared_labels {
                if let Ok(id) = names.binary_search(label) {
                    bits[ix * words + id / 64] |= 1 << (id % 64);
                }
            }
        }
        let spread = |bits: &mut Vec<u64>, from: &[u64], to: Ix| {
            let at = to as usize * words;
            for (w, f) in bits[at..at + words].iter_mut().zip(from) {
                *w |= f;
            }
        };
        for ix in 0..self.nodes.len() {
            // Only revisions that declare labels spread them (alembic's `has_branch_labels`).
            if self.nodes[ix].declared_labels.is_empty() {
                continue;
            }
            let carried: Vec<u64> = bits[ix * words..(ix + 1) * words].to_vec();
            let descendants = self.walk(&[ix as Ix], |n| &n.nextrev);
            for &d in &descendants {
                spread(&mut bits, &carried, d);
            }
            let Some(&last) = descendants.last() else {
                continue;
            };
            let mut parent = last;
            loop {
                let node = &self.nodes[parent as usize];
                if node.is_real_branch_point() || node.is_merge_point() {
                    break;
                }
                spread(&mut bits, &carried, parent);
                match node.down_ix.first() {
                    Some(&down) => parent = down,
                    None => break,
                }
            }
        }
        for (ix, node) in self.nodes.iter_mut().enumerate() {
            let row = &bits[ix * words..(ix + 1) * words];
            node.label_ids = (0..names.len() as u32)
                .filter(|id| row[*id as usize / 64] & (1 << (id % 64)) != 0)
                .collect();
        }
        self.label_names = names;
    }

    /// Declared and inherited branch labels of `node`, sorted.
    pub fn branch_labels(&self, node: &Node) -> Vec<&str> {
        node.label_ids
            .iter()
            .map(|&id| self.label_names[id as usize].as_str())
            .collect()
    }

    /// Whether the revision carries `label`, declared or inherited.
    pub(crate) fn has_label(&self, ix: Ix, label: &str) -> bool {
        match self.label_names.binary_search_by(|n| n.as_str().cmp(label)) {
            Ok(id) => self.node(ix).label_ids.binary_search(&(id as u32)).is_ok(),
            Err(_) => false,
        }
    }

    /// alembic's `_iterate_related_revisions` for one walk: depth first with a LIFO stack, each
    /// revision once, in the order alembic yields them.
    pub(crate) fn walk(&self, targets: &[Ix], next: impl Fn(&Node) -> &Vec<Ix>) -> Vec<Ix> {
        let mut seen = vec![false; self.nodes.len()];
        let mut out = Vec::new();
        let mut todo: Vec<Ix> = Vec::new();
        for &target in targets {
            todo.push(target);
            while let Some(ix) = todo.pop() {
                if std::mem::replace(&mut seen[ix as usize], true) {
                    continue;
                }
                todo.extend(next(&self.nodes[ix as usize]).iter().copied());
                out.push(ix);
            }
        }
        out
    }

    pub(crate) fn node(&self, ix: Ix) -> &Node {
        &self.nodes[ix as usize]
    }

    pub(crate) fn ix_of(&self, id: &str) -> Option<Ix> {
        match self.keys.get(id) {
            Some(Key::Rev(ix)) => Some(*ix),
            _ => None,
        }
    }

    pub(crate) fn ids(&self, ixs: &[Ix]) -> Vec<String> {
        ixs.iter()
            .map(|&i| self.nodes[i as usize].id.clone())
            .collect()
    }

    /// Every revision above `rev` through `down_revision` links (all of them for `base`), `rev`
    /// excluded; empty for an unknown id.
    pub fn descendants_of(&self, rev: &str) -> HashSet<String> {
        if rev == "base" {
            return self.nodes.iter().map(|n| n.id.clone()).collect();
        }
        let Some(ix) = self.ix_of(rev) else {
            return HashSet::new();
        };
        let starts = self.node(ix).nextrev.clone();
        self.ids(&self.walk(&starts, |n| &n.nextrev))
            .into_iter()
            .collect()
    }

    /// Every revision below any of `revs` through `down_revision` links, the `revs` themselves
    /// excluded unless one lies below another.
    pub fn strict_ancestors_of(&self, revs: &[&str]) -> HashSet<String> {
        let starts: Vec<Ix> = revs
            .iter()
            .filter_map(|r| self.ix_of(r))
            .flat_map(|ix| self.node(ix).down_ix.iter().copied())
            .collect();
        self.ids(&self.walk(&starts, |n| &n.down_ix))
            .into_iter()
            .collect()
    }

    /// Is `ancestor` below `rev` through `down_revision` links, or `rev` itself?
    pub fn is_ancestor(&self, ancestor: &str, rev: &str) -> bool {
        ancestor == rev || self.strict_ancestors_of(&[rev]).contains(ancestor)
    }

    /// Every revision in load order.
    pub fn revisions(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Node> {
        self.ix_of(id).map(|ix| self.node(ix))
    }

    /// The revisions whose down_revision names `node`, in load order.
    pub fn children(&self, node: &Node) -> Vec<&str> {
        node.nextrev.iter().map(|&c| self.node(c).id()).collect()
    }

    /// Heads over down_revision edges, in load order (`alembic heads`).
    pub fn heads(&self) -> Vec<&str> {
        self.heads.iter().map(|&i| self.node(i).id()).collect()
    }

    /// Heads that no other revision depends on (what `heads` means as an upgrade target).
    pub fn real_heads(&self) -> Vec<&str> {
        self.real_heads.iter().map(|&i| self.node(i).id()).collect()
    }

    /// Revisions without a down_revision, in load order.
    pub fn bases(&self) -> Vec<&str> {
        self.bases.iter().map(|&i| self.node(i).id()).collect()
    }
}

/// The checks alembic's `Revision.__init__` makes on one file's header.
fn check_spec(spec: &NodeSpec) -> Result<(), GraphError> {
    if spec.down_revisions.contains(&spec.id) {
        return Err(GraphError::SelfLoop {
            revision: spec.id.clone(),
        });
    }
    if spec.depends_on.contains(&spec.id) {
        return Err(GraphError::SelfDependency {
            revision: spec.id.clone(),
        });
    }
    let mut bad: Vec<char> = spec
        .id
        .chars()
        .filter(|c| matches!(c, '@' | '-' | '+' | ':'))
        .collect();
    if !bad.is_empty() {
        bad.sort_unstable();
        bad.dedup();
        return Err(GraphError::BadRevisionId {
            revision: spec.id.clone(),
            chars: bad.into_iter().collect(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn spec(id: &str, down: &[&str]) -> NodeSpec {
        NodeSpec {
            id: id.into(),
            down_revisions: down.iter().map(|s| s.to_string()).collect(),
            branch_labels: vec![],
            depends_on: vec![],
        }
    }

    #[test]
    fn labels_are_inherited_along_a_linear_branch_down_to_the_branch_point() {
        let mut b1 = spec("b1", &["a"]);
        b1.branch_labels = vec!["feature".into()];
        let (map, _) = RevisionMap::new(vec![
            spec("a", &[]),
            spec("m", &["a"]),
            b1,
            spec("b2", &["b1"]),
        ])
        .unwrap();
        assert_eq!(map.branch_labels(map.get("b2").unwrap()), ["feature"]);
        assert_eq!(map.branch_labels(map.get("b1").unwrap()), ["feature"]);
        // a is a branch point: the walk down stops before it.
        assert!(map.branch_labels(map.get("a").unwrap()).is_empty());
    }

    #[test]
    fn missing_down_revision_names_both_revisions() {
        let err = RevisionMap::new(vec![spec("a", &[]), spec("b", &["zzz"])]).unwrap_err();
        assert_eq!(
            err,
            GraphError::MissingDownRevision {
                missing: "zzz".into(),
                referenced_from: "b".into()
            }
        );
    }

    #[test]
    fn cycles_are_detected() {
        let err = RevisionMap::new(vec![
            spec("a", &[]),
            spec("b", &["a", "c"]),
            spec("c", &["b"]),
            spec("d", &["a"]),
        ])
        .unwrap_err();
        assert!(matches!(err, GraphError::CycleDetected { .. }), "{err}");
    }

    #[test]
    fn duplicate_ids_warn_and_the_later_file_wins() {
        let (map, warnings) =
            RevisionMap::new(vec![spec("a", &[]), spec("b", &["a"]), spec("b", &[])]).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(map.get("b").unwrap().is_base());
        assert_eq!(map.get("b").unwrap().spec_index(), 2);
    }

    #[test]
    fn a_parent_named_twice_is_one_edge_and_history_ends() {
        // alembic prints `c3, c3 -> d (head) (mergepoint)` and walks c3 once.
        let (map, _) = RevisionMap::new(vec![
            spec("a", &[]),
            spec("c3", &["a"]),
            spec("d", &["c3", "c3"]),
        ])
        .unwrap();
        let order: Vec<&str> = map
            .history(None, None)
            .unwrap()
            .iter()
            .map(|n| n.id())
            .collect();
        assert_eq!(order, ["d", "c3", "a"]);
        assert!(map.get("d").unwrap().is_merge_point());
        assert!(!map.get("c3").unwrap().is_branch_point());
    }

    #[test]
    fn a_ten_thousand_long_chain_builds_without_recursion() {
        let mut specs = vec![spec("r0", &[])];
        for i in 1..10_000 {
            specs.push(spec(&format!("r{i}"), &[&format!("r{}", i - 1)]));
        }
        let (map, _) = RevisionMap::new(specs).unwrap();
        assert_eq!(map.heads(), ["r9999"]);
    }
}
