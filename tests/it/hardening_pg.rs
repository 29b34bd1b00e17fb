//! Issue 13 against a real PostgreSQL and real alembic: a password holding `/`, `@` and `%2F`
//! never reaches stdout, stderr, the journal, the log or the render cache (reachable and
//! unreachable servers); those files are owner-only; mixed-case and reserved-word version tables
//! migrate up and down; a version-table schema made by a DBA does not break drift and verify.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common;
use crate::common::pg::{fresh_db, psql};

const ENV_PY: &str = r#"import os

from alembic import context
from sqlalchemy import engine_from_config, pool


def url():
    u = os.environ["DATABASE_URL"]
    if u.startswith("postgresql://"):
        u = "postgresql+psycopg://" + u[len("postgresql://"):]
    return u


opts = dict(
    version_table=os.environ.get("VT") or "alembic_version",
    version_table_schema=os.environ.get("VTS") or None,
)
if context.is_offline_mode():
    context.configure(url=url(), literal_binds=True, dialect_opts={"paramstyle": "named"}, **opts)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config({"sqlalchemy.url": url()}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, **opts)
        with context.begin_transaction():
            context.run_migrations()
"#;

fn revision(id: &str, down: &str, table: &str) -> String {
    format!(
        "\"\"\"create {table}\"\"\"\nfrom alembic import op\n\nrevision = '{id}'\ndown_revision = {down}\n\n\n\
         def upgrade():\n    op.execute('CREATE TABLE {table} (id int)')\n\n\n\
         def downgrade():\n    op.execute('DROP TABLE {table}')\n"
    )
}

/// A two-revision project whose env.py takes the version table from `$VT` / `$VTS`, with a
/// profile `test` (extra keys in `profile`) running the venv's alembic; its own data, state
/// and config dirs under `.home`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(profile: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("alembic.ini"),
            "[alembic]\nscript_location = %(here)s/migrations\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("migrations/versions")).unwrap();
        std::fs::write(root.join("migrations/env.py"), ENV_PY).unwrap();
        std::fs::write(
            root.join("migrations/versions/a1_t1.py"),
            revision("a1", "None", "t1"),
        )
        .unwrap();
        std::fs::write(
            root.join("migrations/versions/b2_t2.py"),
            revision("b2", "'a1'", "t2"),
        )
        .unwrap();
        std::fs::write(
            root.join("alembic-tui.yaml"),
            format!(
                "default_profile: test\nprofiles:\n  test:\n    alembic: \"{} -m alembic\"\n{profile}",
                common::python().display()
            ),
        )
        .unwrap();
        Project { dir }
    }

    fn ini(&self) -> PathBuf {
        self.dir.path().join("alembic.ini")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join(".home")
    }

    fn run(&self, url: &str, args: &[&str]) -> Output {
        let home = self.home();
        common::bin()
            .arg("-c")
            .arg(self.ini())
            .args(["--url", url])
            .args(args)
            .env_remove("DATABASE_URL")
            .env("ALEMBIC_TUI_DATA_DIR", home.join("data"))
            .env("ALEMBIC_TUI_STATE_DIR", home.join("state"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .output()
            .unwrap()
    }
}

/// Runs and returns (exit code, stdout + stderr).
fn run(project: &Project, url: &str, args: &[&str]) -> (i32, String) {
    let out = project.run(url, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The password in every spelling that would betray it.
const PASSWORD_PIECES: &[&str] = &["Pa/ss", "w%2Frd", "w%252Frd", "w/rd", "ss%40w", "ss@w"];

fn assert_no_password(what: &str, text: &str) {
    for piece in PASSWORD_PIECES {
        assert!(!text.contains(piece), "{what} shows {piece:?}:\n{text}");
    }
}

/// Every file under `dir`, with its text.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((
                path.clone(),
                String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned(),
            ));
        }
    }
    out
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The cluster's URL for `db` with `password` in the userinfo (the tests' server trusts local
/// connections, so any password connects).
fn with_password(url: &str, password: &str) -> String {
    url.replacen(
        "postgresql://postgres@",
        &format!("postgresql://postgres:{password}@"),
        1,
    )
}

