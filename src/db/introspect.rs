//! Schema snapshots: what a database holds (schemas, tables, columns, constraints, indexes,
//! sequences, enum/domain/composite types, views, triggers, row-level security policies,
//! functions, extensions, comments), read from the catalogs in one round trip and normalised
//! into sorted maps keyed by qualified names, so that two databases built from the same DDL
//! compare equal whatever their object order or OIDs.
//!
//! What is left out on purpose: system schemas, temporary schemas, objects that belong to an
//! extension, and objects PostgreSQL derives from others (indexes that back a constraint, the
//! per-partition copies of a partitioned table's indexes, constraints and triggers, inherited
//! columns, identity sequences, FK triggers). Those follow from what is kept; listing them too
//! would report one change several times. Columns of partitions are left out for the same reason:
//! a partition has exactly its parent's columns.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::db::version_table::VersionTable;
use crate::db::{describe, DbError};

/// One database's schema. Keys are qualified names (`schema.name`, quoted where SQL would).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schemas: BTreeMap<String, Schema>,
    /// Tables, partitioned tables, foreign tables, views and materialized views.
    pub relations: BTreeMap<String, Relation>,
    pub sequences: BTreeMap<String, Sequence>,
    /// Enum, composite and domain types.
    pub types: BTreeMap<String, TypeDef>,
    /// Functions and procedures, keyed `schema.name(argument types)`.
    pub functions: BTreeMap<String, Function>,
    pub extensions: BTreeMap<String, Extension>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    Table,
    PartitionedTable,
    ForeignTable,
    View,
    MaterializedView,
}

impl RelationKind {
    fn from_relkind(kind: &str) -> Option<RelationKind> {
        Some(match kind {
            "r" => RelationKind::Table,
            "p" => RelationKind::PartitionedTable,
            "f" => RelationKind::ForeignTable,
            "v" => RelationKind::View,
            "m" => RelationKind::MaterializedView,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            RelationKind::Table => "table",
            RelationKind::PartitionedTable => "partitioned table",
            RelationKind::ForeignTable => "foreign table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
        }
    }
}

/// A table or view with the objects that hang off it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    pub kind: RelationKind,
    /// Tables created `UNLOGGED`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlogged: bool,
    /// Storage parameters (`fillfactor=70`, `security_barrier=true`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub row_security: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force_row_security: bool,
    /// `RANGE (created_at)` for a partitioned table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// The parent of a partition, and its bound (`FOR VALUES FROM (…) TO (…)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_bound: Option<String>,
    /// Parents by classic inheritance (`INHERITS`), in declaration order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<String>,
    /// The query of a view or materialized view, as `pg_get_viewdef` prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, Column>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub constraints: BTreeMap<String, Constraint>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indexes: BTreeMap<String, Index>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub triggers: BTreeMap<String, Trigger>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, Policy>,
}

/// A column. Its position is not part of it: the same columns added in another order, or a
/// table that once had a column dropped, hold the same data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// With modifiers, as `format_type` prints it: `character varying(40)`, `numeric(10,2)`.
    #[serde(rename = "type")]
    pub data_type: String,
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `always` or `by default` for identity columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The expression of a `GENERATED ALWAYS AS (…) STORED` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// Only when it differs from the type's own collation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
    Exclusion,
}

impl ConstraintKind {
    fn from_contype(kind: &str) -> Option<ConstraintKind> {
        Some(match kind {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "f" => ConstraintKind::ForeignKey,
            "c" => ConstraintKind::Check,
            "x" => ConstraintKind::Exclusion,
            _ => return None,
        })
    }
}

