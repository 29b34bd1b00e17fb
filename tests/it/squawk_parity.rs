//! squawk parity: a corpus of revisions (every rule case, squawk-specific shapes, and the real
//! autogenerate fixtures) rendered to SQL by real alembic, reviewed by squawk (squawk-cli from
//! the test venv) and by alembic-tui on the same statements. Every squawk finding must have its
//! alembic-tui counterpart (docs/rules.md's squawk table) on the same statement.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use alembic_tui::analysis::{LintOptions, StepReview};
use alembic_tui::config::{self, ProfileFile, Settings};
use alembic_tui::engine::render::Renderer;
use alembic_tui::engine::script::{StatementKind, StepBody};
use alembic_tui::project;
use alembic_tui::workspace::Workspace;
use common::gen::{write_project, GenRev};
use common::lint_cases::CASES;
use common::squawk::{self, StepFile};

/// Revisions for squawk rules the rule cases do not show on their own.
const EXTRA: &[(&str, &[&str], &[&str])] = &[
    (
        "types",
        &[
            "op.create_table('events', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('at', sa.DateTime()), sa.Column('code', sa.CHAR(2)), sa.Column('n', sa.SmallInteger()))",
            "op.execute('ALTER TABLE users ADD COLUMN legacy_id serial')",
            "op.execute('ALTER TABLE users ALTER COLUMN age TYPE int')",
        ],
        &["op.drop_table('events')"],
    ),
    (
        "outside the transaction",
        &[
            "with op.get_context().autocommit_block():",
            "    op.create_index('ix_users_age', 'users', ['age'], postgresql_concurrently=True)",
            "    op.execute('DROP INDEX CONCURRENTLY ix_old')",
        ],
        &[
            "with op.get_context().autocommit_block():",
            "    op.drop_index('ix_users_age', table_name='users', postgresql_concurrently=True)",
        ],
    ),
    (
        "transactions and databases",
        &["op.execute('START TRANSACTION')", "op.execute('DROP DATABASE legacy')"],
        &[],
    ),
    (
        "primary key",
        &["op.execute('ALTER TABLE users ADD PRIMARY KEY (id)')"],
        &["op.drop_constraint('users_pkey', 'users', type_='primary')"],
    ),
];

fn rule_case_project(dir: &Path) -> PathBuf {
    let mut revs: Vec<GenRev> = Vec::new();
    let mut push = |message: String, upgrade: &[&str], downgrade: &[&str]| {
        let id = format!("s{}", revs.len());
        revs.push(GenRev {
            down_revisions: revs.last().map(|r| vec![r.id.clone()]).unwrap_or_default(),
            message,
            upgrade: upgrade.iter().map(|s| s.to_string()).collect(),
            downgrade: downgrade.iter().map(|s| s.to_string()).collect(),
            id,
            ..GenRev::default()
        });
    };
    for case in CASES {
        push(format!("{} fire", case.rule), case.fire.0, case.fire.1);
        push(format!("{} quiet", case.rule), case.quiet.0, case.quiet.1);
    }
    for (name, upgrade, downgrade) in EXTRA {
        push((*name).to_owned(), upgrade, downgrade);
    }
    write_project(dir, &revs).unwrap();
    dir.join("alembic.ini")
}

/// Every step of the project at `ini`, up from base and back down, written as SQL files into
/// `out` (file name prefix `tag`); steps that only run online are left out.
fn render_steps(ini: &Path, out: &Path, tag: &str) -> Vec<StepFile> {
    let dir = ini.parent().unwrap();
    let config = project::discover(dir, Some(ini), "alembic").unwrap();
    let (ws, _) = Workspace::new(project::load(&config).unwrap()).unwrap();
    let profile = ProfileFile {
        alembic: Some(format!("'{}' -m alembic", common::python().display())),
        ..ProfileFile::default()
    };
    let settings = Settings::from_profile(Some("test"), &profile, "test").unwrap();
    let url =
        config::resolve_url(Some("postgresql://localhost/unused"), None, |_| None, None).unwrap();
    let renderer = Renderer::new(&ws, &settings, &url, None);
    let up = ws.map.plan_upgrade(&[], "heads").unwrap();
    let heads: Vec<String> = ws.map.heads().iter().map(|h| h.to_string()).collect();
    let down = ws.map.plan_downgrade(&heads, "base").unwrap();
    let mut files = Vec::new();
    for steps in [up, down] {
        for script in renderer.render(&ws.map, &steps).unwrap() {
            if let StepBody::OnlineOnly { .. } = &script.body {
                continue;
            }
            let statements: Vec<(String, bool)> = script
                .statements()
                .iter()
                .filter(|s| s.kind == StatementKind::Body)
                .map(|s| (s.text.clone(), s.autocommit))
                .collect();
            if statements.is_empty() {
                continue;
            }
            let name = format!(
                "{tag}-{:04}-{}-{:?}.sql",
                files.len(),
                script.step.revision,
                script.step.direction
            );
            files.push(squawk::write_step(&out.join(name), &statements));
        }
    }
    files
}

