//! Identifier resolution as alembic does it: `head`, `heads`, `base`, ids, prefixes, branch
//! labels, `label@rev`, `-N` from the heads, and the one-step walks behind relative targets.

use crate::graph::{GraphError, Ix, RevisionMap};

/// Where a walk or a relative identifier lands: a revision, or alembic's `"base"` marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pos {
    Rev(Ix),
    Base,
}

/// A relative target split as alembic's `(?:(.+?)@)?(\w+)?((?:\+|-)\d+)` matches it (anchored at
/// the start only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relative<'a> {
    pub branch: Option<&'a str>,
    pub symbol: Option<&'a str>,
    pub relative: &'a str,
    pub steps: i64,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The `(\w+)?([+-]\d+)` tail starting at `text`, if it matches there.
fn match_tail(text: &str) -> Option<(Option<&str>, &str)> {
    let word_end = text.find(|c: char| !is_word(c)).unwrap_or(text.len());
    let rest = &text[word_end..];
    let mut chars = rest.char_indices();
    let (_, sign) = chars.next()?;
    if sign != '+' && sign != '-' {
        return None;
    }
    let digits_end = rest[1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(rest.len(), |i| i + 1);
    if digits_end == 1 {
        return None;
    }
    let symbol = (word_end > 0).then(|| &text[..word_end]);
    Some((symbol, &rest[..digits_end]))
}

/// alembic's `_relative_destination.match(target)`.
pub(crate) fn parse_relative(target: &str) -> Option<Relative<'_>> {
    // The optional `label@` group is greedy (tried first) and lazy inside (shortest label first).
    let with_branch = target
        .char_indices()
        .filter(|&(i, c)| c == '@' && i > 0)
        .find_map(|(i, _)| match_tail(&target[i + 1..]).map(|t| (Some(&target[..i]), t)));
    let (branch, (symbol, relative)) =
        with_branch.or_else(|| match_tail(target).map(|t| (None, t)))?;
    // Python's int() would take any length; a step count beyond i64 cannot be walked anyway.
    let steps = relative.parse::<i64>().unwrap_or(i64::MAX);
    Some(Relative {
        branch,
        symbol,
        relative,
        steps,
    })
}

/// The result of `_resolve_revision_number`: ids (or prefixes) and the branch label, if any.
pub(crate) struct Number {
    pub ids: Vec<String>,
    pub label: Option<String>,
}

impl RevisionMap {
    /// Resolves an identifier to the revision ids it names (alembic's `get_revisions`); `base`
    /// names none. `-N` walks that run past the base contribute nothing.
    pub fn resolve(&self, ident: &str) -> Result<Vec<String>, GraphError> {
        Ok(self
            .get_revisions(ident)?
            .into_iter()
            .filter_map(|p| match p {
                Some(Pos::Rev(ix)) => Some(self.node(ix).id().to_owned()),
                _ => None,
            })
            .collect())
    }

    /// The revisions `alembic show IDENT` prints: as `resolve`, but a `-N` walk that reaches the
    /// base or runs past it is refused, as alembic's `show` fails on it (it gets no revision).
    pub fn resolve_revisions(&self, ident: &str) -> Result<Vec<String>, GraphError> {
        let number = self.resolve_number(ident)?;
        let is_walk =
            matches!(number.ids.as_slice(), [only] if python_int(only).is_some_and(|n| n < 0));
        let found = self.get_revisions(ident)?;
        let mut ids = Vec::with_capacity(found.len());
        for pos in found {
            match pos {
                Some(Pos::Rev(ix)) => ids.push(self.node(ix).id().to_owned()),
                _ if is_walk => {
                    return Err(GraphError::WalkedPastBase {
                        ident: ident.to_owned(),
                    })
                }
                _ => {}
            }
        }
        Ok(ids)
    }

    /// alembic's `_resolve_revision_number`.
    pub(crate) fn resolve_number(&self, ident: &str) -> Result<Number, GraphError> {
        let (label, rest) = match ident.split_once('@') {
            Some((label, rest)) => (Some(label.to_owned()), rest),
            None => (None, ident),
        };
        let ids = match rest {
            "heads" => match label.as_deref().filter(|l| !l.is_empty()) {
                Some(label) => self.ids(&self.filter_for_lineage(&self.heads, label, false)?),
                None => self.ids(&self.real_heads),
            },
            "head" => match self.current_head(label.as_deref())? {
                Some(ix) => vec![self.node(ix).id().to_owned()],
                None => Vec::new(),
            },
            "base" => Vec::new(),
            other => vec![other.to_owned()],
        };
        Ok(Number { ids, label })
    }

    /// alembic's `get_current_head`: the single head (on the label's lineage), if any.
    pub(crate) fn current_head(&self, label: Option<&str>) -> Result<Option<Ix>, GraphError> {
        let heads = match label {
            Some(label) if !label.is_empty() => {
                self.filter_for_lineage(&self.heads, label, false)?
            }
            _ => self.heads.clone(),
        };
        if heads.len() > 1 {
            return Err(GraphError::MultipleHeads {
                argument: match label {
                    Some(label) if !label.is_empty() => format!("{label}@head"),
                    _ => "head".to_owned(),
                },
                heads: self.ids(&heads),
            });
        }
        Ok(heads.first().copied())
    }

