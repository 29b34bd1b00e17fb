//! Which schema differences `drift` and `verify` leave out: the config files' `drift:` section
//! (`exclude:` patterns and `include_schemas:`), the static stand-in for env.py's
//! `include_name` / `include_object` hooks, which cannot be read without running Python.
//!
//! Pure: it reads config values and filters a [`SchemaDiff`], nothing else.

use std::path::Path;

use serde::Deserialize;

use crate::db::diff::{Difference, ObjectKind, SchemaDiff};

/// A bad `drift:` section, naming the file and the pattern.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExcludeError {
    #[error("{path}: drift: exclude: {pattern:?}: {message}")]
    BadPattern {
        path: String,
        pattern: String,
        message: String,
    },
    #[error("{path}: drift: include_schemas: {schema:?}: {message}")]
    BadSchema {
        path: String,
        schema: String,
        message: String,
    },
}

/// The `drift:` section as written:
/// `drift: { exclude: [spatial_ref_sys, "audit.*", "tmp_*"], include_schemas: [public] }`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DriftFile {
    /// `table`, `schema.table`, `schema.*`; `*` and `?` glob within a part.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Only these schemas are compared (all when absent).
    pub include_schemas: Option<Vec<String>>,
}

/// One `exclude` pattern, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// None: any schema.
    schema: Option<String>,
    name: String,
}

/// The filter of every config file's `drift:` section together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftFilter {
    patterns: Vec<Pattern>,
    include_schemas: Option<Vec<String>>,
}

impl DriftFilter {
    /// Layers the files' sections, lowest precedence first: exclude patterns add up, and the
    /// last `include_schemas` given wins.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a Path, Option<&'a DriftFile>)>,
    ) -> Result<DriftFilter, ExcludeError> {
        let mut filter = DriftFilter::default();
        for (path, file) in files {
            let Some(file) = file else { continue };
            for raw in &file.exclude {
                filter.patterns.push(parse_pattern(raw).map_err(|message| {
                    ExcludeError::BadPattern {
                        path: path.display().to_string(),
                        pattern: raw.clone(),
                        message,
                    }
                })?);
            }
            if let Some(schemas) = &file.include_schemas {
                for schema in schemas {
                    if schema.trim().is_empty() || schema.contains('.') {
                        return Err(ExcludeError::BadSchema {
                            path: path.display().to_string(),
                            schema: schema.clone(),
                            message: "a schema name, without dots".to_owned(),
                        });
                    }
                }
                filter.include_schemas = Some(schemas.clone());
            }
        }
        Ok(filter)
    }

    /// True when nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty() && self.include_schemas.is_none()
    }

    /// `diff` without the differences in excluded objects, and how many were left out.
    pub fn apply(&self, diff: SchemaDiff) -> (SchemaDiff, usize) {
        if self.is_empty() {
            return (diff, 0);
        }
        let before = diff.differences.len();
        let differences: Vec<Difference> = diff
            .differences
            .into_iter()
            .filter(|d| !self.excludes(d))
            .collect();
        let excluded = before - differences.len();
        (SchemaDiff { differences }, excluded)
    }

    /// Whether a difference is about an excluded object: a child object (column, index, …) by
    /// its table, a top-level one by its own name, a schema by itself.
    pub fn excludes(&self, d: &Difference) -> bool {
        let (schema, name) = match (d.kind, &d.relation) {
            // Extensions belong to no schema the patterns could name.
            (ObjectKind::Extension, _) => return false,
            (ObjectKind::Schema, _) => (unquote(&d.name), None),
            (_, Some(relation)) => split(relation),
            (_, None) => split(&d.name),
        };
        if let Some(include) = &self.include_schemas {
            if !include.contains(&schema) {
                return true;
            }
        }
        self.patterns.iter().any(|p| {
            let schema_ok = p.schema.as_deref().is_none_or(|s| glob(s, &schema));
            match &name {
                Some(name) => schema_ok && glob(&p.name, name),
                // A whole schema is excluded only by `schema.*`.
                None => p.schema.is_some() && schema_ok && p.name == "*",
            }
        })
    }
}

