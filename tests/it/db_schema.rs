//! Schema snapshots and their differences against a real PostgreSQL: every object kind is seen,
//! the same DDL run in another order gives an equal snapshot, and hand-made changes are each
//! reported exactly once.

use crate::common;

use alembic_tui::config::{ResolvedUrl, UrlSource};
use alembic_tui::db::diff::{diff, Change, ObjectKind, SchemaDiff};
use alembic_tui::db::introspect::{self, Options, Snapshot, TypeDef};
use common::pg;

fn run(url: &str, sql: &str) {
    if let Err(e) = pg::psql(url, sql) {
        panic!("{e}\nin:\n{sql}");
    }
}

fn snapshot_with(url: &str, options: &Options) -> Snapshot {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = ResolvedUrl {
            url: url.to_owned(),
            source: UrlSource::Flag,
        };
        let client = alembic_tui::db::connect(&url, Default::default())
            .await
            .unwrap();
        introspect::snapshot(&client, "test", options)
            .await
            .unwrap()
    })
}

fn snapshot(url: &str) -> Snapshot {
    snapshot_with(url, &Options::default())
}

/// One of each kind the snapshot knows, spread over two schemas.
const EVERYTHING: &[&str] = &[
    "CREATE SCHEMA billing",
    "COMMENT ON SCHEMA billing IS 'money'",
    "CREATE EXTENSION citext",
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE DOMAIN billing.amount AS numeric(12,2) NOT NULL DEFAULT 0 \
       CONSTRAINT amount_positive CHECK (VALUE >= 0)",
    "CREATE SEQUENCE billing.invoice_no START 1000 INCREMENT 5 CACHE 3",
    "CREATE TABLE users (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email citext NOT NULL,
        name varchar(40) COLLATE \"C\" DEFAULT 'anon',
        mood mood,
        name_len integer GENERATED ALWAYS AS (length(name)) STORED,
        CONSTRAINT users_email_key UNIQUE (email)
     )",
    "COMMENT ON TABLE users IS 'people'",
    "COMMENT ON COLUMN users.email IS 'login'",
    "CREATE TABLE billing.invoices (
        id serial PRIMARY KEY,
        user_id bigint,
        total billing.amount,
        during tstzrange,
        CONSTRAINT invoices_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
          ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED,
        CONSTRAINT invoices_total_check CHECK (total < 1000000),
        CONSTRAINT invoices_no_overlap EXCLUDE USING gist (during WITH &&)
     )",
    "CREATE INDEX invoices_open ON billing.invoices (user_id) WHERE total > 0",
    "CREATE INDEX invoices_during ON billing.invoices USING gist (during)",
    "CREATE TABLE events (at date NOT NULL, payload text) PARTITION BY RANGE (at)",
    "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    "CREATE INDEX events_at ON events (at)",
    "CREATE UNLOGGED TABLE scratch (x int) WITH (fillfactor = 70)",
    "CREATE VIEW active_users AS SELECT id, email FROM users WHERE mood <> 'sad'",
    "CREATE MATERIALIZED VIEW user_counts AS SELECT mood, count(*) AS n FROM users GROUP BY mood",
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
    "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()",
    "CREATE TYPE billing.money_pair AS (low numeric(12,2), high numeric(12,2))",
    "ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY invoices_positive ON billing.invoices FOR SELECT TO public USING (total > 0)",
];

