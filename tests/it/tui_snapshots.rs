//! The console drawn into ratatui's TestBackend and compared with reviewed snapshots
//! (tests/it/snapshots/), driven by the same actions keys map to. The bundled demo project is the
//! subject; the database's rows are fed in as the background reader would report them, so the
//! screens do not depend on a server, a clock or a temp path.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

use alembic_tui::analysis::LintOptions;
use alembic_tui::cli::Args;
use alembic_tui::config::{ProfileFile, ResolvedUrl, Settings, UrlSource};
use alembic_tui::engine::exec;
use alembic_tui::engine::render::Renderer;
use alembic_tui::tui::action::Action;
use alembic_tui::tui::app::{App, Effect, Overlay, Pane, Target};
use alembic_tui::tui::event::{DbReport, Part, SqlReport, WorkerEvent};
use alembic_tui::tui::highlight::Highlighter;
use alembic_tui::tui::model::Filter;
use alembic_tui::tui::popups::confirm::Button;
use alembic_tui::tui::theme::Theme;
use alembic_tui::tui::views;
use alembic_tui::workspace::Workspace;

fn demo_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo"))
}

fn demo_workspace() -> Arc<Workspace> {
    let ini = demo_dir().join("alembic.ini");
    let args = Args::parse_from(["alembic-tui", "-c", ini.to_str().unwrap()]);
    let mut warnings = Vec::new();
    let ws = alembic_tui::cli::commands::load_workspace(&args, demo_dir(), &mut warnings).unwrap();
    assert!(
        warnings.is_empty(),
        "{}",
        String::from_utf8_lossy(&warnings)
    );
    Arc::new(ws)
}

fn demo_target() -> Target {
    Target {
        profile: Some("demo".to_owned()),
        label: "localhost:5432/demo".to_owned(),
        database: Some("demo".to_owned()),
        lock_timeout: Duration::from_secs(5),
        statement_timeout: Some(Duration::from_secs(60)),
        ..Target::default()
    }
}

/// An app on the demo, with the grammars the real highlighter thread would use and, for the
/// confirmation pane, the real renderer (alembic --sql from the test venv; offline, so no server).
struct Harness {
    app: App,
    highlighter: Highlighter,
    theme: Theme,
    renderer: Option<(Settings, Renderer)>,
    /// The first read of the database happened (the console then selects its revision).
    db_read: bool,
}

/// The venv's Python, where alembic is installed (scripts/test.sh makes it).
fn python() -> std::path::PathBuf {
    let path = std::env::var_os("ALEMBIC_TUI_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    assert!(
        path.exists(),
        "no Python with alembic at {} — run scripts/test.sh first",
        path.display()
    );
    path
}

impl Harness {
    fn new(width: u16, height: u16) -> Harness {
        Harness::with_theme(width, height, Theme::dark())
    }

    fn with_theme(width: u16, height: u16, theme: Theme) -> Harness {
        let app = App::new(
            demo_workspace(),
            demo_target(),
            Rect::new(0, 0, width, height),
        );
        let mut h = Harness {
            app,
            highlighter: Highlighter::new(),
            theme,
            renderer: None,
            db_read: false,
        };
        let effects = h.app.start();
        h.settle(effects);
        h
    }

    /// Carries out what the event loop's workers would: highlighting, inline.
    fn settle(&mut self, mut effects: Vec<Effect>) {
        while let Some(effect) = effects.pop() {
            if let Effect::Prepare { steps, .. } = &effect {
                let (settings, renderer) = self.renderer.get_or_insert_with(|| {
                    let profile = ProfileFile {
                        alembic: Some(format!("'{}' -m alembic", python().display())),
                        ..ProfileFile::default()
                    };
                    let settings = Settings::from_profile(Some("demo"), &profile, "test").unwrap();
                    // Offline rendering never connects; env.py only needs a PostgreSQL URL.
                    let url = ResolvedUrl {
                        url: "postgresql://demo@localhost/demo".to_owned(),
                        source: UrlSource::Flag,
                    };
                    let renderer = Renderer::new(&self.app.ws, &settings, &url, None);
                    (settings, renderer)
                });
                let result = alembic_tui::engine::prepare::prepare(
                    &self.app.ws,
                    settings,
                    &LintOptions::default(),
                    renderer,
                    steps,
                )
                .map_err(|e| e.to_string());
                effects.extend(self.app.update(Action::Worker(WorkerEvent::Prepared {
                    steps: steps.clone(),
                    result,
                })));
                continue;
            }
            if let Effect::Lint { ws } = &effect {
                let findings = alembic_tui::tui::lint_all(&ws.0, &LintOptions::default());
                effects.extend(self.app.update(Action::Worker(WorkerEvent::Findings {
                    ws: ws.clone(),
                    findings,
                })));
                continue;
            }
            if let Effect::Highlight { key, source, lang } = effect {
                let lines = self
                    .highlighter
                    .highlight(&source, lang, self.theme.syntax.as_deref());
                effects.extend(
                    self.app
                        .update(Action::Worker(WorkerEvent::Highlighted { key, lines })),
                );
            }
        }
    }

    fn act(&mut self, action: Action) -> &mut Harness {
        let effects = self.app.update(action);
        self.settle(effects);
        self
    }

