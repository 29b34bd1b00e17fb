//! Review intelligence: rules over the `op.*` calls of revision bodies and over SQL statements
//! (raw `op.execute` strings and rendered steps alike), producing `Finding`s with a stable rule
//! id, a severity, the revision, direction and line. Pure: no I/O.

pub mod op_rules;
pub mod sql_rules;
pub mod sql_split;
pub mod suppress;
pub mod types;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::project::revision::Revision;

pub use sql_rules::{classify_statement, Flag, SqlContext, StepReview};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Which body a finding is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Upgrade,
    Downgrade,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

/// The family a rule belongs to; destructive rules are errors by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Destructive,
    Locking,
    Review,
    /// Column types that cost later (overflow, time zones, padding): info or warning.
    Design,
}

macro_rules! rules {
    ($($variant:ident = $id:literal, $category:ident, $severity:ident;)*) => {
        /// Every rule, with its fixed id (docs/rules.md has one section per id).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $($variant,)*
        }

        impl Rule {
            /// Every rule, in documentation order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable id used in output, config and suppression comments.
            pub fn id(self) -> &'static str {
                match self {
                    $(Rule::$variant => $id,)*
                }
            }

            pub fn category(self) -> Category {
                match self {
                    $(Rule::$variant => Category::$category,)*
                }
            }

            /// The severity before config overrides.
            pub fn default_severity(self) -> Severity {
                match self {
                    $(Rule::$variant => Severity::$severity,)*
                }
            }
        }
    };
}

rules! {
    DropTable = "drop-table", Destructive, Error;
    DropColumn = "drop-column", Destructive, Error;
    DropSchema = "drop-schema", Destructive, Error;
    DropDatabase = "drop-database", Destructive, Error;
    DropType = "drop-type", Destructive, Error;
    DropSequence = "drop-sequence", Destructive, Error;
    DropView = "drop-view", Destructive, Error;
    Truncate = "truncate", Destructive, Error;
    DeleteWithoutWhere = "delete-without-where", Destructive, Error;
    UpdateWithoutWhere = "update-without-where", Destructive, Error;
    AlterColumnType = "alter-column-type", Destructive, Error;
    DropConstraint = "drop-constraint", Destructive, Error;
    DropIndex = "drop-index", Destructive, Error;
    CreateIndexWithoutConcurrently = "create-index-without-concurrently", Locking, Warning;
    ConcurrentlyInsideTransaction = "concurrently-inside-transaction", Locking, Error;
    AddNotNullColumnWithoutDefault = "add-not-null-column-without-default", Locking, Error;
    SetNotNull = "set-not-null", Locking, Warning;
    AddForeignKeyWithoutNotValid = "add-foreign-key-without-not-valid", Locking, Warning;
    AddCheckWithoutNotValid = "add-check-without-not-valid", Locking, Warning;
    AddUniqueConstraint = "add-unique-constraint", Locking, Warning;
    VolatileDefault = "volatile-default", Locking, Warning;
    EnumAddValueInTransaction = "enum-add-value-in-transaction", Locking, Error;
    SuspectedRename = "suspected-rename", Review, Warning;
    EmptyRevision = "empty-revision", Review, Warning;
    Irreversible = "irreversible", Review, Warning;
    DowngradeMismatch = "downgrade-mismatch", Review, Warning;
    MixedSchemaAndData = "mixed-schema-and-data", Review, Warning;
    RenameColumn = "rename-column", Review, Warning;
    RenameTable = "rename-table", Review, Warning;
    TransactionNesting = "transaction-nesting", Review, Error;
    PreferRobustStmts = "prefer-robust-stmts", Review, Warning;
    EditedAfterApply = "edited-after-apply", Review, Error;
    BanCharField = "ban-char-field", Design, Warning;
    PreferBigint = "prefer-bigint", Design, Info;
    PreferIdentity = "prefer-identity", Design, Info;
    PreferTimestamptz = "prefer-timestamptz", Design, Info;
}

impl Rule {
    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// What a rule's severity is set to in config: a severity, or `off` to drop its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Off,
    Is(Severity),
}

impl Level {
    /// `error`, `warning`, `info` or `off`.
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text.trim() {
            "error" => Level::Is(Severity::Error),
            "warning" => Level::Is(Severity::Warning),
            "info" => Level::Is(Severity::Info),
            "off" => Level::Off,
            _ => return None,
        })
    }
}

/// PostgreSQL major version assumed when no server is connected (the config's `pg_version`).
pub const DEFAULT_PG_VERSION: u32 = 15;

