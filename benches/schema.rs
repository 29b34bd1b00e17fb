//! Schema snapshot of a database with 1,000 tables (5,000 columns, 2,000 indexes, 1,000 foreign
//! keys and checks) against `pg_dump --schema-only` of the same database in the same run, plus
//! the shapes the catalog batch could take. Needs PostgreSQL server binaries (as the tests do):
//! `cargo bench --bench schema`.

#[path = "../tests/it/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::process::Command;

use alembic_tui::config::{ResolvedUrl, UrlSource};
use alembic_tui::db::introspect::{self, BatchForm, Options};
use criterion::{criterion_group, criterion_main, Criterion};

const TABLES: usize = 1_000;

/// Each table: a bigserial primary key, four more columns (5 in all), a foreign key to the
/// previous table, a check, and one index besides the primary key's (2 per table).
fn ddl() -> String {
    let mut sql = String::new();
    for i in 0..TABLES {
        let parent = if i == 0 {
            String::new()
        } else {
            format!(" REFERENCES t{:04} (id) ON DELETE CASCADE", i - 1)
        };
        sql.push_str(&format!(
            "CREATE TABLE t{i:04} (id bigserial PRIMARY KEY, name varchar(80) NOT NULL, \
             created_at timestamptz NOT NULL DEFAULT now(), parent_id bigint{parent}, \
             amount numeric(10,2) CHECK (amount >= 0));\n\
             CREATE INDEX t{i:04}_parent ON t{i:04} (parent_id);\n"
        ));
    }
    sql
}

/// pg_dump of the server's version when the server's directory has one, else the one on PATH.
fn pg_dump() -> String {
    std::env::var_os("ALEMBIC_TUI_PG_BINDIR")
        .map(|dir| std::path::Path::new(&dir).join("pg_dump"))
        .filter(|path| path.exists())
        .map_or_else(
            || "pg_dump".to_owned(),
            |p| p.to_string_lossy().into_owned(),
        )
}

fn bench(c: &mut Criterion) {
    let url = pg::fresh_db("bench_schema");
    pg::psql(&url, &ddl()).expect("create 1,000 tables");
    let resolved = ResolvedUrl {
        url: url.clone(),
        source: UrlSource::Flag,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // The sizes the issue asks for, checked once so the numbers mean what they say.
    let snap = runtime.block_on(async {
        let client = alembic_tui::db::connect(&resolved, Default::default())
            .await
            .expect("connect");
        introspect::snapshot(&client, "bench", &Options::default())
            .await
            .expect("snapshot")
    });
    let columns: usize = snap.relations.values().map(|r| r.columns.len()).sum();
    let indexes = snap
        .relations
        .values()
        .map(|r| {
            r.indexes.len()
                + r.constraints
                    .values()
                    .filter(|k| k.kind == introspect::ConstraintKind::PrimaryKey)
                    .count()
        })
        .sum::<usize>();
    assert_eq!(
        (snap.relations.len(), columns, indexes),
        (TABLES, 5 * TABLES, 2 * TABLES)
    );

    let mut group = c.benchmark_group("schema of 1,000 tables");
    group.sample_size(10);
    group.bench_function("snapshot (connect + read + parse)", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let client = alembic_tui::db::connect(&resolved, Default::default())
                    .await
                    .expect("connect");
                introspect::snapshot(&client, "bench", &Options::default())
                    .await
                    .expect("snapshot")
                    .relations
                    .len()
            })
        })
    });
    // The same on a new connection without parsing: what a cold backend's catalog caches cost.
    let per_kind = introspect::catalog_batch(BatchForm::PerKindJson);
    group.bench_function("connect + batch, unparsed", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let client = alembic_tui::db::connect(&resolved, Default::default())
                    .await
                    .expect("connect");
                client.simple_query(&per_kind).await.expect("batch").len()
            })
        })
    });
    group.bench_function("connect only", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let client = alembic_tui::db::connect(&resolved, Default::default())
                    .await
                    .expect("connect");
                client.simple_query("SELECT 1").await.expect("select").len()
            })
        })
    });
    let dump = pg_dump();
    group.bench_function("pg_dump --schema-only", |b| {
        b.iter(|| {
            let out = Command::new(&dump)
                .args(["--schema-only", "--no-owner", "-d", &url])
                .output()
                .expect("run pg_dump");
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout.len()
        })
    });
    // The batch alone on one open connection, in each shape it could take (server time and
    // transfer; the row form is not even parsed, so it is a lower bound for that design).
    let client = runtime
        .block_on(alembic_tui::db::connect(&resolved, Default::default()))
        .expect("connect");
    for (name, form) in [
        ("batch: one JSON array per kind", BatchForm::PerKindJson),
        ("batch: plain rows per kind", BatchForm::PerKindRows),
        ("batch: one JSON object", BatchForm::OneJson),
    ] {
        let sql = introspect::catalog_batch(form);
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime
                    .block_on(client.simple_query(&sql))
                    .expect("batch")
                    .len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