    fn keys(&mut self, keys: &str) -> &mut Harness {
        for c in keys.chars() {
            let event = ratatui::crossterm::event::Event::Key(
                ratatui::crossterm::event::KeyEvent::from(match c {
                    '\n' => ratatui::crossterm::event::KeyCode::Enter,
                    '\t' => ratatui::crossterm::event::KeyCode::Tab,
                    '\x1b' => ratatui::crossterm::event::KeyCode::Esc,
                    c => ratatui::crossterm::event::KeyCode::Char(c),
                }),
            );
            if let Some(action) = alembic_tui::tui::keymap::map(&self.app, &event) {
                self.act(action);
            }
        }
        self
    }

    /// The database reports `rows`. The console opens on the database's revision; these
    /// screens are drawn from the top, so after the first read the selection goes back there
    /// (`opens_on_the_databases_revision_and_jumps` tests the opening itself).
    fn db_at(&mut self, rows: &[&str]) -> &mut Harness {
        let rows = rows.iter().map(|r| r.to_string()).collect();
        self.act(Action::Worker(WorkerEvent::Db(DbReport::Rows(rows))));
        if !std::mem::replace(&mut self.db_read, true) {
            self.keys("g");
        }
        self
    }

    fn screen(&self) -> String {
        let mut terminal =
            Terminal::new(TestBackend::new(self.app.size.width, self.app.size.height)).unwrap();
        terminal
            .draw(|frame| views::draw(frame, &self.app, &self.theme))
            .unwrap();
        terminal.backend().to_string()
    }

    fn selected_id(&self) -> &str {
        &self.app.model.rows[self.app.selected].id
    }
}

/// The merge of the two branches: the reporting branch and the last two revisions are pending.
const AT_MERGE: &str = "8b3dafc60e29";

#[test]
fn main_screen() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]);
    insta::assert_snapshot!("main_screen", h.screen());
}

#[test]
fn detail_tabs() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]);
    // The destructive revision, its downgrade body.
    h.keys("j");
    assert_eq!(h.selected_id(), "9c4eb0d71f3a");
    h.keys("l");
    assert_eq!(h.app.tab, Part::Downgrade);
    insta::assert_snapshot!("detail_downgrade", h.screen());
    // The sql tab while rendering, then with the rendered statements.
    h.keys("l");
    assert_eq!(h.app.tab, Part::Sql);
    insta::assert_snapshot!("detail_sql_loading", h.screen());
    let revision = h.app.selected_revision().unwrap();
    let key = h.app.key(revision, Part::Sql);
    h.act(Action::Worker(WorkerEvent::Sql {
        key,
        report: SqlReport::Sql("DROP TABLE coupons;".to_owned()),
    }));
    insta::assert_snapshot!("detail_sql", h.screen());
    h.act(Action::Worker(WorkerEvent::Sql {
        key,
        report: SqlReport::OnlineOnly {
            reason: "op.get_bind() needs a connection".to_owned(),
        },
    }));
    insta::assert_snapshot!("detail_sql_online_only", h.screen());
}

#[test]
fn help_overlay_lists_every_key() {
    // Tall enough for the whole help, glyph legend included.
    let mut h = Harness::new(120, 64);
    h.db_at(&[AT_MERGE]).keys("?");
    let screen = h.screen();
    for (_, bindings) in alembic_tui::tui::keymap::HELP {
        for b in *bindings {
            assert!(screen.contains(b.what), "help misses {:?}", b.what);
        }
    }
    insta::assert_snapshot!("help", screen);
    h.keys("\x1b");
    assert!(h.app.overlay.is_none());
}

#[test]
fn unreachable_database() {
    let mut h = Harness::new(120, 40);
    h.act(Action::Worker(WorkerEvent::Db(DbReport::Unreachable {
        reason: "cannot connect to postgresql://app:***@db.internal/app: error connecting to \
                 server: Connection refused (os error 111)"
            .to_owned(),
    })));
    let screen = h.screen();
    assert!(screen.contains("database unreachable (Connection refused (os error 111))"));
    assert!(!screen.contains("s3cret"));
    insta::assert_snapshot!("unreachable", screen);
}

#[test]
fn reload_error() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]);
    h.act(Action::Worker(WorkerEvent::Reloaded(Err(
        "migrations/versions/bad.py:3: syntax error: unexpected indent".to_owned(),
    ))));
    insta::assert_snapshot!("reload_error", h.screen());
}

#[test]
fn narrow_terminal() {
    let mut h = Harness::new(80, 24);
    h.db_at(&[AT_MERGE]);
    insta::assert_snapshot!("narrow_80x24", h.screen());
}

