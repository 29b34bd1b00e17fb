//! Differences between two schema snapshots: each object that is missing, extra or changed,
//! reported once (a missing table, not also each of its columns), with both definitions for a
//! change; printed for people grouped by table, and serialisable as JSON.
//!
//! Pure: it compares values and never touches a database.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::db::introspect::{Relation, Snapshot};

/// What sort of object a difference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Schema,
    Extension,
    Type,
    Sequence,
    Function,
    /// A table, partitioned or foreign table, view or materialized view.
    Relation,
    Column,
    Constraint,
    Index,
    Trigger,
    Policy,
}

impl ObjectKind {
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::Type => "type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Function => "function",
            ObjectKind::Relation => "relation",
            ObjectKind::Column => "column",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Policy => "policy",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schemas",
            ObjectKind::Extension => "extensions",
            ObjectKind::Type => "types",
            ObjectKind::Sequence => "sequences",
            ObjectKind::Function => "functions",
            ObjectKind::Relation => "relations",
            ObjectKind::Column => "columns",
            ObjectKind::Constraint => "constraints",
            ObjectKind::Index => "indexes",
            ObjectKind::Trigger => "triggers",
            ObjectKind::Policy => "policies",
        }
    }
}

/// How one object differs. `expected` is the first snapshot's side (e.g. what the history
/// builds), `actual` the second's (e.g. the live database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Expected, absent from the actual schema.
    Missing { expected: String },
    /// Present in the actual schema, not expected.
    Extra { actual: String },
    /// Present on both sides with different definitions; `fields` names what differs.
    Changed {
        fields: Vec<String>,
        expected: String,
        actual: String,
    },
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub kind: ObjectKind,
    /// For columns, constraints, indexes, triggers and policies: the qualified name of their table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// Qualified for top-level objects; within its table for the others.
    pub name: String,
    #[serde(flatten)]
    pub change: Change,
}