    /// alembic's `filter_for_lineage`: the targets sharing lineage with `check_against`.
    pub(crate) fn filter_for_lineage(
        &self,
        targets: &[Ix],
        check_against: &str,
        include_dependencies: bool,
    ) -> Result<Vec<Ix>, GraphError> {
        let against = self.lineage_anchors(check_against)?;
        Ok(targets
            .iter()
            .copied()
            .filter(|&t| self.shares_lineage(t, &against, include_dependencies))
            .collect())
    }

    /// The revisions `filter_for_lineage` compares against; None means "everything shares".
    fn lineage_anchors(&self, check_against: &str) -> Result<Option<Vec<Ix>>, GraphError> {
        let number = self.resolve_number(check_against)?;
        let mut shares: Vec<String> = Vec::new();
        if let Some(label) = number.label.filter(|l| !l.is_empty()) {
            shares.push(label);
        }
        shares.extend(number.ids);
        if shares.is_empty() {
            return Ok(None);
        }
        let mut anchors = Vec::with_capacity(shares.len());
        for share in &shares {
            if let Some(ix) = self.revision_for_ident(Some(share), None)? {
                anchors.push(ix);
            }
        }
        Ok(Some(anchors))
    }

    /// alembic's `_shares_lineage`: `against` holds an ancestor or descendant of `target`.
    pub(crate) fn shares_lineage(
        &self,
        target: Ix,
        against: &Option<Vec<Ix>>,
        include_dependencies: bool,
    ) -> bool {
        let Some(against) = against else {
            return true;
        };
        let (down, up) = if include_dependencies {
            (
                self.walk(&[target], |n| &n.norm_down_ix),
                self.walk(&[target], |n| &n.all_nextrev),
            )
        } else {
            (
                self.walk(&[target], |n| &n.down_ix),
                self.walk(&[target], |n| &n.nextrev),
            )
        };
        against.iter().any(|a| down.contains(a) || up.contains(a))
    }

    /// alembic's `_resolve_branch`: a map key, else any identifier.
    fn resolve_branch(&self, label: &str) -> Result<Ix, GraphError> {
        if let Some(key) = self.keys.get(label) {
            return Ok(key.ix());
        }
        match self.revision_for_ident(Some(label), None) {
            Ok(Some(ix)) => Ok(ix),
            Ok(None) | Err(_) => Err(GraphError::NoSuchBranch {
                label: label.to_owned(),
            }),
        }
    }

    /// alembic's `_revision_for_ident`: exact key, else a unique prefix among keys longer than
    /// three characters (filtered to the branch when one is given); `None` for "no revision".
    pub(crate) fn revision_for_ident(
        &self,
        ident: Option<&str>,
        check_branch: Option<&str>,
    ) -> Result<Option<Ix>, GraphError> {
        let check_branch = check_branch.filter(|b| !b.is_empty());
        let branch_rev = check_branch.map(|b| self.resolve_branch(b)).transpose()?;
        let Some(ident) = ident else {
            return Ok(None);
        };
        let revision = match self.keys.get(ident) {
            Some(key) => key.ix(),
            None => {
                let mut matches: Vec<&String> = self
                    .key_order
                    .iter()
                    .filter(|k| k.len() > 3 && k.starts_with(ident))
                    .collect();
                if let (Some(branch), Some(_)) = (check_branch, branch_rev) {
                    let against = self.lineage_anchors(branch)?;
                    matches.retain(|k| {
                        self.keys
                            .get(k.as_str())
                            .is_some_and(|key| self.shares_lineage(key.ix(), &against, false))
                    });
                }
                match matches.as_slice() {
                    [] => {
                        return Err(GraphError::NoSuchRevision {
                            ident: ident.to_owned(),
                        })
                    }
                    [one] => match self.keys.get(one.as_str()) {
                        Some(key) => key.ix(),
                        None => {
                            return Err(GraphError::NoSuchRevision {
                                ident: ident.to_owned(),
                            })
                        }
                    },
                    many => {
                        return Err(GraphError::AmbiguousPrefix {
                            prefix: ident.to_owned(),
                            candidates: many.iter().map(|s| s.to_string()).collect(),
                        })
                    }
                }
            }
        };
        if let (Some(branch), Some(branch_ix)) = (check_branch, branch_rev) {
            if !self.shares_lineage(revision, &Some(vec![branch_ix]), false) {
                return Err(GraphError::NotMemberOfBranch {
                    revision: self.node(revision).id().to_owned(),
                    branch: branch.to_owned(),
                });
            }
        }
        Ok(Some(revision))
    }