#[test]
fn keys_move_select_and_search() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]);
    h.keys("G");
    assert_eq!(h.selected_id(), "1a0c3e5f7b21");
    h.keys("g");
    assert_eq!(h.selected_id(), "c2f7be3a0426");
    h.keys("jjk");
    assert_eq!(h.selected_id(), "9c4eb0d71f3a");
    // By message, then by branch label, then by id prefix.
    h.keys("/loyalty\n");
    assert_eq!(h.selected_id(), "4d9f6b82cae5");
    h.keys("/reporting\n");
    assert_eq!(h.selected_id(), "b1e6ad2f9315");
    h.keys("n");
    assert_eq!(h.selected_id(), "a0d5fc1e8204");
    h.keys("/6f1b\n");
    assert_eq!(h.selected_id(), "6f1b8da4ec07");
    h.keys("/no such thing\n");
    assert_eq!(h.selected_id(), "6f1b8da4ec07");
    assert!(h.screen().contains("no revision matches"));
    // Tab cycles the panes that are on screen: graph, detail, pending.
    h.keys("\t");
    assert_eq!(h.app.focus, Pane::Detail);
    h.keys("\t");
    assert_eq!(h.app.focus, Pane::Pending);
    h.keys("\t");
    assert_eq!(h.app.focus, Pane::Graph);
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]);
    // Row 0 is the border; screen row 4 is the fourth revision.
    h.act(Action::Click { x: 5, y: 4 });
    assert_eq!(h.app.selected, 3);
    h.act(Action::Scroll {
        x: 80,
        y: 10,
        delta: 3,
    });
    assert_eq!(h.app.detail_scroll, 3);
    assert_eq!(h.app.selected, 3);
}

#[test]
fn resize_keeps_the_selection_visible() {
    let mut h = Harness::new(120, 40);
    h.keys("G");
    h.act(Action::Resize {
        width: 80,
        height: 10,
    });
    let areas = h.app.areas();
    let visible = areas.graph.height as usize - 2;
    assert!(h.app.selected >= h.app.graph_offset);
    assert!(h.app.selected < h.app.graph_offset + visible);
    assert!(h.screen().contains("1a0c3e5f7b21"));
}

#[test]
fn no_color_screen_has_no_colours() {
    let mut h = Harness::with_theme(100, 30, Theme::monochrome());
    h.db_at(&[AT_MERGE]);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|frame| views::draw(frame, &h.app, &h.theme))
        .unwrap();
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, ratatui::style::Color::Reset, "{cell:?}");
    }
}

#[test]
fn confirmation_of_a_safe_step() {
    let mut h = Harness::new(120, 40);
    // At the merge, `u` asks which branch; the second head is the reporting branch.
    h.db_at(&[AT_MERGE]).keys("u");
    assert!(matches!(h.app.overlay, Some(Overlay::Menu(_))));
    h.keys("2");
    let Some(Overlay::Confirm(confirm)) = &h.app.overlay else {
        panic!("no confirmation pane: {:?}", h.app.note);
    };
    assert!(confirm.ready(), "{:?}", confirm.error);
    assert_eq!(confirm.steps.len(), 1);
    assert_eq!(confirm.steps[0].revision, "a0d5fc1e8204");
    assert_eq!(confirm.focus, Button::Run, "a safe plan focuses Run");
    insta::assert_snapshot!("confirm_safe", h.screen());
    // n cancels; nothing ran.
    h.keys("n");
    assert!(h.app.overlay.is_none());
    assert!(h.app.progress.is_none());
}

#[test]
fn confirmation_of_a_destructive_plan_focuses_cancel() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]);
    h.keys("g").keys("U");
    let Some(Overlay::Confirm(confirm)) = &h.app.overlay else {
        panic!("no confirmation pane: {:?}", h.app.note);
    };
    assert!(confirm.ready(), "{:?}", confirm.error);
    let revisions: Vec<&str> = confirm.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(revisions, ["9c4eb0d71f3a", "c2f7be3a0426"]);
    let scripts = confirm.prepared.as_ref().unwrap().scripts();
    assert!(scripts[0]
        .statements()
        .iter()
        .any(|s| s.text.contains("DROP TABLE coupons")));
    assert!(
        confirm.deliberate().is_some(),
        "DROP TABLE is not flagged: {:?}",
        confirm.prepared
    );
    assert_eq!(
        confirm.focus,
        Button::Cancel,
        "a destructive plan focuses Cancel"
    );
    let screen = h.screen();
    assert!(screen.contains("✖ destructive: drop-table"), "{screen}");
    insta::assert_snapshot!("confirm_destructive", screen);
    // `y` does not run a destructive plan: it says how (issue 12c).
    h.keys("y");
    assert!(h.app.progress.is_none(), "y ran a destructive plan");
    assert!(matches!(h.app.overlay, Some(Overlay::Confirm(_))));
    assert!(
        h.app
            .note
            .as_deref()
            .is_some_and(|n| n.contains("Tab or → to Run")),
        "{:?}",
        h.app.note
    );
    // Enter on the focused button: Cancel.
    h.keys("\n");
    assert!(h.app.overlay.is_none());
    assert!(h.app.progress.is_none());
}

#[test]
fn protected_profiles_want_the_database_name() {
    let mut h = Harness::new(120, 40);
    h.app.target.protected = true;
    h.db_at(&[AT_MERGE]).keys("u2");
    assert!(matches!(h.app.overlay, Some(Overlay::Confirm(_))));
    // y is just a letter of the name here; Enter on Run (focused: the plan is safe) refuses
    // until the name matches.
    h.keys("y\n");
    assert!(h.app.progress.is_none());
    assert!(h.screen().contains("type the database name (demo)"));
    let Some(Overlay::Confirm(confirm)) = &mut h.app.overlay else {
        panic!("the pane closed");
    };
    confirm.typed.clear();
    confirm.focus = Button::Run;
    h.keys("demo\n");
    assert!(h.app.overlay.is_none());
    assert!(h.app.running(), "{:?}", h.app.note);
}