/// A table constraint; its name is part of its identity (the key in [`Relation::constraints`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub kind: ConstraintKind,
    /// As `pg_get_constraintdef` prints it: columns, references, actions, deferrability, NOT VALID.
    pub definition: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferrable: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub initially_deferred: bool,
    /// Foreign keys: the referenced table and the actions (`no action`, `cascade`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An index that does not back a constraint (those are the constraint's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// As `pg_get_indexdef` prints it: `CREATE UNIQUE INDEX … USING btree (…) WHERE …`.
    pub definition: String,
    pub unique: bool,
    pub partial: bool,
    /// The access method: btree, hash, gin, gist, brin, …
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// As `pg_get_triggerdef` prints it.
    pub definition: String,
    /// `O` (origin, the default), `D` disabled, `R` replica, `A` always.
    pub enabled: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A sequence that is not an identity column's (those are part of the column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `schema.table.column` for `OWNED BY` (serial columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeDef {
    Enum {
        /// In sort order: the order is part of the type.
        labels: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// A standalone composite type (`CREATE TYPE … AS (…)`); attribute order is part of it.
    Composite {
        attributes: Vec<Attribute>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    Domain {
        base_type: String,
        not_null: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collation: Option<String>,
        /// Check constraints by name.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        checks: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
}

/// One attribute of a composite type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
}

/// A row-level security policy of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// ALL, SELECT, INSERT, UPDATE or DELETE.
    pub command: String,
    pub permissive: bool,
    /// Role names, sorted (`public` for PUBLIC).
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// As `pg_get_functiondef` prints it (the whole `CREATE OR REPLACE FUNCTION`).
    pub definition: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub version: String,
    pub schema: String,
}

/// What to leave out of a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Tables to leave out, such as alembic's version table. A table without a schema is looked
    /// up on the session's search path, as alembic and `to_regclass` do.
    pub exclude_tables: Vec<VersionTable>,
}

impl Options {
    /// Leaves out the version table the settings name.
    pub fn without_version_table(table: &str, schema: Option<&str>) -> Options {
        Options {
            exclude_tables: vec![VersionTable {
                table: table.to_owned(),
                schema: schema.map(str::to_owned),
            }],
        }
    }
}

/// An identifier as SQL writes it: bare when it is a plain lower-case name, quoted otherwise.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name`, each part as [`ident`] writes it: the key of every top-level map.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

// ---------------------------------------------------------------------------------------------
// The catalog queries. Each returns one row holding a JSON array, so the whole batch is one simple
// query message: one round trip, and serde turns the rows into typed structs. They run in one
// repeatable-read transaction (one snapshot of the catalogs) with an empty search path, so that
// every name the pg_get_* functions print is schema-qualified whatever the caller's search path.

/// Schemas we never look at (temporary schemas are matched by prefix).
const USER_SCHEMA: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
     AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'";

fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass \
         AND e.objid = {oid} AND e.deptype = 'e')"
    )
}

fn comment(alias: &str, catalog: &str, oid: &str, sub: &str) -> String {
    format!(
        "LEFT JOIN pg_description {alias} ON {alias}.objoid = {oid} \
         AND {alias}.classoid = '{catalog}'::regclass AND {alias}.objsubid = {sub}"
    )
}

fn json_rows(select: &str) -> String {
    format!("SELECT coalesce(json_agg(row_to_json(q)), '[]')::text FROM ({select}) q")
}