/// Options of a lint run.
#[derive(Debug, Clone, PartialEq)]
pub struct LintOptions {
    /// Server major version for verdicts that depend on it (volatile defaults before 11, enum
    /// values in transactions before 12).
    pub pg_version: u32,
    /// Per-rule severity overrides from config.
    pub levels: BTreeMap<Rule, Level>,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            pg_version: DEFAULT_PG_VERSION,
            levels: BTreeMap::new(),
        }
    }
}

impl LintOptions {
    /// The severity a rule reports at, or None when config turned it off.
    pub fn severity(&self, rule: Rule) -> Option<Severity> {
        match self.levels.get(&rule) {
            Some(Level::Off) => None,
            Some(Level::Is(s)) => Some(*s),
            None => Some(rule.default_severity()),
        }
    }
}

/// One finding, in the JSON shape of `lint --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    pub revision: String,
    pub direction: Direction,
    pub path: String,
    /// 1-based line in the revision file.
    pub line: usize,
    pub message: String,
    /// The reason given in an `# alembic-tui: allow RULE -- reason` comment, when suppressed.
    pub suppressed: Option<String>,
}

impl Finding {
    /// True when it should fail a CI run: error level and not suppressed.
    pub fn is_blocking(&self) -> bool {
        self.severity == Severity::Error && self.suppressed.is_none()
    }
}

/// A finding before it is tied to a revision: what the op and SQL rules produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFinding {
    pub rule: Rule,
    pub direction: Direction,
    pub line: usize,
    /// The last line of the statement it comes from (a trailing suppression comment may sit there).
    pub end_line: usize,
    pub message: String,
    /// A ceiling on the rule's severity: a downgrade's drop of what its own upgrade created is
    /// the expected inverse and reports at `Info` whatever the rule's level.
    pub severity: Option<Severity>,
}

/// Lints one revision, both directions: rules, config severities, then suppression comments.
/// Merge revisions (several down revisions) are exempt from `empty-revision`.
pub fn lint_revision(rev: &Revision, opts: &LintOptions) -> Vec<Finding> {
    let raw = op_rules::lint(rev, opts);
    finish(rev, raw, opts)
}

/// Turns raw findings of `rev` into findings: severity from `opts` (dropping rules turned off)
/// and suppression from the revision's comments.
pub fn finish(rev: &Revision, raw: Vec<RawFinding>, opts: &LintOptions) -> Vec<Finding> {
    let allows = suppress::parse(&rev.tool_comments);
    let path = rev.path.display().to_string();
    raw.into_iter()
        .filter_map(|r| {
            let level = opts.severity(r.rule)?;
            let severity = r.severity.map_or(level, |cap| cap.min(level));
            Some(Finding {
                suppressed: suppress::reason(&allows, r.rule, (r.line, r.end_line)),
                rule: r.rule,
                severity,
                revision: rev.id.clone(),
                direction: r.direction,
                path: path.clone(),
                line: r.line,
                message: r.message,
            })
        })
        .collect()
}

/// Lints many revisions on all cores, keeping their order.
pub fn lint_revisions(revs: &[&Revision], opts: &LintOptions) -> Vec<Finding> {
    use rayon::prelude::*;
    let per: Vec<Vec<Finding>> = revs.par_iter().map(|r| lint_revision(r, opts)).collect();
    per.into_iter().flatten().collect()
}

/// The hash the journal recorded for a revision's file when it was applied to this database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedHash {
    pub revision: String,
    pub file_sha256: String,
}

/// `edited-after-apply`: `rev`'s file now hashes to `current_sha256`, but the last upgrade of it
/// journaled for this database recorded another hash. `applied` is in journal order (the last
/// entry for a revision wins).
pub fn edited_after_apply(
    rev: &Revision,
    current_sha256: &str,
    applied: &[AppliedHash],
    opts: &LintOptions,
) -> Vec<Finding> {
    let Some(last) = applied.iter().rev().find(|a| a.revision == rev.id) else {
        return Vec::new();
    };
    if last.file_sha256.eq_ignore_ascii_case(current_sha256) {
        return Vec::new();
    }
    let short = |h: &str| h.get(..12).unwrap_or(h).to_owned();
    let raw = vec![RawFinding {
        severity: None,
        rule: Rule::EditedAfterApply,
        direction: Direction::Upgrade,
        line: rev.upgrade.as_ref().map_or(1, |b| b.def_line),
        end_line: rev.upgrade.as_ref().map_or(1, |b| b.def_line),
        message: format!(
            "{} changed after it was applied to this database (applied as sha256 {}, now {})",
            rev.path
                .file_name()
                .map_or_else(|| rev.id.clone(), |n| n.to_string_lossy().into_owned()),
            short(&last.file_sha256),
            short(current_sha256)
        ),
    }];
    finish(rev, raw, opts)
}