#[test]
fn execution_failure_shows_the_servers_words() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]).keys("u2y");
    assert!(h.app.running());
    h.act(Action::Worker(WorkerEvent::Exec(
        exec::Event::StepStarted {
            index: 0,
            of: 1,
            step: alembic_tui::graph::Step {
                direction: alembic_tui::graph::Direction::Upgrade,
                revision: "a0d5fc1e8204".to_owned(),
                heads_before: vec![AT_MERGE.to_owned()],
                heads_after: vec![AT_MERGE.to_owned(), "a0d5fc1e8204".to_owned()],
            },
        },
    )));
    assert!(h
        .screen()
        .contains("running step 1/1 · upgrade a0d5fc1e8204"));
    h.act(Action::Worker(WorkerEvent::Exec(exec::Event::Failed(
        exec::ExecFailure {
            step: Some(0),
            revision: Some("a0d5fc1e8204".to_owned()),
            sqlstate: Some("42P06".to_owned()),
            message: "schema \"reporting\" already exists".to_owned(),
            detail: None,
            hint: Some("drop it or choose another name".to_owned()),
            statement: Some("CREATE SCHEMA reporting".to_owned()),
            cancelled: false,
        },
    ))));
    assert!(!h.app.running());
    insta::assert_snapshot!("exec_failure", h.screen());
}

#[test]
fn the_confirmation_shows_each_statements_locks_and_who_is_in_the_way() {
    use alembic_tui::db::locks::Blocker;
    use alembic_tui::engine::locks::{LockReport, LockTaken, Preflight, StepLocks, Trace};
    let mut h = Harness::new(140, 50);
    h.db_at(&[AT_MERGE]).keys("u");
    h.keys("2");
    let Some(Overlay::Confirm(confirm)) = &h.app.overlay else {
        panic!("no confirmation pane: {:?}", h.app.note);
    };
    let steps = confirm.steps.clone();
    let statements = confirm.prepared.as_ref().unwrap().steps[0]
        .script
        .statements()
        .len();
    assert!(h.screen().contains("tracing them on a shadow database"));
    let mut per: Vec<Vec<LockTaken>> = vec![Vec::new(); statements];
    per[0].push(LockTaken {
        relation: "reporting.daily".to_owned(),
        mode: "AccessExclusiveLock".to_owned(),
        held_until_commit: true,
    });
    let report = LockReport {
        trace: Trace {
            steps: vec![StepLocks::Traced(per)],
            cached: 0,
        },
        preflight: Preflight {
            blockers: vec![Blocker {
                pid: 4242,
                user: "app".to_owned(),
                application: "psql".to_owned(),
                state: "idle in transaction".to_owned(),
                xact_age_s: Some(12.0),
                query: "select count(*) from reporting.daily".to_owned(),
                may_cancel: false,
            }],
            missing: None,
        },
    };
    h.act(Action::Worker(WorkerEvent::Locks {
        steps,
        result: Ok(report),
    }));
    let screen = h.screen();
    assert!(
        screen.contains("locks: AccessExclusiveLock on reporting.daily"),
        "{screen}"
    );
    assert!(
        screen.contains(
            "pid 4242 (psql, idle in transaction 12 s: select count(*) from reporting.daily)"
        ),
        "{screen}"
    );
    assert!(!screen.contains("tracing them"), "{screen}");
}

#[test]
fn a_blocked_step_names_its_blocker_and_cancelling_it_wants_the_pid_typed() {
    use alembic_tui::db::locks::{Blocker, Wait};
    use alembic_tui::tui::app::Effect;
    let mut h = Harness::new(160, 40);
    h.db_at(&[AT_MERGE]).keys("u2y");
    assert!(h.app.running());
    let blocker = |pid: i32, state: &str| Blocker {
        pid,
        user: "app".to_owned(),
        application: "psql".to_owned(),
        state: state.to_owned(),
        xact_age_s: Some(12.0),
        query: "select count(*) from reporting.daily".to_owned(),
        may_cancel: true,
    };
    h.act(Action::Worker(WorkerEvent::Exec(exec::Event::Blocked {
        waiting_for: Some(Wait {
            mode: "AccessExclusiveLock".to_owned(),
            relation: "reporting.daily".to_owned(),
        }),
        blocked_by: vec![blocker(77, "idle in transaction")],
    })));
    let screen = h.screen();
    assert!(
        screen.contains(" waiting for AccessExclusiveLock on reporting.daily — blocked by pid 77 (psql, idle in transaction 12 s: select count(*)"),
        "{screen}"
    );
    // An idle transaction is not helped by a cancel: no offer, and the note says why.
    h.keys("K");
    assert!(h.app.overlay.is_none());
    assert!(
        h.app.note.as_deref().unwrap_or("").contains("does nothing"),
        "{:?}",
        h.app.note
    );
    h.act(Action::Worker(WorkerEvent::Exec(exec::Event::Blocked {
        waiting_for: None,
        blocked_by: vec![blocker(78, "active")],
    })));
    h.keys("K");
    assert!(matches!(h.app.overlay, Some(Overlay::CancelBlocker(_))));
    h.keys("7");
    assert!(
        h.app.update(Action::Open).is_empty(),
        "a wrong pid cancels nothing"
    );
    h.keys("8");
    let effects = h.app.update(Action::Open);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::CancelBackend { pid: 78 })),
        "{effects:?}"
    );
    assert!(h.app.running(), "our own plan goes on");
}

