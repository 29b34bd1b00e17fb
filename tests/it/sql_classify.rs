//! The SQL classifier over tricky statements: quoted identifiers, dollar-quoted bodies, comments,
//! keywords inside strings, multi-statement strings, statements sqlparser cannot parse, and the
//! per-step context the confirmation pane uses.

use std::collections::HashSet;

use alembic_tui::analysis::sql_rules::{analyze, analyze_by_keywords, SqlContext};
use alembic_tui::analysis::{classify_statement, LintOptions, Rule, StepReview};

fn ctx(created: &HashSet<String>) -> SqlContext<'_> {
    SqlContext {
        pg_version: 15,
        in_transaction: true,
        created_tables: created,
    }
}

fn rules_of(sql: &str) -> Vec<&'static str> {
    let none = HashSet::new();
    classify_statement(sql, &ctx(&none))
        .into_iter()
        .map(|f| f.rule.id())
        .collect()
}

fn messages_of(sql: &str) -> Vec<String> {
    let none = HashSet::new();
    classify_statement(sql, &ctx(&none))
        .into_iter()
        .map(|f| f.reason)
        .collect()
}

#[test]
fn quoted_identifiers_keep_their_case_and_unquoted_ones_fold() {
    assert_eq!(
        messages_of(r#"ALTER TABLE "Order" DROP COLUMN "Total""#),
        ["drops column Order.Total"]
    );
    assert_eq!(
        messages_of("ALTER TABLE Public.Orders DROP COLUMN Note"),
        ["drops column public.orders.note"]
    );
    // A quoted name that looks like a keyword is a name.
    assert_eq!(rules_of(r#"DROP TABLE "where""#), ["drop-table"]);
    assert!(rules_of(r#"SELECT "DROP", "TRUNCATE" FROM "DELETE""#).is_empty());
}

#[test]
fn keywords_inside_strings_and_comments_are_not_statements() {
    assert!(
        rules_of("INSERT INTO audit (what) VALUES ('DROP TABLE users; TRUNCATE t')").is_empty()
    );
    assert!(rules_of("-- DROP TABLE users;\nSELECT 1").is_empty());
    assert!(rules_of("/* TRUNCATE t; /* nested; */ DELETE FROM t */ SELECT 1").is_empty());
    assert_eq!(
        rules_of("/* tidy up */ ALTER TABLE t -- the old one\n DROP COLUMN c"),
        ["drop-column"]
    );
    assert!(rules_of("UPDATE t SET note = 'no WHERE here' WHERE id = 1").is_empty());
    assert_eq!(
        rules_of("UPDATE t SET note = 'WHERE'"),
        ["update-without-where"]
    );
    // A WHERE inside a common table expression does not restrict the statement after it.
    assert_eq!(
        rules_of("WITH old AS (SELECT id FROM s WHERE x) DELETE FROM t"),
        ["delete-without-where"]
    );
}

#[test]
fn dollar_quoted_bodies_run_only_in_do_blocks() {
    // A function body is stored, not run.
    assert!(rules_of(
        "CREATE FUNCTION purge() RETURNS void AS $$ DELETE FROM sessions; $$ LANGUAGE sql"
    )
    .is_empty());
    assert!(rules_of(
        "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $body$\nBEGIN\n  TRUNCATE t;\n  RETURN NEW;\nEND\n$body$ LANGUAGE plpgsql"
    )
    .is_empty());
    // An anonymous block runs now.
    assert_eq!(
        rules_of("DO $$ BEGIN DELETE FROM sessions; END $$"),
        ["delete-without-where"]
    );
    assert_eq!(
        rules_of("DO $x$\nBEGIN\n  ALTER TABLE t DROP COLUMN c;\nEND\n$x$"),
        ["drop-column"]
    );
}

#[test]
fn multi_statement_strings_are_split_and_each_judged() {
    let rules = rules_of(
        "ALTER TABLE a DROP COLUMN x; UPDATE b SET y = 1; \n-- done;\nDELETE FROM c WHERE id = 2;",
    );
    assert_eq!(rules, ["drop-column", "update-without-where"]);
    let none = HashSet::new();
    let facts = analyze(
        "CREATE TABLE n (id int); INSERT INTO n VALUES (1)",
        &ctx(&none),
    );
    assert!(facts.schema && facts.data);
}

#[test]
fn statements_sqlparser_cannot_read_are_still_judged() {
    // Each of these is PostgreSQL that sqlparser 0.64 does not parse (or parses differently);
    // the keyword reading must still see what they do.
    let cases: &[(&str, &[&str])] = &[
        (
            "DROP INDEX CONCURRENTLY IF EXISTS ix_a",
            &["drop-index", "concurrently-inside-transaction"],
        ),
        (
            "ALTER TABLE t ADD CONSTRAINT uq UNIQUE USING INDEX ix_t",
            &[],
        ),
        (
            "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY USING INDEX ix_t",
            &[],
        ),
        (
            "ALTER TABLE ONLY t ALTER COLUMN c SET DATA TYPE bigint USING c::bigint",
            &["alter-column-type"],
        ),
        ("TRUNCATE ONLY t RESTART IDENTITY CASCADE", &["truncate"]),
    ];
    for (sql, expected) in cases {
        assert_eq!(rules_of(sql), *expected, "{sql}");
    }
    // Garbage that mentions dropping a table is not called safe.
    let none = HashSet::new();
    let facts = analyze("DROP TABLE IF EXISTS $weird$", &ctx(&none));
    assert_eq!(
        facts.flags.iter().map(|(r, _)| r.id()).collect::<Vec<_>>(),
        ["drop-table"]
    );
}

#[test]
fn the_keyword_reading_agrees_with_the_ast_where_both_read() {
    let statements = [
        "DROP TABLE orders",
        "DROP TABLE IF EXISTS a, b CASCADE",
        "DROP VIEW v",
        "DROP MATERIALIZED VIEW mv",
        "DROP SCHEMA s CASCADE",
        "DROP SEQUENCE seq",
        "DROP TYPE mood",
        "DROP INDEX ix",
        "TRUNCATE TABLE t",
        "DELETE FROM t",
        "DELETE FROM t WHERE id = 1",
        "UPDATE t SET a = 1",
        "UPDATE t SET a = 1 WHERE b = 2",
        "UPDATE t SET a = o.a FROM other o WHERE o.id = t.id",
        "ALTER TABLE t DROP COLUMN c",
        "ALTER TABLE t DROP CONSTRAINT fk",
        "ALTER TABLE t ALTER COLUMN c TYPE bigint",
        "ALTER TABLE t ALTER COLUMN c SET NOT NULL",
        "ALTER TABLE t ALTER COLUMN c DROP NOT NULL",
        "ALTER TABLE t ADD COLUMN c int NOT NULL",
        "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0",
        "ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid()",
        "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()",
        "ALTER TABLE t ADD COLUMN id bigserial",
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id)",
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) NOT VALID",
        "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)",
        "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT VALID",
        "ALTER TABLE t ADD CONSTRAINT uq UNIQUE (a)",
        "ALTER TABLE t ADD PRIMARY KEY (id)",
        "ALTER TABLE t RENAME COLUMN a TO b",
        "ALTER TABLE t RENAME TO u",
        "ALTER TABLE t ADD COLUMN a int, DROP COLUMN b, ALTER COLUMN c SET NOT NULL",
        "CREATE INDEX ix ON t (a)",
        "CREATE UNIQUE INDEX CONCURRENTLY ix ON t (a)",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON t USING btree (a)",
        "CREATE TABLE t (id int PRIMARY KEY)",
        "INSERT INTO t VALUES (1)",
        "SELECT 1",
        "WITH gone AS (SELECT id FROM s) DELETE FROM t",
        "WITH gone AS (SELECT id FROM s) DELETE FROM t WHERE id IN (SELECT id FROM gone)",
        "WITH n AS (SELECT 1) UPDATE t SET a = 1",
        "WITH n AS (SELECT 1) SELECT * FROM n",
    ];
    let none = HashSet::new();
    for sql in statements {
        let ast = analyze(sql, &ctx(&none));
        let kw = analyze_by_keywords(sql, &ctx(&none));
        let ids = |f: &alembic_tui::analysis::sql_rules::Facts| {
            f.flags.iter().map(|(r, _)| r.id()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&ast), ids(&kw), "{sql}");
        assert_eq!((ast.schema, ast.data), (kw.schema, kw.data), "{sql}");
    }
}

#[test]
fn volatile_defaults_are_told_from_constant_and_stable_ones() {
    assert_eq!(
        rules_of("ALTER TABLE t ADD COLUMN c uuid NOT NULL DEFAULT gen_random_uuid()"),
        ["volatile-default"]
    );
    assert_eq!(
        rules_of("ALTER TABLE t ADD COLUMN c float DEFAULT random()"),
        ["volatile-default"]
    );
    assert!(rules_of("ALTER TABLE t ADD COLUMN c timestamptz NOT NULL DEFAULT now()").is_empty());
    assert!(rules_of("ALTER TABLE t ADD COLUMN c text DEFAULT 'random()'").is_empty());
    let none = HashSet::new();
    let pg10 = SqlContext {
        pg_version: 10,
        ..ctx(&none)
    };
    let old: Vec<_> = classify_statement("ALTER TABLE t ADD COLUMN c int DEFAULT 0", &pg10)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(old, [Rule::VolatileDefault]);
}

#[test]
fn concurrently_depends_on_the_transaction() {
    let none = HashSet::new();
    let outside = SqlContext {
        in_transaction: false,
        ..ctx(&none)
    };
    assert!(classify_statement("CREATE INDEX CONCURRENTLY ix ON t (a)", &outside).is_empty());
    assert_eq!(
        rules_of("CREATE INDEX CONCURRENTLY ix ON t (a)"),
        ["concurrently-inside-transaction"]
    );
}

#[test]
fn a_rendered_step_knows_what_it_created_and_what_config_says() {
    // What `alembic upgrade --sql` prints for a create_table + create_index revision.
    let step = [
        ("CREATE TABLE t0 (\n    id SERIAL NOT NULL, \n    name VARCHAR(50), \n    PRIMARY KEY (id)\n)", false),
        ("CREATE INDEX ix_t0_name ON t0 (name)", false),
        ("ALTER TABLE t0 ADD COLUMN code VARCHAR(5) NOT NULL", false),
        ("UPDATE alembic_version SET version_num='b1' WHERE alembic_version.version_num = 'a1'", false),
        ("CREATE INDEX CONCURRENTLY ix_old ON old (x)", true),
        ("CREATE INDEX ix_old2 ON old (y)", false),
        ("ALTER TYPE mood ADD VALUE 'meh'", false),
        ("INSERT INTO people (mood) VALUES ('meh')", false),
    ];
    let mut opts = LintOptions::default();
    opts.levels.insert(
        Rule::CreateIndexWithoutConcurrently,
        alembic_tui::analysis::Level::Is(alembic_tui::analysis::Severity::Error),
    );
    let mut review = StepReview::new(&opts);
    let flags: Vec<Vec<(Rule, alembic_tui::analysis::Severity)>> = step
        .iter()
        .map(|(sql, autocommit)| {
            review
                .statement(sql, *autocommit)
                .into_iter()
                .map(|f| (f.rule, f.severity))
                .collect()
        })
        .collect();
    use alembic_tui::analysis::Severity::*;
    assert_eq!(
        flags,
        vec![
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![(Rule::CreateIndexWithoutConcurrently, Error)],
            vec![],
            vec![(Rule::EnumAddValueInTransaction, Error)],
        ]
    );
}

#[test]
fn arbitrary_text_never_panics() {
    // Deterministic soup of SQL words, punctuation, quotes and non-ASCII text.
    let pieces = [
        "ALTER",
        "TABLE",
        "DROP",
        "COLUMN",
        "ADD",
        "CONSTRAINT",
        "DEFAULT",
        "NOT",
        "NULL",
        "(",
        ")",
        ",",
        ";",
        "'",
        "\"",
        "$$",
        "$x$",
        "--",
        "/*",
        "*/",
        "DO",
        "BEGIN",
        "begın",
        "END",
        "ÉTÉ",
        "ß",
        "CREATE",
        "INDEX",
        "CONCURRENTLY",
        "ON",
        "TYPE",
        "VALUE",
        "UPDATE",
        "SET",
        "WHERE",
        "DELETE",
        "FROM",
        "TRUNCATE",
        "RENAME",
        "TO",
        "gen_random_uuid",
        "E'\\''",
        ".",
        "\"q\"\"x\"",
        "USING",
        "PRIMARY",
        "KEY",
        "UNIQUE",
        "FOREIGN",
        "CHECK",
        "VALID",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let none = HashSet::new();
    // Upper-casing `ı` gives ASCII `I`: a byte offset taken from the upper-cased text would
    // cut this one inside a character.
    let _ = analyze("DO $$ begın UPDATE t SET a = 1; END $$", &ctx(&none));
    for _ in 0..3_000 {
        let len = (next() % 14) as usize;
        let text: Vec<&str> = (0..len)
            .map(|_| pieces[(next() % pieces.len() as u64) as usize])
            .collect();
        let sql = text.join(if next() % 3 == 0 { "" } else { " " });
        let _ = analyze(&sql, &ctx(&none));
        let _ = analyze_by_keywords(&sql, &ctx(&none));
    }
}

#[test]
fn an_autocommit_statement_commits_new_enum_values() {
    let opts = LintOptions::default();
    let mut review = StepReview::new(&opts);
    assert!(review
        .statement("ALTER TYPE mood ADD VALUE 'meh'", false)
        .is_empty());
    assert!(review
        .statement("CREATE INDEX CONCURRENTLY ix ON people (mood)", true)
        .is_empty());
    assert!(review
        .statement("INSERT INTO people (mood) VALUES ('meh')", false)
        .is_empty());
}
