//! The console's schema checks (issue 7): `x` runs a drift check and `v` verifies the selected
//! revision, in the background on a shadow database; the answers show as a report window
//! grouped by table, and verify's verdict as a badge and a detail line. The reports here come
//! from real runs of `verify::drift` / `verify::verify` against PostgreSQL with real alembic,
//! fed to the app as its worker would.

use crate::common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

use alembic_tui::cli::Args;
use alembic_tui::config::{ProfileFile, ResolvedUrl, Settings, UrlSource};
use alembic_tui::db::diff::{Change, Difference, ObjectKind, SchemaDiff};
use alembic_tui::engine::checks::{RevisionCheck, VerifyReport};
use alembic_tui::engine::exec::Cancel;
use alembic_tui::tui::action::Action;
use alembic_tui::tui::app::{App, Effect, Overlay, Target};
use alembic_tui::tui::checks::Verdict;
use alembic_tui::tui::event::{DbReport, WorkerEvent};
use alembic_tui::tui::theme::Theme;
use alembic_tui::tui::views;
use alembic_tui::workspace::Workspace;

use common::pg;

/// The demo's index on orders.customer_id: its downgrade drops the index.
const INDEX_REV: &str = "3c8e5a71b9d4";

fn workspace(ini: &Path) -> Arc<Workspace> {
    let args = Args::parse_from(["alembic-tui", "-c", ini.to_str().unwrap()]);
    let mut warnings = Vec::new();
    Arc::new(
        alembic_tui::cli::commands::load_workspace(&args, ini.parent().unwrap(), &mut warnings)
            .unwrap(),
    )
}

fn settings() -> Settings {
    let profile = ProfileFile {
        alembic: Some(format!("'{}' -m alembic", common::python().display())),
        ..ProfileFile::default()
    };
    Settings::from_profile(Some("demo"), &profile, "test").unwrap()
}

fn app(ws: Arc<Workspace>) -> App {
    let target = Target {
        profile: Some("demo".to_owned()),
        label: "localhost:5432/demo".to_owned(),
        database: Some("demo".to_owned()),
        lock_timeout: Duration::from_secs(5),
        ..Target::default()
    };
    App::new(ws, target, Rect::new(0, 0, 120, 40))
}

fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|frame| views::draw(frame, app, &Theme::dark()))
        .unwrap();
    terminal.backend().to_string()
}

fn key(app: &mut App, c: char) -> Vec<Effect> {
    let event = ratatui::crossterm::event::Event::Key(ratatui::crossterm::event::KeyEvent::from(
        ratatui::crossterm::event::KeyCode::Char(c),
    ));
    let action = alembic_tui::tui::keymap::map(app, &event).unwrap();
    app.update(action)
}