impl Difference {
    /// The object as a reader would name it: `public.users.email`, `public.ix_name` …
    pub fn object(&self) -> String {
        match &self.relation {
            Some(rel) => format!("{rel}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Every difference between two snapshots, in a stable order (kind, then name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SchemaDiff {
    pub differences: Vec<Difference>,
}

impl SchemaDiff {
    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }

    pub fn len(&self) -> usize {
        self.differences.len()
    }
}

/// Compares `expected` with `actual`.
pub fn diff(expected: &Snapshot, actual: &Snapshot) -> SchemaDiff {
    let mut out = Vec::new();
    map(
        &mut out,
        ObjectKind::Schema,
        None,
        &expected.schemas,
        &actual.schemas,
        |s| s.definition(),
    );
    map(
        &mut out,
        ObjectKind::Extension,
        None,
        &expected.extensions,
        &actual.extensions,
        |e| e.definition(),
    );
    map(
        &mut out,
        ObjectKind::Type,
        None,
        &expected.types,
        &actual.types,
        |t| t.definition(),
    );
    map(
        &mut out,
        ObjectKind::Sequence,
        None,
        &expected.sequences,
        &actual.sequences,
        |s| s.definition(),
    );
    map(
        &mut out,
        ObjectKind::Function,
        None,
        &expected.functions,
        &actual.functions,
        |f| f.definition(),
    );
    relations(&mut out, &expected.relations, &actual.relations);
    SchemaDiff { differences: out }
}

/// The children of a relation are compared one by one, not as part of the relation.
const RELATION_CHILDREN: &[&str] = &["columns", "constraints", "indexes", "triggers", "policies"];

fn relations(
    out: &mut Vec<Difference>,
    expected: &BTreeMap<String, Relation>,
    actual: &BTreeMap<String, Relation>,
) {
    for (name, exp) in expected {
        let Some(act) = actual.get(name) else {
            out.push(Difference {
                kind: ObjectKind::Relation,
                relation: None,
                name: name.clone(),
                change: Change::Missing {
                    expected: exp.definition(),
                },
            });
            continue;
        };
        let fields = changed_fields(exp, act, RELATION_CHILDREN);
        if !fields.is_empty() {
            out.push(Difference {
                kind: ObjectKind::Relation,
                relation: None,
                name: name.clone(),
                change: Change::Changed {
                    fields,
                    expected: exp.definition(),
                    actual: act.definition(),
                },
            });
        }
        let rel = Some(name.as_str());
        map(
            out,
            ObjectKind::Column,
            rel,
            &exp.columns,
            &act.columns,
            |c| c.definition(),
        );
        map(
            out,
            ObjectKind::Constraint,
            rel,
            &exp.constraints,
            &act.constraints,
            |c| c.definition(),
        );
        map(
            out,
            ObjectKind::Index,
            rel,
            &exp.indexes,
            &act.indexes,
            |i| i.definition(),
        );
        map(
            out,
            ObjectKind::Trigger,
            rel,
            &exp.triggers,
            &act.triggers,
            |t| t.definition(),
        );
        map(
            out,
            ObjectKind::Policy,
            rel,
            &exp.policies,
            &act.policies,
            |p| p.definition(),
        );
    }
    for (name, act) in actual {
        if !expected.contains_key(name) {
            out.push(Difference {
                kind: ObjectKind::Relation,
                relation: None,
                name: name.clone(),
                change: Change::Extra {
                    actual: act.definition(),
                },
            });
        }
    }
}

/// Missing, changed and extra entries of one map, in key order.
fn map<T: Serialize + PartialEq>(
    out: &mut Vec<Difference>,
    kind: ObjectKind,
    relation: Option<&str>,
    expected: &BTreeMap<String, T>,
    actual: &BTreeMap<String, T>,
    definition: impl Fn(&T) -> String,
) {
    let entry = |name: &str, change: Change| Difference {
        kind,
        relation: relation.map(str::to_owned),
        name: name.to_owned(),
        change,
    };
    for (name, exp) in expected {
        match actual.get(name) {
            None => out.push(entry(
                name,
                Change::Missing {
                    expected: definition(exp),
                },
            )),
            Some(act) if act != exp => out.push(entry(
                name,
                Change::Changed {
                    fields: changed_fields(exp, act, &[]),
                    expected: definition(exp),
                    actual: definition(act),
                },
            )),
            Some(_) => {}
        }
    }
    for (name, act) in actual {
        if !expected.contains_key(name) {
            out.push(entry(
                name,
                Change::Extra {
                    actual: definition(act),
                },
            ));
        }
    }
}

/// The serialised fields whose values differ (absent fields count as absent values), except
/// those in `skip`.
fn changed_fields<T: Serialize>(a: &T, b: &T, skip: &[&str]) -> Vec<String> {
    let as_map = |v: &T| match serde_json::to_value(v) {
        Ok(serde_json::Value::Object(map)) => map,
        // Not a struct: the whole value is the one field.
        Ok(other) => std::iter::once(("value".to_owned(), other)).collect(),
        Err(_) => serde_json::Map::new(),
    };
    let (a, b) = (as_map(a), as_map(b));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !skip.contains(&k.as_str()) && a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

impl fmt::Display for SchemaDiff {
    /// Grouped by table (a table's own change first, then its columns, constraints, indexes,
    /// triggers and policies), other objects grouped by kind; one line per missing or extra
    /// object, three per changed one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "no differences");
        }
        let mut groups: BTreeMap<(u8, String), Vec<&Difference>> = BTreeMap::new();
        for d in &self.differences {
            let key = match (&d.relation, d.kind) {
                (Some(rel), _) => (1, rel.clone()),
                (None, ObjectKind::Relation) => (1, d.name.clone()),
                (None, kind) => (0, kind.plural().to_owned()),
            };
            groups.entry(key).or_default().push(d);
        }
        for ((_, title), items) in &groups {
            writeln!(f, "{title}")?;
            for d in items {
                let what = match d.relation {
                    Some(_) => format!("{} {}", d.kind.label(), d.name),
                    None if d.kind == ObjectKind::Relation => "itself".to_owned(),
                    None => format!("{} {}", d.kind.label(), d.name),
                };
                match &d.change {
                    Change::Missing { expected } => writeln!(f, "  - missing {what}: {expected}")?,
                    Change::Extra { actual } => writeln!(f, "  + extra {what}: {actual}")?,
                    Change::Changed {
                        fields,
                        expected,
                        actual,
                    } => {
                        writeln!(f, "  ~ changed {what} ({})", fields.join(", "))?;
                        writeln!(f, "      expected: {expected}")?;
                        writeln!(f, "      actual:   {actual}")?;
                    }
                }
            }
        }
        let n = self.len();
        writeln!(f, "{n} difference{}", if n == 1 { "" } else { "s" })
    }
}

/// The text form, for callers that want a `String`.
pub fn render_text(diff: &SchemaDiff) -> String {
    let mut s = String::new();
    let _ = write!(s, "{diff}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::introspect::{Column, Index, RelationKind};

    fn table(columns: &[(&str, &str)]) -> Relation {
        Relation {
            kind: RelationKind::Table,
            unlogged: false,
            options: vec![],
            row_security: false,
            force_row_security: false,
            partition_key: None,
            partition_of: None,
            partition_bound: None,
            inherits: vec![],
            definition: None,
            comment: None,
            columns: columns
                .iter()
                .map(|(name, ty)| {
                    (
                        (*name).to_owned(),
                        Column {
                            data_type: (*ty).to_owned(),
                            not_null: false,
                            default: None,
                            identity: None,
                            generated: None,
                            collation: None,
                            comment: None,
                        },
                    )
                })
                .collect(),
            constraints: BTreeMap::new(),
            indexes: BTreeMap::new(),
            triggers: BTreeMap::new(),
            policies: BTreeMap::new(),
        }
    }

    fn snap(relations: Vec<(&str, Relation)>) -> Snapshot {
        Snapshot {
            relations: relations
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn equal_snapshots_have_no_differences() {
        let a = snap(vec![("public.t", table(&[("id", "integer")]))]);
        assert!(diff(&a, &a.clone()).is_empty());
        assert_eq!(render_text(&diff(&a, &a)), "no differences\n");
    }

    #[test]
    fn a_missing_table_is_one_difference_not_one_per_column() {
        let a = snap(vec![(
            "public.t",
            table(&[("id", "integer"), ("x", "text")]),
        )]);
        let d = diff(&a, &Snapshot::default());
        assert_eq!(d.len(), 1);
        assert_eq!(d.differences[0].kind, ObjectKind::Relation);
        assert!(matches!(d.differences[0].change, Change::Missing { .. }));
        let back = diff(&Snapshot::default(), &a);
        assert!(matches!(back.differences[0].change, Change::Extra { .. }));
    }

    #[test]
    fn a_changed_column_names_the_field_and_both_definitions() {
        let a = snap(vec![(
            "public.t",
            table(&[("id", "integer"), ("x", "text")]),
        )]);
        let mut b = a.clone();
        if let Some(col) = b
            .relations
            .get_mut("public.t")
            .and_then(|t| t.columns.get_mut("x"))
        {
            col.default = Some("'a'::text".to_owned());
        }
        let mut idx = table(&[]).indexes;
        idx.insert(
            "ix".to_owned(),
            Index {
                definition: "CREATE INDEX ix ON public.t USING btree (x)".to_owned(),
                unique: false,
                partial: false,
                method: "btree".to_owned(),
                comment: None,
            },
        );
        if let Some(t) = b.relations.get_mut("public.t") {
            t.indexes = idx;
        }
        let d = diff(&a, &b);
        assert_eq!(d.len(), 2, "{d}");
        assert_eq!(
            d.differences[0].change,
            Change::Changed {
                fields: vec!["default".to_owned()],
                expected: "text".to_owned(),
                actual: "text DEFAULT 'a'::text".to_owned(),
            }
        );
        assert_eq!(d.differences[0].object(), "public.t.x");
        assert_eq!(d.differences[1].kind, ObjectKind::Index);
        let text = render_text(&d);
        assert!(text.starts_with("public.t\n"), "{text}");
        assert!(text.contains("  ~ changed column x (default)\n"), "{text}");
        assert!(text.contains("  + extra index ix: CREATE INDEX"), "{text}");
        assert!(text.ends_with("2 differences\n"), "{text}");
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json[0]["change"], "changed");
        assert_eq!(json[0]["relation"], "public.t");
        assert_eq!(json[1]["change"], "extra");
    }
}