#[test]
fn a_password_with_slash_at_and_escapes_reaches_no_output_channel() {
    let project = Project::new("");
    let db = fresh_db("secrets");
    // Reachable: `@` escaped so the driver reads the whole password; `/` raw; `%252F` is a
    // literal `%2F` in the password itself.
    let reachable = with_password(&db, "Pa/ss%40w%252Frd");
    // A second password= option, the form libpq reads after the URL's own.
    let repeated = format!("{db}&password=first&password=Pa/ss%40w%252Frd");
    // Unreachable, written as a person would: raw `/`, raw `@`, `%2F`.
    let unreachable = "postgresql://app:Pa/ss@w%2Frd@127.0.0.1:1/app";
    let conninfo = "host=127.0.0.1 port=1 password='Pa/ss@w%2Frd' dbname=app";

    for url in [&reachable, &repeated] {
        let (code, text) = run(&project, url, &["current"]);
        assert_eq!(code, 0, "{text}");
        assert_no_password("current", &text);
    }
    let (code, text) = run(&project, &reachable, &["upgrade", "heads", "--yes"]);
    assert_eq!(code, 0, "{text}");
    assert_no_password("upgrade", &text);
    let (code, text) = run(
        &project,
        &repeated,
        &["--json", "downgrade", "base", "--yes"],
    );
    assert_eq!(code, 0, "{text}");
    assert_no_password("downgrade --json", &text);
    // A query error (not a connection error) names the target too.
    psql(
        &db,
        "DO $$ BEGIN CREATE ROLE nosy LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    .unwrap();
    let nosy = with_password(&db, "Pa/ss%40w%252Frd").replacen("postgres:", "nosy:", 1);
    let (code, text) = run(&project, &nosy, &["current"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("permission denied"), "{text}");
    assert_no_password("a refused query", &text);
    for args in [
        &["current"][..],
        &["status"],
        &["--json", "status"],
        &["upgrade", "heads", "--yes"],
        &["drift"],
    ] {
        for url in [unreachable, conninfo] {
            let (code, text) = run(&project, url, args);
            assert_eq!(code, 2, "{args:?} {url}: {text}");
            assert_no_password(&format!("{args:?}"), &text);
        }
    }

    // The console against the unreachable server logs its connection failures.
    let tmux = Tmux::start(&format!(
        "ALEMBIC_TUI_STATE_DIR={state} ALEMBIC_TUI_DATA_DIR={data} XDG_CONFIG_HOME={config} {bin} -c {ini} --url '{unreachable}'",
        state = project.home().join("state").display(),
        data = project.home().join("data").display(),
        config = project.home().join("config").display(),
        bin = env!("CARGO_BIN_EXE_alembic-tui"),
        ini = project.ini().display(),
    ));
    let log = project.home().join("state/alembic-tui.log");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("database")) {
        assert!(
            Instant::now() < deadline,
            "the console logged no database error; screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_no_password("the console's screen", &tmux.screen());
    drop(tmux);

    let files = files_under(&project.home());
    let names: Vec<String> = files
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "journal.jsonl"), "{names:?}");
    assert!(names.iter().any(|n| n == "alembic-tui.log"), "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with(".json")),
        "no render cache: {names:?}"
    );
    for (path, text) in &files {
        assert_no_password(&path.display().to_string(), text);
        #[cfg(unix)]
        {
            assert_eq!(mode(path), 0o600, "{}", path.display());
            assert_eq!(mode(path.parent().unwrap()), 0o700, "{}", path.display());
        }
    }
}

/// A tmux server of our own running one command, killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("alembic-tui-secrets-{}", std::process::id()),
        };
        let status = tmux
            .cmd()
            .args(["new-session", "-d", "-s", "s", "-x", "120", "-y", "40"])
            .arg(command)
            .status()
            .expect("run tmux (is it installed?)");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "s"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// `SELECT version_num FROM <table>` on `url`.
fn rows(url: &str, table: &str) -> Vec<Option<String>> {
    psql(url, &format!("SELECT version_num FROM {table} ORDER BY 1")).unwrap()
}

#[test]
fn mixed_case_and_reserved_version_tables_migrate_up_and_down() {
    for (table, quoted) in [
        ("AlembicVersion", "\"AlembicVersion\""),
        ("order", "\"order\""),
    ] {
        let project = Project::new(&format!(
            "    version_table: {table}\n    alembic_env:\n      VT: {table}\n"
        ));
        let db = fresh_db("vt_names");
        let (code, text) = run(&project, &db, &["upgrade", "heads", "--yes"]);
        assert_eq!(code, 0, "{table}: {text}");
        assert_eq!(rows(&db, quoted), [Some("b2".to_owned())], "{table}");
        let (code, text) = run(&project, &db, &["--json", "current"]);
        assert_eq!(code, 0, "{table}: {text}");
        assert!(text.contains("\"b2\""), "{table}: {text}");
        let (code, text) = run(&project, &db, &["downgrade", "a1", "--yes"]);
        assert_eq!(code, 0, "{table}: {text}");
        assert_eq!(rows(&db, quoted), [Some("a1".to_owned())], "{table}");
        let (code, text) = run(&project, &db, &["downgrade", "base", "--yes"]);
        assert_eq!(code, 0, "{table}: {text}");
        assert!(rows(&db, quoted).is_empty(), "{table}");
        // The same table is what alembic itself keeps: it agrees on where the database is.
        let (code, text) = run(&project, &db, &["upgrade", "heads", "--yes"]);
        assert_eq!(code, 0, "{table}: {text}");
        let mut alembic = common::alembic_cmd(project.dir.path());
        let out = alembic
            .args(["current"])
            .env("DATABASE_URL", &db)
            .env("VT", table)
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("b2 (head)"),
            "{table}: alembic current: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_version_table_schema_made_by_the_dba_reaches_the_shadow_database() {
    let project = Project::new("    version_table_schema: Ops\n    alembic_env:\n      VTS: Ops\n");
    let db = fresh_db("vt_schema");
    psql(&db, "CREATE SCHEMA \"Ops\"").unwrap();
    let (code, text) = run(&project, &db, &["upgrade", "heads", "--yes"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        rows(&db, "\"Ops\".alembic_version"),
        [Some("b2".to_owned())]
    );
    let (code, text) = run(&project, &db, &["--json", "drift"]);
    assert_eq!(code, 0, "drift: {text}");
    let (code, text) = run(&project, &db, &["--json", "verify"]);
    assert_eq!(code, 0, "verify: {text}");
}
