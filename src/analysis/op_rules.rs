//! Rules over the parsed `op.*` calls of one revision's upgrade and downgrade bodies. Calls
//! (batch ones included) are first turned into `Action`s with their table resolved; SQL passed to
//! `op.execute` goes through the SQL classifier. Whole-revision rules (empty, irreversible,
//! mismatched downgrade, suspected renames) compare the two bodies.

use std::collections::{HashMap, HashSet};

mod actions;
mod pairs;

use actions::{actions, bare, render, Action, ConstraintKind};

use crate::analysis::sql_rules::{self, Object, SqlContext};
use crate::analysis::{Category, Direction, LintOptions, RawFinding, Rule};
use crate::project::revision::{Body, Revision};

/// What one body does, for the rules that look at both bodies.
#[derive(Debug, Default)]
struct Summary {
    schema_line: Option<usize>,
    data_line: Option<usize>,
    /// `op.execute` with SQL we could not read: comparisons with the other body are off.
    opaque: bool,
    /// A type created or dropped on the connection through a variable we cannot resolve
    /// (`mood.drop(op.get_bind())`): type comparisons with the other body are off.
    types_opaque: bool,
    created: Vec<(Object, Option<String>, usize)>,
    dropped: Vec<(Object, Option<String>, usize)>,
    /// Columns with their declared types, of created tables and added columns.
    columns: HashMap<(String, String), String>,
    table_columns: HashMap<String, Vec<(String, String)>>,
    /// (table, column, line, in a batch block) of drop_column calls and (table, column, type
    /// key, line) of add_column.
    dropped_columns: Vec<(String, String, usize, bool)>,
    added_columns: Vec<(String, String, String, usize)>,
    /// (table, column, line) of alter_column calls; a rename is listed under both names.
    altered: Vec<(String, String, usize)>,
    /// (type, value, line) of `ALTER TYPE … ADD VALUE`.
    added_values: Vec<(String, String, usize)>,
    /// The SQL the body runs, lower-cased: where a downgrade takes an enum value out by hand.
    sql_text: String,
    /// Destructive findings of this body (index into the output), with the object they drop
    /// and its table: a downgrade's drop of what its upgrade created is the expected inverse.
    drop_findings: Vec<(usize, Object, Option<String>)>,
    /// Findings made redundant by a later drop of their whole table (index into the output).
    redundant: Vec<usize>,
    /// (table, line) of drop_table / create_table calls.
    dropped_tables: Vec<(String, usize)>,
    created_tables: Vec<(String, usize)>,
}

