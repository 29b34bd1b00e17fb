//! The console's speed: time to the first full frame on 2,000 revisions with a database (load the
//! project, resolve settings, connect and read the version table from a throwaway PostgreSQL,
//! build the graph picture, run the analysis rules for the badges, draw), and the time to draw
//! one frame at 10,000 revisions.
//! Run: `cargo bench --bench tui`.

#[path = "../tests/it/common/gen.rs"]
mod gen;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use alembic_tui::cli::Args;
use alembic_tui::db::{self, version_table::VersionTable};
use alembic_tui::pgtemp::TempServer;
use alembic_tui::tui::action::Action;
use alembic_tui::tui::app::App;
use alembic_tui::tui::event::{DbReport, WorkerEvent};
use alembic_tui::tui::{views, Session};
use clap::Parser;
use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

const WIDTH: u16 = 160;
const HEIGHT: u16 = 50;

// The shipped binary's allocator, so load times match what users see.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A generated project of `n` revisions in a temp dir, and the version table's rows of a
/// database upgraded through the first half of it (the tips of that half), so half the history
/// is applied and half pending. The generator's `depends_on` links are dropped: with them alembic
/// refuses `upgrade heads` on these histories (an assertion in its head bookkeeping), and the
/// console would show the refusal instead of the pending steps being measured.
fn project(n: usize) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut revs = gen::big_project(n);
    for rev in &mut revs {
        rev.depends_on.clear();
    }
    gen::write_project(dir.path(), &revs).expect("write project");
    let half = &revs[..n / 2];
    let parents: HashSet<&str> = half
        .iter()
        .flat_map(|r| r.down_revisions.iter().map(String::as_str))
        .collect();
    let rows = half
        .iter()
        .filter(|r| !parents.contains(r.id.as_str()))
        .map(|r| r.id.clone())
        .collect();
    (dir, rows)
}

/// Everything before the first frame the user sees with the database's state in it.
fn first_frame(ini: &Path, url: &str, runtime: &tokio::runtime::Runtime) -> usize {
    let args = Args::parse_from(["alembic-tui", "-c", &ini.to_string_lossy(), "--url", url]);
    let session = Session::prepare(&args, Path::new(".")).expect("prepare");
    let (settings, url) = session.db.clone().expect("a database URL");
    let rows = runtime.block_on(async {
        let client = db::connect(&url, db::ConnectOptions { read_only: true })
            .await
            .expect("connect");
        VersionTable {
            table: settings.version_table.clone(),
            schema: settings.version_table_schema.clone(),
        }
        .read(&client, &url.url)
        .await
        .expect("read the version table")
    });
    let mut app = App::new(
        session.ws.clone(),
        session.target.clone(),
        Rect::new(0, 0, WIDTH, HEIGHT),
    );
    let _ = app.start();
    let _ = app.update(Action::Worker(WorkerEvent::Db(DbReport::Rows(rows))));
    // The badges are part of a full frame: the rules run on a worker in the console, inline here.
    let findings = alembic_tui::tui::lint_all(&session.ws, &session.lint);
    let _ = app.update(Action::Worker(WorkerEvent::Findings {
        ws: alembic_tui::tui::event::Loaded(session.ws.clone()),
        findings,
    }));
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
    terminal
        .draw(|frame| views::draw(frame, &app, &session.theme))
        .expect("draw");
    assert!(app.view.plan_error.is_none(), "{:?}", app.view.plan_error);
    app.view.pending.len()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pg_dir = tempfile::tempdir().expect("tempdir");
    let server = TempServer::start(pg_dir.path()).expect("start PostgreSQL");
    server.create_database("bench").expect("create database");

    let (dir, rows) = project(2_000);
    let ini = dir.path().join("alembic.ini");
    let url = server.url("bench");
    runtime.block_on(async {
        let client = db::connect(
            &alembic_tui::config::ResolvedUrl {
                url: url.clone(),
                source: alembic_tui::config::UrlSource::Flag,
            },
            Default::default(),
        )
        .await
        .expect("connect");
        let values: Vec<String> = rows.iter().map(|r| format!("('{r}')")).collect();
        client
            .batch_execute(&format!(
                "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
                 INSERT INTO alembic_version VALUES {}",
                values.join(", ")
            ))
            .await
            .expect("create the version table");
    });
    let mut group = c.benchmark_group("console");
    group.sample_size(20);
    group.bench_function("first full frame, 2,000 revisions with a database", |b| {
        b.iter(|| first_frame(&ini, &url, &runtime))
    });

    let (dir, rows) = project(10_000);
    let ini = dir.path().join("alembic.ini");
    let args = Args::parse_from(["alembic-tui", "-c", &ini.to_string_lossy(), "--url", &url]);
    let session = Session::prepare(&args, Path::new(".")).expect("prepare");
    let mut app = App::new(
        Arc::clone(&session.ws),
        session.target.clone(),
        Rect::new(0, 0, WIDTH, HEIGHT),
    );
    let _ = app.start();
    let _ = app.update(Action::Worker(WorkerEvent::Db(DbReport::Rows(
        rows.clone(),
    ))));
    assert!(app.view.plan_error.is_none(), "{:?}", app.view.plan_error);
    // The selection on the database's row, half way down: the view scrolled far from the top.
    let row = app.model.position(&rows[0]).expect("the row's revision");
    let mut effects = Vec::new();
    app.select(row, &mut effects);
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
    let mut down = false;
    group.bench_function("one frame, 10,000 revisions", |b| {
        b.iter(|| {
            // As if j and k were pressed in turn: every frame has changes to draw.
            down = !down;
            app.select(if down { row + 1 } else { row }, &mut effects);
            terminal
                .draw(|frame| views::draw(frame, &app, &session.theme))
                .expect("draw");
        })
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
