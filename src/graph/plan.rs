//! Upgrade and downgrade plans as alembic computes them: which revisions run
//! (`_collect_upgrade_revisions` / `_collect_downgrade_revisions`), in which order
//! (`_topological_sort`), and how each step changes the version table (`HeadMaintainer`).

use std::collections::BTreeSet;

use crate::graph::resolve::{parse_relative, Pos};
use crate::graph::{GraphError, Ix, RevisionMap};

/// Which function of a revision a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

/// One migration step with the version table's rows around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub direction: Direction,
    /// The revision whose `upgrade()` or `downgrade()` runs.
    pub revision: String,
    /// The version table's rows before the step, sorted.
    pub heads_before: Vec<String>,
    /// The rows after the step, sorted.
    pub heads_after: Vec<String>,
}

/// A set of revisions, dense over the map.
type Set = Vec<bool>;

impl RevisionMap {
    /// The steps of `alembic upgrade TARGET` from the version table rows `current`.
    pub fn plan_upgrade(&self, current: &[String], target: &str) -> Result<Vec<Step>, GraphError> {
        self.check_current_rows(current)?;
        let (needs, targets) = self.collect_upgrade(current, target)?;
        let mut order = self.topological_sort(&needs, &targets);
        order.reverse();
        self.steps(Direction::Upgrade, &order, current)
    }

    /// The steps of `alembic downgrade TARGET` from the version table rows `current`.
    pub fn plan_downgrade(
        &self,
        current: &[String],
        target: &str,
    ) -> Result<Vec<Step>, GraphError> {
        self.check_current_rows(current)?;
        let (drop, heads) = self.collect_downgrade(current, target)?;
        let order = self.topological_sort(&drop, &heads);
        self.steps(Direction::Downgrade, &order, current)
    }

