//! The SQL classifier: what one statement does (schema or data change, objects it creates or
//! drops) and which rules it breaks. sqlparser's PostgreSQL AST where the statement parses; a
//! keyword reading of its tokens otherwise, so a statement sqlparser cannot read is still judged
//! (unparsed never means safe). Shared by `op.execute` strings and rendered steps.

use std::collections::HashSet;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, AlterTypeOperation, ColumnOption, DataType, Expr,
    FromTable, Ident, ObjectName, ObjectNamePart, ObjectType, Statement, TableConstraint,
    TableFactor, TableWithJoins,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::analysis::{sql_split, types, LintOptions, Rule, Severity};

/// What the classifier needs to know around a statement.
#[derive(Debug, Clone, Copy)]
pub struct SqlContext<'a> {
    /// Server major version.
    pub pg_version: u32,
    /// The statement runs inside a transaction block (not in an `autocommit_block`).
    pub in_transaction: bool,
    /// Tables created earlier in the same revision or step (bare names, no schema): work on them
    /// locks nobody and loses nothing.
    pub created_tables: &'a HashSet<String>,
}

/// A rule a statement breaks, for the confirmation pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub rule: Rule,
    pub severity: Severity,
    pub reason: String,
}

/// A database object a statement creates or drops (names as PostgreSQL folds them, bare).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Object {
    Table(String),
    Column(String, String),
    Index(String),
    Constraint(String),
    /// A type (`CREATE TYPE`, or an enum a created table brings with it).
    Type(String),
}

/// Everything the classifier learned about a piece of SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Rules broken, with the one-line message.
    pub flags: Vec<(Rule, String)>,
    /// Changes the schema (DDL).
    pub schema: bool,
    /// Changes rows (INSERT, UPDATE, DELETE, TRUNCATE, COPY).
    pub data: bool,
    pub created: Vec<Object>,
    pub dropped: Vec<Object>,
    /// `ALTER TYPE t ADD VALUE 'v'` inside a transaction: (type, value) — using the value later
    /// in the same transaction fails.
    pub enum_values: Vec<(String, String)>,
    /// Every `ALTER TYPE t ADD VALUE 'v'`, in or out of a transaction: (type, value).
    pub added_values: Vec<(String, String)>,
}

impl Facts {
    fn merge(&mut self, other: Facts) {
        self.flags.extend(other.flags);
        self.schema |= other.schema;
        self.data |= other.data;
        self.created.extend(other.created);
        self.dropped.extend(other.dropped);
        self.enum_values.extend(other.enum_values);
        self.added_values.extend(other.added_values);
    }

    fn flag(&mut self, rule: Rule, message: String) {
        self.flags.push((rule, message));
    }
}

/// Flags for each rule one statement (or a few, `;`-separated) breaks, at default severity.
/// The confirmation pane uses [`StepReview`] to get config severities and per-step context.
pub fn classify_statement(sql: &str, ctx: &SqlContext) -> Vec<Flag> {
    analyze(sql, ctx)
        .flags
        .into_iter()
        .map(|(rule, reason)| Flag {
            rule,
            severity: rule.default_severity(),
            reason,
        })
        .collect()
}

/// Reviews the statements of one rendered step in order, remembering tables created earlier in
/// the step and enum values added in its transaction.
#[derive(Debug, Clone)]
pub struct StepReview<'o> {
    opts: &'o LintOptions,
    created: HashSet<String>,
    enum_values: Vec<(String, String)>,
}

