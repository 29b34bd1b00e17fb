//! Verdicts over sqlparser's AST.

use super::*;
use sqlparser::ast::SetExpr;

fn table_of(t: &TableWithJoins) -> String {
    match &t.relation {
        TableFactor::Table { name, .. } => display(name),
        other => other.to_string(),
    }
}

fn default_kind(options: &[sqlparser::ast::ColumnOptionDef], data_type: &DataType) -> DefaultKind {
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
            object_type,
            names,
            if_exists,
            ..
        } => {
            facts.schema = true;
            for name in names {
                let object = bare(name);
                match object_type {
                    ObjectType::Table | ObjectType::ForeignTable => {
                        facts.dropped.push(Object::Table(object.clone()))
                    }
                    ObjectType::Index => facts.dropped.push(Object::Index(object.clone())),
                    ObjectType::Type => facts.dropped.push(Object::Type(object.clone())),
                    _ => {}
                }
                // A table made earlier in the same revision holds nothing to lose.
                if *object_type == ObjectType::Table && ctx.created_tables.contains(&object) {
                    continue;
                }
                if let Some((rule, what)) = drop_rule(object_type) {
                    facts.flag(rule, drop_message(what, &display(name)));
                }
                if *object_type == ObjectType::Index {
                    if let Some((rule, message)) =
                        robust_verdict("drops", &display(name), *if_exists, ctx)
                    {
                        facts.flag(rule, message);
                    }
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
            let table = bare(&ct.name);
            for column in &ct.columns {
                let verdicts =
                    sql_type_verdicts(&table, &fold(&column.name), &column.data_type.to_string());
                for (rule, message) in verdicts {
                    facts.flag(rule, message);
                }
            }
            facts.created.push(Object::Table(table));
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
            if let Some((rule, message)) = robust_verdict("creates", &index, ci.if_not_exists, ctx)
            {
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
                facts
                    .added_values
                    .push((bare(&at.name), add.value.value.clone()));
                enum_add_value(&mut facts, &display(&at.name), &add.value.value, ctx);
            }
        }
        // `WITH … DELETE/UPDATE/INSERT …`: the data-modifying statement is the query's body.
        Statement::Query(query) => match query.body.as_ref() {
            SetExpr::Insert(inner)
            | SetExpr::Update(inner)
            | SetExpr::Delete(inner)
            | SetExpr::Merge(inner) => return classify(inner, ctx),
            _ => {}
        },
        Statement::CreateType { name, .. } => {
            facts.schema = true;
            facts.created.push(Object::Type(bare(name)));
        }
        Statement::StartTransaction { .. } => {
            facts.flag(Rule::TransactionNesting, transaction_message("BEGIN"))
        }
        Statement::Commit { .. } => {
            facts.flag(Rule::TransactionNesting, transaction_message("COMMIT"))
        }
        Statement::Rollback {
            savepoint: None, ..
        } => facts.flag(Rule::TransactionNesting, transaction_message("ROLLBACK")),
        Statement::Set(_) | Statement::Rollback { .. } => {}
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
            for (rule, message) in add_column_verdicts(table, &column, not_null, &default, ctx) {
                facts.flag(rule, message);
            }
            for (rule, message) in
                sql_type_verdicts(table, &column, &column_def.data_type.to_string())
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
                TableConstraint::Check(_) if !not_valid => Some(check_verdict(&shown_name, shown)),
                TableConstraint::Unique(_) => Some(unique_verdict("unique", &shown_name, shown)),
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
                AlterColumnOperation::SetDataType { data_type, .. } => {
                    facts.flag(
                        Rule::AlterColumnType,
                        alter_type_message(shown, &column, &data_type.to_string()),
                    );
                    for (rule, message) in sql_type_verdicts(table, &column, &data_type.to_string())
                    {
                        facts.flag(rule, message);
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}