fn parse_pattern(raw: &str) -> Result<Pattern, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("empty pattern".to_owned());
    }
    let parts: Vec<&str> = text.split('.').collect();
    match parts.as_slice() {
        [name] => Ok(Pattern {
            schema: None,
            name: (*name).to_owned(),
        }),
        [schema, name] if !schema.is_empty() && !name.is_empty() => Ok(Pattern {
            schema: Some((*schema).to_owned()),
            name: (*name).to_owned(),
        }),
        _ => Err("expected table, schema.table or schema.*".to_owned()),
    }
}

fn unquote(part: &str) -> String {
    let part = part.trim();
    match part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => part.to_owned(),
    }
}

/// `schema.name` (as `introspect::qualified` writes it, quotes where needed) split at the first
/// dot outside quotes.
fn split(qualified: &str) -> (String, Option<String>) {
    let mut in_quotes = false;
    for (at, c) in qualified.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => {
                return (
                    unquote(&qualified[..at]),
                    Some(unquote(&qualified[at + 1..])),
                )
            }
            _ => {}
        }
    }
    // Unqualified: the default schema.
    ("public".to_owned(), Some(unquote(qualified)))
}

/// `*` (any run) and `?` (one character) matching the whole text. Two wildcards do not justify
/// a dependency.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::diff::Change;

    fn d(kind: ObjectKind, relation: Option<&str>, name: &str) -> Difference {
        Difference {
            kind,
            relation: relation.map(str::to_owned),
            name: name.to_owned(),
            change: Change::Extra {
                actual: String::new(),
            },
        }
    }

    fn filter(exclude: &[&str], include: Option<&[&str]>) -> DriftFilter {
        let file = DriftFile {
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            include_schemas: include.map(|s| s.iter().map(|x| x.to_string()).collect()),
        };
        DriftFilter::from_files([(Path::new("alembic-tui.yaml"), Some(&file))]).unwrap()
    }

    #[test]
    fn patterns_match_tables_schemas_and_globs() {
        let f = filter(
            &["spatial_ref_sys", "audit.*", "tmp_*", "public.log_2?"],
            None,
        );
        assert!(f.excludes(&d(ObjectKind::Relation, None, "public.spatial_ref_sys")));
        assert!(f.excludes(&d(ObjectKind::Column, Some("gis.spatial_ref_sys"), "srid")));
        assert!(f.excludes(&d(ObjectKind::Index, Some("audit.events"), "ix")));
        assert!(f.excludes(&d(ObjectKind::Schema, None, "audit")));
        assert!(f.excludes(&d(ObjectKind::Relation, None, "public.tmp_import")));
        assert!(f.excludes(&d(ObjectKind::Relation, None, "public.log_24")));
        assert!(!f.excludes(&d(ObjectKind::Relation, None, "public.log_2024")));
        assert!(!f.excludes(&d(ObjectKind::Relation, None, "public.users")));
        assert!(!f.excludes(&d(ObjectKind::Schema, None, "public")));
        assert!(!f.excludes(&d(ObjectKind::Extension, None, "postgis")));
        assert!(f.excludes(&d(ObjectKind::Relation, None, "public.\"tmp_Mixed\"")));
    }

    #[test]
    fn include_schemas_keeps_only_those() {
        let f = filter(&[], Some(&["public"]));
        assert!(!f.excludes(&d(ObjectKind::Relation, None, "public.users")));
        assert!(f.excludes(&d(ObjectKind::Relation, None, "tiger.edges")));
        assert!(f.excludes(&d(ObjectKind::Schema, None, "tiger")));
        let diff = SchemaDiff {
            differences: vec![
                d(ObjectKind::Relation, None, "public.users"),
                d(ObjectKind::Relation, None, "tiger.edges"),
                d(ObjectKind::Column, Some("tiger.edges"), "geom"),
            ],
        };
        let (kept, excluded) = f.apply(diff);
        assert_eq!(kept.len(), 1);
        assert_eq!(excluded, 2);
    }

    #[test]
    fn bad_patterns_name_the_file() {
        let file = DriftFile {
            exclude: vec!["a.b.c".into()],
            include_schemas: None,
        };
        let err = DriftFilter::from_files([(Path::new("p.yaml"), Some(&file))]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("p.yaml: drift: exclude: \"a.b.c\""),
            "{err}"
        );
    }
}
