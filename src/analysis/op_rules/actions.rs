//! `op.*` calls as `Action`s: arguments read by position or keyword as alembic's signatures
//! define them, batch calls given their block's table, `op.execute` arguments sorted into SQL
//! text, SQLAlchemy statements and what cannot be read.

use crate::analysis::sql_rules::{self, DefaultKind};
use crate::analysis::types::python_type_key;
use crate::project::ops::{OpCall, Value};
use crate::project::revision::Body;

/// A column as `sa.Column(...)` declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Column {
    pub(super) name: String,
    /// The type as written (`sa.String(50)`), for comparing drop + add pairs.
    pub(super) type_text: String,
    /// The type's identity (`types::python_type_key`): `sa.String(50)` and `sa.VARCHAR(50)` agree.
    pub(super) type_key: String,
    pub(super) not_null: bool,
    pub(super) default: DefaultKind,
    /// The named enum type the column's type creates with its table (`sa.Enum(..., name=)`),
    /// unless `create_type=False`.
    pub(super) enum_type: Option<String>,
    /// `primary_key=True`.
    pub(super) primary_key: bool,
    /// Filled by PostgreSQL as a serial type would be if it is the table's autoincrement
    /// column: no `sa.Identity()` / `sa.Sequence()`, no `server_default`, `autoincrement` not
    /// False.
    pub(super) may_be_serial: bool,
}

/// One call, its table resolved (batch calls take the enclosing `batch_alter_table`'s).
#[derive(Debug, Clone)]
pub(super) enum Action {
    CreateTable {
        table: String,
        columns: Vec<Column>,
        /// The columns of its primary key (`primary_key=True` or `sa.PrimaryKeyConstraint`).
        primary_key: Vec<String>,
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
        /// The new type's identity (`types::python_type_key`).
        type_key: Option<String>,
        new_name: Option<String>,
    },
    CreateIndex {
        name: String,
        table: String,
        concurrently: bool,
        if_not_exists: bool,
    },
    DropIndex {
        name: String,
        table: Option<String>,
        concurrently: bool,
        if_exists: bool,
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
    /// A type created or dropped on the connection (`sa.Enum(name="mood").drop(op.get_bind())`).
    TypeChange {
        create: bool,
        name: String,
    },
    /// `op.bulk_insert` or an `op.execute` argument we cannot read (a variable, an f-string).
    Data,
    /// Any other schema change we have no rule for (comments, sequences via SQLAlchemy, …).
    Schema,
    /// Calls that change nothing themselves (`get_bind`, `get_context`, `batch_alter_table`).
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConstraintKind {
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
pub(super) fn render(value: &Value) -> String {
    // Values nest as deep as the file's expressions (up to pyparse::MAX_NESTING).
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || render_here(value))
}

fn render_here(value: &Value) -> String {
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
    let type_key = type_value.map(python_type_key).unwrap_or_default();
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
    let enum_type = type_value.and_then(enum_type_name);
    let may_be_serial = !generated
        && keyword(kwargs, "server_default").is_none_or(|v| *v == Value::None)
        && !matches!(keyword(kwargs, "autoincrement"), Some(Value::Bool(false)));
    Some(Column {
        primary_key,
        may_be_serial,
        name,
        enum_type,
        type_text,
        type_key,
        not_null,
        default,
    })
}

/// The name of the enum type a type expression creates (`sa.Enum("a", name="mood")`,
/// `postgresql.ENUM(..., name="mood")`), unless it says `create_type=False`.
fn enum_type_name(value: &Value) -> Option<String> {
    let Value::Call { func, kwargs, .. } = value else {
        return None;
    };
    let base = func.rsplit('.').next().unwrap_or(func);
    if !base.eq_ignore_ascii_case("enum")
        || matches!(keyword(kwargs, "create_type"), Some(Value::Bool(false)))
    {
        return None;
    }
    match keyword(kwargs, "name") {
        Some(Value::Str(name)) => Some(name.clone()),
        _ => None,
    }
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
        "create_table" if !batch => {
            let columns: Vec<Column> = call.args.iter().skip(1).filter_map(column).collect();
            let mut primary_key: Vec<String> = columns
                .iter()
                .filter(|c| c.primary_key)
                .map(|c| c.name.clone())
                .collect();
            for arg in call.args.iter().skip(1) {
                if let Value::Call { func, args, .. } = arg {
                    if func.ends_with("PrimaryKeyConstraint") {
                        primary_key.extend(args.iter().filter_map(|a| string(Some(a))));
                    }
                }
            }
            Action::CreateTable {
                table: table_name(call, 0, "table_name"),
                columns,
                primary_key,
            }
        }
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
            type_key: kw("type_")
                .filter(|v| **v != Value::None)
                .map(python_type_key),
            new_name: string(kw("new_column_name")),
        },
        "create_index" => Action::CreateIndex {
            name: string(positional(call, 0, "index_name")).unwrap_or_else(|| "?".into()),
            table: table_at(1, "table_name"),
            concurrently: is_true(kw("postgresql_concurrently")),
            if_not_exists: is_true(kw("if_not_exists")),
        },
        "drop_index" => Action::DropIndex {
            name: string(positional(call, 0, "index_name")).unwrap_or_else(|| "?".into()),
            table: if batch {
                batch_table.map(str::to_owned)
            } else {
                string(positional(call, 1, "table_name"))
            },
            concurrently: is_true(kw("postgresql_concurrently")),
            if_exists: is_true(kw("if_exists")),
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
        "bind.create_type" | "bind.drop_type" => match call.args.first().and_then(type_name) {
            Some(name) => Action::TypeChange {
                create: call.name == "bind.create_type",
                name,
            },
            None => Action::Schema,
        },
        "execute" | "bind.execute" => match positional(call, 0, "sqltext") {
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

/// The type a `.create(bind)` / `.drop(bind)` receiver names, `create_type=` notwithstanding.
fn type_name(value: &Value) -> Option<String> {
    let Value::Call { kwargs, .. } = value else {
        return None;
    };
    match keyword(kwargs, "name") {
        Some(Value::Str(name)) => Some(name.clone()),
        _ => None,
    }
}

/// The actions of a body in order, with the call each came from.
pub(super) fn actions(body: &Body) -> Vec<(&OpCall, Action)> {
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
pub(super) fn bare(name: &str) -> String {
    name.rsplit('.')
        .next()
        .unwrap_or(name)
        .trim_matches('"')
        .to_owned()
}
