//! Load + graph + `heads`, and the whole `history` command (lanes and text), on generated
//! projects of 2,000 and 10,000 revisions. Run: `cargo bench --bench graph`.

#[path = "../tests/it/common/gen.rs"]
mod gen;

use std::path::Path;

use alembic_tui::cli::{commands, Args};
use alembic_tui::project;
use clap::Parser;
use criterion::{criterion_group, criterion_main, Criterion};

fn load_and_heads(ini: &Path) -> usize {
    let config = project::discover(Path::new("."), Some(ini), "alembic").expect("config");
    let project = project::load(&config).expect("load");
    let (ws, _) = alembic_tui::workspace::Workspace::new(project).expect("graph");
    ws.map.heads().len()
}

fn command(ini: &Path, cmd: &str) -> usize {
    let args = Args::parse_from(["alembic-tui", "-c", &ini.to_string_lossy(), cmd]);
    let mut out = Vec::with_capacity(1 << 20);
    let _ = commands::run(&args, Path::new("."), &mut out, &mut std::io::sink()).expect("run");
    out.len()
}

fn bench(c: &mut Criterion) {
    for n in [2_000usize, 10_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        gen::write_project(dir.path(), &gen::big_project(n)).expect("write project");
        let ini = dir.path().join("alembic.ini");
        let mut group = c.benchmark_group(format!("{n} revisions"));
        group.sample_size(10);
        group.bench_function("load + graph + heads", |b| b.iter(|| load_and_heads(&ini)));
        group.bench_function("heads command", |b| b.iter(|| command(&ini, "heads")));
        group.bench_function("history command", |b| b.iter(|| command(&ini, "history")));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
