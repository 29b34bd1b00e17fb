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

use crate::analysis::{sql_split, LintOptions, Rule, Severity};

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
}

impl Facts {
    fn merge(&mut self, other: Facts) {
        self.flags.extend(other.flags);
        self.schema |= other.schema;
        self.data |= other.data;
        self.created.extend(other.created);
        self.dropped.extend(other.dropped);
        self.enum_values.extend(other.enum_values);
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

fn analyze_one(sql: &str, ctx: &SqlContext) -> Facts {
    match Parser::parse_sql(&PostgreSqlDialect {}, sql) {
        Ok(statements) if !statements.is_empty() => {
            let mut facts = Facts::default();
            for statement in &statements {
                facts.merge(ast::classify(statement, ctx));
            }
            facts
        }
        _ => keywords::classify(sql, ctx),
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
        ObjectType::Sequence => (Rule::DropSequence, "sequence"),
        ObjectType::Type => (Rule::DropType, "type"),
        _ => return None,
    })
}

mod ast {
    //! Verdicts over sqlparser's AST.

    use super::*;

    fn table_of(t: &TableWithJoins) -> String {
        match &t.relation {
            TableFactor::Table { name, .. } => display(name),
            other => other.to_string(),
        }
    }

    fn default_kind(
        options: &[sqlparser::ast::ColumnOptionDef],
        data_type: &DataType,
    ) -> DefaultKind {
        // serial types are an integer with a nextval() default.
        let type_text = data_type.to_string().to_lowercase();
        if matches!(
            type_text.as_str(),
            "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2"
        ) {
            return DefaultKind::Volatile("nextval".to_owned());
        }
        for option in options {
            if let ColumnOption::Default(expr) = &option.option {
                if matches!(expr, Expr::Value(v) if v.to_string().eq_ignore_ascii_case("NULL")) {
                    return DefaultKind::None;
                }
                return match volatile_call(&expr.to_string()) {
                    Some(f) => DefaultKind::Volatile(f.to_owned()),
                    None => DefaultKind::Constant,
                };
            }
        }
        DefaultKind::None
    }

    pub(super) fn classify(statement: &Statement, ctx: &SqlContext) -> Facts {
        let mut facts = Facts::default();
        match statement {
            Statement::Drop {
                object_type, names, ..
            } => {
                facts.schema = true;
                for name in names {
                    let object = bare(name);
                    match object_type {
                        ObjectType::Table | ObjectType::ForeignTable => {
                            facts.dropped.push(Object::Table(object.clone()))
                        }
                        ObjectType::Index => facts.dropped.push(Object::Index(object.clone())),
                        _ => {}
                    }
                    // A table made earlier in the same revision holds nothing to lose.
                    if *object_type == ObjectType::Table && ctx.created_tables.contains(&object) {
                        continue;
                    }
                    if let Some((rule, what)) = drop_rule(object_type) {
                        facts.flag(rule, drop_message(what, &display(name)));
                    }
                }
            }
            Statement::Truncate(t) => {
                facts.data = true;
                for target in &t.table_names {
                    facts.flag(
                        Rule::Truncate,
                        format!("truncates {}: every row is deleted", display(&target.name)),
                    );
                }
            }
            Statement::Delete(d) => {
                facts.data = true;
                let tables = match &d.from {
                    FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
                };
                if d.selection.is_none() && d.using.is_none() {
                    for t in tables {
                        facts.flag(
                            Rule::DeleteWithoutWhere,
                            format!("deletes every row of {} (no WHERE)", table_of(t)),
                        );
                    }
                }
            }
            Statement::Update(u) => {
                facts.data = true;
                if u.selection.is_none() && u.from.is_none() {
                    facts.flag(
                        Rule::UpdateWithoutWhere,
                        format!("updates every row of {} (no WHERE)", table_of(&u.table)),
                    );
                }
            }
            Statement::Insert(_) | Statement::Copy { .. } | Statement::Merge { .. } => {
                facts.data = true
            }
            Statement::CreateTable(ct) => {
                facts.schema = true;
                facts.created.push(Object::Table(bare(&ct.name)));
            }
            Statement::CreateIndex(ci) => {
                facts.schema = true;
                let index = ci
                    .name
                    .as_ref()
                    .map(display)
                    .unwrap_or_else(|| "(unnamed)".to_owned());
                if let Some(name) = &ci.name {
                    facts.created.push(Object::Index(bare(name)));
                }
                let table = bare(&ci.table_name);
                for (rule, message) in create_index_verdicts(&index, &table, ci.concurrently, ctx) {
                    facts.flag(rule, message);
                }
            }
            Statement::AlterTable(at) => {
                facts.schema = true;
                let table = bare(&at.name);
                let shown = display(&at.name);
                for operation in &at.operations {
                    alter_table_operation(&mut facts, &table, &shown, operation, ctx);
                }
            }
            Statement::AlterType(at) => {
                facts.schema = true;
                if let AlterTypeOperation::AddValue(add) = &at.operation {
                    enum_add_value(&mut facts, &display(&at.name), &add.value.value, ctx);
                }
            }
            Statement::Query(_)
            | Statement::Set(_)
            | Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. } => {}
            // Everything else parsed (CREATE FUNCTION, COMMENT, GRANT, CREATE TYPE, …) changes
            // the schema without a rule of ours.
            _ => facts.schema = true,
        }
        facts
    }