#[test]
fn a_late_render_for_another_plan_is_ignored() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]);
    // Open a confirmation without letting the renderer answer.
    let effects = h.app.update(Action::UpgradeToSelected);
    let Some(Effect::Prepare { steps, .. }) = effects.into_iter().next() else {
        panic!("no prepare effect");
    };
    assert_eq!(steps.last().unwrap().revision, "c2f7be3a0426");
    // An answer for different steps (an earlier, abandoned plan) arrives first.
    let other = vec![alembic_tui::graph::Step {
        direction: alembic_tui::graph::Direction::Upgrade,
        revision: "a0d5fc1e8204".to_owned(),
        heads_before: vec![AT_MERGE.to_owned()],
        heads_after: vec![AT_MERGE.to_owned(), "a0d5fc1e8204".to_owned()],
    }];
    h.act(Action::Worker(WorkerEvent::Prepared {
        steps: other,
        result: Err("stale".to_owned()),
    }));
    let Some(Overlay::Confirm(confirm)) = &h.app.overlay else {
        panic!("the pane closed");
    };
    assert!(confirm.prepared.is_none() && confirm.error.is_none());
    h.keys("y");
    assert!(h.app.progress.is_none(), "ran before anything was rendered");
}

#[test]
fn findings_show_as_badges_and_in_the_detail_pane() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]);
    let drop = h.app.model.position("9c4eb0d71f3a").unwrap();
    let revision = h.app.model.rows[drop].revision;
    assert_eq!(
        alembic_tui::tui::views::graph::badge(&h.app, revision),
        Some(alembic_tui::tui::views::graph::Badge::Destructive)
    );
    h.keys("j");
    let screen = h.screen();
    assert!(screen.contains("9c4eb0d71f3a ⚠"), "{screen}");
    assert!(screen.contains("⚠ drop-table (upgrade line"), "{screen}");
}

#[test]
fn without_a_working_alembic_stepping_says_what_it_needs() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]);
    h.act(Action::Worker(WorkerEvent::AlembicChecked(Err(
        "`alembic` cannot be started (No such file or directory (os error 2)); set `alembic:` \
         in the profile"
            .to_owned(),
    ))));
    h.keys("u");
    assert!(h.app.overlay.is_none());
    let screen = h.screen();
    assert!(
        screen.contains("stepping and the sql tab need a working alembic command"),
        "{screen}"
    );
    // Everything else still works: the graph, the bodies, the findings.
    h.keys("j");
    assert!(h.screen().contains("drop-table"));
}

#[test]
fn answers_for_an_earlier_load_or_database_state_are_dropped() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[AT_MERGE]).keys("ll");
    let revision = h.app.selected_revision().unwrap();
    let stale = h.app.key(revision, Part::Sql);
    // The version table changes while alembic renders: the answer is for the old next step.
    h.db_at(&["9c4eb0d71f3a"]);
    h.act(Action::Worker(WorkerEvent::Sql {
        key: stale,
        report: SqlReport::Sql("SELECT 'stale';".to_owned()),
    }));
    assert!(!h.screen().contains("stale"));
}

/// Delivers `text` as the terminal delivers a bracketed paste.
fn paste(h: &mut Harness, text: &str) {
    let event = ratatui::crossterm::event::Event::Paste(text.to_owned());
    if let Some(action) = alembic_tui::tui::keymap::map(&h.app, &event) {
        h.act(action);
    }
}

#[test]
fn a_paste_is_text_for_the_focused_field_never_keys() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[]);
    // `u` then Enter as keys would open the upgrade and press Run; as a paste it is nothing.
    paste(&mut h, "pip install -U alembic\nu\n");
    assert!(h.app.overlay.is_none(), "a paste opened {:?}", h.app.note);
    assert!(h.app.progress.is_none());
    assert!(
        h.app
            .note
            .as_deref()
            .is_some_and(|n| n.contains("never a command")),
        "{:?}",
        h.app.note
    );
    // In the search field it is text, without its line breaks.
    h.keys("/");
    paste(&mut h, "coupons\n");
    assert_eq!(h.app.search.as_deref(), Some("coupons"));
    h.keys("\x1b");
    // In a confirmation of an unprotected profile it confirms nothing.
    h.keys("u");
    if let Some(Overlay::Menu(_)) = &h.app.overlay {
        h.keys("1");
    }
    assert!(matches!(h.app.overlay, Some(Overlay::Confirm(_))));
    paste(&mut h, "y\n");
    assert!(h.app.progress.is_none(), "a paste ran the plan");
    assert!(matches!(h.app.overlay, Some(Overlay::Confirm(_))));
}