    /// Every row of the version table must name a revision; one that no file defines is named.
    fn check_current_rows(&self, current: &[String]) -> Result<(), GraphError> {
        for row in current {
            match self.get_revisions(row) {
                Ok(_) => {}
                Err(GraphError::NoSuchRevision { .. }) => {
                    return Err(GraphError::UnknownCurrentRevision {
                        revision: row.clone(),
                    })
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    /// Revisions only, as alembic's `is_revision` asserts; anything else is a refusal.
    fn require_revisions(
        &self,
        found: Vec<Option<Pos>>,
        target: &str,
    ) -> Result<Vec<Ix>, GraphError> {
        found
            .into_iter()
            .map(|p| match p {
                Some(Pos::Rev(ix)) => Ok(ix),
                Some(Pos::Base) | None => Err(GraphError::WalkedTooFar {
                    target: target.to_owned(),
                }),
            })
            .collect()
    }

    /// alembic's `_parse_upgrade_target`.
    fn parse_upgrade_target(
        &self,
        current: &[String],
        target: &str,
    ) -> Result<Vec<Option<Pos>>, GraphError> {
        let Some(rel) = parse_relative(target) else {
            return self.get_revisions(target);
        };
        if rel.steps > 0 {
            let Some(symbol) = rel.symbol else {
                // Start from the current rows (narrowed to the branch), or from nothing.
                let mut starts: Vec<Option<Ix>> = if current.is_empty() {
                    vec![None]
                } else {
                    // Rows are compared as alembic compares them: as identifiers.
                    let mut rows = Vec::new();
                    for row in current {
                        rows.push(self.get_revision(row)?);
                    }
                    rows
                };
                if let Some(branch) = rel.branch.filter(|b| !b.is_empty()) {
                    let rows = self.require_revisions(self.get_revisions_of(current)?, target)?;
                    let on_branch = self.filter_for_lineage(&rows, branch, false)?;
                    starts = if on_branch.is_empty() {
                        let ancestors = self.walk(&rows, |n| &n.norm_down_ix);
                        let active = self.filter_for_lineage(&ancestors, branch, false)?;
                        let below: BTreeSet<Ix> = active
                            .iter()
                            .flat_map(|&a| self.node(a).norm_down_ix.iter().copied())
                            .collect();
                        let tips: BTreeSet<Ix> =
                            active.into_iter().filter(|a| !below.contains(a)).collect();
                        if tips.is_empty() {
                            vec![None]
                        } else {
                            tips.into_iter().map(Some).collect()
                        }
                    } else {
                        on_branch.into_iter().map(Some).collect()
                    };
                }
                if starts.len() > 1 {
                    return Err(GraphError::AmbiguousUpgrade);
                }
                let start = starts.first().copied().flatten().map(Pos::Rev);
                let landed = self.walk_steps(start, rel.steps, rel.branch, true)?;
                return match landed {
                    None => Err(GraphError::RelativeNotProduced {
                        relative: rel.relative.to_owned(),
                        steps: rel.steps.unsigned_abs(),
                    }),
                    some => Ok(vec![some]),
                };
            };
            let start = self.get_revision(symbol)?.map(Pos::Rev);
            return Ok(vec![self.walk_steps(start, rel.steps, rel.branch, true)?]);
        }
        let Some(symbol) = rel.symbol else {
            return Err(GraphError::RelativeNotProduced {
                relative: rel.steps.to_string(),
                steps: rel.steps.unsigned_abs(),
            });
        };
        let start = match rel.branch {
            None => self.get_revision(symbol)?,
            Some(branch) => self.get_revision(&format!("{branch}@{symbol}"))?,
        };
        Ok(vec![self.walk_steps(
            start.map(Pos::Rev),
            rel.steps,
            None,
            true,
        )?])
    }

    /// alembic's `_parse_downgrade_target`: (branch label, target; `None` = base).
    fn parse_downgrade_target(
        &self,
        current: &[String],
        target: &str,
    ) -> Result<(Option<String>, Option<Pos>), GraphError> {
        if let Some(rel) = parse_relative(target) {
            if rel.steps >= 0 {
                let Some(symbol) = rel.symbol else {
                    return Err(GraphError::RelativeNotProduced {
                        relative: rel.relative.to_owned(),
                        steps: rel.steps.unsigned_abs(),
                    });
                };
                let start = self.get_revision(symbol)?.map(Pos::Rev);
                return match self.walk_steps(start, rel.steps, rel.branch, true)? {
                    None => Err(GraphError::WalkedTooFar {
                        target: target.to_owned(),
                    }),
                    some => Ok((rel.branch.map(str::to_owned), some)),
                };
            }
            let relative_to_current = rel.symbol.is_none();
            let mut branch = rel.branch.map(str::to_owned);
            let symbol: String = match rel.symbol {
                Some(symbol) => symbol.to_owned(),
                None => match branch.as_deref().filter(|b| !b.is_empty()) {
                    Some(label) => {
                        let rows =
                            self.require_revisions(self.get_revisions_of(current)?, target)?;
                        let mut on_branch = self.filter_for_lineage(&rows, label, false)?;
                        if on_branch.is_empty() {
                            let all_current = self.all_current(&rows);
                            on_branch = self.filter_for_lineage(&all_current, label, false)?;
                        }
                        match on_branch.as_slice() {
                            [one] => self.node(*one).id().to_owned(),
                            _ => {
                                return Err(GraphError::Unsupported {
                                    what: format!(
                                        "{target}: the current revisions do not name exactly one revision on branch {label}"
                                    ),
                                })
                            }
                        }
                    }
                    None => {
                        let Some(first) = current.first() else {
                            return Err(GraphError::RelativeNotProduced {
                                relative: rel.relative.to_owned(),
                                steps: rel.steps.unsigned_abs(),
                            });
                        };
                        // alembic warns that this is ambiguous with several rows, then takes
                        // the first row and confines the walk to its branch.
                        branch = Some(first.clone());
                        first.clone()
                    }
                },
            };
            let start = match branch.as_deref() {
                None => self.get_revision(&symbol)?,
                Some(b) => self.get_revision(&format!("{b}@{symbol}"))?,
            };
            return match self.walk_steps(start.map(Pos::Rev), rel.steps, None, true)? {
                None if relative_to_current => Err(GraphError::RelativeNotProduced {
                    relative: rel.relative.to_owned(),
                    steps: rel.steps.unsigned_abs(),
                }),
                None => Err(GraphError::WalkedTooFar {
                    target: target.to_owned(),
                }),
                some => Ok((branch, some)),
            };
        }
        let (branch, symbol) = match target.rfind('@') {
            Some(at) => (Some(&target[..at]), &target[at + 1..]),
            None => (None, target),
        };
        let branch = branch.filter(|b| !b.is_empty()).map(str::to_owned);
        Ok((branch, self.get_revision(symbol)?.map(Pos::Rev)))
    }

    /// alembic's `_get_all_current`: the rows plus their ancestors, reduced to branch tips.
    fn all_current(&self, rows: &[Ix]) -> Vec<Ix> {
        let top = self.walk(rows, |n| &n.norm_down_ix);
        let in_top = self.set_of(&top);
        // alembic keeps the rows of `top` none of whose descendants are in `top`. `top` is
        // closed under down_revision (norm_down_ix holds every down_ix), so a descendant in
        // `top` puts the child on its way there in `top` too: checking the children is the same
        // test in one step per edge, instead of a walk per row (O(n²) on long histories).
        let mut tips: Vec<Ix> = top
            .iter()
            .copied()
            .filter(|&r| {
                self.node(r)
                    .nextrev
                    .iter()
                    .all(|&c| c == r || !in_top[c as usize])
            })
            .collect();
        tips.sort_unstable();
        tips
    }

    fn set_of(&self, items: &[Ix]) -> Set {
        let mut set = vec![false; self.nodes.len()];
        for &i in items {
            set[i as usize] = true;
        }
        set
    }

    /// alembic's `_iterate_related_revisions` with `check=True`: also refuses targets that are
    /// ancestors (or descendants) of one another.
    fn ancestors_checked(&self, targets: &[Ix]) -> Result<Vec<Ix>, GraphError> {
        let mut seen = vec![false; self.nodes.len()];
        let mut out = Vec::new();
        for &target in targets {
            let mut todo = vec![target];
            let mut reached: Vec<Ix> = Vec::new();
            while let Some(ix) = todo.pop() {
                reached.push(ix);
                if std::mem::replace(&mut seen[ix as usize], true) {
                    continue;
                }
                todo.extend(self.node(ix).norm_down_ix.iter().copied());
                out.push(ix);
            }
            let mut others: Vec<String> = reached
                .iter()
                .copied()
                .filter(|r| *r != target && targets.contains(r))
                .map(|r| self.node(r).id().to_owned())
                .collect();
            if !others.is_empty() {
                others.sort();
                others.dedup();
                return Err(GraphError::Overlap {
                    revision: self.node(target).id().to_owned(),
                    others,
                });
            }
        }
        Ok(out)
    }

    /// alembic's `_collect_upgrade_revisions` with `implicit_base=True`, as `upgrade` uses it.
    fn collect_upgrade(
        &self,
        current: &[String],
        target: &str,
    ) -> Result<(Set, Vec<Ix>), GraphError> {
        let targets =
            self.require_revisions(self.parse_upgrade_target(current, target)?, target)?;
        let mut required = self.set_of(&self.ancestors_checked(&targets)?);
        for &t in &targets {
            required[t as usize] = true;
        }
        let rows = self.require_revisions(self.get_revisions_of(current)?, target)?;
        for ix in self.ancestors_checked(&rows)?.into_iter().chain(rows) {
            required[ix as usize] = false;
        }
        Ok((required, targets))
    }

    /// `alembic history -r LOWER:UPPER` (None: base / heads): alembic's `walk_revisions`, i.e.
    /// `iterate_revisions(upper, lower, inclusive=True)` without an implicit base, newest first.
    pub fn history(
        &self,
        lower: Option<&str>,
        upper: Option<&str>,
    ) -> Result<Vec<&crate::graph::Node>, GraphError> {
        let lower = lower.map(|l| vec![l.to_owned()]);
        let upper = upper.map(|u| vec![u.to_owned()]);
        self.history_between(lower.as_deref(), upper.as_deref())
    }

    /// `history` with a side given as several identifiers: `current` on a database at several
    /// revisions, which alembic passes on as the tuple of its rows. An empty side is base / heads,
    /// as alembic's `base or "base"` makes it.
    pub fn history_between(
        &self,
        lower: Option<&[String]>,
        upper: Option<&[String]>,
    ) -> Result<Vec<&crate::graph::Node>, GraphError> {
        let side = |s: Option<&[String]>, default: &str| match s {
            Some(s) if !s.is_empty() => s.to_vec(),
            _ => vec![default.to_owned()],
        };
        let lower_ids = side(lower, "base");
        let upper_ids = side(upper, "heads");
        let lower = lower_ids.join(", ");
        let upper = upper_ids.join(", ");
        let mut targets = match upper_ids.as_slice() {
            [one] => self.require_revisions(self.parse_upgrade_target(&lower_ids, one)?, one)?,
            many => self.require_revisions(self.get_revisions_of(many)?, &upper)?,
        };
        // `label@…` as the lower end keeps only targets on that branch.
        if let (Some((branch, _)), [_]) = (lower.split_once('@'), lower_ids.as_slice()) {
            let mut label = branch.to_owned();
            if let Some(rev) = self.get_revision(branch)? {
                let node = self.node(rev);
                if node.id() == branch {
                    match self.branch_labels(node).as_slice() {
                        [only] => label = (*only).to_owned(),
                        _ => {
                            return Err(GraphError::Unsupported {
                                what: format!("{branch} does not carry exactly one branch label"),
                            })
                        }
                    }
                }
            }
            targets.retain(|t| self.has_label(*t, &label));
        }
        let mut needs = self.set_of(&self.ancestors_checked(&targets)?);
        for &t in &targets {
            needs[t as usize] = true;
        }
        let rows = self.require_revisions(self.get_revisions_of(&lower_ids)?, &lower)?;
        if rows.iter().any(|r| !needs[*r as usize]) {
            return Err(GraphError::NotAncestor { lower, upper });
        }
        for ix in self.ancestors_checked(&rows)? {
            needs[ix as usize] = false;
        }
        // inclusive: the lower end itself is shown.
        for &r in &rows {
            needs[r as usize] = true;
        }
        if !rows.is_empty() {
            let below = self.set_of(&self.walk(&rows, |n| &n.nextrev));
            for (i, need) in needs.iter_mut().enumerate() {
                *need = *need && below[i];
            }
        }
        Ok(self
            .topological_sort(&needs, &targets)
            .into_iter()
            .map(|ix| self.node(ix))
            .collect())
    }

    /// alembic's `_collect_downgrade_revisions` (`implicit_base=False`, as `downgrade` uses it).
    fn collect_downgrade(
        &self,
        current: &[String],
        target: &str,
    ) -> Result<(Set, Vec<Ix>), GraphError> {
        let (branch, target_pos) = self.parse_downgrade_target(current, target)?;
        let target_rev = match target_pos {
            Some(Pos::Rev(ix)) => Some(ix),
            Some(Pos::Base) | None => None,
        };
        let mut roots: Vec<Ix> = match target_rev {
            None => (0..self.nodes.len() as Ix)
                .filter(|&i| self.node(i).down_revisions().is_empty())
                .collect(),
            Some(t) => self.node(t).nextrev.clone(),
        };
        if let Some(branch) = branch.as_deref().filter(|b| !b.is_empty()) {
            if roots.len() > 1 {
                let branch_rev = self.resolve_branch_ix(branch)?;
                let ancestors = self.set_of(&self.walk(&[branch_rev], |n| &n.down_ix));
                roots.retain(|r| ancestors[*r as usize]);
                if roots.is_empty() {
                    return Err(GraphError::NotValidDowngradeTarget {
                        target: target.to_owned(),
                    });
                }
            }
        }
        let heads = self.require_revisions(self.get_revisions_of(current)?, target)?;
        let active = self.set_of(&self.walk(&heads, |n| &n.norm_down_ix));
        let mut drop = vec![false; self.nodes.len()];
        let mut any = false;
        for d in self.walk(&roots, |n| &n.all_nextrev) {
            if active[d as usize] {
                drop[d as usize] = true;
                any = true;
            }
        }
        if let Some(t) = target_rev {
            if !any && !heads.contains(&t) {
                return Err(GraphError::NotValidDowngradeTarget {
                    target: target.to_owned(),
                });
            }
        }
        Ok((drop, heads))
    }

    fn resolve_branch_ix(&self, label: &str) -> Result<Ix, GraphError> {
        if let Some(key) = self.keys.get(label) {
            return Ok(key.ix());
        }
        self.revision_for_ident(Some(label), None)
            .ok()
            .flatten()
            .ok_or_else(|| GraphError::NoSuchBranch {
                label: label.to_owned(),
            })
    }

    /// alembic's `_topological_sort`: newest first, following lanes from the given heads in load
    /// order, switching to another lane when the candidate is that lane's ancestor.
    fn topological_sort(&self, revisions: &Set, heads: &[Ix]) -> Vec<Ix> {
        let mut todo = revisions.clone();
        let mut remaining = todo.iter().filter(|t| **t).count();
        let mut current: Vec<Ix> = heads
            .iter()
            .copied()
            .filter(|h| todo[*h as usize])
            .collect::<BTreeSet<Ix>>()
            .into_iter()
            .collect();
        let ancestors = |ix: Ix| self.set_of(&self.walk(&[ix], |n| &n.norm_down_ix));
        let mut lane_ancestors: Vec<Set> = current.iter().map(|&h| ancestors(h)).collect();
        let mut output = Vec::with_capacity(remaining);
        let mut idx = 0usize;
        while !current.is_empty() {
            let candidate = current[idx];
            if let Some(other) = lane_ancestors
                .iter()
                .enumerate()
                .position(|(j, anc)| j != idx && anc[candidate as usize])
            {
                idx = other;
                continue;
            }
            if todo[candidate as usize] {
                output.push(candidate);
                todo[candidate as usize] = false;
                remaining -= 1;
            }
            let node = self.node(candidate);
            let to_add: Vec<Ix> = node
                .norm_down_ix
                .iter()
                .copied()
                .filter(|r| todo[*r as usize] && !current.contains(r))
                .collect();
            match to_add.split_first() {
                None => {
                    current.remove(idx);
                    lane_ancestors.remove(idx);
                    idx = idx.saturating_sub(1);
                }
                Some((&first, rest)) => {
                    current[idx] = first;
                    if node.normalized_deps_ix.is_empty() && node.down_ix.len() == 1 {
                        lane_ancestors[idx][candidate as usize] = false;
                    } else {
                        lane_ancestors[idx] = ancestors(first);
                        for &r in rest {
                            current.push(r);
                            lane_ancestors.push(ancestors(r));
                        }
                    }
                }
            }
        }
        debug_assert_eq!(remaining, 0, "every revision is reached from the heads");
        output
    }

    /// Turns an ordered list of revisions into steps, tracking the version table's rows as
    /// alembic's `HeadMaintainer.update_to_step` changes them.
    fn steps(
        &self,
        direction: Direction,
        order: &[Ix],
        current: &[String],
    ) -> Result<Vec<Step>, GraphError> {
        let mut rows: BTreeSet<String> = current.iter().cloned().collect();
        let mut steps = Vec::with_capacity(order.len());
        for &ix in order {
            let before: Vec<String> = rows.iter().cloned().collect();
            self.update_rows(&mut rows, direction, ix)?;
            steps.push(Step {
                direction,
                revision: self.node(ix).id().to_owned(),
                heads_before: before,
                heads_after: rows.iter().cloned().collect(),
            });
        }
        Ok(steps)
    }

    /// Ancestors (with dependencies) of the given rows, as ids.
    fn ancestor_ids(&self, rows: &BTreeSet<String>) -> BTreeSet<String> {
        let ixs: Vec<Ix> = rows.iter().filter_map(|r| self.ix_of(r)).collect();
        self.walk(&ixs, |n| &n.norm_down_ix)
            .into_iter()
            .map(|i| self.node(i).id().to_owned())
            .collect()
    }

    /// alembic's `_unmerge_to_revisions`: where a downgrade of `ix` leaves the table.
    fn unmerge_to(&self, rows: &BTreeSet<String>, ix: Ix) -> Vec<String> {
        let node = self.node(ix);
        let to: Vec<String> = self.ids(&node.norm_down_ix);
        let mut others = rows.clone();
        others.remove(node.id());
        let implied: BTreeSet<String> = if others.is_empty() {
            to.iter()
                .flat_map(|t| {
                    let tix: Vec<Ix> = self.ix_of(t).into_iter().collect();
                    self.walk(&tix, |n| &n.norm_down_ix)
                        .into_iter()
                        .map(|i| self.node(i).id().to_owned())
                        .filter(move |id| id != t)
                })
                .collect()
        } else {
            self.ancestor_ids(&others)
        };
        to.into_iter().filter(|t| !implied.contains(t)).collect()
    }

    fn update_rows(
        &self,
        rows: &mut BTreeSet<String>,
        direction: Direction,
        ix: Ix,
    ) -> Result<(), GraphError> {
        let node = self.node(ix);
        let id = node.id().to_owned();
        let downs: Vec<String> = self.ids(&node.norm_down_ix);
        let upgrade = direction == Direction::Upgrade;
        let broken = |what: String| GraphError::Unsupported { what };
        let delete = |rows: &mut BTreeSet<String>, r: &str| {
            if rows.remove(r) {
                Ok(())
            } else {
                Err(broken(format!(
                    "the version table would have no row {r} to delete"
                )))
            }
        };
        let insert = |rows: &mut BTreeSet<String>, r: &str| {
            if rows.insert(r.to_owned()) {
                Ok(())
            } else {
                Err(broken(format!("the version table already has a row {r}")))
            }
        };
        let update = |rows: &mut BTreeSet<String>, from: &str, to: &str| {
            if rows.contains(to) {
                return Err(broken(format!("the version table already has a row {to}")));
            }
            delete(rows, from)?;
            rows.insert(to.to_owned());
            Ok(())
        };
        let present: Vec<&String> = downs.iter().filter(|d| rows.contains(*d)).collect();

        // delete: a downgrade to base, or to revisions the other rows already imply.
        if !upgrade
            && rows.contains(&id)
            && (downs.is_empty() || self.unmerge_to(rows, ix).is_empty())
        {
            return delete(rows, &id);
        }
        // insert: a new branch, or a revision none of whose parents is a row.
        if upgrade && (downs.is_empty() || present.is_empty()) {
            return insert(rows, &id);
        }
        // merge: several parents are rows; all but the implied ones collapse into this one.
        if upgrade && downs.len() > 1 && present.len() > 1 {
            let mut others = rows.clone();
            for d in &downs {
                others.remove(d);
            }
            let implied = self.ancestor_ids(&others);
            let from: Vec<&String> = downs.iter().filter(|d| !implied.contains(*d)).collect();
            let Some((last, rest)) = from.split_last() else {
                return Err(broken(format!("merge {id} has nothing to merge")));
            };
            for r in rest {
                delete(rows, r)?;
            }
            return update(rows, last, &id);
        }
        // unmerge: a merge revision goes back to several rows.
        if !upgrade && rows.contains(&id) && downs.len() > 1 {
            let to = self.unmerge_to(rows, ix);
            let Some((last, rest)) = to.split_last() else {
                return Err(broken(format!("unmerge of {id} leaves no rows")));
            };
            for r in rest {
                insert(rows, r)?;
            }
            return update(rows, &id, last);
        }
        // update: one row moves along one edge.
        let down = if downs.len() == 1 {
            downs[0].clone()
        } else if present.len() == 1 {
            present[0].clone()
        } else {
            return Err(broken(format!(
                "cannot move the row of {id}: its down revision is ambiguous"
            )));
        };
        if upgrade {
            update(rows, &down, &id)
        } else {
            update(rows, &id, &down)
        }
    }
}
