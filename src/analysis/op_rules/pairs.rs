//! The rules that compare: a downgrade against its upgrade (`downgrade-mismatch`), and drops
//! against adds in one body (`suspected-rename`).

use super::Summary;
use crate::analysis::sql_rules::Object;
use crate::analysis::{Direction, RawFinding, Rule};

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
pub(super) fn mismatches(
    up: &Summary,
    down: &Summary,
    down_line: usize,
    out: &mut Vec<RawFinding>,
) {
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
pub(super) fn renames(
    summary: &Summary,
    other: &Summary,
    direction: Direction,
    out: &mut Vec<RawFinding>,
) {
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
