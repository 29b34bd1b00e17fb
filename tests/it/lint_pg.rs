//! The rules that promise a failure, held to real PostgreSQL: what the classifier flags fails on
//! the server, and the look-alike it lets pass runs. Each script runs in a transaction as
//! alembic's would (explicit BEGIN … COMMIT), on a table that already has rows.

use crate::common;

use alembic_tui::analysis::{LintOptions, Rule, StepReview};
use common::pg;

/// Flags the pane would show for the statements of `script` (`;`-separated, in a transaction).
fn flagged(script: &[&str]) -> Vec<Rule> {
    let opts = LintOptions::default();
    let mut review = StepReview::new(&opts);
    script
        .iter()
        .flat_map(|sql| review.statement(sql, false))
        .map(|f| f.rule)
        .collect()
}

/// Runs the statements in one transaction on a fresh database that has `t` with one row and an
/// enum `mood`. Returns the SQLSTATE of the failure, if any.
fn run(script: &[&str]) -> Option<String> {
    let url = pg::fresh_db("lint_pg");
    pg::psql(
        &url,
        "CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'a');
         CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TABLE people (id int, mood mood);",
    )
    .unwrap();
    let sql = format!("BEGIN; {}; COMMIT;", script.join("; "));
    match pg::psql(&url, &sql) {
        Ok(_) => None,
        Err(message) => Some(
            message
                .rsplit_once('(')
                .map(|(_, code)| code.trim_end_matches(')').to_owned())
                .unwrap_or(message),
        ),
    }
}

#[test]
fn what_is_flagged_as_failing_fails_and_the_look_alike_runs() {
    let cases: &[(Rule, &[&str], &str, &[&str])] = &[
        (
            Rule::AddNotNullColumnWithoutDefault,
            &["ALTER TABLE t ADD COLUMN tier text NOT NULL"],
            "23502",
            &["ALTER TABLE t ADD COLUMN tier text NOT NULL DEFAULT 'free'"],
        ),
        (
            Rule::ConcurrentlyInsideTransaction,
            &["CREATE INDEX CONCURRENTLY ix_t_name ON t (name)"],
            "25001",
            &["CREATE INDEX ix_t_name ON t (name)"],
        ),
        (
            Rule::EnumAddValueInTransaction,
            &[
                "ALTER TYPE mood ADD VALUE 'happy'",
                "INSERT INTO people VALUES (1, 'happy')",
            ],
            "55P04",
            &[
                "ALTER TYPE mood ADD VALUE 'happy'",
                "INSERT INTO people VALUES (1, 'ok')",
            ],
        ),
    ];
    for (rule, failing, sqlstate, passing) in cases {
        assert!(
            flagged(failing).contains(rule),
            "{rule} not flagged on {failing:?}"
        );
        assert_eq!(run(failing).as_deref(), Some(*sqlstate), "{failing:?}");
        assert!(
            !flagged(passing).contains(rule),
            "{rule} flagged on {passing:?}"
        );
        assert_eq!(run(passing), None, "{passing:?}");
    }
    // Tables made in the same transaction hold no rows: the same ADD COLUMN runs and is not flagged.
    let fresh = [
        "CREATE TABLE fresh (id int)",
        "ALTER TABLE fresh ADD COLUMN tier text NOT NULL",
    ];
    assert!(flagged(&fresh).is_empty());
    assert_eq!(run(&fresh), None);
}