/// Lints one body, returning its findings and what it does.
fn lint_body(
    body: &Body,
    direction: Direction,
    opts: &LintOptions,
    out: &mut Vec<RawFinding>,
) -> Summary {
    let mut summary = Summary::default();
    let mut created_tables: HashSet<String> = HashSet::new();
    let mut added_columns: HashSet<(String, String)> = HashSet::new();
    let mut enum_values: Vec<(String, String, usize, usize)> = Vec::new();
    for (call, action) in actions(body) {
        let emit = |out: &mut Vec<RawFinding>, rule: Rule, message: String| {
            out.push(RawFinding {
                severity: None,
                rule,
                direction,
                line: call.line,
                end_line: call.end_line,
                message,
            })
        };
        let ctx = SqlContext {
            pg_version: opts.pg_version,
            in_transaction: !call.autocommit,
            created_tables: &created_tables,
        };
        // An autocommit_block commits what came before it, new enum values included.
        if call.autocommit {
            enum_values.clear();
        }
        // A new enum value used later in the same transaction.
        if !call.autocommit && !enum_values.is_empty() {
            let text = call
                .args
                .iter()
                .chain(call.kwargs.iter().map(|(_, v)| v))
                .map(render)
                .collect::<Vec<_>>()
                .join(" ");
            // One finding per added value, at the ADD VALUE: the first use is enough.
            enum_values.retain(|(ty, value, line, end_line)| {
                let quoted_sql = format!("'{value}'");
                let quoted_py = format!("{value:?}");
                let used = text.contains(&quoted_sql) || text.contains(&quoted_py);
                if used {
                    out.push(RawFinding {
                        severity: None,
                        rule: Rule::EnumAddValueInTransaction,
                        direction,
                        line: *line,
                        end_line: *end_line,
                        message: sql_rules::enum_use_message(ty, value),
                    });
                }
                !used
            });
        }
        let fresh = |table: &str| created_tables.contains(&bare(table));
        let mut schema = true;
        let mut data = false;
        match &action {
            Action::CreateTable {
                table,
                columns,
                primary_key,
            } => {
                created_tables.insert(bare(table));
                // SQLAlchemy makes a lone integer primary key column SERIAL on PostgreSQL.
                let serial_column = match primary_key.as_slice() {
                    [one] => columns.iter().find(|c| {
                        c.name == *one
                            && c.may_be_serial
                            && matches!(c.type_key.as_str(), "INTEGER" | "BIGINT" | "SMALLINT")
                    }),
                    _ => None,
                };
                for c in columns {
                    let serial = serial_column.is_some_and(|s| s.name == c.name);
                    for (rule, message) in sql_rules::type_verdicts(
                        &bare(table),
                        &c.name,
                        &c.type_key,
                        serial,
                        &c.type_text,
                    ) {
                        emit(out, rule, message);
                    }
                }
                summary
                    .created
                    .push((Object::Table(bare(table)), None, call.line));
                summary.created_tables.push((bare(table), call.line));
                // create_table also creates the named enum types of its columns.
                for ty in columns.iter().filter_map(|c| c.enum_type.as_ref()) {
                    summary
                        .created
                        .push((Object::Type(ty.clone()), Some(bare(table)), call.line));
                }
                let cols: Vec<(String, String)> = columns
                    .iter()
                    .map(|c| (c.name.clone(), c.type_key.clone()))
                    .collect();
                for (name, ty) in &cols {
                    summary
                        .columns
                        .insert((bare(table), name.clone()), ty.clone());
                }
                summary.table_columns.insert(bare(table), cols);
            }
            Action::DropTable { table } => {
                summary
                    .dropped
                    .push((Object::Table(bare(table)), None, call.line));
                summary.dropped_tables.push((bare(table), call.line));
                if !fresh(table) {
                    summary
                        .drop_findings
                        .push((out.len(), Object::Table(bare(table)), None));
                    emit(
                        out,
                        Rule::DropTable,
                        sql_rules::drop_message("table", table),
                    );
                }
            }
            Action::AddColumn { table, column } => {
                let t = bare(table);
                summary.created.push((
                    Object::Column(t.clone(), column.name.clone()),
                    Some(t.clone()),
                    call.line,
                ));
                summary
                    .columns
                    .insert((t.clone(), column.name.clone()), column.type_key.clone());
                summary.added_columns.push((
                    t.clone(),
                    column.name.clone(),
                    column.type_key.clone(),
                    call.line,
                ));
                for (rule, message) in sql_rules::add_column_verdicts(
                    &t,
                    &column.name,
                    column.not_null,
                    &column.default,
                    &ctx,
                ) {
                    emit(
                        out,
                        rule,
                        message.replacen(&format!(" {t}."), &format!(" {table}."), 1),
                    );
                }
                for (rule, message) in sql_rules::type_verdicts(
                    &t,
                    &column.name,
                    &column.type_key,
                    false,
                    &column.type_text,
                ) {
                    emit(out, rule, message);
                }
                added_columns.insert((t, column.name.clone()));
            }
            Action::DropColumn { table, column } => {
                let t = bare(table);
                summary.dropped.push((
                    Object::Column(t.clone(), column.clone()),
                    Some(t.clone()),
                    call.line,
                ));
                summary.dropped_columns.push((
                    t.clone(),
                    column.clone(),
                    call.line,
                    call.name.starts_with("batch_op."),
                ));
                if !fresh(table) && !added_columns.contains(&(t.clone(), column.clone())) {
                    summary.drop_findings.push((
                        out.len(),
                        Object::Column(t.clone(), column.clone()),
                        Some(t),
                    ));
                    emit(
                        out,
                        Rule::DropColumn,
                        sql_rules::drop_message("column", &format!("{table}.{column}")),
                    );
                }
            }
            Action::AlterColumn {
                table,
                column,
                set_not_null,
                type_text,
                type_key,
                new_name,
            } => {
                let new_here =
                    fresh(table) || added_columns.contains(&(bare(table), column.clone()));
                summary
                    .altered
                    .push((bare(table), column.clone(), call.line));
                if let Some(new) = new_name {
                    summary.altered.push((bare(table), new.clone(), call.line));
                }
                if *set_not_null && !new_here {
                    emit(
                        out,
                        Rule::SetNotNull,
                        sql_rules::set_not_null_message(table, column),
                    );
                }
                if let (Some(ty), false) = (type_text, new_here) {
                    emit(
                        out,
                        Rule::AlterColumnType,
                        sql_rules::alter_type_message(table, column, ty),
                    );
                    let key = type_key.as_deref().unwrap_or_default();
                    for (rule, message) in
                        sql_rules::type_verdicts(&bare(table), column, key, false, ty)
                    {
                        emit(out, rule, message);
                    }
                }
                if let Some(new) = new_name {
                    emit(
                        out,
                        Rule::RenameColumn,
                        sql_rules::rename_column_message(table, column, new),
                    );
                }
            }
            Action::CreateIndex {
                name,
                table,
                concurrently,
                if_not_exists,
            } => {
                if let Some((rule, message)) =
                    sql_rules::robust_verdict("creates", name, *if_not_exists, &ctx)
                {
                    emit(out, rule, message);
                }
                summary
                    .created
                    .push((Object::Index(name.clone()), Some(bare(table)), call.line));
                for (rule, message) in
                    sql_rules::create_index_verdicts(name, &bare(table), *concurrently, &ctx)
                {
                    emit(
                        out,
                        rule,
                        message.replace(&format!(" on {} ", bare(table)), &format!(" on {table} ")),
                    );
                }
            }
            Action::DropIndex {
                name,
                table,
                concurrently,
                if_exists,
            } => {
                if let Some((rule, message)) =
                    sql_rules::robust_verdict("drops", name, *if_exists, &ctx)
                {
                    emit(out, rule, message);
                }
                summary.dropped.push((
                    Object::Index(name.clone()),
                    table.as_deref().map(bare),
                    call.line,
                ));
                if !table.as_deref().is_some_and(fresh) {
                    summary.drop_findings.push((
                        out.len(),
                        Object::Index(name.clone()),
                        table.as_deref().map(bare),
                    ));
                    let on = table
                        .as_ref()
                        .map(|t| format!(" on {t}"))
                        .unwrap_or_default();
                    emit(out, Rule::DropIndex, format!("drops index {name}{on}"));
                }
                if *concurrently && !call.autocommit {
                    emit(
                        out,
                        Rule::ConcurrentlyInsideTransaction,
                        format!(
                            "drops index {name} CONCURRENTLY inside the migration's transaction \
                             (PostgreSQL refuses; wrap it in op.get_context().autocommit_block())"
                        ),
                    );
                }
            }
            Action::AddConstraint {
                kind,
                name,
                table,
                not_valid,
            } => {
                summary.created.push((
                    Object::Constraint(name.clone()),
                    Some(bare(table)),
                    call.line,
                ));
                if !fresh(table) {
                    let verdict = match kind {
                        ConstraintKind::ForeignKey if !not_valid => {
                            Some(sql_rules::fk_verdict(name, table))
                        }
                        ConstraintKind::Check if !not_valid => {
                            Some(sql_rules::check_verdict(name, table))
                        }
                        ConstraintKind::Unique => {
                            Some(sql_rules::unique_verdict("unique", name, table))
                        }
                        ConstraintKind::PrimaryKey => {
                            Some(sql_rules::unique_verdict("primary key", name, table))
                        }
                        _ => None,
                    };
                    if let Some((rule, message)) = verdict {
                        emit(out, rule, message);
                    }
                }
            }
            Action::DropConstraint { name, table } => {
                summary.dropped.push((
                    Object::Constraint(name.clone()),
                    Some(bare(table)),
                    call.line,
                ));
                if !fresh(table) {
                    summary.drop_findings.push((
                        out.len(),
                        Object::Constraint(name.clone()),
                        Some(bare(table)),
                    ));
                    emit(
                        out,
                        Rule::DropConstraint,
                        format!("drops constraint {name} on {table}"),
                    );
                }
            }
            Action::RenameTable { old, new } => {
                emit(
                    out,
                    Rule::RenameTable,
                    sql_rules::rename_table_message(old, new),
                );
            }
            Action::Sql(sql) => {
                let facts = sql_rules::analyze(sql, &ctx);
                schema = facts.schema;
                data = facts.data;
                summary.sql_text.push_str(&sql.to_lowercase());
                summary.sql_text.push('\n');
                // One object dropped: the statement's drop finding is about it.
                let single_drop = match facts.dropped.as_slice() {
                    [one] => Some(one.clone()),
                    _ => None,
                };
                for (rule, message) in facts.flags {
                    if let (Some(object), Category::Destructive) = (&single_drop, rule.category()) {
                        let table = match object {
                            Object::Column(t, _) => Some(t.clone()),
                            _ => None,
                        };
                        summary
                            .drop_findings
                            .push((out.len(), object.clone(), table));
                    }
                    emit(out, rule, message);
                }
                for (ty, value) in facts.added_values {
                    summary.added_values.push((ty, value, call.line));
                }
                for object in facts.created {
                    if let Object::Table(t) = &object {
                        created_tables.insert(t.clone());
                    }
                    if let Object::Column(t, c) = &object {
                        added_columns.insert((t.clone(), c.clone()));
                    }
                    summary.created.push((object, None, call.line));
                }
                for object in facts.dropped {
                    summary.dropped.push((object, None, call.line));
                }
                for (ty, value) in facts.enum_values {
                    enum_values.push((ty, value, call.line, call.end_line));
                }
            }
            Action::DataExpr {
                verb,
                table,
                unbounded,
            } => {
                schema = false;
                data = true;
                if *unbounded {
                    let rule = if *verb == "update" {
                        Rule::UpdateWithoutWhere
                    } else {
                        Rule::DeleteWithoutWhere
                    };
                    emit(
                        out,
                        rule,
                        format!("{verb}s every row of {table} (no .where())"),
                    );
                }
            }
            Action::Data => {
                schema = false;
                data = true;
                if call.name.ends_with("execute") {
                    summary.opaque = true;
                }
            }
            Action::TypeChange { create, name } => {
                let object = Object::Type(name.clone());
                if *create {
                    summary.created.push((object, None, call.line));
                } else {
                    summary.dropped.push((object, None, call.line));
                }
            }
            Action::Schema => {
                if call.name.starts_with("bind.") {
                    summary.types_opaque = true;
                }
            }
            Action::Nothing => schema = false,
        }
        if schema {
            summary.schema_line.get_or_insert(call.line);
        }
        if data {
            summary.data_line.get_or_insert(call.line);
        }
    }
    // Dropping a table drops its indexes and constraints: a drop of one of them before the
    // table's own drop in the same body is not worth a finding of its own.
    for (index, object, table) in &summary.drop_findings {
        let on_dropped = table
            .as_ref()
            .is_some_and(|t| summary.dropped_tables.iter().any(|(d, _)| d == t));
        if on_dropped && matches!(object, Object::Index(_) | Object::Constraint(_)) {
            summary.redundant.push(*index);
        }
    }
    if let (Some(schema), Some(data)) = (summary.schema_line, summary.data_line) {
        out.push(RawFinding {
            severity: None,
            rule: Rule::MixedSchemaAndData,
            direction,
            line: data.max(schema),
            end_line: data.max(schema),
            message: format!(
                "{} changes the schema (line {schema}) and the data (line {data}) in one \
                 revision",
                direction.as_str()
            ),
        });
    }
    summary
}

