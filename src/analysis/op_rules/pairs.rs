//! The rules that compare: a downgrade against its upgrade (`downgrade-mismatch`), and drops
//! against adds in one body (`suspected-rename`).

use super::Summary;
use crate::analysis::sql_rules::Object;
use crate::analysis::{Direction, RawFinding, Rule, Severity};

fn describe(object: &Object) -> String {
    match object {
        Object::Table(t) => format!("table {t}"),
        Object::Column(t, c) => format!("column {t}.{c}"),
        Object::Index(i) => format!("index {i}"),
        Object::Constraint(c) => format!("constraint {c}"),
        Object::Type(t) => format!("type {t}"),
    }
}

fn unnamed(object: &Object) -> bool {
    matches!(object, Object::Constraint(c) if c == "(unnamed)" || c == "?")
}

/// `object` (on `table`) is in `list`, or its whole table is. A table does not cover a type:
/// dropping a table leaves the enum types its columns used.
fn has(list: &[(Object, Option<String>, usize)], object: &Object, table: &Option<String>) -> bool {
    let table = match object {
        Object::Column(t, _) => Some(t.clone()),
        Object::Type(_) => None,
        _ => table.clone(),
    };
    list.iter().any(|(o, _, _)| o == object)
        || table.is_some_and(|t| list.iter().any(|(o, _, _)| *o == Object::Table(t.clone())))
}

fn mismatch(line: usize, message: String) -> RawFinding {
    RawFinding {
        severity: None,
        rule: Rule::DowngradeMismatch,
        direction: Direction::Downgrade,
        line,
        end_line: line,
        message,
    }
}

/// `downgrade-mismatch`: what the upgrade creates the downgrade must drop, what it drops the
/// downgrade must re-create, what it alters the downgrade must alter back, and the enum values
/// it adds the downgrade must take out; and back. Dropping or creating a whole table covers
/// what is on it. Each object left over is named in a finding of its own.
pub(super) fn mismatches(
    up: &Summary,
    down: &Summary,
    down_line: usize,
    out: &mut Vec<RawFinding>,
) {
    let types_opaque = up.types_opaque || down.types_opaque;
    let skip =
        |object: &Object| unnamed(object) || (types_opaque && matches!(object, Object::Type(_)));
    for (source, target, verb, missing) in [
        (&up.created, &down.dropped, "creates", "does not drop it"),
        (&up.dropped, &down.created, "drops", "does not re-create it"),
    ] {
        for (object, table, _) in source {
            // Constraints without a name cannot be matched, nor types behind a variable.
            if skip(object) {
                continue;
            }
            if !has(target, object, table) {
                out.push(mismatch(
                    down_line,
                    format!("upgrade {verb} {}; downgrade {missing}", describe(object)),
                ));
            }
        }
    }
    let column_gone = |s: &Summary, t: &str, c: &str| {
        let column = Object::Column(t.to_owned(), c.to_owned());
        let table = Object::Table(t.to_owned());
        [&s.dropped, &s.created]
            .iter()
            .any(|l| l.iter().any(|(o, _, _)| *o == column || *o == table))
    };
    for (table, column, _) in &up.altered {
        let undone = down
            .altered
            .iter()
            .any(|(t, c, _)| t == table && c == column)
            || column_gone(down, table, column);
        if !undone {
            out.push(mismatch(
                down_line,
                format!(
                    "upgrade alters column {table}.{column}; downgrade does not change it back"
                ),
            ));
        }
    }
    for (ty, value, _) in &up.added_values {
        let quoted = format!("'{}'", value.to_lowercase().replace('\'', "''"));
        let recreated = [&down.created, &down.dropped]
            .iter()
            .any(|l| l.iter().any(|(o, _, _)| *o == Object::Type(ty.clone())));
        if !recreated && !down.sql_text.contains(&quoted) {
            out.push(mismatch(
                down_line,
                format!(
                    "upgrade adds value '{value}' to enum {ty}; downgrade does not take it out \
                     (PostgreSQL cannot drop an enum value: re-create the type without it)"
                ),
            ));
        }
    }
    // And back: what the downgrade does that the upgrade never did.
    for (list, other, verb) in [
        (&down.created, &up.dropped, "creates"),
        (&down.dropped, &up.created, "drops"),
    ] {
        for (object, table, line) in list {
            // A type a re-created table brings along is not a creation of its own.
            if skip(object) || (matches!(object, Object::Type(_)) && table.is_some()) {
                continue;
            }
            if !has(other, object, table) {
                out.push(mismatch(
                    *line,
                    format!(
                        "downgrade {verb} {} that the upgrade never {}",
                        describe(object),
                        if verb == "creates" {
                            "dropped"
                        } else {
                            "created"
                        }
                    ),
                ));
            }
        }
    }
    for (table, column, line) in &down.altered {
        let done = up.altered.iter().any(|(t, c, _)| t == table && c == column)
            || column_gone(up, table, column);
        if !done {
            out.push(mismatch(
                *line,
                format!("downgrade alters column {table}.{column} that the upgrade never changed"),
            ));
        }
    }
}

/// A downgrade's drop of something its own upgrade created is what a downgrade is for: the
/// finding stays (the console shows it) at info level, so it does not fail `lint`.
pub(super) fn expected_inverses(up: &Summary, down: &Summary, out: &mut [RawFinding]) {
    for (index, object, table) in &down.drop_findings {
        let created = up.created.iter().any(|(o, t, _)| {
            o == object || (unnamed(object) && unnamed(o) && t.is_some() && t == table)
        }) || table.as_ref().is_some_and(|t| {
            up.created
                .iter()
                .any(|(o, _, _)| *o == Object::Table(t.clone()))
        });
        if let (true, Some(finding)) = (created, out.get_mut(*index)) {
            finding.severity = Some(Severity::Info);
            finding
                .message
                .push_str(" (the inverse of what upgrade() creates)");
        }
    }
}

/// `suspected-rename`: a column dropped and another of the same type added on one table, or a
/// table dropped and another with the same columns created, in one body. The dropped object's
/// columns and types come from the other body, which re-creates it.
pub(super) fn renames(
    summary: &Summary,
    other: &Summary,
    direction: Direction,
    out: &mut Vec<RawFinding>,
) {
    for (table, dropped, _, batch) in &summary.dropped_columns {
        let dropped_type = other.columns.get(&(table.clone(), dropped.clone()));
        let adds: Vec<_> = summary
            .added_columns
            .iter()
            .filter(|(t, c, _, _)| t == table && c != dropped)
            .collect();
        let drops_on_table = summary
            .dropped_columns
            .iter()
            .filter(|(t, _, _, _)| t == table)
            .count();
        for (_, added, added_type, line) in &adds {
            let same = match dropped_type {
                Some(ty) => ty == added_type,
                // Type unknown: only a lone drop + add pair is suspicious enough.
                None => adds.len() == 1 && drops_on_table == 1,
            };
            if same {
                out.push(RawFinding {
                    severity: None,
                    rule: Rule::SuspectedRename,
                    direction,
                    line: *line,
                    end_line: *line,
                    message: format!(
                        "drops {table}.{dropped} and adds {table}.{added}{}: if this is a \
                         rename, the data is lost; write {} instead",
                        match dropped_type {
                            Some(_) if !added_type.is_empty() => format!(" (both {added_type})"),
                            _ => String::new(),
                        },
                        if *batch {
                            format!("batch_op.alter_column('{dropped}', new_column_name='{added}')")
                        } else {
                            format!(
                                "op.alter_column('{table}', '{dropped}', new_column_name='{added}')"
                            )
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
                    severity: None,
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