/// The catalog queries of one snapshot, in the order their results are read.
fn queries() -> Vec<String> {
    let rel_filter = format!(
        "{USER_SCHEMA} AND {}",
        not_extension_member("pg_class", "c.oid")
    );
    let schemas = format!(
        "SELECT n.nspname AS name, d.description AS comment FROM pg_namespace n {} \
         WHERE {USER_SCHEMA} AND {}",
        comment("d", "pg_namespace", "n.oid", "0"),
        not_extension_member("pg_namespace", "n.oid"),
    );
    let relations = format!(
        "SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, \
           c.relpersistence = 'u' AS unlogged, \
           coalesce(array(SELECT o FROM unnest(c.reloptions) o ORDER BY o), '{{}}') AS options, \
           c.relrowsecurity AS row_security, c.relforcerowsecurity AS force_row_security, \
           CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key, \
           CASE WHEN c.relispartition THEN (SELECT i.inhparent::regclass::text FROM pg_inherits i \
             WHERE i.inhrelid = c.oid) END AS partition_of, \
           CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound, \
           CASE WHEN NOT c.relispartition THEN coalesce(array(SELECT i.inhparent::regclass::text \
             FROM pg_inherits i WHERE i.inhrelid = c.oid ORDER BY i.inhseqno), '{{}}') \
             ELSE '{{}}' END AS inherits, \
           CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition, \
           d.description AS comment \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace {} \
         WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {rel_filter}",
        comment("d", "pg_class", "c.oid", "0"),
    );
    let columns = format!(
        "SELECT n.nspname AS schema, c.relname AS relation, a.attname AS name, \
           format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, \
           CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default, \
           CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated, \
           CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity, \
           CASE WHEN a.attcollation <> t.typcollation THEN (SELECT quote_ident(cn.nspname) || '.' \
             || quote_ident(co.collname) FROM pg_collation co \
             JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) \
             END AS collation, \
           d.description AS comment \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
           LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum {} \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attislocal \
           AND c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition AND {rel_filter}",
        comment("d", "pg_class", "c.oid", "a.attnum"),
    );
    let constraints = format!(
        "SELECT n.nspname AS schema, c.relname AS relation, k.conname AS name, \
           k.contype::text AS kind, pg_get_constraintdef(k.oid) AS definition, \
           k.condeferrable AS deferrable, k.condeferred AS initially_deferred, \
           CASE WHEN k.contype = 'f' THEN k.confrelid::regclass::text END AS references, \
           CASE WHEN k.contype = 'f' THEN k.confupdtype::text END AS on_update, \
           CASE WHEN k.contype = 'f' THEN k.confdeltype::text END AS on_delete, \
           d.description AS comment \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace {} \
         WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND k.conparentid = 0 AND k.conislocal \
           AND {rel_filter}",
        comment("d", "pg_constraint", "k.oid", "0"),
    );
    let indexes = format!(
        "SELECT n.nspname AS schema, c.relname AS relation, i.relname AS name, \
           pg_get_indexdef(x.indexrelid) AS definition, x.indisunique AS unique, \
           x.indpred IS NOT NULL AS partial, am.amname AS method, d.description AS comment \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
           JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           JOIN pg_am am ON am.oid = i.relam {} \
         WHERE NOT i.relispartition AND NOT EXISTS (SELECT 1 FROM pg_constraint k \
             WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid \
             AND k.contype IN ('p', 'u', 'x')) \
           AND {rel_filter}",
        comment("d", "pg_class", "i.oid", "0"),
    );
    let triggers = format!(
        "SELECT n.nspname AS schema, c.relname AS relation, t.tgname AS name, \
           pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled, \
           d.description AS comment \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace {} \
         WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {rel_filter}",
        comment("d", "pg_trigger", "t.oid", "0"),
    );
    let policies = format!(
        "SELECT n.nspname AS schema, c.relname AS relation, p.polname AS name, \
           CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' \
             WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command, \
           p.polpermissive AS permissive, \
           array(SELECT CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END \
             FROM unnest(p.polroles) r ORDER BY 1) AS roles, \
           pg_get_expr(p.polqual, p.polrelid) AS using, \
           pg_get_expr(p.polwithcheck, p.polrelid) AS with_check \
         FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {rel_filter}"
    );
    let sequences = format!(
        "SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type, \
           s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max, \
           s.seqcache AS cache, s.seqcycle AS cycle, \
           (SELECT quote_ident(rn.nspname) || '.' || quote_ident(r.relname) || '.' \
              || quote_ident(a.attname) \
            FROM pg_depend o JOIN pg_class r ON r.oid = o.refobjid \
              JOIN pg_namespace rn ON rn.oid = r.relnamespace \
              JOIN pg_attribute a ON a.attrelid = o.refobjid AND a.attnum = o.refobjsubid \
            WHERE o.classid = 'pg_class'::regclass AND o.objid = c.oid \
              AND o.refclassid = 'pg_class'::regclass AND o.deptype = 'a') AS owned_by, \
           d.description AS comment \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace {} \
         WHERE NOT EXISTS (SELECT 1 FROM pg_depend o WHERE o.classid = 'pg_class'::regclass \
             AND o.objid = c.oid AND o.deptype = 'i') \
           AND {rel_filter}",
        comment("d", "pg_class", "c.oid", "0"),
    );
    let types = format!(
        "SELECT n.nspname AS schema, t.typname AS name, t.typtype::text AS kind, \
           CASE WHEN t.typtype = 'e' THEN coalesce(array(SELECT e.enumlabel::text FROM pg_enum e \
             WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), '{{}}') END AS labels, \
           CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type, \
           CASE WHEN t.typtype = 'c' THEN (SELECT coalesce(json_agg(json_build_object('name', \
             a.attname, 'type', format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum), '[]') \
             FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 \
             AND NOT a.attisdropped) END AS attributes, \
           t.typnotnull AS not_null, pg_get_expr(t.typdefaultbin, 0) AS default, \
           CASE WHEN t.typtype = 'd' AND t.typcollation <> b.typcollation THEN \
             (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co \
              JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) \
             END AS collation, \
           (SELECT json_object_agg(k.conname, pg_get_constraintdef(k.oid)) FROM pg_constraint k \
             WHERE k.contypid = t.oid AND k.contype = 'c') AS checks, \
           d.description AS comment \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
           LEFT JOIN pg_type b ON b.oid = t.typbasetype {} \
         WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND (SELECT r.relkind FROM pg_class r \
             WHERE r.oid = t.typrelid) = 'c')) AND {USER_SCHEMA} AND {}",
        comment("d", "pg_type", "t.oid", "0"),
        not_extension_member("pg_type", "t.oid"),
    );
    let functions = format!(
        "SELECT n.nspname AS schema, p.proname AS name, \
           pg_get_function_identity_arguments(p.oid) AS arguments, \
           pg_get_functiondef(p.oid) AS definition, d.description AS comment \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace {} \
         WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMA} AND {}",
        comment("d", "pg_proc", "p.oid", "0"),
        not_extension_member("pg_proc", "p.oid"),
    );
    let extensions = String::from(
        "SELECT x.extname AS name, x.extversion AS version, n.nspname AS schema \
         FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace",
    );
    vec![
        schemas,
        relations,
        columns,
        constraints,
        indexes,
        triggers,
        sequences,
        types,
        functions,
        extensions,
        policies,
    ]
}

