//! Linting a generated 2,000-revision project (the generator's history, with bodies that touch
//! every kind of rule): the rules alone over already-parsed revisions, and the whole `lint`
//! command (discover, load, graph, rules, JSON). Run: `cargo bench --bench lint`.

#[path = "../tests/it/common/gen.rs"]
mod gen;

use std::path::Path;

use alembic_tui::analysis::{self, LintOptions};
use alembic_tui::cli::{commands, Args};
use alembic_tui::project::{self, Revision};
use clap::Parser;
use criterion::{criterion_group, criterion_main, Criterion};

/// `big_project`'s history with bodies that exercise every kind of rule: every fourth revision
/// keeps its create_table + create_index, the others add and alter columns, run raw SQL (several
/// statements, a DO block) and batch operations.
fn mixed_project(n: usize) -> Vec<gen::GenRev> {
    let mut revs = gen::big_project(n);
    for (i, rev) in revs.iter_mut().enumerate() {
        let t = format!("t{}", i / 4 * 4);
        let lines: (Vec<String>, Vec<String>) = match i % 4 {
            1 => (
                vec![
                    format!("op.add_column({t:?}, sa.Column(\"c{i}\", sa.String(20), nullable=False, server_default=\"x\"))"),
                    format!("op.alter_column({t:?}, \"name\", type_=sa.String(80), existing_type=sa.String(50))"),
                    format!("op.create_foreign_key(\"fk{i}\", {t:?}, \"users\", [\"c{i}\"], [\"id\"])"),
                ],
                vec![
                    format!("op.drop_constraint(\"fk{i}\", {t:?}, type_=\"foreignkey\")"),
                    format!("op.alter_column({t:?}, \"name\", type_=sa.String(50))"),
                    format!("op.drop_column({t:?}, \"c{i}\")"),
                ],
            ),
            2 => (
                vec![
                    format!("op.execute(\"ALTER TABLE {t} ADD COLUMN d{i} uuid DEFAULT gen_random_uuid(); UPDATE {t} SET name = 'x' WHERE id < 10; -- done\")"),
                    format!("op.execute(sa.text(\"DO $$ BEGIN UPDATE {t} SET name = lower(name); END $$\"))"),
                    "with op.get_context().autocommit_block():".to_owned(),
                    format!("    op.create_index(\"ix{i}\", {t:?}, [\"name\"], postgresql_concurrently=True)"),
                ],
                vec![
                    format!("op.drop_index(\"ix{i}\", table_name={t:?})"),
                    format!("op.execute(\"ALTER TABLE {t} DROP COLUMN d{i}\")"),
                ],
            ),
            3 => (
                vec![
                    format!("with op.batch_alter_table({t:?}) as batch_op:"),
                    format!("    batch_op.add_column(sa.Column(\"e{i}\", sa.Integer()))"),
                    format!("    batch_op.create_unique_constraint(\"uq{i}\", [\"e{i}\"])"),
                    format!("op.rename_table(\"old{i}\", \"new{i}\")  # alembic-tui: allow rename-table -- bench"),
                ],
                vec![
                    format!("op.rename_table(\"new{i}\", \"old{i}\")"),
                    format!("with op.batch_alter_table({t:?}) as batch_op:"),
                    format!("    batch_op.drop_constraint(\"uq{i}\")"),
                    format!("    batch_op.drop_column(\"e{i}\")"),
                ],
            ),
            _ => continue,
        };
        rev.upgrade = lines.0;
        rev.downgrade = lines.1;
    }
    revs
}

fn bench(c: &mut Criterion) {
    let n = 2_000usize;
    let dir = tempfile::tempdir().expect("tempdir");
    gen::write_project(dir.path(), &mixed_project(n)).expect("write project");
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
            let args = Args::parse_from([
                "alembic-tui",
                "-c",
                &ini.to_string_lossy(),
                "--json",
                "lint",
            ]);
            let mut out = Vec::with_capacity(1 << 20);
            let _ =
                commands::run(&args, Path::new("."), &mut out, &mut std::io::sink()).expect("run");
            out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
