//! Rules over the parsed `op.*` calls of one revision's upgrade and downgrade bodies. Calls
//! (batch ones included) are first turned into `Action`s with their table resolved; SQL passed to
//! `op.execute` goes through the SQL classifier. Whole-revision rules (empty, irreversible,
//! mismatched downgrade, suspected renames) compare the two bodies.

use std::collections::{HashMap, HashSet};

use crate::analysis::sql_rules::{self, DefaultKind, Object, SqlContext};
use crate::analysis::{Direction, LintOptions, RawFinding, Rule};
use crate::project::ops::{OpCall, Value};
use crate::project::revision::{Body, Revision};

/// A column as `sa.Column(...)` declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    /// The type as written (`sa.String(50)`), for comparing drop + add pairs.
    type_text: String,
    not_null: bool,
    default: DefaultKind,
}

/// One call, its table resolved (batch calls take the enclosing `batch_alter_table`'s).
#[derive(Debug, Clone)]
enum Action {
    CreateTable {
        table: String,
        columns: Vec<Column>,
    },
    DropTable {
        table: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AlterColumn {
        table: String,
        column: String,
        set_not_null: bool,
        type_text: Option<String>,
        new_name: Option<String>,
    },
    CreateIndex {
        name: String,
        table: String,
        concurrently: bool,
    },
    DropIndex {
        name: String,
        table: Option<String>,
        concurrently: bool,
    },
    AddConstraint {
        kind: ConstraintKind,
        name: String,
        table: String,
        not_valid: bool,
    },
    DropConstraint {
        name: String,
        table: String,
    },
    RenameTable {
        old: String,
        new: String,
    },
    /// `op.execute` with literal SQL.
    Sql(String),
    /// `op.execute(t.update()…)` and friends: a SQLAlchemy statement; `unbounded` when no
    /// `.where(` restricts an update or delete.
    DataExpr {
        verb: &'static str,
        table: String,
        unbounded: bool,
    },
    /// `op.bulk_insert` or an `op.execute` argument we cannot read (a variable, an f-string).
    Data,
    /// Any other schema change we have no rule for (comments, sequences via SQLAlchemy, …).
    Schema,
    /// Calls that change nothing themselves (`get_bind`, `get_context`, `batch_alter_table`).
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConstraintKind {
    ForeignKey,
    Check,
    Unique,
    PrimaryKey,
}

fn positional<'a>(call: &'a OpCall, index: usize, name: &str) -> Option<&'a Value> {
    call.args.get(index).or_else(|| keyword(&call.kwargs, name))
}

fn keyword<'a>(kwargs: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn string(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Str(s) => Some(s.clone()),
        // A constant or expression naming the object: keep it as written so messages show it.
        Value::Expr(text) => Some(text.clone()),
        Value::Call { func, args, .. }
            if func == "op.f" || func == "f" || func.ends_with("quoted_name") =>
        {
            string(args.first())
        }
        _ => None,
    }
}

fn is_true(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Bool(true)))
}

/// `schema.table` when a `schema=` keyword is given. Rules compare bare names.
fn table_name(call: &OpCall, index: usize, name: &str) -> String {
    string(positional(call, index, name)).unwrap_or_else(|| "?".to_owned())
}

/// A value as Python source, close enough to compare types and show in messages.
fn render(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("{s:?}"),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Value::None => "None".to_owned(),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        Value::Tuple(items) => format!(
            "({})",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        Value::Call { func, args, kwargs } => {
            let mut parts: Vec<String> = args.iter().map(render).collect();
            parts.extend(kwargs.iter().map(|(k, v)| format!("{k}={}", render(v))));
            format!("{func}({})", parts.join(", "))
        }
        Value::Expr(text) => text.clone(),
    }
}