fn menu_labels(h: &Harness) -> Vec<String> {
    match &h.app.overlay {
        Some(Overlay::Menu(menu)) => menu.items.iter().map(|i| i.label.clone()).collect(),
        other => panic!("no menu: {other:?} {:?}", h.app.note),
    }
}

#[test]
fn branch_menus_keep_their_order_and_digits_from_step_to_step() {
    let mut h = Harness::new(140, 40);
    // At the branch point both heads have a different next step: a choice, in graph order.
    h.db_at(&["3c8e5a71b9d4"]);
    h.keys("u");
    let first = menu_labels(&h);
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(first[0].starts_with("towards c2f7be3a0426"), "{first:?}");
    assert!(
        first[1].starts_with("towards b1e6ad2f9315 (reporting): next a0d5fc1e8204"),
        "{first:?}"
    );
    // One step up the reporting branch later: `2` still means reporting.
    h.keys("\x1b");
    h.db_at(&["a0d5fc1e8204"]);
    h.keys("u");
    let second = menu_labels(&h);
    assert!(second[0].starts_with("towards c2f7be3a0426"), "{second:?}");
    assert!(
        second[1].starts_with("towards b1e6ad2f9315 (reporting): next b1e6ad2f9315"),
        "{second:?}"
    );
    // Down from two heads: the same menu whatever order the version table returns its rows in.
    h.keys("\x1b");
    h.db_at(&["c2f7be3a0426", "b1e6ad2f9315"]);
    h.keys("d");
    let down = menu_labels(&h);
    h.keys("\x1b");
    h.db_at(&["b1e6ad2f9315", "c2f7be3a0426"]);
    h.keys("d");
    assert_eq!(menu_labels(&h), down);
    assert!(down[0].starts_with("from c2f7be3a0426"), "{down:?}");
    assert!(
        down[1].contains("(reporting): the database goes to [c2f7be3a0426, a0d5fc1e8204]")
            || down[1].contains("(reporting): the database goes to [a0d5fc1e8204, c2f7be3a0426]"),
        "{down:?}"
    );
}

#[test]
fn a_version_row_no_file_defines_is_a_danger_state_never_up_to_date() {
    let mut h = Harness::new(160, 40);
    h.db_at(&["feedc0ffee99"]);
    let screen = h.screen();
    assert!(
        screen.contains("UNKNOWN revision feedc0ffee99 in the version table"),
        "{screen}"
    );
    assert!(!screen.contains("up to date"), "{screen}");
    // The row is also where the graph starts, above the history, and clicks still land on the
    // revision drawn under the pointer.
    assert!(
        screen.contains("✗ feedc0ffee99 ◄ db  no revision file defines it"),
        "{screen}"
    );
    let graph = h.app.areas().graph;
    h.act(Action::Click {
        x: graph.x + 4,
        y: graph.y + 2,
    });
    assert_eq!(h.app.selected, h.app.graph_offset, "{}", h.screen());
    h.act(Action::Click {
        x: graph.x + 4,
        y: graph.y + 1,
    });
    assert_eq!(
        h.app.selected, h.app.graph_offset,
        "the unknown row is not a revision"
    );
}

fn select(h: &mut Harness, id: &str) {
    let at = h.app.model.position(id).unwrap();
    let mut effects = Vec::new();
    h.app.select(at, &mut effects);
    h.settle(effects);
}

