//! squawk against alembic-tui on the same SQL: 2,000 revisions rendered once by real alembic
//! (`upgrade --sql`, one step per file, the step's transaction written out as the executor runs
//! it), then timed: squawk (squawk-cli from the venv, one process over every file, default
//! rules) and alembic-tui's review of the same files (read, split, `StepReview` per statement).
//! Needs `ALEMBIC_TUI_PYTHON` (a venv with alembic and squawk-cli).
//! Run: `cargo bench --bench squawk -- --noplot`.

#[path = "../tests/it/common/gen.rs"]
mod gen;
#[path = "../tests/it/common/squawk.rs"]
mod squawk;

use std::path::{Path, PathBuf};
use std::process::Command;

use alembic_tui::analysis::{sql_split, LintOptions, StepReview};
use alembic_tui::config::{self, ProfileFile, Settings};
use alembic_tui::engine::render::Renderer;
use alembic_tui::engine::script::{StatementKind, StepBody};
use alembic_tui::project;
use alembic_tui::workspace::Workspace;
use criterion::{criterion_group, criterion_main, Criterion};

/// `executable_project`'s history (branches and merges alembic can plan from base) with bodies
/// of every kind squawk and alembic-tui look at.
fn corpus(n: usize) -> Vec<gen::GenRev> {
    let mut revs = gen::executable_project(n);
    for (i, rev) in revs.iter_mut().enumerate() {
        let t = format!("t{}", i / 4 * 4);
        let upgrade: Vec<String> = match i % 4 {
            1 => vec![
                format!("op.add_column({t:?}, sa.Column(\"c{i}\", sa.Integer(), nullable=False, server_default=\"0\"))"),
                format!("op.add_column({t:?}, sa.Column(\"at{i}\", sa.DateTime()))"),
                format!("op.alter_column({t:?}, \"name\", type_=sa.String(80), existing_type=sa.String(50))"),
                format!("op.create_foreign_key(\"fk{i}\", {t:?}, \"users\", [\"c{i}\"], [\"id\"])"),
            ],
            2 => vec![
                format!("op.execute(\"ALTER TABLE {t} ADD COLUMN d{i} uuid DEFAULT gen_random_uuid()\")"),
                format!("op.execute(\"UPDATE {t} SET name = 'x' WHERE id < 10\")"),
                "with op.get_context().autocommit_block():".to_owned(),
                format!("    op.create_index(\"ix{i}\", {t:?}, [\"name\"], postgresql_concurrently=True)"),
            ],
            3 => vec![
                format!("op.drop_column({t:?}, \"legacy{i}\")"),
                format!("op.create_unique_constraint(\"uq{i}\", {t:?}, [\"name\"])"),
                format!("op.rename_table(\"old{i}\", \"new{i}\")"),
            ],
            _ => continue,
        };
        rev.upgrade = upgrade;
    }
    revs
}

/// Renders every upgrade step of the project and writes one SQL file per step into `out`.
fn render(dir: &Path, out: &Path) -> Vec<PathBuf> {
    let ini = dir.join("alembic.ini");
    let config = project::discover(dir, Some(&ini), "alembic").expect("config");
    let (ws, _) = Workspace::new(project::load(&config).expect("load")).expect("workspace");
    let python = std::env::var("ALEMBIC_TUI_PYTHON")
        .expect("set ALEMBIC_TUI_PYTHON to a venv's python with alembic and squawk-cli");
    let profile = ProfileFile {
        alembic: Some(format!("'{python}' -m alembic")),
        ..ProfileFile::default()
    };
    let settings = Settings::from_profile(Some("bench"), &profile, "bench").expect("settings");
    let url = config::resolve_url(Some("postgresql://localhost/unused"), None, |_| None, None)
        .expect("url");
    let renderer = Renderer::new(&ws, &settings, &url, None);
    let steps = ws.map.plan_upgrade(&[], "heads").expect("plan");
    let mut files = Vec::new();
    for (i, script) in renderer
        .render(&ws.map, &steps)
        .expect("render")
        .iter()
        .enumerate()
    {
        let StepBody::Sql(_) = &script.body else {
            continue;
        };
        let statements: Vec<(String, bool)> = script
            .statements()
            .iter()
            .filter(|s| s.kind == StatementKind::Body)
            .map(|s| (s.text.clone(), s.autocommit))
            .collect();
        let path = out.join(format!("{i:05}.sql"));
        squawk::write_step(&path, &statements);
        files.push(path);
    }
    files
}

/// alembic-tui over the files: read, split, review each statement in its step, leaving the
/// transaction where the file does.
fn review_files(files: &[PathBuf], opts: &LintOptions) -> usize {
    let mut flags = 0;
    for path in files {
        let text = std::fs::read_to_string(path).expect("read");
        let mut review = StepReview::new(opts);
        let mut in_transaction = false;
        for statement in sql_split::split(&text).expect("split") {
            match statement.text.trim().to_ascii_uppercase().as_str() {
                "BEGIN" => in_transaction = true,
                "COMMIT" => in_transaction = false,
                _ => flags += review.statement(&statement.text, !in_transaction).len(),
            }
        }
    }
    flags
}

fn bench(c: &mut Criterion) {
    let n = 2_000usize;
    let dir = tempfile::tempdir().expect("tempdir");
    gen::write_project(dir.path(), &corpus(n)).expect("write project");
    let sql = tempfile::tempdir().expect("tempdir");
    let files = render(dir.path(), sql.path());
    let python = PathBuf::from(std::env::var("ALEMBIC_TUI_PYTHON").expect("ALEMBIC_TUI_PYTHON"));
    let squawk_bin = squawk::squawk(&python);
    let opts = LintOptions::default();
    let ours = review_files(&files, &opts);
    let theirs = squawk::run_squawk(&squawk_bin, &files, &[], opts.pg_version).len();
    eprintln!(
        "{} step files, {} statements; squawk: {theirs} findings, alembic-tui: {ours} flags",
        files.len(),
        files
            .iter()
            .map(
                |f| sql_split::split(&std::fs::read_to_string(f).unwrap_or_default())
                    .map_or(0, |s| s.len())
            )
            .sum::<usize>()
    );

    let mut group = c.benchmark_group(format!("{n} revisions' SQL"));
    group.sample_size(10);
    group.bench_function("squawk (one process, every file)", |b| {
        b.iter(|| {
            let out = Command::new(&squawk_bin)
                .args(["--reporter", "json", "--pg-version=15.0"])
                .args(&files)
                .output()
                .expect("squawk");
            out.stdout.len()
        })
    });
    group.bench_function("alembic-tui (read, split, review every file)", |b| {
        b.iter(|| review_files(&files, &opts))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