/// A body that only raises (`raise NotImplementedError(...)`), by its source lines.
fn only_raises(body: &Body) -> bool {
    body.ops.is_empty()
        && body.source.lines().skip(1).any(|l| {
            let t = l.trim_start();
            t == "raise" || t.starts_with("raise ")
        })
}

/// Lints both bodies of a revision and the rules that compare them.
pub fn lint(rev: &Revision, opts: &LintOptions) -> Vec<RawFinding> {
    let mut out = Vec::new();
    let empty = Summary::default();
    let up = rev
        .upgrade
        .as_ref()
        .map(|b| lint_body(b, Direction::Upgrade, opts, &mut out));
    let down = rev
        .downgrade
        .as_ref()
        .map(|b| lint_body(b, Direction::Downgrade, opts, &mut out));
    let up_line = rev.upgrade.as_ref().map_or(1, |b| b.def_line);
    let down_line = rev.downgrade.as_ref().map_or(up_line, |b| b.def_line);
    let at = |rule, direction, line: usize, message: String| RawFinding {
        severity: None,
        rule,
        direction,
        line,
        end_line: line,
        message,
    };

    let upgrade_empty = rev.upgrade.as_ref().is_none_or(|b| b.is_empty);
    if upgrade_empty && rev.down_revisions.len() < 2 {
        let what = if rev.upgrade.is_some() {
            "upgrade() does nothing (only pass)"
        } else {
            "there is no upgrade()"
        };
        out.push(at(
            Rule::EmptyRevision,
            Direction::Upgrade,
            up_line,
            format!(
                "{what}: if autogenerate wrote it, the models were probably not imported where \
                 env.py's target_metadata looks"
            ),
        ));
    }
    let up_summary = up.as_ref().unwrap_or(&empty);
    let changes = up_summary.schema_line.is_some() || up_summary.data_line.is_some();
    let downgrade_missing = rev
        .downgrade
        .as_ref()
        .is_none_or(|b| b.is_empty || only_raises(b));
    if changes && downgrade_missing {
        let how = match &rev.downgrade {
            None => "there is no downgrade()",
            Some(b) if b.is_empty => "downgrade() is empty",
            Some(_) => "downgrade() raises",
        };
        let what = match (up_summary.schema_line, up_summary.data_line) {
            (Some(_), Some(_)) => "the schema and the data",
            (Some(_), None) => "the schema",
            _ => "the data",
        };
        out.push(at(
            Rule::Irreversible,
            Direction::Downgrade,
            down_line,
            format!("upgrade changes {what} but {how}: this revision cannot be rolled back"),
        ));
    }
    let down_summary = down.as_ref().unwrap_or(&empty);
    if !downgrade_missing && !up_summary.opaque && !down_summary.opaque {
        pairs::mismatches(up_summary, down_summary, down_line, &mut out);
    }
    for (summary, other, direction) in [
        (up_summary, down_summary, Direction::Upgrade),
        (down_summary, up_summary, Direction::Downgrade),
    ] {
        pairs::renames(summary, other, direction, &mut out);
    }
    pairs::expected_inverses(up_summary, down_summary, &mut out);
    let mut redundant: Vec<usize> = up_summary
        .redundant
        .iter()
        .chain(&down_summary.redundant)
        .copied()
        .collect();
    redundant.sort_unstable();
    redundant.dedup();
    for index in redundant.into_iter().rev() {
        if index < out.len() {
            out.remove(index);
        }
    }
    out
}