/// The SQL text of `sa.text("…")` / `text("…")` / a plain string.
fn sql_text(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        Value::Call { func, args, .. } if func == "text" || func.ends_with(".text") => {
            match args.first() {
                Some(Value::Str(s)) => Some(s.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// How a column's `server_default=` behaves when the column is added to a full table.
fn default_kind(value: Option<&Value>) -> DefaultKind {
    let Some(value) = value else {
        return DefaultKind::None;
    };
    if *value == Value::None {
        return DefaultKind::None;
    }
    let text = match value {
        Value::Str(_) => return DefaultKind::Constant,
        other => sql_text(other).unwrap_or_else(|| {
            // `sa.func.gen_random_uuid()` reads as a call of gen_random_uuid.
            render(other).replace("sa.func.", "").replace("func.", "")
        }),
    };
    match sql_rules::volatile_call(&text) {
        Some(f) => DefaultKind::Volatile(f.to_owned()),
        None => DefaultKind::Constant,
    }
}

/// `sa.Column("name", sa.Type(), ..., nullable=False, server_default=...)`.
fn column(value: &Value) -> Option<Column> {
    let Value::Call { func, args, kwargs } = value else {
        return None;
    };
    if !func.ends_with("Column") {
        return None;
    }
    let name = match args.first() {
        Some(Value::Str(s)) => s.clone(),
        _ => string(keyword(kwargs, "name"))?,
    };
    let type_value = args.get(1).or_else(|| keyword(kwargs, "type_"));
    let type_text = type_value.map(render).unwrap_or_default();
    let primary_key = is_true(keyword(kwargs, "primary_key"));
    let nullable = keyword(kwargs, "nullable");
    let not_null = matches!(nullable, Some(Value::Bool(false)))
        || (primary_key && !matches!(nullable, Some(Value::Bool(true))));
    // An identity or sequence-backed column fills every existing row when added.
    let generated = args.iter().skip(1).any(|a| {
        matches!(a, Value::Call { func, .. }
            if func.ends_with("Identity") || func.ends_with("Sequence"))
    });
    let default = if generated {
        DefaultKind::Volatile("nextval".to_owned())
    } else {
        default_kind(keyword(kwargs, "server_default"))
    };
    Some(Column {
        name,
        type_text,
        not_null,
        default,
    })
}

/// `t.update()…`, `sa.delete(t)…`, `t.insert()…` passed to `op.execute`.
fn data_expression(value: &Value) -> Option<Action> {
    let Value::Call { func, args, .. } = value else {
        return None;
    };
    let whole = render(value);
    let restricted = whole.contains(".where(") || func.ends_with(".where");
    for verb in ["update", "delete", "insert"] {
        let method = format!(".{verb}(");
        let table = if let Some(at) = whole.find(&method) {
            whole[..at]
                .rsplit(['(', ' ', ','])
                .next()
                .unwrap_or("?")
                .to_owned()
        } else if func == verb
            || func.ends_with(&format!(".{verb}"))
            || whole.starts_with(&format!("sa.{verb}("))
            || whole.starts_with(&format!("{verb}("))
        {
            args.first().map(render).unwrap_or_else(|| "?".to_owned())
        } else {
            continue;
        };
        return Some(Action::DataExpr {
            verb,
            table,
            unbounded: verb != "insert" && !restricted,
        });
    }
    None
}

/// Turns one call into an action; `batch_table` is the table of the enclosing batch block.
fn action(call: &OpCall, batch_table: Option<&str>) -> Action {
    let (name, batch) = match call.name.strip_prefix("batch_op.") {
        Some(inner) => (inner, true),
        None => (call.name.as_str(), false),
    };
    // Batch calls take the table from the block and have one positional argument fewer.
    let shift = usize::from(!batch);
    let table_at = |index: usize, kw: &str| -> String {
        if batch {
            batch_table.unwrap_or("?").to_owned()
        } else {
            table_name(call, index, kw)
        }
    };
    let kw = |name: &str| keyword(&call.kwargs, name);
    match name {
        "create_table" if !batch => Action::CreateTable {
            table: table_name(call, 0, "table_name"),
            columns: call.args.iter().skip(1).filter_map(column).collect(),
        },
        "drop_table" if !batch => Action::DropTable {
            table: table_name(call, 0, "table_name"),
        },
        "add_column" => match positional(call, shift, "column").and_then(column) {
            Some(column) => Action::AddColumn {
                table: table_at(0, "table_name"),
                column,
            },
            None => Action::Schema,
        },
        "drop_column" => Action::DropColumn {
            table: table_at(0, "table_name"),
            column: string(positional(call, shift, "column_name")).unwrap_or_else(|| "?".into()),
        },
        "alter_column" => Action::AlterColumn {
            table: table_at(0, "table_name"),
            column: string(positional(call, shift, "column_name")).unwrap_or_else(|| "?".into()),
            set_not_null: matches!(kw("nullable"), Some(Value::Bool(false))),
            type_text: kw("type_").filter(|v| **v != Value::None).map(render),
            new_name: string(kw("new_column_name")),
        },
        "create_index" => Action::CreateIndex {
            name: string(positional(call, 0, "index_name")).unwrap_or_else(|| "?".into()),
            table: table_at(1, "table_name"),
            concurrently: is_true(kw("postgresql_concurrently")),
        },
        "drop_index" => Action::DropIndex {
            name: string(positional(call, 0, "index_name")).unwrap_or_else(|| "?".into()),
            table: if batch {
                batch_table.map(str::to_owned)
            } else {
                string(positional(call, 1, "table_name"))
            },
            concurrently: is_true(kw("postgresql_concurrently")),
        },
        "create_foreign_key"
        | "create_check_constraint"
        | "create_unique_constraint"
        | "create_primary_key" => {
            let kind = match name {
                "create_foreign_key" => ConstraintKind::ForeignKey,
                "create_check_constraint" => ConstraintKind::Check,
                "create_unique_constraint" => ConstraintKind::Unique,
                _ => ConstraintKind::PrimaryKey,
            };
            let table = match (batch, kind) {
                (true, _) => batch_table.unwrap_or("?").to_owned(),
                (false, ConstraintKind::ForeignKey) => table_name(call, 1, "source_table"),
                (false, _) => table_name(call, 1, "table_name"),
            };
            Action::AddConstraint {
                kind,
                name: string(positional(call, 0, "constraint_name"))
                    .unwrap_or_else(|| "(unnamed)".into()),
                table,
                not_valid: is_true(kw("postgresql_not_valid")),
            }
        }
        "drop_constraint" => Action::DropConstraint {
            name: string(positional(call, 0, "constraint_name")).unwrap_or_else(|| "?".into()),
            table: table_at(1, "table_name"),
        },
        "rename_table" if !batch => Action::RenameTable {
            old: table_name(call, 0, "old_table_name"),
            new: table_name(call, 1, "new_table_name"),
        },
        "execute" => match positional(call, 0, "sqltext") {
            Some(value) => match sql_text(value) {
                Some(sql) => Action::Sql(sql),
                None => data_expression(value).unwrap_or(Action::Data),
            },
            None => Action::Nothing,
        },
        "bulk_insert" => Action::Data,
        "get_bind" | "get_context" | "batch_alter_table" | "f" | "inline_literal"
        | "implementation_for" | "invoke" => Action::Nothing,
        _ => Action::Schema,
    }
}

/// The actions of a body in order, with the call each came from.
fn actions(body: &Body) -> Vec<(&OpCall, Action)> {
    let mut batch_table: Option<String> = None;
    body.ops
        .iter()
        .map(|call| {
            if call.name == "batch_alter_table" {
                batch_table = Some(table_name(call, 0, "table_name"));
            }
            (call, action(call, batch_table.as_deref()))
        })
        .collect()
}

/// The bare name PostgreSQL would compare (no schema, no quotes).
fn bare(name: &str) -> String {
    name.rsplit('.')
        .next()
        .unwrap_or(name)
        .trim_matches('"')
        .to_owned()
}

/// What one body does, for the rules that look at both bodies.
#[derive(Debug, Default)]
struct Summary {
    schema_line: Option<usize>,
    data_line: Option<usize>,
    /// `op.execute` with SQL we could not read: comparisons with the other body are off.
    opaque: bool,
    created: Vec<(Object, Option<String>, usize)>,
    dropped: Vec<(Object, Option<String>, usize)>,
    /// Columns with their declared types, of created tables and added columns.
    columns: HashMap<(String, String), String>,
    table_columns: HashMap<String, Vec<(String, String)>>,
    /// (table, column, line) of drop_column calls and (table, column, type, line) of add_column.
    dropped_columns: Vec<(String, String, usize)>,
    added_columns: Vec<(String, String, String, usize)>,
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
            Action::CreateTable { table, columns } => {
                created_tables.insert(bare(table));
                summary
                    .created
                    .push((Object::Table(bare(table)), None, call.line));
                summary.created_tables.push((bare(table), call.line));
                let cols: Vec<(String, String)> = columns
                    .iter()
                    .map(|c| (c.name.clone(), c.type_text.clone()))
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
                    .insert((t.clone(), column.name.clone()), column.type_text.clone());
                summary.added_columns.push((
                    t.clone(),
                    column.name.clone(),
                    column.type_text.clone(),
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
                added_columns.insert((t, column.name.clone()));
            }
            Action::DropColumn { table, column } => {
                let t = bare(table);
                summary.dropped.push((
                    Object::Column(t.clone(), column.clone()),
                    Some(t.clone()),
                    call.line,
                ));
                summary
                    .dropped_columns
                    .push((t.clone(), column.clone(), call.line));
                if !fresh(table) && !added_columns.contains(&(t, column.clone())) {
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
                new_name,
            } => {
                let new_here =
                    fresh(table) || added_columns.contains(&(bare(table), column.clone()));
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
            } => {
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
            } => {
                summary.dropped.push((
                    Object::Index(name.clone()),
                    table.as_deref().map(bare),
                    call.line,
                ));
                if !table.as_deref().is_some_and(fresh) {
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
                for (rule, message) in facts.flags {
                    emit(out, rule, message);
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
            Action::Schema => {}
            Action::Nothing => schema = false,
        }
        if schema {
            summary.schema_line.get_or_insert(call.line);
        }
        if data {
            summary.data_line.get_or_insert(call.line);
        }
    }
    if let (Some(schema), Some(data)) = (summary.schema_line, summary.data_line) {
        out.push(RawFinding {
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
    let changes_schema = up_summary.schema_line.is_some();
    let downgrade_missing = rev
        .downgrade
        .as_ref()
        .is_none_or(|b| b.is_empty || only_raises(b));
    if changes_schema && downgrade_missing {
        let how = match &rev.downgrade {
            None => "there is no downgrade()",
            Some(b) if b.is_empty => "downgrade() is empty",
            Some(_) => "downgrade() raises",
        };
        out.push(at(
            Rule::Irreversible,
            Direction::Downgrade,
            down_line,
            format!("upgrade changes the schema but {how}: this revision cannot be rolled back"),
        ));
    }
    let down_summary = down.as_ref().unwrap_or(&empty);
    if !downgrade_missing && !up_summary.opaque && !down_summary.opaque {
        mismatches(up_summary, down_summary, down_line, &mut out);
    }
    for (summary, other, direction) in [
        (up_summary, down_summary, Direction::Upgrade),
        (down_summary, up_summary, Direction::Downgrade),
    ] {
        renames(summary, other, direction, &mut out);
    }
    out
}

fn describe(object: &Object) -> String {
    match object {
        Object::Table(t) => format!("table {t}"),
        Object::Column(t, c) => format!("column {t}.{c}"),
        Object::Index(i) => format!("index {i}"),
        Object::Constraint(c) => format!("constraint {c}"),
    }
}

/// `downgrade-mismatch`: what the upgrade creates the downgrade must drop, what it drops the
/// downgrade must re-create, and back. Dropping or creating a whole table covers what is on it.
fn mismatches(up: &Summary, down: &Summary, down_line: usize, out: &mut Vec<RawFinding>) {
    let has = |list: &[(Object, Option<String>, usize)],
               object: &Object,
               table: &Option<String>| {
        let table = match object {
            Object::Column(t, _) => Some(t.clone()),
            _ => table.clone(),
        };
        list.iter().any(|(o, _, _)| o == object)
            || table.is_some_and(|t| list.iter().any(|(o, _, _)| *o == Object::Table(t.clone())))
    };
    let checks: [(&Summary, &Summary, &str, &str, bool); 2] = [
        (up, down, "creates", "does not drop it", true),
        (up, down, "drops", "does not re-create it", false),
    ];
    for (from, to, verb, missing, creates) in checks {
        let (source, target) = if creates {
            (&from.created, &to.dropped)
        } else {
            (&from.dropped, &to.created)
        };
        for (object, table, _) in source {
            // Constraints without a name cannot be matched.
            if matches!(object, Object::Constraint(c) if c == "(unnamed)" || c == "?") {
                continue;
            }
            if !has(target, object, table) {
                out.push(RawFinding {
                    rule: Rule::DowngradeMismatch,
                    direction: Direction::Downgrade,
                    line: down_line,
                    end_line: down_line,
                    message: format!("upgrade {verb} {}; downgrade {missing}", describe(object)),
                });
            }
        }
    }
    // And back: what the downgrade does that the upgrade never did.
    for (list, other, verb) in [
        (&down.created, &up.dropped, "creates"),
        (&down.dropped, &up.created, "drops"),
    ] {
        for (object, table, line) in list {
            if matches!(object, Object::Constraint(c) if c == "(unnamed)" || c == "?") {
                continue;
            }
            if !has(other, object, table) {
                out.push(RawFinding {
                    rule: Rule::DowngradeMismatch,
                    direction: Direction::Downgrade,
                    line: *line,
                    end_line: *line,
                    message: format!(
                        "downgrade {verb} {} that the upgrade never {}",
                        describe(object),
                        if verb == "creates" {
                            "dropped"
                        } else {
                            "created"
                        }
                    ),
                });
            }
        }
    }
}

/// `suspected-rename`: a column dropped and another of the same type added on one table, or a
/// table dropped and another with the same columns created, in one body. The dropped object's
/// columns and types come from the other body, which re-creates it.
fn renames(summary: &Summary, other: &Summary, direction: Direction, out: &mut Vec<RawFinding>) {
    for (table, dropped, _) in &summary.dropped_columns {
        let dropped_type = other.columns.get(&(table.clone(), dropped.clone()));
        let adds: Vec<_> = summary
            .added_columns
            .iter()
            .filter(|(t, c, _, _)| t == table && c != dropped)
            .collect();
        let drops_on_table = summary
            .dropped_columns
            .iter()
            .filter(|(t, _, _)| t == table)
            .count();
        for (_, added, added_type, line) in &adds {
            let same = match dropped_type {
                Some(ty) => ty == added_type,
                // Type unknown: only a lone drop + add pair is suspicious enough.
                None => adds.len() == 1 && drops_on_table == 1,
            };
            if same {
                out.push(RawFinding {
                    rule: Rule::SuspectedRename,
                    direction,
                    line: *line,
                    end_line: *line,
                    message: format!(
                        "drops {table}.{dropped} and adds {table}.{added}{}: if this is a \
                         rename, alter_column(new_column_name=...) keeps the data",
                        if added_type.is_empty() {
                            String::new()
                        } else {
                            format!(" ({added_type})")
                        }
                    ),
                });
            }
        }
    }
    for (dropped, _) in &summary.dropped_tables {
        let Some(old_columns) = other.table_columns.get(dropped) else {
            continue;
        };
        let mut old_sorted = old_columns.clone();
        old_sorted.sort();
        for (created, line) in &summary.created_tables {
            if created == dropped {
                continue;
            }
            let mut new_sorted = summary
                .table_columns
                .get(created)
                .cloned()
                .unwrap_or_default();
            new_sorted.sort();
            if !new_sorted.is_empty() && new_sorted == old_sorted {
                out.push(RawFinding {
                    rule: Rule::SuspectedRename,
                    direction,
                    line: *line,
                    end_line: *line,
                    message: format!(
                        "drops table {dropped} and creates {created} with the same columns: if \
                         this is a rename, op.rename_table keeps the data"
                    ),
                });
            }
        }
    }
}