fn shown_ids(h: &Harness) -> Vec<&str> {
    let mut ids: Vec<&str> = h.app.model.rows.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn f_filters_to_the_path_from_the_database_then_to_one_branch() {
    let mut h = Harness::new(140, 40);
    // On the diamond's left side: the right side, the merge, the tip and the reporting branch
    // are what `upgrade heads` runs.
    h.db_at(&["5e0a7c93dbf6"]);
    h.keys("f");
    assert_eq!(
        shown_ids(&h),
        [
            "5e0a7c93dbf6",
            "6f1b8da4ec07",
            "7a2c9eb5fd18",
            "8b3dafc60e29",
            "9c4eb0d71f3a",
            "a0d5fc1e8204",
            "b1e6ad2f9315",
            "c2f7be3a0426"
        ]
    );
    let screen = h.screen();
    assert!(screen.contains("path db → heads"), "{screen}");
    assert!(!screen.contains("1a0c3e5f7b21"), "{screen}");
    insta::assert_snapshot!("filter_path_db_to_heads", screen);
    // The path follows the database.
    h.db_at(&["c2f7be3a0426", "b1e6ad2f9315"]);
    assert_eq!(shown_ids(&h), ["b1e6ad2f9315", "c2f7be3a0426"]);
    // `f` again: every revision.
    h.keys("f");
    assert_eq!(h.app.filter, Filter::All);
    assert_eq!(h.app.model.rows.len(), h.app.ws.map.len());
    // `b`: one branch, the selected revision's ancestors and descendants; the merge's other
    // parent and the reporting branch are hidden.
    select(&mut h, "6f1b8da4ec07");
    h.keys("b");
    assert_eq!(
        shown_ids(&h),
        [
            "1a0c3e5f7b21",
            "2b7d4f60a8c3",
            "3c8e5a71b9d4",
            "6f1b8da4ec07",
            "7a2c9eb5fd18",
            "8b3dafc60e29",
            "9c4eb0d71f3a",
            "c2f7be3a0426"
        ]
    );
    assert_eq!(h.selected_id(), "6f1b8da4ec07");
    assert!(h.screen().contains("branch of 6f1b8da4ec07"));
    // From the path, `b` narrows to the branch of the path's selected row.
    h.keys("f");
    select(&mut h, "b1e6ad2f9315");
    h.keys("b");
    assert_eq!(shown_ids(&h), ["a0d5fc1e8204", "b1e6ad2f9315"]);
    h.keys("b");
    assert_eq!(h.app.filter, Filter::All);
    // A jump to a row the filter hides says so instead of claiming there is none.
    let mut other = Harness::new(140, 40);
    other.db_at(&["a0d5fc1e8204"]);
    select(&mut other, "6f1b8da4ec07");
    other.keys("b").keys("c");
    assert_eq!(other.selected_id(), "6f1b8da4ec07");
    let note = other.app.note.clone().unwrap_or_default();
    assert!(
        note.contains("not shown with the filter (branch of 6f1b8da4ec07)"),
        "{note}"
    );
    // Without the version table there is no path to show; the note says so.
    let mut fresh = Harness::new(140, 40);
    fresh.keys("f");
    assert_eq!(fresh.app.filter, Filter::All);
    let note = fresh.app.note.clone().unwrap_or_default();
    assert!(note.contains("version table"), "{note}");
}

#[test]
fn a_reload_says_which_files_it_could_not_read() {
    let mut h = Harness::new(160, 40);
    h.db_at(&[]);
    let ws = h.app.ws.clone();
    h.act(Action::Worker(WorkerEvent::Reloaded(Ok((
        alembic_tui::tui::event::Loaded(ws),
        vec!["versions/broken.py:3: invalid syntax".to_owned()],
    )))));
    let note = h.app.note.clone().unwrap_or_default();
    assert!(
        note.contains("1 warning(s)") && note.contains("versions/broken.py:3"),
        "{note}"
    );
}

#[test]
fn opens_on_the_databases_revision_and_jumps() {
    let mut h = Harness::new(140, 40);
    let row = |h: &Harness, id: &str| h.app.model.position(id).unwrap();
    // First read: the selection goes to the database's revision.
    h.act(Action::Worker(WorkerEvent::Db(DbReport::Rows(vec![
        "3c8e5a71b9d4".to_owned(),
    ]))));
    h.db_read = true;
    assert_eq!(h.app.selected, row(&h, "3c8e5a71b9d4"));
    // `p`: the next pending step; `c`: back to the database's revision.
    h.keys("p");
    let next = h.app.view.pending[0].revision.clone();
    assert_eq!(h.app.selected, row(&h, &next));
    h.keys("c");
    assert_eq!(h.app.selected, row(&h, "3c8e5a71b9d4"));
    // `H` visits each head in turn.
    h.keys("g").keys("H");
    let first = h.app.selected;
    h.keys("H");
    let second = h.app.selected;
    let mut heads = vec![first, second];
    heads.sort_unstable();
    let mut want = vec![row(&h, "c2f7be3a0426"), row(&h, "b1e6ad2f9315")];
    want.sort_unstable();
    assert_eq!(heads, want);
}

#[test]
fn search_is_incremental_over_bodies_and_highlights_matches() {
    let mut h = Harness::new(140, 40);
    h.db_at(&[]);
    // `coupons` appears in bodies (create and drop), not only in messages.
    h.keys("/");
    h.keys("cou");
    let first = h.app.selected;
    assert!(!h.app.search_matches.is_empty());
    assert!(
        h.app.search_matches.contains(&first),
        "the selection is a match"
    );
    h.keys("pons");
    assert!(
        h.app.search_matches.len() >= 2,
        "create and drop of coupons"
    );
    // A word only bodies hold (`sa.BigInteger`).
    h.keys("\x1b");
    assert!(h.app.search_matches.is_empty());
    h.keys("/");
    for c in "biginteger".chars() {
        h.keys(&c.to_string());
    }
    let rows: Vec<usize> = h.app.search_matches.iter().copied().collect();
    assert!(!rows.is_empty(), "no body matched 'biginteger'");
    for row in rows {
        let r = &h.app.model.rows[row];
        assert!(
            !r.message.to_lowercase().contains("biginteger"),
            "{} matched by its message, not its body",
            r.id
        );
    }
    h.keys("\n");
    assert!(
        h.app
            .note
            .as_deref()
            .is_some_and(|n| n.starts_with("/biginteger: match 1 of")),
        "{:?}",
        h.app.note
    );
}

#[test]
fn y_copies_the_selected_id_or_the_detail_tab() {
    let mut h = Harness::new(120, 40);
    h.db_at(&[]);
    let effects = h.app.update(Action::Copy);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Copy(t) if t == "c2f7be3a0426")),
        "{effects:?}"
    );
    // In the detail pane: the body on its tab.
    h.keys("\t");
    let effects = h.app.update(Action::Copy);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Copy(t) if t.starts_with("def upgrade()"))),
        "{effects:?}"
    );
}