#[test]
fn x_runs_a_drift_check_whose_report_lists_each_difference_by_table() {
    let (dir, ini) = common::demo_copy();
    let url = pg::fresh_db("tui_drift");
    common::alembic_online(dir.path(), &url, &["upgrade", "heads"]);
    // By hand, after migrating: an extra index and a changed default.
    pg::psql(
        &url,
        "CREATE INDEX ix_orders_total ON orders (total_cents); \
         ALTER TABLE products ALTER COLUMN price_cents SET DEFAULT 0",
    )
    .unwrap();
    let ws = workspace(&ini);
    let mut app = app(ws.clone());
    let rows = pg::psql(&url, "SELECT version_num FROM alembic_version ORDER BY 1")
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    app.update(Action::Worker(WorkerEvent::Db(DbReport::Rows(rows))));

    let effects = key(&mut app, 'x');
    assert!(
        matches!(effects.as_slice(), [Effect::Drift { .. }]),
        "{effects:?}"
    );
    assert!(app.check.is_some());
    app.update(Action::Worker(WorkerEvent::CheckProgress(
        "replaying 12 step(s) on the shadow database".to_owned(),
    )));
    assert!(screen(&app).contains("drift check · replaying 12 step(s)"));
    // A second check waits for the first; so does stepping.
    assert!(key(&mut app, 'v').is_empty());
    assert!(key(&mut app, 'u').is_empty());

    let resolved = ResolvedUrl {
        url: url.clone(),
        source: UrlSource::Flag,
    };
    let report = alembic_tui::engine::checks::drift(
        &ws,
        &settings(),
        &resolved,
        &Cancel::new(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(report.differences.len(), 2, "{:#?}", report.differences);
    app.update(Action::Worker(WorkerEvent::DriftChecked(Ok(report))));
    assert!(app.check.is_none());
    assert!(matches!(app.overlay, Some(Overlay::Report { .. })));
    insta::assert_snapshot!("drift_report", screen(&app));
}

#[test]
fn v_verifies_the_selected_revision_and_marks_it() {
    let (dir, ini) = common::demo_copy();
    let url = pg::fresh_db("tui_verify");
    common::alembic_online(dir.path(), &url, &["upgrade", "heads"]);
    let ws = workspace(&ini);
    let mut app = app(ws.clone());
    while app.model.rows[app.selected].id != INDEX_REV {
        app.update(Action::Move(1));
    }
    let effects = key(&mut app, 'v');
    let [Effect::Verify { revision, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(revision, INDEX_REV);
    let resolved = ResolvedUrl {
        url: url.clone(),
        source: UrlSource::Flag,
    };
    let report = alembic_tui::engine::checks::verify(
        &ws,
        &settings(),
        &resolved,
        Some(INDEX_REV),
        &Cancel::new(),
        &mut |_| {},
    )
    .unwrap();
    app.update(Action::Worker(WorkerEvent::Verified {
        revision: INDEX_REV.to_owned(),
        result: Ok(report),
    }));
    assert_eq!(app.verified.get(INDEX_REV), Some(&Verdict::Clean));
    let shown = screen(&app);
    assert!(shown.contains("✓ downgrade undoes upgrade"), "{shown}");
    app.update(Action::Close);
    let shown = screen(&app);
    assert!(
        shown.contains(&format!("{} ✓", &INDEX_REV[..12])),
        "{shown}"
    );
    assert!(
        shown.contains("verify    ✓ downgrade undoes upgrade, upgrade repeats"),
        "{shown}"
    );
}

#[test]
fn a_downgrade_that_forgets_an_index_is_marked_and_named() {
    let (_dir, ini) = common::demo_copy();
    let mut app = app(workspace(&ini));
    while app.model.rows[app.selected].id != INDEX_REV {
        app.update(Action::Move(1));
    }
    key(&mut app, 'v');
    // What verify reports for a downgrade without its drop_index (the detection itself is
    // tested against PostgreSQL in cli_verify.rs).
    let index = Difference {
        kind: ObjectKind::Index,
        relation: Some("public.orders".to_owned()),
        name: "ix_orders_customer_id".to_owned(),
        change: Change::Extra {
            actual: "CREATE INDEX ix_orders_customer_id ON public.orders USING btree (customer_id)"
                .to_owned(),
        },
    };
    let report = VerifyReport {
        shadow: "alembic_tui_shadow_test".to_owned(),
        revisions: vec![RevisionCheck {
            revision: INDEX_REV.to_owned(),
            not_undone: SchemaDiff {
                differences: vec![index],
            },
            not_repeatable: SchemaDiff::default(),
            error: None,
        }],
        not_verified: Vec::new(),
        excluded: 0,
    };
    app.update(Action::Worker(WorkerEvent::Verified {
        revision: INDEX_REV.to_owned(),
        result: Ok(report),
    }));
    assert!(matches!(
        app.verified.get(INDEX_REV),
        Some(Verdict::Problems(_))
    ));
    insta::assert_snapshot!("verify_not_undone", screen(&app));
    app.update(Action::Close);
    let shown = screen(&app);
    assert!(
        shown.contains(&format!("{} ✗", &INDEX_REV[..12])),
        "{shown}"
    );
    assert!(
        shown.contains("✗ round trip leaves 1 difference"),
        "{shown}"
    );
}

#[test]
fn the_verify_window_shows_what_was_not_undone_before_the_error_and_can_be_copied_and_saved() {
    let (_dir, ini) = common::demo_copy();
    let mut app = app(workspace(&ini));
    key(&mut app, 'v');
    let index = Difference {
        kind: ObjectKind::Index,
        relation: Some("public.orders".to_owned()),
        name: "ix_orders_customer_id".to_owned(),
        change: Change::Extra {
            actual: "CREATE INDEX ix_orders_customer_id ON public.orders USING btree (customer_id)"
                .to_owned(),
        },
    };
    let report = VerifyReport {
        shadow: "alembic_tui_shadow_test".to_owned(),
        revisions: vec![RevisionCheck {
            revision: INDEX_REV.to_owned(),
            not_undone: SchemaDiff {
                differences: vec![index],
            },
            not_repeatable: SchemaDiff::default(),
            error: Some("upgrading again failed: relation already exists".to_owned()),
        }],
        not_verified: Vec::new(),
        excluded: 0,
    };
    app.update(Action::Worker(WorkerEvent::Verified {
        revision: INDEX_REV.to_owned(),
        result: Ok(report),
    }));
    let Some(Overlay::Report { report, .. }) = &app.overlay else {
        panic!("no report window");
    };
    let text = report.text();
    let difference = text
        .find("ix_orders_customer_id")
        .expect("the difference is shown");
    let error = text
        .find("relation already exists")
        .expect("the error is shown");
    assert!(difference < error, "{text}");
    // Y copies the report's text; w saves it as text and as the JSON `verify --json` prints.
    let effects = app.update(Action::Copy);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Copy(t) if t.contains("ix_orders_customer_id"))),
        "{effects:?}"
    );
    let effects = app.update(Action::SaveReport);
    let files = effects
        .iter()
        .find_map(|e| match e {
            Effect::Save(files) => Some(files.clone()),
            _ => None,
        })
        .expect("a save");
    assert_eq!(files.len(), 2);
    assert!(files[0].0.to_string_lossy().ends_with(".txt"));
    let json: serde_json::Value = serde_json::from_str(&files[1].1).unwrap();
    assert_eq!(json["revisions"][0]["revision"], INDEX_REV);
}

#[test]
fn a_check_that_cannot_run_says_why_and_frees_the_console() {
    let (_dir, ini) = common::demo_copy();
    let mut app = app(workspace(&ini));
    key(&mut app, 'x');
    app.update(Action::Worker(WorkerEvent::DriftChecked(Err(
        "cannot connect to postgresql://demo@localhost/demo: connection refused".to_owned(),
    ))));
    assert!(app.check.is_none());
    let shown = screen(&app);
    assert!(shown.contains("drift check failed"), "{shown}");
    assert!(shown.contains("connection refused"), "{shown}");
    // Free again: a new check starts.
    app.update(Action::Close);
    assert!(matches!(
        key(&mut app, 'x').as_slice(),
        [Effect::Drift { .. }]
    ));
}

#[test]
fn a_revision_edited_after_it_was_applied_is_flagged_in_the_console() {
    let (dir, ini) = common::demo_copy();
    let url = pg::fresh_db("tui_edited");
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("alembic-tui.yaml"),
        format!(
            "default_profile: demo\nprofiles:\n  demo:\n    alembic: \"'{}' -m alembic\"\n",
            common::python().display()
        ),
    )
    .unwrap();
    let first = "1a0c3e5f7b21";
    let out = common::bin()
        .arg("-c")
        .arg(&ini)
        .args(["--url", &url, "upgrade", first, "--yes"])
        .env_remove("DATABASE_URL")
        .env("ALEMBIC_TUI_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let journal = alembic_tui::engine::journal::Journal::at(data.path().join("journal.jsonl"));
    let resolved = ResolvedUrl {
        url: url.clone(),
        source: UrlSource::Flag,
    };
    let lint = alembic_tui::analysis::LintOptions::default();
    let edited_rule = |findings: &[Vec<alembic_tui::analysis::Finding>]| -> Vec<String> {
        findings
            .iter()
            .flatten()
            .filter(|f| f.rule.id() == "edited-after-apply")
            .map(|f| f.revision.clone())
            .collect()
    };
    // Untouched: nothing to say.
    let ws = workspace(&ini);
    let findings = alembic_tui::tui::console_findings(&ws, &lint, Some((&journal, &resolved)));
    assert!(edited_rule(&findings).is_empty());

    // Someone edits the applied revision in place.
    let path = ws
        .project
        .revisions
        .iter()
        .find(|r| r.id == first)
        .unwrap()
        .path
        .clone();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n# tweaked after it ran\n");
    std::fs::write(&path, text).unwrap();
    let ws = workspace(&ini);
    let findings = alembic_tui::tui::console_findings(&ws, &lint, Some((&journal, &resolved)));
    assert_eq!(edited_rule(&findings), [first]);

    let mut app = app(ws.clone());
    app.update(Action::Worker(WorkerEvent::Findings {
        ws: alembic_tui::tui::event::Loaded(ws),
        findings,
    }));
    while app.model.rows[app.selected].id != first {
        app.update(Action::Move(1));
    }
    let shown = screen(&app);
    assert!(shown.contains("edited-after-apply"), "{shown}");
}

/// ratatui drops zero-width graphemes (control characters among them) when it writes text into
/// the frame; this holds the console to that, whatever draws the text.
#[test]
fn escape_sequences_in_a_docstring_never_reach_the_terminal() {
    let (dir, ini) = common::demo_copy();
    let file = dir
        .path()
        .join("migrations/versions/2026_01_12_2b7d4f60a8c3_orders.py");
    let text = std::fs::read_to_string(&file).unwrap();
    // A window-title change and a screen clear in the message line.
    let text = text.replacen("\"\"\"", "\"\"\"\x1b]0;pwned\x07\x1b[2J", 1);
    std::fs::write(&file, text).unwrap();
    let app = app(workspace(&ini));
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|frame| views::draw(frame, &app, &Theme::dark()))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let controls = buffer
        .content()
        .iter()
        .filter(|c| c.symbol().chars().any(char::is_control))
        .count();
    assert_eq!(controls, 0, "{}", terminal.backend());
    assert!(terminal.backend().to_string().contains("2b7d4f60a8c3"));
}