/// Our flags on `sql` alone, as if every table it touches already existed.
fn on_existing_table(sql: &str, autocommit: bool) -> Vec<String> {
    StepReview::new(&LintOptions::default())
        .statement(sql, autocommit)
        .into_iter()
        .map(|f| f.rule.id().to_owned())
        .collect()
}

#[test]
fn every_squawk_finding_has_its_alembic_tui_counterpart() {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"))
        .unwrap();
    let table = squawk::counterparts(&docs);
    for ours in table.values().flatten() {
        assert!(
            alembic_tui::analysis::Rule::from_id(ours).is_some(),
            "docs/rules.md's squawk table names {ours}, which is not a rule"
        );
    }
    let exclude: Vec<String> = table
        .iter()
        .filter(|(_, ours)| ours.is_empty())
        // Fires only on squawk's own ignore comments, and squawk refuses to exclude it.
        .filter(|(id, _)| *id != "unused-ignore")
        .map(|(id, _)| id.clone())
        .collect();

    let work = tempfile::tempdir().unwrap();
    let sql_dir = work.path().join("sql");
    std::fs::create_dir(&sql_dir).unwrap();
    let cases = work.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    let mut files = render_steps(&rule_case_project(&cases), &sql_dir, "cases");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/autogen");
    for name in ["renames", "renames_batch", "noise", "mismatch"] {
        files.extend(render_steps(
            &fixtures.join(name).join("alembic.ini"),
            &sql_dir,
            name,
        ));
    }
    assert!(files.len() > 50, "only {} rendered steps", files.len());

    let opts = LintOptions::default();
    // Our flags, per file and statement.
    let ours: BTreeMap<PathBuf, Vec<BTreeSet<&'static str>>> = files
        .iter()
        .map(|f| {
            let mut review = StepReview::new(&opts);
            let flags = f
                .statements
                .iter()
                .map(|s| {
                    review
                        .statement(&s.text, s.autocommit)
                        .into_iter()
                        .map(|flag| flag.rule.id())
                        .collect()
                })
                .collect();
            (f.path.clone(), flags)
        })
        .collect();

    let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let found = squawk::run_squawk(
        &squawk::squawk(&common::python()),
        &paths,
        &exclude,
        opts.pg_version,
    );
    let by_path: BTreeMap<&Path, &StepFile> = files.iter().map(|f| (f.path.as_path(), f)).collect();
    let mut missing = Vec::new();
    let mut matched: BTreeMap<&str, usize> = BTreeMap::new();
    let mut atomic = 0;
    let mut fresh = 0;
    for finding in &found {
        let Some(file) = by_path.get(finding.file.as_path()) else {
            panic!("squawk reported a file we did not write: {finding:?}")
        };
        let Some(index) = file
            .statements
            .iter()
            .position(|s| (s.lines.0..=s.lines.1).contains(&finding.line))
        else {
            missing.push(format!(
                "{}:{}: {} on no statement of ours ({})",
                finding.file.display(),
                finding.line,
                finding.rule,
                finding.message
            ));
            continue;
        };
        let statement = &file.statements[index];
        let Some(counterparts) = table.get(&finding.rule) else {
            panic!(
                "squawk rule {} is not in docs/rules.md's squawk table",
                finding.rule
            )
        };
        let flags = &ours[&file.path][index];
        if counterparts.iter().any(|c| flags.contains(c.as_str())) {
            *matched.entry(finding.rule.as_str()).or_default() += 1;
        } else if finding.rule == "prefer-robust-stmts" && !statement.autocommit {
            // Deliberate: inside the step's transaction a statement is atomic.
            atomic += 1;
        } else if counterparts
            .iter()
            .any(|c| on_existing_table(&statement.text, statement.autocommit).contains(c))
        {
            // Deliberate: a table created earlier in the step; against an existing table the
            // same statement gets its counterpart.
            fresh += 1;
        } else {
            missing.push(format!(
                "{}: squawk {} ({}) but alembic-tui says {flags:?} on {:?}",
                file.path.file_name().unwrap().to_string_lossy(),
                finding.rule,
                finding.message,
                statement.text
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    // The corpus shows the rules that matter; a squawk that finds nothing proves nothing.
    for rule in [
        "ban-drop-table",
        "ban-drop-column",
        "require-concurrent-index-creation",
        "constraint-missing-not-valid",
        "adding-required-field",
        "changing-column-type",
        "prefer-bigint-over-int",
        "prefer-identity",
        "prefer-timestamp-tz",
        "ban-char-field",
        "ban-drop-database",
        "transaction-nesting",
        "prefer-robust-stmts",
        "renaming-column",
        "renaming-table",
        "disallowed-unique-constraint",
    ] {
        assert!(
            matched.contains_key(rule),
            "squawk never reported {rule} with a counterpart: {matched:#?}"
        );
    }
    eprintln!(
        "{} squawk findings over {} steps: {} with their counterpart ({matched:?}), {atomic} \
         prefer-robust-stmts inside the step's transaction, {fresh} on tables the step created",
        found.len(),
        files.len(),
        matched.values().sum::<usize>()
    );
}