impl<'o> StepReview<'o> {
    pub fn new(opts: &'o LintOptions) -> StepReview<'o> {
        StepReview {
            opts,
            created: HashSet::new(),
            enum_values: Vec::new(),
        }
    }

    /// Flags for the next statement; `autocommit` is true for statements run outside the
    /// step's transaction. Rules turned off in config are left out.
    pub fn statement(&mut self, sql: &str, autocommit: bool) -> Vec<Flag> {
        // Leaving the transaction for an autocommit statement commits what came before it,
        // new enum values included.
        if autocommit {
            self.enum_values.clear();
        }
        let facts = analyze(
            sql,
            &SqlContext {
                pg_version: self.opts.pg_version,
                in_transaction: !autocommit,
                created_tables: &self.created,
            },
        );
        let mut flags = facts.flags;
        for (ty, value) in uses_of_new_enum_values(&self.enum_values, sql) {
            flags.push((
                Rule::EnumAddValueInTransaction,
                enum_use_message(&ty, &value),
            ));
        }
        self.note(&facts.created, &facts.enum_values);
        flags
            .into_iter()
            .filter_map(|(rule, reason)| {
                Some(Flag {
                    rule,
                    severity: self.opts.severity(rule)?,
                    reason,
                })
            })
            .collect()
    }

    fn note(&mut self, created: &[Object], enum_values: &[(String, String)]) {
        for object in created {
            if let Object::Table(t) = object {
                self.created.insert(t.clone());
            }
        }
        self.enum_values.extend(enum_values.iter().cloned());
    }
}

/// The enum values added earlier in this transaction that `sql` mentions as a literal.
pub(crate) fn uses_of_new_enum_values(
    added: &[(String, String)],
    sql: &str,
) -> Vec<(String, String)> {
    added
        .iter()
        .filter(|(_, value)| sql.contains(&format!("'{}'", value.replace('\'', "''"))))
        .cloned()
        .collect()
}

pub(crate) fn enum_use_message(ty: &str, value: &str) -> String {
    format!(
        "enum {ty} gets value '{value}' and the same transaction uses it (PostgreSQL refuses: \
         a new enum value cannot be used before it is committed)"
    )
}

/// Classifies SQL text: split into statements, each parsed or read by keywords. Statements see
/// the tables created and enum values added by the ones before them in the same text.
pub fn analyze(sql: &str, ctx: &SqlContext) -> Facts {
    let statements = match sql_split::split(sql) {
        Ok(statements) => statements,
        // An unterminated quote: still read what the words say.
        Err(_) => return keywords::classify(sql, ctx),
    };
    let mut facts = Facts::default();
    let mut created: Option<HashSet<String>> = None;
    for statement in statements {
        let here = SqlContext {
            created_tables: created.as_ref().unwrap_or(ctx.created_tables),
            ..*ctx
        };
        let mut one = analyze_one(&statement.text, &here);
        for (ty, value) in uses_of_new_enum_values(&facts.enum_values, &statement.text) {
            one.flag(
                Rule::EnumAddValueInTransaction,
                enum_use_message(&ty, &value),
            );
        }
        let new_tables: Vec<String> = one
            .created
            .iter()
            .filter_map(|o| match o {
                Object::Table(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        if !new_tables.is_empty() {
            created
                .get_or_insert_with(|| ctx.created_tables.clone())
                .extend(new_tables);
        }
        facts.merge(one);
    }
    facts
}

/// Past this many operators and opening brackets, a statement is read by its keywords: its
/// expression tree could be that deep, and building, printing and dropping a tree recurse once
/// per level (a `WHERE` of 32,000 `OR`s would overflow the stack). Real DDL stays far below.
const MAX_AST_OPERATORS: usize = 500;

/// Stack the AST path may use: enough for `MAX_AST_OPERATORS` levels with room to spare.
const AST_STACK: usize = 2 * 1024 * 1024;

fn analyze_one(sql: &str, ctx: &SqlContext) -> Facts {
    let dialect = PostgreSqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize() else {
        return keywords::classify(sql, ctx);
    };
    if tokens.iter().filter(|t| deepens(t)).count() > MAX_AST_OPERATORS {
        return keywords::classify(sql, ctx);
    }
    // The tree is parsed, classified and dropped on a stack known to be large enough.
    let facts = stacker::maybe_grow(AST_STACK, 2 * AST_STACK, || {
        match Parser::new(&dialect).with_tokens(tokens).parse_statements() {
            Ok(statements) if !statements.is_empty() => {
                let mut facts = Facts::default();
                for statement in &statements {
                    facts.merge(ast::classify(statement, ctx));
                }
                Some(facts)
            }
            _ => None,
        }
    });
    facts.unwrap_or_else(|| keywords::classify(sql, ctx))
}

/// A token that can add a level to an expression tree: an operator or an opening bracket.
fn deepens(token: &Token) -> bool {
    use sqlparser::keywords::Keyword;
    match token {
        Token::Word(w) => {
            w.quote_style.is_none()
                && matches!(
                    w.keyword,
                    Keyword::AND
                        | Keyword::OR
                        | Keyword::NOT
                        | Keyword::IS
                        | Keyword::LIKE
                        | Keyword::ILIKE
                        | Keyword::SIMILAR
                        | Keyword::BETWEEN
                        | Keyword::IN
                        | Keyword::AT
                        | Keyword::COLLATE
                        | Keyword::CASE
                        | Keyword::SELECT
                )
        }
        Token::EOF
        | Token::Number(..)
        | Token::Char(_)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::Comma
        | Token::Whitespace(_)
        | Token::RParen
        | Token::RBracket
        | Token::RBrace
        | Token::Period
        | Token::SemiColon
        | Token::Colon
        | Token::Placeholder(_)
        | Token::CopyData { .. } => false,
        _ => true,
    }
}

/// An identifier as PostgreSQL folds it: unquoted names are lower-cased.
fn fold(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The last part of a possibly schema-qualified name, folded.
fn bare(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => fold(ident),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// A name for messages: every part, folded, joined with dots.
fn display(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(ident) => fold(ident),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Functions whose value differs per row: a column default calling one makes PostgreSQL write
/// it into every existing row (a table rewrite). `now()` and friends are stable within a
/// statement and take the cheap path since PostgreSQL 11.
const VOLATILE_FUNCTIONS: &[&str] = &[
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "random",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
];

/// The volatile function a default expression calls, if any (the expression as SQL text).
pub(crate) fn volatile_call(expr_text: &str) -> Option<&'static str> {
    // String literals say nothing about what is called: blank them out first.
    let mut lower = String::with_capacity(expr_text.len());
    let mut in_string = false;
    for c in expr_text.chars() {
        if c == '\'' {
            in_string = !in_string;
            lower.push(' ');
        } else if in_string {
            lower.push(' ');
        } else {
            lower.extend(c.to_lowercase());
        }
    }
    VOLATILE_FUNCTIONS.iter().copied().find(|f| {
        lower.match_indices(f).any(|(at, _)| {
            let before_ok = lower[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            let after = lower[at + f.len()..].trim_start();
            before_ok && after.starts_with('(')
        })
    })
}

/// A new column's default, as far as locking goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DefaultKind {
    None,
    /// A constant or stable expression: stored once in the catalog since PostgreSQL 11.
    Constant,
    /// Calls a volatile function (named): every row is written.
    Volatile(String),
}

/// The verdicts on adding column `table.column` shared by `op.add_column` and
/// `ALTER TABLE … ADD COLUMN`.
pub(crate) fn add_column_verdicts(
    table: &str,
    column: &str,
    not_null: bool,
    default: &DefaultKind,
    ctx: &SqlContext,
) -> Vec<(Rule, String)> {
    let mut out = Vec::new();
    if ctx.created_tables.contains(table) {
        return out;
    }
    if not_null && *default == DefaultKind::None {
        out.push((
            Rule::AddNotNullColumnWithoutDefault,
            format!(
                "adds NOT NULL column {table}.{column} without a server default: fails on a \
                 table that has rows"
            ),
        ));
    }
    match default {
        DefaultKind::Volatile(function) => out.push((
            Rule::VolatileDefault,
            format!(
                "adds {table}.{column} with a default calling {function}(): every existing row \
                 is rewritten under an ACCESS EXCLUSIVE lock"
            ),
        )),
        DefaultKind::Constant if ctx.pg_version < 11 => out.push((
            Rule::VolatileDefault,
            format!(
                "adds {table}.{column} with a default: before PostgreSQL 11 (pg_version {}) any \
                 default rewrites the whole table",
                ctx.pg_version
            ),
        )),
        _ => {}
    }
    out
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY]` verdicts shared with `op.create_index`.
pub(crate) fn create_index_verdicts(
    index: &str,
    table: &str,
    concurrently: bool,
    ctx: &SqlContext,
) -> Vec<(Rule, String)> {
    let mut out = Vec::new();
    if concurrently && ctx.in_transaction {
        out.push((
            Rule::ConcurrentlyInsideTransaction,
            format!(
                "creates index {index} CONCURRENTLY inside the migration's transaction \
                 (PostgreSQL refuses; wrap it in op.get_context().autocommit_block())"
            ),
        ));
    } else if !concurrently && !ctx.created_tables.contains(table) {
        out.push((
            Rule::CreateIndexWithoutConcurrently,
            format!(
                "creates index {index} on {table} without CONCURRENTLY: writes to {table} wait \
                 until the index is built"
            ),
        ));
    }
    out
}

pub(crate) fn drop_message(what: &str, name: &str) -> String {
    format!("drops {what} {name}")
}

/// The rule for dropping one kind of object.
fn drop_rule(kind: &ObjectType) -> Option<(Rule, &'static str)> {
    Some(match kind {
        ObjectType::Table | ObjectType::ForeignTable => (Rule::DropTable, "table"),
        ObjectType::View => (Rule::DropView, "view"),
        ObjectType::MaterializedView => (Rule::DropView, "materialized view"),
        ObjectType::Index => (Rule::DropIndex, "index"),
        ObjectType::Schema => (Rule::DropSchema, "schema"),
        ObjectType::Database => (Rule::DropDatabase, "database"),
        ObjectType::Sequence => (Rule::DropSequence, "sequence"),
        ObjectType::Type => (Rule::DropType, "type"),
        _ => return None,
    })
}

mod ast;

pub(crate) fn fk_verdict(name: &str, table: &str) -> (Rule, String) {
    (
        Rule::AddForeignKeyWithoutNotValid,
        format!(
            "adds foreign key {name} on {table} without NOT VALID: both tables are locked while \
             every row is checked"
        ),
    )
}

pub(crate) fn check_verdict(name: &str, table: &str) -> (Rule, String) {
    (
        Rule::AddCheckWithoutNotValid,
        format!(
            "adds check constraint {name} on {table} without NOT VALID: writes wait while every \
             row is checked"
        ),
    )
}

pub(crate) fn unique_verdict(kind: &str, name: &str, table: &str) -> (Rule, String) {
    (
        Rule::AddUniqueConstraint,
        format!(
            "adds {kind} constraint {name} on {table}: builds its index under a lock that \
             blocks writes (build a unique index CONCURRENTLY, then ADD CONSTRAINT … USING INDEX)"
        ),
    )
}

pub(crate) fn rename_column_message(table: &str, old: &str, new: &str) -> String {
    format!("renames column {table}.{old} to {new}: running code that uses {old} breaks")
}

pub(crate) fn rename_table_message(old: &str, new: &str) -> String {
    format!("renames table {old} to {new}: running code that uses {old} breaks")
}

pub(crate) fn set_not_null_message(table: &str, column: &str) -> String {
    format!(
        "sets {table}.{column} NOT NULL: the whole table is scanned under an ACCESS EXCLUSIVE lock"
    )
}

pub(crate) fn alter_type_message(table: &str, column: &str, ty: &str) -> String {
    format!("changes the type of {table}.{column} to {ty}: may rewrite the table and lose data")
}

/// `ALTER TYPE … ADD VALUE`: refused in a transaction block before PostgreSQL 12; since 12 the
/// new value is only unusable until commit (checked against later statements by the callers).
pub(crate) fn enum_add_value(facts: &mut Facts, ty: &str, value: &str, ctx: &SqlContext) {
    if !ctx.in_transaction {
        return;
    }
    if ctx.pg_version < 12 {
        facts.flag(
            Rule::EnumAddValueInTransaction,
            format!(
                "adds value '{value}' to enum {ty} inside a transaction: PostgreSQL {} refuses \
                 (before 12 it must run in an autocommit_block)",
                ctx.pg_version
            ),
        );
    } else {
        facts.enum_values.push((ty.to_owned(), value.to_owned()));
    }
}

/// The design verdicts on a column's type by its identity (`types`): `serial` says whether
/// the column is filled from a sequence the way `serial` types are; `shown` is the type as
/// written, for the message.
pub(crate) fn type_verdicts(
    table: &str,
    column: &str,
    key: &str,
    serial: bool,
    shown: &str,
) -> Vec<(Rule, String)> {
    let mut out = Vec::new();
    // An array's elements have the same problems as a column of their type.
    let key = key.trim_end_matches("[]");
    if serial {
        out.push((
            Rule::PreferIdentity,
            format!(
                "{table}.{column} is {shown}, a sequence owned by a default: use an identity \
                 column (GENERATED ... AS IDENTITY, sa.Identity())"
            ),
        ));
    }
    if key == "INTEGER" || key == "SMALLINT" {
        out.push((
            Rule::PreferBigint,
            format!(
                "{table}.{column} is {}: it runs out at {}; widening it later rewrites the table \
                 (use BIGINT, sa.BigInteger())",
                key.to_lowercase(),
                if key == "INTEGER" { "2^31" } else { "2^15" }
            ),
        ));
    }
    if key == "TIMESTAMP" {
        out.push((
            Rule::PreferTimestamptz,
            format!(
                "{table}.{column} is timestamp without time zone: values are read in whatever \
                 zone the session has (use timestamptz, sa.DateTime(timezone=True))"
            ),
        ));
    }
    if key.starts_with("CHAR(") {
        out.push((
            Rule::BanCharField,
            format!(
                "{table}.{column} is {}: values are blank-padded and no faster than text \
                 (use text or varchar)",
                key.to_lowercase()
            ),
        ));
    }
    out
}

/// [`type_verdicts`] for a type written as SQL.
pub(crate) fn sql_type_verdicts(table: &str, column: &str, sql_type: &str) -> Vec<(Rule, String)> {
    let lower = sql_type.trim().to_ascii_lowercase();
    let serial = matches!(
        lower.as_str(),
        "serial" | "serial4" | "smallserial" | "serial2" | "bigserial" | "serial8"
    );
    type_verdicts(table, column, &types::sql_type_key(&lower), serial, &lower)
}

/// `transaction-nesting`: transaction control inside a migration body.
pub(crate) fn transaction_message(what: &str) -> String {
    format!(
        "runs {what} inside the migration: alembic runs each step in its own transaction, which \
         this ends or nests (use op.get_context().autocommit_block() for statements that must \
         run outside it)"
    )
}

/// `prefer-robust-stmts`: an index statement outside any transaction that cannot be re-run
/// after a failure half way (a failed CREATE INDEX CONCURRENTLY leaves an invalid index).
pub(crate) fn robust_verdict(
    verb: &str,
    index: &str,
    guarded: bool,
    ctx: &SqlContext,
) -> Option<(Rule, String)> {
    if ctx.in_transaction || guarded {
        return None;
    }
    let guard = if verb == "creates" {
        "IF NOT EXISTS (if_not_exists=True)"
    } else {
        "IF EXISTS (if_exists=True)"
    };
    Some((
        Rule::PreferRobustStmts,
        format!(
            "{verb} index {index} outside the step's transaction without {guard}: if the \
             migration fails after it, running it again fails here"
        ),
    ))
}

mod keywords;

/// The keyword reading alone, for tests that hold it to the AST's verdicts.
pub fn analyze_by_keywords(sql: &str, ctx: &SqlContext) -> Facts {
    keywords::classify(sql, ctx)
}