/// How the catalog batch hands back its results. [`snapshot`] uses `PerKindJson`; the others
/// exist so the benchmark can measure the alternatives (see BENCHMARKS.md).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchForm {
    /// One statement per object kind, each returning one JSON array.
    PerKindJson,
    /// One statement per object kind returning plain rows (text, left unparsed).
    PerKindRows,
    /// A single statement returning one JSON object of all kinds.
    OneJson,
}

/// The whole batch as one simple-query text: the search path is read before it is emptied.
#[doc(hidden)]
pub fn catalog_batch(form: BatchForm) -> String {
    const KINDS: &[&str] = &[
        "schemas",
        "relations",
        "columns",
        "constraints",
        "indexes",
        "triggers",
        "sequences",
        "types",
        "functions",
        "extensions",
        "policies",
    ];
    let mut sql = String::from(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n\
         SELECT to_json(current_schemas(false))::text;\n\
         SET LOCAL search_path = '';\n",
    );
    match form {
        BatchForm::PerKindJson | BatchForm::PerKindRows => {
            for query in queries() {
                if form == BatchForm::PerKindJson {
                    sql.push_str(&json_rows(&query));
                } else {
                    sql.push_str(&query);
                }
                sql.push_str(";\n");
            }
        }
        BatchForm::OneJson => {
            let parts: Vec<String> = KINDS
                .iter()
                .zip(queries())
                .map(|(kind, query)| {
                    format!("'{kind}', (SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM ({query}) q)")
                })
                .collect();
            sql.push_str(&format!(
                "SELECT json_build_object({})::text;\n",
                parts.join(", ")
            ));
        }
    }
    sql.push_str("COMMIT;");
    sql
}

fn batch() -> String {
    catalog_batch(BatchForm::PerKindJson)
}

// Row shapes, as the queries above name their columns.

