//! Linting a generated 2,000-revision project: the rules alone over already-parsed revisions, and
//! the whole `lint` command (discover, load, graph, rules, JSON). Run: `cargo bench --bench lint`.

#[path = "../tests/common/gen.rs"]
mod gen;

use std::path::Path;

use alembic_tui::analysis::{self, LintOptions};
use alembic_tui::cli::{commands, Args};
use alembic_tui::project::{self, Revision};
use clap::Parser;
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let n = 2_000usize;
    let dir = tempfile::tempdir().expect("tempdir");
    gen::write_project(dir.path(), &gen::big_project(n)).expect("write project");
    let ini = dir.path().join("alembic.ini");
    let config = project::discover(Path::new("."), Some(&ini), "alembic").expect("config");
    let loaded = project::load(&config).expect("load");
    let revs: Vec<&Revision> = loaded.revisions.iter().collect();
    let opts = LintOptions::default();

    let mut group = c.benchmark_group(format!("{n} revisions"));
    group.sample_size(10);
    group.bench_function("rules over parsed revisions", |b| {
        b.iter(|| analysis::lint_revisions(&revs, &opts).len())
    });
    group.bench_function("lint command (load + graph + rules + JSON)", |b| {
        b.iter(|| {
            let args =
                Args::parse_from(["alembic-tui", "-c", &ini.to_string_lossy(), "--json", "lint"]);
            let mut out = Vec::with_capacity(1 << 20);
            let _ = commands::run(&args, Path::new("."), &mut out, &mut std::io::sink())
                .expect("run");
            out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