    /// alembic's `get_revisions` for one identifier. `None` entries are walks that ran off the
    /// end; `Pos::Base` entries are walks that reached the base.
    pub(crate) fn get_revisions(&self, ident: &str) -> Result<Vec<Option<Pos>>, GraphError> {
        let number = self.resolve_number(ident)?;
        if let [only] = number.ids.as_slice() {
            if let Some(steps) = python_int(only).filter(|n| *n < 0) {
                let mut heads: Vec<Ix> = Vec::new();
                for p in self.get_revisions("heads")? {
                    if let Some(Pos::Rev(ix)) = p {
                        heads.push(ix);
                    }
                }
                if let Some(label) = &number.label {
                    heads.retain(|&h| self.has_label(h, label));
                }
                return heads
                    .into_iter()
                    .map(|h| self.walk_steps(Some(Pos::Rev(h)), steps, None, true))
                    .collect();
            }
        }
        number
            .ids
            .iter()
            .map(|id| {
                Ok(self
                    .revision_for_ident(Some(id), number.label.as_deref())?
                    .map(Pos::Rev))
            })
            .collect()
    }

    /// `get_revisions` over several identifiers, concatenated.
    pub(crate) fn get_revisions_of(
        &self,
        idents: &[String],
    ) -> Result<Vec<Option<Pos>>, GraphError> {
        let mut out = Vec::new();
        for ident in idents {
            out.extend(self.get_revisions(ident)?);
        }
        Ok(out)
    }

    /// alembic's `get_revision`: one revision or none; several → MultipleHeads.
    pub(crate) fn get_revision(&self, ident: &str) -> Result<Option<Ix>, GraphError> {
        let number = self.resolve_number(ident)?;
        if number.ids.len() > 1 {
            let heads = number.ids.clone();
            return Err(GraphError::MultipleHeads {
                argument: ident.to_owned(),
                heads,
            });
        }
        self.revision_for_ident(
            number.ids.first().map(String::as_str),
            number.label.as_deref(),
        )
    }

    /// alembic's `_walk`: `steps` up (> 0) or down (< 0) one revision at a time from `start`
    /// (`None`: from nothing, i.e. up from the bases or down from the heads).
    pub(crate) fn walk_steps(
        &self,
        start: Option<Pos>,
        steps: i64,
        branch_label: Option<&str>,
        no_overwalk: bool,
    ) -> Result<Option<Pos>, GraphError> {
        let mut initial = start;
        for _ in 0..steps.unsigned_abs() {
            let children: Vec<Pos> = if steps > 0 {
                let up: Vec<Ix> = match initial {
                    None => self.bases.clone(),
                    Some(Pos::Rev(ix)) => self.node(ix).nextrev.clone(),
                    Some(Pos::Base) => {
                        return Err(GraphError::Unsupported {
                            what: "walking up from 'base'".into(),
                        })
                    }
                };
                let up = match branch_label.filter(|l| !l.is_empty()) {
                    Some(label) => self.filter_for_lineage(&up, label, false)?,
                    None => up,
                };
                up.into_iter().map(Pos::Rev).collect()
            } else {
                match initial {
                    Some(Pos::Base) => Vec::new(),
                    None => self.heads.iter().map(|&h| Pos::Rev(h)).collect(),
                    Some(Pos::Rev(ix)) => {
                        let down: Vec<Pos> =
                            self.node(ix).down_ix.iter().map(|&d| Pos::Rev(d)).collect();
                        if down.is_empty() {
                            vec![Pos::Base]
                        } else {
                            down
                        }
                    }
                }
            };
            match children.as_slice() {
                [] => return Ok(if no_overwalk { None } else { initial }),
                [one] => initial = Some(*one),
                _ => return Err(GraphError::AmbiguousWalk),
            }
        }
        Ok(initial)
    }
}

/// Python's `int(text)` for the strings identifiers can hold: optional sign, ASCII digits,
/// single underscores between digits, surrounding whitespace.
fn python_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let value: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_targets_split_like_alembics_regex() {
        let r = parse_relative("+2").unwrap();
        assert_eq!((r.branch, r.symbol, r.steps), (None, None, 2));
        let r = parse_relative("ae10+1").unwrap();
        assert_eq!((r.branch, r.symbol, r.steps), (None, Some("ae10"), 1));
        let r = parse_relative("feature@-3").unwrap();
        assert_eq!((r.branch, r.symbol, r.steps), (Some("feature"), None, -3));
        let r = parse_relative("a@b@c+1").unwrap();
        assert_eq!((r.branch, r.symbol), (Some("a@b"), Some("c")));
        assert!(parse_relative("heads").is_none());
        assert!(parse_relative("abc").is_none());
        // Anchored at the start only: trailing text is ignored, as re.match does.
        assert_eq!(parse_relative("abc+1x").unwrap().steps, 1);
    }

    #[test]
    fn python_int_accepts_what_int_accepts() {
        assert_eq!(python_int("-2"), Some(-2));
        assert_eq!(python_int("1_0"), Some(10));
        assert_eq!(python_int("abc"), None);
        assert_eq!(python_int("1__0"), None);
    }
}