#[derive(Deserialize)]
struct SchemaRow {
    name: String,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct RelationRow {
    schema: String,
    name: String,
    kind: String,
    unlogged: bool,
    options: Vec<String>,
    row_security: bool,
    force_row_security: bool,
    partition_key: Option<String>,
    partition_of: Option<String>,
    partition_bound: Option<String>,
    inherits: Vec<String>,
    definition: Option<String>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct ColumnRow {
    schema: String,
    relation: String,
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    not_null: bool,
    default: Option<String>,
    generated: Option<String>,
    identity: Option<String>,
    collation: Option<String>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct ConstraintRow {
    schema: String,
    relation: String,
    name: String,
    kind: String,
    definition: String,
    deferrable: bool,
    initially_deferred: bool,
    references: Option<String>,
    on_update: Option<String>,
    on_delete: Option<String>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct IndexRow {
    schema: String,
    relation: String,
    name: String,
    definition: String,
    unique: bool,
    partial: bool,
    method: String,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct TriggerRow {
    schema: String,
    relation: String,
    name: String,
    definition: String,
    enabled: String,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct PolicyRow {
    schema: String,
    relation: String,
    name: String,
    command: String,
    permissive: bool,
    roles: Vec<String>,
    using: Option<String>,
    with_check: Option<String>,
}

#[derive(Deserialize)]
struct SequenceRow {
    schema: String,
    name: String,
    data_type: String,
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    cache: i64,
    cycle: bool,
    owned_by: Option<String>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct TypeRow {
    schema: String,
    name: String,
    kind: String,
    labels: Option<Vec<String>>,
    base_type: Option<String>,
    attributes: Option<Vec<Attribute>>,
    not_null: bool,
    default: Option<String>,
    collation: Option<String>,
    checks: Option<BTreeMap<String, String>>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct FunctionRow {
    schema: String,
    name: String,
    arguments: String,
    definition: String,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct ExtensionRow {
    name: String,
    version: String,
    schema: String,
}

/// A foreign key action as words (`pg_constraint.confupdtype` / `confdeltype` codes).
fn fk_action(code: &str) -> String {
    match code {
        "a" => "no action",
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        other => other,
    }
    .to_owned()
}

/// Reads a snapshot of the database `client` is connected to. `target` (a redacted URL) names
/// the database in errors. The connection must not be inside a transaction.
pub async fn snapshot(
    client: &Client,
    target: &str,
    options: &Options,
) -> Result<Snapshot, DbError> {
    let query_error = |message: String| DbError::Query {
        target: target.to_owned(),
        message: format!("reading the schema: {message}"),
    };
    let messages = match client.simple_query(&batch()).await {
        Ok(messages) => messages,
        Err(err) => {
            // A failed statement leaves the transaction open and aborted; close it so the
            // connection stays usable.
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(query_error(describe(&err, target)));
        }
    };
    let texts: Vec<String> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("[]").to_owned()),
            _ => None,
        })
        .collect();
    let expected = queries().len() + 1;
    if texts.len() != expected {
        return Err(query_error(format!(
            "expected {expected} result rows from the catalog queries, got {}",
            texts.len()
        )));
    }
    let parsed = Parsed::from_texts(&texts).map_err(|e| query_error(e.to_string()))?;
    Ok(parsed.assemble(options))
}

/// The batch's results, typed.
struct Parsed {
    search_path: Vec<String>,
    schemas: Vec<SchemaRow>,
    relations: Vec<RelationRow>,
    columns: Vec<ColumnRow>,
    constraints: Vec<ConstraintRow>,
    indexes: Vec<IndexRow>,
    triggers: Vec<TriggerRow>,
    sequences: Vec<SequenceRow>,
    types: Vec<TypeRow>,
    functions: Vec<FunctionRow>,
    extensions: Vec<ExtensionRow>,
    policies: Vec<PolicyRow>,
}

impl Parsed {
    fn from_texts(texts: &[String]) -> Result<Parsed, serde_json::Error> {
        let text = |i: usize| texts.get(i).map(String::as_str).unwrap_or("[]");
        Ok(Parsed {
            search_path: serde_json::from_str(text(0))?,
            schemas: serde_json::from_str(text(1))?,
            relations: serde_json::from_str(text(2))?,
            columns: serde_json::from_str(text(3))?,
            constraints: serde_json::from_str(text(4))?,
            indexes: serde_json::from_str(text(5))?,
            triggers: serde_json::from_str(text(6))?,
            sequences: serde_json::from_str(text(7))?,
            types: serde_json::from_str(text(8))?,
            functions: serde_json::from_str(text(9))?,
            extensions: serde_json::from_str(text(10))?,
            policies: serde_json::from_str(text(11))?,
        })
    }

    /// Builds the normalised maps, leaving out the excluded tables.
    fn assemble(self, options: &Options) -> Snapshot {
        let excluded = self.excluded_keys(options);
        let mut snap = Snapshot::default();
        for row in self.schemas {
            snap.schemas.insert(
                ident(&row.name),
                Schema {
                    comment: row.comment,
                },
            );
        }
        for row in self.relations {
            let key = qualified(&row.schema, &row.name);
            let Some(kind) = RelationKind::from_relkind(&row.kind) else {
                continue;
            };
            if excluded.contains(&key) {
                continue;
            }
            snap.relations.insert(
                key,
                Relation {
                    kind,
                    unlogged: row.unlogged,
                    options: row.options,
                    row_security: row.row_security,
                    force_row_security: row.force_row_security,
                    partition_key: row.partition_key,
                    partition_of: row.partition_of,
                    partition_bound: row.partition_bound,
                    inherits: row.inherits,
                    definition: row.definition,
                    comment: row.comment,
                    columns: BTreeMap::new(),
                    constraints: BTreeMap::new(),
                    indexes: BTreeMap::new(),
                    triggers: BTreeMap::new(),
                    policies: BTreeMap::new(),
                },
            );
        }
        // Children of excluded (or unknown) relations are dropped by `get_mut` missing.
        for row in self.columns {
            if let Some(rel) = snap
                .relations
                .get_mut(&qualified(&row.schema, &row.relation))
            {
                rel.columns.insert(
                    row.name,
                    Column {
                        data_type: row.data_type,
                        not_null: row.not_null,
                        default: row.default,
                        identity: row.identity,
                        generated: row.generated,
                        collation: row.collation,
                        comment: row.comment,
                    },
                );
            }
        }
        for row in self.constraints {
            let Some(kind) = ConstraintKind::from_contype(&row.kind) else {
                continue;
            };
            if let Some(rel) = snap
                .relations
                .get_mut(&qualified(&row.schema, &row.relation))
            {
                rel.constraints.insert(
                    row.name,
                    Constraint {
                        kind,
                        definition: row.definition,
                        deferrable: row.deferrable,
                        initially_deferred: row.initially_deferred,
                        references: row.references,
                        on_update: row.on_update.as_deref().map(fk_action),
                        on_delete: row.on_delete.as_deref().map(fk_action),
                        comment: row.comment,
                    },
                );
            }
        }
        for row in self.indexes {
            if let Some(rel) = snap
                .relations
                .get_mut(&qualified(&row.schema, &row.relation))
            {
                rel.indexes.insert(
                    row.name,
                    Index {
                        definition: row.definition,
                        unique: row.unique,
                        partial: row.partial,
                        method: row.method,
                        comment: row.comment,
                    },
                );
            }
        }
        for row in self.triggers {
            if let Some(rel) = snap
                .relations
                .get_mut(&qualified(&row.schema, &row.relation))
            {
                rel.triggers.insert(
                    row.name,
                    Trigger {
                        definition: row.definition,
                        enabled: row.enabled,
                        comment: row.comment,
                    },
                );
            }
        }
        for row in self.policies {
            if let Some(rel) = snap
                .relations
                .get_mut(&qualified(&row.schema, &row.relation))
            {
                rel.policies.insert(
                    row.name,
                    Policy {
                        command: row.command,
                        permissive: row.permissive,
                        roles: row.roles,
                        using: row.using,
                        with_check: row.with_check,
                    },
                );
            }
        }
        for row in self.sequences {
            snap.sequences.insert(
                qualified(&row.schema, &row.name),
                Sequence {
                    data_type: row.data_type,
                    start: row.start,
                    increment: row.increment,
                    min: row.min,
                    max: row.max,
                    cache: row.cache,
                    cycle: row.cycle,
                    owned_by: row.owned_by,
                    comment: row.comment,
                },
            );
        }
        for row in self.types {
            let def = match row.kind.as_str() {
                "e" => TypeDef::Enum {
                    labels: row.labels.unwrap_or_default(),
                    comment: row.comment,
                },
                "c" => TypeDef::Composite {
                    attributes: row.attributes.unwrap_or_default(),
                    comment: row.comment,
                },
                "d" => TypeDef::Domain {
                    base_type: row.base_type.unwrap_or_default(),
                    not_null: row.not_null,
                    default: row.default,
                    collation: row.collation,
                    checks: row.checks.unwrap_or_default(),
                    comment: row.comment,
                },
                _ => continue,
            };
            snap.types.insert(qualified(&row.schema, &row.name), def);
        }
        for row in self.functions {
            snap.functions.insert(
                format!("{}({})", qualified(&row.schema, &row.name), row.arguments),
                Function {
                    definition: row.definition,
                    comment: row.comment,
                },
            );
        }
        for row in self.extensions {
            snap.extensions.insert(
                row.name,
                Extension {
                    version: row.version,
                    schema: row.schema,
                },
            );
        }
        snap
    }

    /// The keys of the excluded tables: a table without a schema is the first one of that name
    /// on the search path, as the server would resolve it.
    fn excluded_keys(&self, options: &Options) -> Vec<String> {
        options
            .exclude_tables
            .iter()
            .filter_map(|t| match &t.schema {
                Some(schema) => Some(qualified(schema, &t.table)),
                None => self
                    .search_path
                    .iter()
                    .find(|schema| {
                        self.relations
                            .iter()
                            .any(|r| &r.schema == *schema && r.name == t.table)
                    })
                    .map(|schema| qualified(schema, &t.table)),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// One-line definitions, for people reading a difference.

impl Column {
    pub fn definition(&self) -> String {
        let mut s = self.data_type.clone();
        if let Some(c) = &self.collation {
            let _ = write!(s, " COLLATE {c}");
        }
        if self.not_null {
            s.push_str(" NOT NULL");
        }
        if let Some(d) = &self.default {
            let _ = write!(s, " DEFAULT {d}");
        }
        if let Some(i) = &self.identity {
            let _ = write!(s, " GENERATED {} AS IDENTITY", i.to_uppercase());
        }
        if let Some(g) = &self.generated {
            let _ = write!(s, " GENERATED ALWAYS AS ({g}) STORED");
        }
        push_comment(&mut s, &self.comment);
        s
    }
}

impl Constraint {
    pub fn definition(&self) -> String {
        let mut s = self.definition.clone();
        push_comment(&mut s, &self.comment);
        s
    }
}

impl Index {
    pub fn definition(&self) -> String {
        let mut s = self.definition.clone();
        push_comment(&mut s, &self.comment);
        s
    }
}

impl Trigger {
    pub fn definition(&self) -> String {
        let mut s = self.definition.clone();
        match self.enabled.as_str() {
            "O" => {}
            "D" => s.push_str(" (disabled)"),
            "R" => s.push_str(" (enabled for replica only)"),
            "A" => s.push_str(" (enabled always)"),
            other => {
                let _ = write!(s, " (enabled {other})");
            }
        }
        push_comment(&mut s, &self.comment);
        s
    }
}

impl Relation {
    /// The relation itself, without its columns, constraints, indexes, triggers and policies.
    pub fn definition(&self) -> String {
        let mut s = String::new();
        if self.unlogged {
            s.push_str("unlogged ");
        }
        s.push_str(self.kind.label());
        if let Some(key) = &self.partition_key {
            let _ = write!(s, " PARTITION BY {key}");
        }
        if let Some(parent) = &self.partition_of {
            let _ = write!(s, " PARTITION OF {parent}");
            if let Some(bound) = &self.partition_bound {
                let _ = write!(s, " {bound}");
            }
        }
        if !self.inherits.is_empty() {
            let _ = write!(s, " INHERITS ({})", self.inherits.join(", "));
        }
        if !self.options.is_empty() {
            let _ = write!(s, " WITH ({})", self.options.join(", "));
        }
        if self.row_security {
            s.push_str(" ROW LEVEL SECURITY");
            if self.force_row_security {
                s.push_str(" FORCED");
            }
        }
        if let Some(def) = &self.definition {
            let _ = write!(s, " AS {}", one_line(def));
        }
        push_comment(&mut s, &self.comment);
        s
    }
}

impl Policy {
    pub fn definition(&self) -> String {
        let mut s = format!(
            "AS {} FOR {} TO {}",
            if self.permissive {
                "PERMISSIVE"
            } else {
                "RESTRICTIVE"
            },
            self.command,
            self.roles.join(", ")
        );
        if let Some(u) = &self.using {
            let _ = write!(s, " USING ({u})");
        }
        if let Some(c) = &self.with_check {
            let _ = write!(s, " WITH CHECK ({c})");
        }
        s
    }
}

impl Sequence {
    pub fn definition(&self) -> String {
        let mut s = format!(
            "AS {} START {} INCREMENT {} MINVALUE {} MAXVALUE {} CACHE {}{}",
            self.data_type,
            self.start,
            self.increment,
            self.min,
            self.max,
            self.cache,
            if self.cycle { " CYCLE" } else { "" }
        );
        if let Some(owner) = &self.owned_by {
            let _ = write!(s, " OWNED BY {owner}");
        }
        push_comment(&mut s, &self.comment);
        s
    }
}

impl TypeDef {
    pub fn definition(&self) -> String {
        match self {
            TypeDef::Enum { labels, comment } => {
                let labels: Vec<String> = labels
                    .iter()
                    .map(|l| format!("'{}'", l.replace('\'', "''")))
                    .collect();
                let mut s = format!("ENUM ({})", labels.join(", "));
                push_comment(&mut s, comment);
                s
            }
            TypeDef::Composite {
                attributes,
                comment,
            } => {
                let attributes: Vec<String> = attributes
                    .iter()
                    .map(|a| format!("{} {}", ident(&a.name), a.data_type))
                    .collect();
                let mut s = format!("AS ({})", attributes.join(", "));
                push_comment(&mut s, comment);
                s
            }
            TypeDef::Domain {
                base_type,
                not_null,
                default,
                collation,
                checks,
                comment,
            } => {
                let mut s = format!("DOMAIN AS {base_type}");
                if let Some(c) = collation {
                    let _ = write!(s, " COLLATE {c}");
                }
                if *not_null {
                    s.push_str(" NOT NULL");
                }
                if let Some(d) = default {
                    let _ = write!(s, " DEFAULT {d}");
                }
                for (name, check) in checks {
                    let _ = write!(s, " CONSTRAINT {} {check}", ident(name));
                }
                push_comment(&mut s, comment);
                s
            }
        }
    }
}

impl Function {
    pub fn definition(&self) -> String {
        let mut s = one_line(&self.definition);
        push_comment(&mut s, &self.comment);
        s
    }
}

impl Extension {
    pub fn definition(&self) -> String {
        format!("version {} in schema {}", self.version, ident(&self.schema))
    }
}

impl Schema {
    pub fn definition(&self) -> String {
        let mut s = "schema".to_owned();
        push_comment(&mut s, &self.comment);
        s
    }
}

fn push_comment(s: &mut String, comment: &Option<String>) {
    if let Some(c) = comment {
        let _ = write!(s, " COMMENT '{}'", c.replace('\'', "''"));
    }
}

/// Collapses the whitespace of multi-line definitions (view queries, function bodies).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_only_when_sql_needs_it() {
        assert_eq!(ident("users"), "users");
        assert_eq!(ident("_x1$"), "_x1$");
        assert_eq!(ident("Users"), "\"Users\"");
        assert_eq!(ident("1st"), "\"1st\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident(""), "\"\"");
        assert_eq!(qualified("public", "My Table"), "public.\"My Table\"");
    }

    #[test]
    fn the_batch_reads_the_search_path_before_emptying_it() {
        let sql = batch();
        let path = sql.find("current_schemas").unwrap();
        let empty = sql.find("SET LOCAL search_path").unwrap();
        assert!(path < empty);
        // One result row per catalog query, plus the search path.
        assert_eq!(
            sql.matches("coalesce(json_agg(row_to_json(q)), '[]')::text")
                .count(),
            queries().len()
        );
    }
}
