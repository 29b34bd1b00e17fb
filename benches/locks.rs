//! The lock trace of a 200-step plan (`gen::executable_project`: each revision creates a table
//! and an index; branches, merges, two bases) next to the plan's own render time: what
//! `upgrade heads --sql --locks` adds to `upgrade heads --sql`, cold (a shadow database is made
//! and every statement traced) and warm (every step from the trace cache). Needs PostgreSQL
//! server binaries and a Python with alembic, as the tests do:
//! `ALEMBIC_TUI_PYTHON=… cargo bench --bench locks`.

#[path = "../tests/it/common/gen.rs"]
mod gen;
#[path = "../tests/it/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::time::{Duration, Instant};

use alembic_tui::config::{ProfileFile, ResolvedUrl, Settings, UrlSource};
use alembic_tui::engine::exec::Cancel;
use alembic_tui::engine::locks::{self, StepLocks};
use alembic_tui::engine::prepare;
use alembic_tui::engine::render::Renderer;
use alembic_tui::graph::Direction;
use alembic_tui::workspace::Workspace;

const STEPS: usize = 200;
const RUNS: usize = 3;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let python = std::env::var("ALEMBIC_TUI_PYTHON")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python").to_owned());
    let dir = tempfile::tempdir().expect("temp dir");
    gen::write_project(dir.path(), &gen::executable_project(STEPS)).expect("write the project");
    let config = alembic_tui::project::discover(dir.path(), None, "alembic").expect("discover");
    let (ws, _) =
        Workspace::new(alembic_tui::project::load(&config).expect("load")).expect("workspace");
    let profile = ProfileFile {
        alembic: Some(format!("'{python}' -m alembic")),
        ..ProfileFile::default()
    };
    let settings = Settings::from_profile(Some("bench"), &profile, "bench").expect("settings");
    let url = ResolvedUrl {
        url: pg::fresh_db("bench_locks"),
        source: UrlSource::Flag,
    };
    let steps = prepare::plan(&ws, &[], Direction::Upgrade, "heads").expect("plan");
    assert_eq!(steps.len(), STEPS);

    let mut render = Vec::new();
    let mut scripts = Vec::new();
    for _ in 0..RUNS {
        // No render cache: alembic renders the whole plan each time.
        let renderer = Renderer::new(&ws, &settings, &url, None);
        let started = Instant::now();
        scripts = prepare::render(&ws, &settings, &renderer, &steps).expect("render");
        render.push(started.elapsed());
    }
    let statements: usize = scripts.iter().map(|s| s.statements().len()).sum();

    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..RUNS {
        let cache = tempfile::tempdir().expect("cache dir");
        let started = Instant::now();
        let trace = locks::trace(
            &ws,
            &settings,
            &url,
            &scripts,
            Some(cache.path()),
            &Cancel::new(),
        )
        .expect("trace");
        cold.push(started.elapsed());
        let traced = trace
            .steps
            .iter()
            .filter(|s| matches!(s, StepLocks::Traced(_)))
            .count();
        assert_eq!(traced, STEPS, "every step traced");
        let started = Instant::now();
        let again = locks::trace(
            &ws,
            &settings,
            &url,
            &scripts,
            Some(cache.path()),
            &Cancel::new(),
        )
        .expect("trace from the cache");
        warm.push(started.elapsed());
        assert_eq!(again.cached, STEPS);
        assert_eq!(again.steps, trace.steps);
    }
    let planned = locks::trace(&ws, &settings, &url, &scripts, None, &Cancel::new())
        .expect("trace")
        .planned();
    let mut preflight = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        locks::preflight(&settings, &url, &planned).expect("pre-flight");
        preflight.push(started.elapsed());
    }
    println!("{STEPS} steps, {statements} statements, median of {RUNS} runs:");
    println!(
        "  render (alembic --sql, no cache)   {:>10.1?}",
        median(render)
    );
    println!(
        "  lock trace, cold (shadow + trace)  {:>10.1?}",
        median(cold)
    );
    println!(
        "  lock trace, warm (all cached)      {:>10.1?}",
        median(warm)
    );
    println!(
        "  pre-flight ({} relation+mode pairs) {:>9.1?}",
        planned.len(),
        median(preflight)
    );
}