    fn alter_table_operation(
        facts: &mut Facts,
        table: &str,
        shown: &str,
        operation: &AlterTableOperation,
        ctx: &SqlContext,
    ) {
        let fresh = ctx.created_tables.contains(table);
        match operation {
            AlterTableOperation::AddColumn { column_def, .. } => {
                let column = fold(&column_def.name);
                let not_null = column_def.options.iter().any(|o| {
                    matches!(
                        o.option,
                        ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
                    )
                });
                let default = default_kind(&column_def.options, &column_def.data_type);
                facts
                    .created
                    .push(Object::Column(table.to_owned(), column.clone()));
                for (rule, message) in add_column_verdicts(table, &column, not_null, &default, ctx)
                {
                    facts.flag(rule, message);
                }
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                for c in column_names {
                    let column = fold(c);
                    facts
                        .dropped
                        .push(Object::Column(table.to_owned(), column.clone()));
                    if !fresh {
                        facts.flag(
                            Rule::DropColumn,
                            drop_message("column", &format!("{shown}.{column}")),
                        );
                    }
                }
            }
            AlterTableOperation::DropConstraint { name, .. } => {
                facts.dropped.push(Object::Constraint(fold(name)));
                if !fresh {
                    facts.flag(
                        Rule::DropConstraint,
                        format!("drops constraint {} on {shown}", fold(name)),
                    );
                }
            }
            AlterTableOperation::AddConstraint {
                constraint,
                not_valid,
            } => {
                let name = match constraint {
                    TableConstraint::ForeignKey(c) => c.name.as_ref(),
                    TableConstraint::Check(c) => c.name.as_ref(),
                    TableConstraint::Unique(c) => c.name.as_ref(),
                    TableConstraint::PrimaryKey(c) => c.name.as_ref(),
                    _ => None,
                };
                let name = name.map(fold);
                if let Some(n) = &name {
                    facts.created.push(Object::Constraint(n.clone()));
                }
                if fresh {
                    return;
                }
                let shown_name = name.unwrap_or_else(|| "(unnamed)".to_owned());
                let verdict = match constraint {
                    TableConstraint::ForeignKey(_) if !not_valid => {
                        Some(fk_verdict(&shown_name, shown))
                    }
                    TableConstraint::Check(_) if !not_valid => {
                        Some(check_verdict(&shown_name, shown))
                    }
                    TableConstraint::Unique(_) => {
                        Some(unique_verdict("unique", &shown_name, shown))
                    }
                    TableConstraint::PrimaryKey(_) => {
                        Some(unique_verdict("primary key", &shown_name, shown))
                    }
                    _ => None,
                };
                if let Some((rule, message)) = verdict {
                    facts.flag(rule, message);
                }
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => facts.flag(
                Rule::RenameColumn,
                rename_column_message(shown, &fold(old_column_name), &fold(new_column_name)),
            ),
            AlterTableOperation::RenameTable { table_name } => facts.flag(
                Rule::RenameTable,
                rename_table_message(shown, &table_name.to_string()),
            ),
            AlterTableOperation::AlterColumn { column_name, op } if !fresh => {
                let column = fold(column_name);
                match op {
                    AlterColumnOperation::SetNotNull => {
                        facts.flag(Rule::SetNotNull, set_not_null_message(shown, &column))
                    }
                    AlterColumnOperation::SetDataType { data_type, .. } => facts.flag(
                        Rule::AlterColumnType,
                        alter_type_message(shown, &column, &data_type.to_string()),
                    ),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

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

mod keywords {
    //! The fallback reading: tokens of the statement, matched against the shapes of the
    //! statements the rules care about.

    use super::*;

    #[derive(Debug, Clone)]
    struct Tok {
        /// Unquoted words upper-cased; empty for anything else.
        word: String,
        /// The identifier as PostgreSQL folds it (quoted kept as is), or the token text.
        name: String,
        depth: usize,
        comma: bool,
        dollar_body: Option<String>,
    }

    fn tokens(sql: &str) -> Vec<Tok> {
        let dialect = PostgreSqlDialect {};
        let raw = match Tokenizer::new(&dialect, sql).tokenize() {
            Ok(t) => t,
            // Not even tokenizable: read whitespace-separated words.
            Err(_) => sql
                .split_whitespace()
                .map(|w| Token::make_word(w, None))
                .collect(),
        };
        let mut depth = 0usize;
        let mut out = Vec::new();
        for token in raw {
            match &token {
                Token::Whitespace(_) => continue,
                Token::LParen => {
                    depth += 1;
                    continue;
                }
                Token::RParen => {
                    depth = depth.saturating_sub(1);
                    continue;
                }
                _ => {}
            }
            let (word, name) = match &token {
                Token::Word(w) if w.quote_style.is_none() => {
                    (w.value.to_uppercase(), w.value.to_lowercase())
                }
                Token::Word(w) => (String::new(), w.value.clone()),
                other => (String::new(), other.to_string()),
            };
            let dollar_body = match &token {
                Token::DollarQuotedString(s) => Some(s.value.clone()),
                _ => None,
            };
            out.push(Tok {
                word,
                name,
                depth,
                comma: token == Token::Comma,
                dollar_body,
            });
        }
        out
    }

    /// A cursor over top-level tokens.
    struct Words<'t> {
        toks: &'t [Tok],
        at: usize,
    }

    impl<'t> Words<'t> {
        fn peek(&self) -> &str {
            self.toks.get(self.at).map_or("", |t| t.word.as_str())
        }
        fn eat(&mut self, word: &str) -> bool {
            if self.peek() == word {
                self.at += 1;
                true
            } else {
                false
            }
        }
        fn eat_all(&mut self, words: &[&str]) -> bool {
            let save = self.at;
            if words.iter().all(|w| self.eat(w)) {
                true
            } else {
                self.at = save;
                false
            }
        }
        /// A possibly qualified name: (bare, shown).
        fn name(&mut self) -> (String, String) {
            let mut parts = Vec::new();
            while let Some(t) = self.toks.get(self.at) {
                parts.push(t.name.clone());
                self.at += 1;
                if self.toks.get(self.at).is_some_and(|t| t.name == ".") {
                    self.at += 1;
                } else {
                    break;
                }
            }
            (parts.last().cloned().unwrap_or_default(), parts.join("."))
        }
        fn rest(&self) -> &'t [Tok] {
            self.toks.get(self.at..).unwrap_or_default()
        }
    }

    fn has_word(toks: &[Tok], word: &str) -> bool {
        toks.iter().any(|t| t.word == word)
    }

    fn has_top_word(toks: &[Tok], word: &str) -> bool {
        toks.iter().any(|t| t.depth == 0 && t.word == word)
    }

    pub(super) fn classify(sql: &str, ctx: &SqlContext) -> Facts {
        let toks = tokens(sql);
        let mut facts = Facts::default();
        let mut w = Words { toks: &toks, at: 0 };
        // A CTE in front of a data-modifying statement: judge the statement after it.
        if w.peek() == "WITH" {
            facts.data = true;
            return facts;
        }
        if w.eat("DROP") {
            facts.schema = true;
            let kind = if w.eat("TABLE") || w.eat_all(&["FOREIGN", "TABLE"]) {
                Some(ObjectType::Table)
            } else if w.eat_all(&["MATERIALIZED", "VIEW"]) {
                Some(ObjectType::MaterializedView)
            } else if w.eat("VIEW") {
                Some(ObjectType::View)
            } else if w.eat("INDEX") {
                Some(ObjectType::Index)
            } else if w.eat("SCHEMA") {
                Some(ObjectType::Schema)
            } else if w.eat("SEQUENCE") {
                Some(ObjectType::Sequence)
            } else if w.eat("TYPE") || w.eat("DOMAIN") {
                Some(ObjectType::Type)
            } else {
                None
            };
            let Some(kind) = kind else { return facts };
            let concurrently = w.eat("CONCURRENTLY");
            w.eat_all(&["IF", "EXISTS"]);
            loop {
                let (object, shown) = w.name();
                if object.is_empty() {
                    break;
                }
                match kind {
                    ObjectType::Table => facts.dropped.push(Object::Table(object.clone())),
                    ObjectType::Index => facts.dropped.push(Object::Index(object.clone())),
                    _ => {}
                }
                if !(kind == ObjectType::Table && ctx.created_tables.contains(&object)) {
                    if let Some((rule, what)) = drop_rule(&kind) {
                        facts.flag(rule, drop_message(what, &shown));
                    }
                }
                if concurrently && ctx.in_transaction {
                    facts.flag(
                        Rule::ConcurrentlyInsideTransaction,
                        format!(
                            "drops index {shown} CONCURRENTLY inside the migration's transaction \
                             (PostgreSQL refuses; wrap it in op.get_context().autocommit_block())"
                        ),
                    );
                }
                if !w.toks.get(w.at).is_some_and(|t| t.comma) {
                    break;
                }
                w.at += 1;
            }
            return facts;
        }
        if w.eat("TRUNCATE") {
            facts.data = true;
            w.eat("TABLE");
            w.eat("ONLY");
            let (_, shown) = w.name();
            facts.flag(
                Rule::Truncate,
                format!("truncates {shown}: every row is deleted"),
            );
            return facts;
        }
        if w.eat("DELETE") {
            facts.data = true;
            w.eat("FROM");
            w.eat("ONLY");
            let (_, shown) = w.name();
            let rest = w.rest();
            if !has_top_word(rest, "WHERE") && !has_top_word(rest, "USING") {
                facts.flag(
                    Rule::DeleteWithoutWhere,
                    format!("deletes every row of {shown} (no WHERE)"),
                );
            }
            return facts;
        }
        if w.eat("UPDATE") {
            facts.data = true;
            w.eat("ONLY");
            let (_, shown) = w.name();
            let rest = w.rest();
            if !has_top_word(rest, "WHERE") && !has_top_word(rest, "FROM") {
                facts.flag(
                    Rule::UpdateWithoutWhere,
                    format!("updates every row of {shown} (no WHERE)"),
                );
            }
            return facts;
        }
        if matches!(w.peek(), "INSERT" | "COPY" | "MERGE") {
            facts.data = true;
            return facts;
        }
        if w.eat("CREATE") {
            facts.schema = true;
            w.eat_all(&["OR", "REPLACE"]);
            let unique = w.eat("UNIQUE");
            if w.eat("INDEX") {
                let concurrently = w.eat("CONCURRENTLY");
                w.eat_all(&["IF", "NOT", "EXISTS"]);
                let index = if w.peek() == "ON" {
                    "(unnamed)".to_owned()
                } else {
                    let (bare_name, shown) = w.name();
                    facts.created.push(Object::Index(bare_name));
                    shown
                };
                w.eat("ON");
                w.eat("ONLY");
                let (table, _) = w.name();
                let _ = unique;
                for (rule, message) in create_index_verdicts(&index, &table, concurrently, ctx) {
                    facts.flag(rule, message);
                }
                return facts;
            }
            for prefix in ["TEMPORARY", "TEMP", "UNLOGGED"] {
                w.eat(prefix);
            }
            if w.eat("TABLE") {
                w.eat_all(&["IF", "NOT", "EXISTS"]);
                let (table, _) = w.name();
                facts.created.push(Object::Table(table));
            }
            return facts;
        }
        if w.eat("DO") {
            // An anonymous block runs now: read the statements of its body.
            for t in w.rest() {
                if let Some(body) = &t.dollar_body {
                    facts.merge(plpgsql_body(body, ctx));
                    facts.schema |= !facts.data;
                }
            }
            return facts;
        }
        if w.eat_all(&["ALTER", "TYPE"]) {
            facts.schema = true;
            let (_, ty) = w.name();
            if w.eat_all(&["ADD", "VALUE"]) {
                w.eat_all(&["IF", "NOT", "EXISTS"]);
                let value = w
                    .toks
                    .get(w.at)
                    .map(|t| t.name.trim_matches('\'').to_owned());
                enum_add_value(&mut facts, &ty, &value.unwrap_or_default(), ctx);
            }
            return facts;
        }
        if w.eat_all(&["ALTER", "TABLE"]) {
            facts.schema = true;
            w.eat_all(&["IF", "EXISTS"]);
            w.eat("ONLY");
            let (table, shown) = w.name();
            let rest = w.rest();
            for clause in rest.split(|t| t.comma && t.depth == 0) {
                alter_table_clause(&mut facts, &table, &shown, clause, ctx);
            }
            return facts;
        }
        if matches!(w.peek(), "ALTER" | "COMMENT" | "GRANT" | "REVOKE") {
            facts.schema = true;
        }
        // Nothing recognised: still refuse to call it safe if it drops or empties something.
        if !facts.schema && !facts.data && (has_word(&toks, "DROP") || has_word(&toks, "TRUNCATE"))
        {
            facts.schema = true;
        }
        facts
    }

    /// Statements inside a `DO` body, with PL/pgSQL's block words taken off.
    fn plpgsql_body(body: &str, ctx: &SqlContext) -> Facts {
        let mut facts = Facts::default();
        let Ok(statements) = sql_split::split(body) else {
            return classify(body, ctx);
        };
        for statement in statements {
            let mut text = statement.text.as_str();
            // Byte-wise ASCII comparison: upper-casing could change lengths in other scripts.
            while let Some(k) = [
                "BEGIN", "DECLARE", "END IF", "END LOOP", "END", "ELSE", "THEN",
            ]
            .iter()
            .find(|k| {
                text.get(..k.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(k))
                    && text
                        .get(k.len()..)
                        .and_then(|rest| rest.chars().next())
                        .is_none_or(char::is_whitespace)
            }) {
                text = text.get(k.len()..).unwrap_or_default().trim_start();
            }
            if !text.is_empty() {
                facts.merge(analyze_one(text, ctx));
            }
        }
        facts
    }

    fn alter_table_clause(
        facts: &mut Facts,
        table: &str,
        shown: &str,
        clause: &[Tok],
        ctx: &SqlContext,
    ) {
        let fresh = ctx.created_tables.contains(table);
        let mut w = Words {
            toks: clause,
            at: 0,
        };
        if w.eat("DROP") {
            if w.eat("CONSTRAINT") {
                w.eat_all(&["IF", "EXISTS"]);
                let (name, _) = w.name();
                facts.dropped.push(Object::Constraint(name.clone()));
                if !fresh {
                    facts.flag(
                        Rule::DropConstraint,
                        format!("drops constraint {name} on {shown}"),
                    );
                }
                return;
            }
            if matches!(w.peek(), "DEFAULT" | "NOT" | "EXPRESSION" | "IDENTITY") {
                return;
            }
            w.eat("COLUMN");
            w.eat_all(&["IF", "EXISTS"]);
            let (column, _) = w.name();
            facts
                .dropped
                .push(Object::Column(table.to_owned(), column.clone()));
            if !fresh {
                facts.flag(
                    Rule::DropColumn,
                    drop_message("column", &format!("{shown}.{column}")),
                );
            }
            return;
        }
        if w.eat("ADD") {
            let mut constraint_name = None;
            if w.eat("CONSTRAINT") {
                let (name, _) = w.name();
                facts.created.push(Object::Constraint(name.clone()));
                constraint_name = Some(name);
            }
            let shown_name = constraint_name
                .clone()
                .unwrap_or_else(|| "(unnamed)".to_owned());
            let rest = w.rest();
            let not_valid = rest
                .windows(2)
                .any(|p| p[0].word == "NOT" && p[1].word == "VALID" && p[0].depth == 0);
            let kind = w.peek().to_owned();
            let verdict = match kind.as_str() {
                "FOREIGN" if !not_valid => Some(fk_verdict(&shown_name, shown)),
                "CHECK" if !not_valid => Some(check_verdict(&shown_name, shown)),
                "UNIQUE" | "PRIMARY"
                    if has_top_word(rest, "USING") && has_top_word(rest, "INDEX") =>
                {
                    None
                }
                "UNIQUE" => Some(unique_verdict("unique", &shown_name, shown)),
                "PRIMARY" => Some(unique_verdict("primary key", &shown_name, shown)),
                "FOREIGN" | "CHECK" | "EXCLUDE" => None,
                _ if constraint_name.is_some() => None,
                _ => {
                    // ADD [COLUMN] [IF NOT EXISTS] name type …
                    w.eat("COLUMN");
                    w.eat_all(&["IF", "NOT", "EXISTS"]);
                    let (column, _) = w.name();
                    let rest = w.rest();
                    let type_word = rest.first().map(|t| t.word.as_str()).unwrap_or_default();
                    let not_null = rest.windows(2).any(|p| {
                        (p[0].word == "NOT" && p[1].word == "NULL")
                            || (p[0].word == "PRIMARY" && p[1].word == "KEY")
                    });
                    let default_at = rest.iter().position(|t| t.word == "DEFAULT");
                    let serial = matches!(
                        type_word,
                        "SERIAL" | "BIGSERIAL" | "SMALLSERIAL" | "SERIAL2" | "SERIAL4" | "SERIAL8"
                    );
                    let default = match default_at {
                        _ if serial => DefaultKind::Volatile("nextval".to_owned()),
                        None => DefaultKind::None,
                        Some(at) if rest.get(at + 1).is_some_and(|t| t.word == "NULL") => {
                            DefaultKind::None
                        }
                        // Parentheses are not kept as tokens: a volatile function's name is
                        // enough to tell.
                        Some(at) => match rest[at + 1..].iter().find_map(|t| {
                            VOLATILE_FUNCTIONS
                                .iter()
                                .find(|f| t.word.eq_ignore_ascii_case(f))
                        }) {
                            Some(f) => DefaultKind::Volatile((*f).to_owned()),
                            None => DefaultKind::Constant,
                        },
                    };
                    facts
                        .created
                        .push(Object::Column(table.to_owned(), column.clone()));
                    for (rule, message) in
                        add_column_verdicts(table, &column, not_null, &default, ctx)
                    {
                        facts.flag(rule, message);
                    }
                    None
                }
            };
            if let (false, Some((rule, message))) = (fresh, verdict) {
                facts.flag(rule, message);
            }
            return;
        }
        if w.eat("RENAME") {
            if w.eat("TO") {
                let (_, new) = w.name();
                facts.flag(Rule::RenameTable, rename_table_message(shown, &new));
                return;
            }
            if w.eat("CONSTRAINT") {
                return;
            }
            w.eat("COLUMN");
            let (old, _) = w.name();
            w.eat("TO");
            let (new, _) = w.name();
            facts.flag(Rule::RenameColumn, rename_column_message(shown, &old, &new));
            return;
        }
        if w.eat("ALTER") {
            w.eat("COLUMN");
            let (column, _) = w.name();
            if fresh {
                return;
            }
            if w.eat_all(&["SET", "NOT", "NULL"]) {
                facts.flag(Rule::SetNotNull, set_not_null_message(shown, &column));
            } else if w.eat_all(&["SET", "DATA", "TYPE"]) || w.eat("TYPE") {
                let ty: Vec<&str> = w
                    .rest()
                    .iter()
                    .take_while(|t| t.word != "USING" && t.word != "COLLATE")
                    .map(|t| t.name.as_str())
                    .collect();
                facts.flag(
                    Rule::AlterColumnType,
                    alter_type_message(shown, &column, &ty.join(" ")),
                );
            }
        }
    }
}

/// The keyword reading alone, for tests that hold it to the AST's verdicts.
pub fn analyze_by_keywords(sql: &str, ctx: &SqlContext) -> Facts {
    keywords::classify(sql, ctx)
}
