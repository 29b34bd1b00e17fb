//! Every lint rule against a revision that must fire it and a look-alike that must not, each
//! built through the real revision parser from source text; suppression comments and config
//! severities; a generated 2,000-revision project.

use crate::common;

use std::path::Path;

use alembic_tui::analysis::{self, Direction, Finding, Level, LintOptions, Rule, Severity};
use alembic_tui::project::names::ModuleFinder;
use alembic_tui::project::revision::{self, Revision};

/// A revision file with these bodies (lines without indentation; empty means `pass`).
fn source(down_revision: &str, upgrade: &[&str], downgrade: &[&str]) -> String {
    let mut text = format!(
        "\"\"\"a change\n\nRevision ID: r1\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\n\
         revision = \"r1\"\ndown_revision = {down_revision}\n\n\n"
    );
    for (name, body) in [("upgrade", upgrade), ("downgrade", downgrade)] {
        text.push_str(&format!("def {name}():\n"));
        if body.is_empty() {
            text.push_str("    pass\n");
        }
        for line in body {
            text.push_str(&format!("    {line}\n"));
        }
        text.push_str("\n\n");
    }
    text
}

fn parse(text: &str) -> Revision {
    revision::from_source(
        Path::new("versions/r1.py"),
        text,
        &ModuleFinder::new(vec![]),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn lint_with(upgrade: &[&str], downgrade: &[&str], opts: &LintOptions) -> Vec<Finding> {
    analysis::lint_revision(&parse(&source("\"r0\"", upgrade, downgrade)), opts)
}

fn lint(upgrade: &[&str], downgrade: &[&str]) -> Vec<Finding> {
    lint_with(upgrade, downgrade, &LintOptions::default())
}

fn rules(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.rule.id()).collect()
}

/// `rule` is among the findings of (upgrade, downgrade).
fn fires(rule: &str, upgrade: &[&str], downgrade: &[&str]) -> bool {
    rules(&lint(upgrade, downgrade)).contains(&rule)
}

use common::lint_cases::{CASES, NOOP};

#[test]
fn every_rule_fires_on_its_case_and_not_on_the_look_alike() {
    let mut covered: Vec<&str> = Vec::new();
    for case in CASES {
        assert!(
            Rule::from_id(case.rule).is_some(),
            "{} is not a rule id",
            case.rule
        );
        let fired = lint(case.fire.0, case.fire.1);
        assert!(
            rules(&fired).contains(&case.rule),
            "{} did not fire on {:?}: {fired:#?}",
            case.rule,
            case.fire
        );
        let quiet = lint(case.quiet.0, case.quiet.1);
        assert!(
            !rules(&quiet).contains(&case.rule),
            "{} fired on the look-alike {:?}: {quiet:#?}",
            case.rule,
            case.quiet
        );
        covered.push(case.rule);
    }
    // empty-revision and edited-after-apply have their own tests below.
    covered.extend(["empty-revision", "edited-after-apply"]);
    for rule in Rule::ALL {
        assert!(covered.contains(&rule.id()), "no case for {}", rule.id());
    }
}

#[test]
fn findings_name_the_table_the_line_and_the_direction() {
    let found = lint(
        &["op.add_column('orders', sa.Column('note', sa.Text()))"],
        &["op.drop_column('orders', 'note')"],
    );
    let drop = found.iter().find(|f| f.rule == Rule::DropColumn).unwrap();
    assert_eq!(drop.direction, Direction::Downgrade);
    assert_eq!(drop.severity, Severity::Error);
    assert_eq!(drop.revision, "r1");
    assert_eq!(drop.path, "versions/r1.py");
    assert!(drop.message.contains("orders.note"), "{}", drop.message);
    // def downgrade() is on line 16; its first statement on 17.
    let text = source("\"r0\"", &["pass"], &["op.drop_column('orders', 'note')"]);
    let line = text
        .lines()
        .position(|l| l.contains("drop_column"))
        .unwrap()
        + 1;
    assert_eq!(drop.line, line);
    let json = serde_json::to_value(drop).unwrap();
    assert_eq!(json["rule"], "drop-column");
    assert_eq!(json["severity"], "error");
    assert_eq!(json["direction"], "downgrade");
    assert_eq!(json["suppressed"], serde_json::Value::Null);
}

#[test]
fn raw_sql_goes_through_the_sql_classifier() {
    assert!(fires(
        "drop-column",
        &["op.execute('ALTER TABLE t DROP COLUMN c')"],
        NOOP
    ));
    assert!(fires(
        "drop-column",
        &[
            "op.execute(sa.text(\"\"\"",
            "    -- clean up; really",
            "    ALTER TABLE t DROP COLUMN c;",
            "    ANALYZE t;",
            "\"\"\"))"
        ],
        NOOP
    ));
    // A SQLAlchemy update without .where() is an update of every row; with one, it is not.
    assert!(fires(
        "update-without-where",
        &["op.execute(accounts.update().values(active=True))"],
        NOOP
    ));
    assert!(!fires(
        "update-without-where",
        &["op.execute(accounts.update().where(accounts.c.id == 1).values(active=True))"],
        NOOP
    ));
    assert!(fires(
        "delete-without-where",
        &["op.execute(sa.delete(sessions))"],
        NOOP
    ));
}

#[test]
fn batch_calls_take_the_blocks_table() {
    let found = lint(
        &[
            "with op.batch_alter_table('users') as batch_op:",
            "    batch_op.drop_column('legacy')",
            "    batch_op.create_index('ix_users_name', ['name'])",
        ],
        &[
            "with op.batch_alter_table('users') as batch_op:",
            "    batch_op.drop_index('ix_users_name')",
            "    batch_op.add_column(sa.Column('legacy', sa.Text()))",
        ],
    );
    let drop = found.iter().find(|f| f.rule == Rule::DropColumn).unwrap();
    assert!(drop.message.contains("users.legacy"), "{}", drop.message);
    assert!(found
        .iter()
        .any(|f| f.rule == Rule::CreateIndexWithoutConcurrently && f.message.contains("users")));
    assert!(!rules(&found).contains(&"downgrade-mismatch"), "{found:#?}");
}

#[test]
fn tables_created_in_the_same_revision_are_not_flagged_as_locking() {
    let found = lint(
        &[
            "op.execute('CREATE TABLE fresh (id int)')",
            "op.add_column('fresh', sa.Column('n', sa.Integer(), nullable=False))",
            "op.create_foreign_key('fk', 'fresh', 'users', ['n'], ['id'])",
            "op.create_unique_constraint('uq', 'fresh', ['n'])",
            "op.execute('ALTER TABLE fresh ALTER COLUMN n SET NOT NULL')",
            "op.create_index('ix', 'fresh', ['n'])",
        ],
        &["op.drop_table('fresh')"],
    );
    let locking: Vec<_> = found
        .iter()
        .filter(|f| f.rule.category() == analysis::Category::Locking)
        .collect();
    assert!(locking.is_empty(), "{locking:#?}");
}

#[test]
fn empty_revisions_fire_except_merges() {
    assert!(fires("empty-revision", NOOP, NOOP));
    assert!(!fires(
        "empty-revision",
        &["op.drop_column('a', 'b')"],
        NOOP
    ));
    let merge = parse(&source("(\"a\", \"b\")", NOOP, NOOP));
    assert!(
        !rules(&analysis::lint_revision(&merge, &LintOptions::default()))
            .contains(&"empty-revision")
    );
}

#[test]
fn server_version_changes_the_verdicts_that_depend_on_it() {
    let constant_default =
        ["op.add_column('users', sa.Column('tier', sa.String(10), server_default='free'))"];
    let old = LintOptions {
        pg_version: 10,
        ..LintOptions::default()
    };
    assert!(rules(&lint_with(&constant_default, NOOP, &old)).contains(&"volatile-default"));
    assert!(!rules(&lint(&constant_default, NOOP)).contains(&"volatile-default"));

    // Before 12 ADD VALUE is refused in a transaction at all; since 12 only using it is.
    let add_only = ["op.execute(\"ALTER TYPE mood ADD VALUE 'happy'\")"];
    let pg11 = LintOptions {
        pg_version: 11,
        ..LintOptions::default()
    };
    assert!(rules(&lint_with(&add_only, NOOP, &pg11)).contains(&"enum-add-value-in-transaction"));
    assert!(!rules(&lint(&add_only, NOOP)).contains(&"enum-add-value-in-transaction"));
    let in_block = [
        "with op.get_context().autocommit_block():",
        "    op.execute(\"ALTER TYPE mood ADD VALUE 'happy'\")",
    ];
    assert!(!rules(&lint_with(&in_block, NOOP, &pg11)).contains(&"enum-add-value-in-transaction"));
}

#[test]
fn a_new_enum_value_is_reported_once_however_often_it_is_used() {
    let found = lint(
        &[
            "op.execute(\"ALTER TYPE mood ADD VALUE 'happy'\")",
            "op.execute(\"UPDATE people SET mood = 'happy' WHERE id = 1\")",
            "op.bulk_insert(people, [{'mood': 'happy'}])",
        ],
        NOOP,
    );
    let enum_findings: Vec<_> = found
        .iter()
        .filter(|f| f.rule == Rule::EnumAddValueInTransaction)
        .collect();
    assert_eq!(enum_findings.len(), 1, "{found:#?}");
    assert_eq!(enum_findings[0].line, 13, "reported at the ADD VALUE");
    // An autocommit_block in between commits the new value: using it afterwards is fine.
    let found = lint(
        &[
            "op.execute(\"ALTER TYPE mood ADD VALUE 'happy'\")",
            "with op.get_context().autocommit_block():",
            "    op.create_index('ix_p', 'people', ['mood'], postgresql_concurrently=True)",
            "op.execute(\"UPDATE people SET mood = 'happy' WHERE id = 1\")",
        ],
        NOOP,
    );
    assert!(
        !rules(&found).contains(&"enum-add-value-in-transaction"),
        "{found:#?}"
    );
}

#[test]
fn suppression_comments_keep_the_finding_with_its_reason() {
    let text = source(
        "\"r0\"",
        &[
            "op.drop_column('users', 'legacy')  # alembic-tui: allow drop-column -- emptied in r0",
            "op.drop_column('users', 'other')",
        ],
        &["# alembic-tui: allow downgrade-mismatch", "pass"],
    );
    let found = analysis::lint_revision(&parse(&text), &LintOptions::default());
    let drops: Vec<_> = found
        .iter()
        .filter(|f| f.rule == Rule::DropColumn)
        .collect();
    assert_eq!(drops.len(), 2);
    assert_eq!(drops[0].suppressed.as_deref(), Some("emptied in r0"));
    assert!(!drops[0].is_blocking());
    assert_eq!(
        drops[1].suppressed, None,
        "a trailing comment covers only its line"
    );
    // A comment on its own line covers the revision; a reason is not required.
    assert!(found
        .iter()
        .filter(|f| f.rule == Rule::Irreversible)
        .all(|f| f.suppressed.is_none()));
    // A multi-line call: the comment may trail its last line.
    let text = source(
        "\"r0\"",
        &[
            "op.drop_table(",
            "    'old_stuff',",
            ")  # alembic-tui: allow drop-table -- archived",
        ],
        &["pass"],
    );
    let found = analysis::lint_revision(&parse(&text), &LintOptions::default());
    let drop = found.iter().find(|f| f.rule == Rule::DropTable).unwrap();
    assert_eq!(drop.suppressed.as_deref(), Some("archived"));
    // `# alembic-tui:` inside a string is not a comment.
    let text = source(
        "\"r0\"",
        &["op.execute('DROP TABLE x -- # alembic-tui: allow drop-table')"],
        &["pass"],
    );
    let found = analysis::lint_revision(&parse(&text), &LintOptions::default());
    assert!(found
        .iter()
        .any(|f| f.rule == Rule::DropTable && f.suppressed.is_none()));
}

#[test]
fn config_levels_override_and_switch_off() {
    let mut opts = LintOptions::default();
    opts.levels
        .insert(Rule::DropIndex, Level::Is(Severity::Warning));
    opts.levels.insert(Rule::DropTable, Level::Off);
    let found = lint_with(
        &["op.drop_index('ix', table_name='t')", "op.drop_table('t')"],
        NOOP,
        &opts,
    );
    let index = found.iter().find(|f| f.rule == Rule::DropIndex).unwrap();
    assert_eq!(index.severity, Severity::Warning);
    assert!(!rules(&found).contains(&"drop-table"));
}

#[test]
fn edited_after_apply_compares_the_journaled_hash() {
    let rev = parse(&source("\"r0\"", &["op.drop_column('a', 'b')"], NOOP));
    let applied = vec![
        analysis::AppliedHash {
            revision: "r1".into(),
            file_sha256: "00".repeat(32),
        },
        analysis::AppliedHash {
            revision: "r1".into(),
            file_sha256: "ab".repeat(32),
        },
    ];
    let opts = LintOptions::default();
    // The last journaled upgrade is what counts.
    assert!(analysis::edited_after_apply(&rev, &"ab".repeat(32), &applied, &opts).is_empty());
    let found = analysis::edited_after_apply(&rev, &"cd".repeat(32), &applied, &opts);
    assert_eq!(rules(&found), ["edited-after-apply"]);
    assert!(found[0].message.contains("r1.py"), "{}", found[0].message);
    assert!(analysis::edited_after_apply(&rev, &"cd".repeat(32), &[], &opts).is_empty());
}

#[test]
fn a_generated_2000_revision_project_lints() {
    let dir = tempfile::tempdir().unwrap();
    common::gen::write_project(dir.path(), &common::gen::big_project(2_000)).unwrap();
    let config = alembic_tui::project::discover(
        dir.path(),
        Some(&dir.path().join("alembic.ini")),
        "alembic",
    )
    .unwrap();
    let project = alembic_tui::project::load(&config).unwrap();
    let revs: Vec<&Revision> = project.revisions.iter().collect();
    let found = analysis::lint_revisions(&revs, &LintOptions::default());
    // Every generated revision creates a table and an index and drops both on the way down:
    // the downgrade's drops are the only findings (the index is on the table it just made).
    let count = |rule: Rule| found.iter().filter(|f| f.rule == rule).count();
    assert_eq!(count(Rule::DropTable), 2_000);
    assert_eq!(count(Rule::DropIndex), 2_000);
    assert_eq!(found.len(), 4_000, "{:#?}", &found[..found.len().min(10)]);
    assert!(found.iter().all(|f| f.direction == Direction::Downgrade));
}

#[test]
fn every_rule_has_a_section_in_docs_rules_md() {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"))
        .unwrap();
    let sections: Vec<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .collect();
    let ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    assert_eq!(
        sections, ids,
        "docs/rules.md: one section per rule, in Rule::ALL order"
    );
    for rule in Rule::ALL {
        let row = format!(
            "| [`{0}`](#{0}) | {1} | {2} |",
            rule.id(),
            format!("{:?}", rule.category()).to_lowercase(),
            rule.default_severity().as_str()
        );
        assert!(docs.contains(&row), "docs/rules.md: no table row {row}");
        let at = docs.find(&format!("### {}\n", rule.id())).unwrap();
        let section = &docs[at..];
        let section = &section[..section[4..].find("\n### ").map_or(section.len(), |e| e + 4)];
        for part in ["**Catches**", "**Why it hurts**", "**Safer**"] {
            assert!(section.contains(part), "{}: no {part}", rule.id());
        }
    }
}

#[test]
fn more_shapes_of_the_review_rules() {
    // A table dropped and another created with the same columns is a suspected rename; with
    // different columns it is not.
    let old =
        "op.create_table('customer', sa.Column('id', sa.Integer()), sa.Column('name', sa.Text()))";
    assert!(fires(
        "suspected-rename",
        &[
            "op.drop_table('customer')",
            "op.create_table('client', sa.Column('id', sa.Integer()), sa.Column('name', sa.Text()))"
        ],
        &[old, "op.drop_table('client')"],
    ));
    assert!(!fires(
        "suspected-rename",
        &[
            "op.drop_table('customer')",
            "op.create_table('client', sa.Column('id', sa.Integer()), sa.Column('email', sa.Text()))"
        ],
        &[old, "op.drop_table('client')"],
    ));
    // Irreversible: no downgrade at all, or only pass.
    let rev = parse(
        "revision = 'r1'\ndown_revision = 'r0'\nfrom alembic import op\n\ndef upgrade():\n    op.drop_column('a', 'b')\n",
    );
    assert!(
        rules(&analysis::lint_revision(&rev, &LintOptions::default())).contains(&"irreversible")
    );
    assert!(fires("irreversible", &["op.drop_column('a', 'b')"], NOOP));
    // A data-only upgrade with an empty downgrade changes no schema: nothing to undo.
    assert!(!fires(
        "irreversible",
        &["op.bulk_insert(t, [{'id': 1}])"],
        NOOP
    ));
    // The other way round: the downgrade creates what the upgrade never dropped.
    let found = lint(
        &["op.add_column('t', sa.Column('c', sa.Integer()))"],
        &[
            "op.drop_column('t', 'c')",
            "op.create_index('ix_extra', 't', ['d'])",
        ],
    );
    let mismatch: Vec<_> = found
        .iter()
        .filter(|f| f.rule == Rule::DowngradeMismatch)
        .collect();
    assert_eq!(mismatch.len(), 1, "{found:#?}");
    assert!(mismatch[0].message.contains("ix_extra"));
    // bulk_insert is a data change.
    assert!(fires(
        "mixed-schema-and-data",
        &[
            "op.create_table('kinds', sa.Column('id', sa.Integer()))",
            "op.bulk_insert(kinds, [{'id': 1}])"
        ],
        &["op.drop_table('kinds')"],
    ));
    // Identity and serial columns fill every row when added.
    assert!(fires(
        "volatile-default",
        &["op.add_column('t', sa.Column('n', sa.BigInteger(), sa.Identity()))"],
        NOOP
    ));
    assert!(fires(
        "volatile-default",
        &["op.execute('ALTER TABLE t ADD COLUMN n bigserial')"],
        NOOP
    ));
}