#[test]
fn j_opens_the_journal_of_this_database_newest_first() {
    use alembic_tui::engine::journal::Entry;
    let mut h = Harness::new(140, 40);
    h.db_at(&[]);
    let effects = h.app.update(Action::Journal);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::ReadJournal { revision: None })));
    let entry = |revision: &str, outcome: &str| Entry {
        ts: format!("2026-12-02T07:0{}:00.000Z", revision.len() % 10),
        os_user: "dba".to_owned(),
        profile: Some("demo".to_owned()),
        target: "postgresql://demo@localhost/demo".to_owned(),
        direction: "upgrade".to_owned(),
        revision: revision.to_owned(),
        file_sha256: String::new(),
        statements: vec![format!("CREATE TABLE t_{revision} (id int)")],
        duration_ms: 12,
        outcome: outcome.to_owned(),
        error: None,
    };
    h.act(Action::Worker(WorkerEvent::JournalRead {
        revision: None,
        entries: Ok(vec![
            entry("1a0c3e5f7b21", "applied"),
            entry("2b7d4f60a8c3", "failed"),
        ]),
    }));
    let Some(Overlay::Report { report, .. }) = &h.app.overlay else {
        panic!("no journal window");
    };
    let text = report.text();
    let newer = text.find("failed").unwrap();
    let older = text.find("applied").unwrap();
    assert!(newer < older, "newest first: {text}");
    assert!(text.contains("CREATE TABLE t_1a0c3e5f7b21"), "{text}");
    // J again in the window: only the selected revision.
    let effects = h.app.update(Action::Journal);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::ReadJournal { revision: Some(_) })));
}

#[test]
fn digits_focus_a_pane_and_the_bar_shows_its_keys() {
    use alembic_tui::tui::app::Pane;
    let mut h = Harness::new(190, 40);
    h.db_at(&[]);
    assert!(h.screen().contains("u d step"), "{}", h.screen());
    h.keys("2");
    assert_eq!(h.app.focus, Pane::Detail);
    assert!(
        h.screen()
            .contains("← → tab · ↑ ↓ scroll · < > sideways · Y copy"),
        "{}",
        h.screen()
    );
    h.keys("3");
    assert_eq!(h.app.focus, Pane::Pending);
    h.keys("1");
    assert_eq!(h.app.focus, Pane::Graph);
}

#[test]
fn long_detail_lines_wrap_under_their_value_and_code_scrolls_sideways() {
    let mut h = Harness::new(100, 60);
    h.db_at(&[AT_MERGE]);
    select(&mut h, "c2f7be3a0426");
    let screen = h.screen();
    // Every finding's message is on screen to its last word (wrapped, not cut at the border).
    let revision = h.app.model.rows[h.app.selected].revision;
    let messages: Vec<String> = h
        .app
        .findings_of(revision)
        .map(|f| f.message.clone())
        .collect();
    assert!(!messages.is_empty());
    let flat: String = screen
        .lines()
        .map(|l| l.split('│').nth(1).unwrap_or("").trim())
        .collect::<Vec<_>>()
        .join(" ");
    for m in &messages {
        let last = m.split_whitespace().last().unwrap();
        assert!(
            flat.contains(last),
            "{last:?} of {m:?} is not shown:\n{screen}"
        );
    }
    // Continuation lines start under the value, past the label column.
    let hanging = |l: &str| {
        l.split('│').nth(1).is_some_and(|cell| {
            cell.starts_with("          ") && !cell[10..].starts_with([' ', '!', '·', '⚠'])
        })
    };
    assert!(screen.lines().any(hanging), "{screen}");
    insta::assert_snapshot!("detail_wrapped_findings", screen);
    // `>` scrolls the code (not its line numbers) sideways; `<` back.
    assert!(screen.contains("18 │ def upgrade() -> None:"), "{screen}");
    h.keys(">");
    let screen = h.screen();
    assert!(screen.contains("18 │ ade() -> None:"), "{screen}");
    assert!(screen.contains("◂ from column 9 (< >)"), "{screen}");
    h.keys("<");
    assert!(h.screen().contains("18 │ def upgrade() -> None:"));
    // A new selection starts at column 1.
    h.keys(">").keys("j");
    assert_eq!(h.app.detail_hscroll, 0);
}

#[test]
fn the_menu_of_a_head_offers_to_merge_the_heads() {
    let mut h = Harness::new(140, 40);
    h.db_at(&[AT_MERGE]);
    select(&mut h, "9c4eb0d71f3a");
    h.keys("\n");
    assert!(
        !menu_labels(&h).iter().any(|l| l.contains("merge")),
        "a revision that is no head offers no merge"
    );
    h.keys("\x1b");
    select(&mut h, "c2f7be3a0426");
    h.keys("\n");
    let labels = menu_labels(&h);
    let at = labels
        .iter()
        .position(|l| l.starts_with("merge the 2 heads into one"))
        .unwrap_or_else(|| panic!("{labels:?}"));
    h.keys(&(at + 1).to_string());
    assert!(
        matches!(h.app.overlay, Some(Overlay::Prompt(_))),
        "{:?}",
        h.app.overlay
    );
}