#[test]
fn every_object_kind_appears_in_a_snapshot() {
    let url = pg::fresh_db("kinds");
    run(&url, &EVERYTHING.join(";\n"));
    let s = snapshot(&url);

    assert_eq!(
        s.schemas.get("billing").and_then(|b| b.comment.as_deref()),
        Some("money")
    );
    assert!(s.schemas.contains_key("public"));
    assert!(s.extensions.contains_key("citext"));
    assert!(s.extensions.contains_key("plpgsql"));
    // citext's own type and functions belong to the extension, not to the schema.
    assert!(!s.types.contains_key("public.citext"));
    assert!(
        !s.functions.keys().any(|k| k.contains("citext")),
        "{:?}",
        s.functions.keys()
    );

    assert_eq!(
        s.types.get("public.mood"),
        Some(&TypeDef::Enum {
            labels: vec!["sad".into(), "ok".into(), "happy".into()],
            comment: None
        })
    );
    match s.types.get("billing.amount") {
        Some(TypeDef::Domain {
            base_type,
            not_null,
            default,
            checks,
            ..
        }) => {
            assert_eq!(base_type, "numeric(12,2)");
            assert!(*not_null);
            assert_eq!(default.as_deref(), Some("0"));
            assert_eq!(
                checks.get("amount_positive").map(String::as_str),
                Some("CHECK ((VALUE >= (0)::numeric))")
            );
        }
        other => panic!("billing.amount: {other:?}"),
    }

    match s.types.get("billing.money_pair") {
        Some(TypeDef::Composite { attributes, .. }) => {
            let names: Vec<(&str, &str)> = attributes
                .iter()
                .map(|a| (a.name.as_str(), a.data_type.as_str()))
                .collect();
            assert_eq!(
                names,
                vec![("low", "numeric(12,2)"), ("high", "numeric(12,2)")]
            );
        }
        other => panic!("billing.money_pair: {other:?}"),
    }
    // Row types of tables are the tables'.
    assert!(!s.types.contains_key("public.users"));

    let seq = &s.sequences["billing.invoice_no"];
    assert_eq!((seq.start, seq.increment, seq.cache), (1000, 5, 3));
    assert_eq!(seq.data_type, "bigint");
    // serial's sequence is kept and owned by its column; the identity column's is not listed.
    assert_eq!(
        s.sequences["billing.invoices_id_seq"].owned_by.as_deref(),
        Some("billing.invoices.id")
    );
    assert!(!s.sequences.contains_key("public.users_id_seq"));

    let users = &s.relations["public.users"];
    assert_eq!(users.comment.as_deref(), Some("people"));
    assert_eq!(users.columns["id"].identity.as_deref(), Some("always"));
    assert_eq!(users.columns["email"].data_type, "public.citext");
    assert_eq!(users.columns["email"].comment.as_deref(), Some("login"));
    assert!(users.columns["email"].not_null);
    let name = &users.columns["name"];
    assert_eq!(name.data_type, "character varying(40)");
    assert_eq!(name.collation.as_deref(), Some("pg_catalog.\"C\""));
    assert_eq!(name.default.as_deref(), Some("'anon'::character varying"));
    assert_eq!(
        users.columns["name_len"].generated.as_deref(),
        Some("length((name)::text)")
    );
    assert_eq!(users.columns["name_len"].default, None);
    assert_eq!(users.columns["mood"].data_type, "public.mood");
    assert_eq!(
        users.constraints["users_pkey"].definition,
        "PRIMARY KEY (id)"
    );
    assert_eq!(
        users.constraints["users_email_key"].definition,
        "UNIQUE (email)"
    );
    // The indexes behind the primary key and the unique constraint are the constraints'.
    assert!(users.indexes.is_empty(), "{:?}", users.indexes);
    assert_eq!(
        users.triggers["users_touch"].definition,
        "CREATE TRIGGER users_touch BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.touch()"
    );

    let invoices = &s.relations["billing.invoices"];
    let fk = &invoices.constraints["invoices_user_fk"];
    assert_eq!(
        fk.definition,
        "FOREIGN KEY (user_id) REFERENCES public.users(id) ON UPDATE SET NULL ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
    );
    assert_eq!(fk.references.as_deref(), Some("public.users"));
    assert_eq!(fk.on_delete.as_deref(), Some("cascade"));
    assert_eq!(fk.on_update.as_deref(), Some("set null"));
    assert!(fk.deferrable && fk.initially_deferred);
    assert_eq!(
        invoices.constraints["invoices_total_check"].definition,
        "CHECK (((total)::numeric < (1000000)::numeric))"
    );
    assert_eq!(
        invoices.constraints["invoices_no_overlap"].definition,
        "EXCLUDE USING gist (during WITH &&)"
    );
    assert_eq!(invoices.columns["total"].data_type, "billing.amount");
    assert_eq!(
        invoices.columns["id"].default.as_deref(),
        Some("nextval('billing.invoices_id_seq'::regclass)")
    );
    assert!(invoices.row_security);
    let policy = &invoices.policies["invoices_positive"];
    assert_eq!(
        (
            policy.command.as_str(),
            policy.permissive,
            policy.roles.clone()
        ),
        ("SELECT", true, vec!["public".to_owned()])
    );
    assert_eq!(
        policy.using.as_deref(),
        Some("((total)::numeric > (0)::numeric)")
    );
    let open = &invoices.indexes["invoices_open"];
    assert!(open.partial && !open.unique);
    assert_eq!(open.method, "btree");
    assert_eq!(
        open.definition,
        "CREATE INDEX invoices_open ON billing.invoices USING btree (user_id) WHERE ((total)::numeric > (0)::numeric)"
    );
    assert_eq!(invoices.indexes["invoices_during"].method, "gist");
    assert_eq!(invoices.indexes.len(), 2, "{:?}", invoices.indexes.keys());

    let events = &s.relations["public.events"];
    assert_eq!(events.partition_key.as_deref(), Some("RANGE (at)"));
    assert!(events.indexes.contains_key("events_at"));
    let part = &s.relations["public.events_2026"];
    assert_eq!(part.partition_of.as_deref(), Some("public.events"));
    assert_eq!(
        part.partition_bound.as_deref(),
        Some("FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    );
    // The partition's copy of events_at, and its columns, follow from the parent.
    assert!(part.indexes.is_empty(), "{:?}", part.indexes);
    assert!(part.columns.is_empty());

    let scratch = &s.relations["public.scratch"];
    assert!(scratch.unlogged);
    assert_eq!(scratch.options, vec!["fillfactor=70".to_owned()]);

    let view = &s.relations["public.active_users"];
    assert_eq!(view.kind, introspect::RelationKind::View);
    let def = view.definition.as_deref().unwrap_or_default();
    assert!(def.contains("FROM public.users"), "{def}");
    assert_eq!(
        s.relations["public.user_counts"].kind,
        introspect::RelationKind::MaterializedView
    );
    let touch = &s.functions["public.touch()"];
    assert!(
        touch
            .definition
            .starts_with("CREATE OR REPLACE FUNCTION public.touch()"),
        "{}",
        touch.definition
    );

    // Serialisable both ways, and equal to itself when read again.
    let json = serde_json::to_string(&s).unwrap();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert_eq!(snapshot(&url), s);
}

#[test]
fn the_same_ddl_in_another_order_compares_equal() {
    let forward = pg::fresh_db("order_a");
    run(&forward, &EVERYTHING.join(";\n"));
    // Another order of the same objects, with columns and constraints added by ALTER, a column
    // that came and went (a gap in the attribute numbers), and indexes created before constraints.
    let other = pg::fresh_db("order_b");
    run(
        &other,
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
         CREATE EXTENSION citext;
         CREATE UNLOGGED TABLE scratch (x int) WITH (fillfactor = 70);
         CREATE SCHEMA billing;
         CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE TABLE users (dropped int, mood mood);
         ALTER TABLE users DROP COLUMN dropped;
         ALTER TABLE users ADD COLUMN name varchar(40) COLLATE \"C\" DEFAULT 'anon';
         ALTER TABLE users ADD COLUMN email citext NOT NULL;
         ALTER TABLE users ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
         ALTER TABLE users ADD COLUMN name_len integer GENERATED ALWAYS AS (length(name)) STORED;
         ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
         ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
         CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
         COMMENT ON COLUMN users.email IS 'login';
         COMMENT ON TABLE users IS 'people';
         CREATE TABLE events (at date NOT NULL, payload text) PARTITION BY RANGE (at);
         CREATE INDEX events_at ON events (at);
         CREATE TABLE events_2026 PARTITION OF events
           FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         CREATE DOMAIN billing.amount AS numeric(12,2) NOT NULL DEFAULT 0
           CONSTRAINT amount_positive CHECK (VALUE >= 0);
         CREATE TABLE billing.invoices (during tstzrange, total billing.amount, user_id bigint,
           id serial);
         CREATE INDEX invoices_during ON billing.invoices USING gist (during);
         CREATE INDEX invoices_open ON billing.invoices (user_id) WHERE total > 0;
         ALTER TABLE billing.invoices ADD CONSTRAINT invoices_no_overlap
           EXCLUDE USING gist (during WITH &&);
         ALTER TABLE billing.invoices ADD CONSTRAINT invoices_total_check CHECK (total < 1000000);
         ALTER TABLE billing.invoices ADD CONSTRAINT invoices_user_fk FOREIGN KEY (user_id)
           REFERENCES users (id) ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED;
         ALTER TABLE billing.invoices ADD PRIMARY KEY (id);
         CREATE SEQUENCE billing.invoice_no START 1000 INCREMENT 5 CACHE 3;
         CREATE MATERIALIZED VIEW user_counts AS
           SELECT mood, count(*) AS n FROM users GROUP BY mood;
         CREATE VIEW active_users AS SELECT id, email FROM users WHERE mood <> 'sad';
         COMMENT ON SCHEMA billing IS 'money';
         CREATE POLICY invoices_positive ON billing.invoices FOR SELECT USING (total > 0);
         ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;
         CREATE TYPE billing.money_pair AS (low numeric(12,2), high numeric(12,2));",
    );
    let (a, b) = (snapshot(&forward), snapshot(&other));
    let d = diff(&a, &b);
    assert!(d.is_empty(), "{d}");
    assert_eq!(a, b);
}

/// The differences as (kind, object, change name), for exact comparison.
fn summary(d: &SchemaDiff) -> Vec<(ObjectKind, String, &'static str)> {
    d.differences
        .iter()
        .map(|x| {
            let change = match x.change {
                Change::Missing { .. } => "missing",
                Change::Extra { .. } => "extra",
                Change::Changed { .. } => "changed",
            };
            (x.kind, x.object(), change)
        })
        .collect()
}

#[test]
fn hand_made_changes_are_each_reported_once() {
    let url = pg::fresh_db("altered");
    let base = "CREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL, \
                  plan text DEFAULT 'free', nickname text);
                CREATE TABLE orders (id serial PRIMARY KEY, account_id int NOT NULL,
                  CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id),
                  CONSTRAINT orders_positive CHECK (id > 0))";
    run(&url, base);
    let before = snapshot(&url);
    run(
        &url,
        "ALTER TABLE accounts DROP COLUMN nickname;
         CREATE INDEX accounts_email ON accounts (email);
         ALTER TABLE accounts ALTER COLUMN plan SET DEFAULT 'trial';
         ALTER TABLE orders DROP CONSTRAINT orders_account_fk",
    );
    let after = snapshot(&url);
    let d = diff(&before, &after);
    assert_eq!(
        summary(&d),
        vec![
            (
                ObjectKind::Column,
                "public.accounts.nickname".to_owned(),
                "missing"
            ),
            (
                ObjectKind::Column,
                "public.accounts.plan".to_owned(),
                "changed"
            ),
            (
                ObjectKind::Index,
                "public.accounts.accounts_email".to_owned(),
                "extra"
            ),
            (
                ObjectKind::Constraint,
                "public.orders.orders_account_fk".to_owned(),
                "missing"
            ),
        ],
        "{d}"
    );
    match &d.differences[1].change {
        Change::Changed {
            fields,
            expected,
            actual,
        } => {
            assert_eq!(fields, &vec!["default".to_owned()]);
            assert_eq!(expected, "text DEFAULT 'free'::text");
            assert_eq!(actual, "text DEFAULT 'trial'::text");
        }
        other => panic!("{other:?}"),
    }
    let text = d.to_string();
    assert!(text.contains("public.accounts\n"), "{text}");
    assert!(text.contains("public.orders\n"), "{text}");
    assert!(text.ends_with("4 differences\n"), "{text}");
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(4));
    assert_eq!(json[3]["kind"], "constraint");
    assert_eq!(json[3]["change"], "missing");
    assert!(json[3]["expected"]
        .as_str()
        .unwrap()
        .starts_with("FOREIGN KEY (account_id) REFERENCES public.accounts(id)"));
}

#[test]
fn the_version_table_can_be_left_out() {
    let url = pg::fresh_db("version");
    run(
        &url,
        "CREATE SCHEMA meta;
         CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
         CREATE TABLE meta.custom_version (version_num varchar(32) PRIMARY KEY);
         CREATE TABLE keep (id int)",
    );
    let all = snapshot(&url);
    assert!(all.relations.contains_key("public.alembic_version"));
    let default = snapshot_with(
        &url,
        &Options::without_version_table("alembic_version", None),
    );
    assert!(!default.relations.contains_key("public.alembic_version"));
    assert!(default.relations.contains_key("meta.custom_version"));
    assert!(default.relations.contains_key("public.keep"));
    let custom = snapshot_with(
        &url,
        &Options::without_version_table("custom_version", Some("meta")),
    );
    assert!(custom.relations.contains_key("public.alembic_version"));
    assert!(!custom.relations.contains_key("meta.custom_version"));
}
