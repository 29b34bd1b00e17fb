//! The interactive console: terminal set-up and restore (also on panic), and the event loop that
//! selects over terminal events, worker results and ticks, feeds them to `App::update` and
//! carries out the effects it returns on background tasks.

pub mod action;
pub mod app;
pub mod checks;
pub mod clipboard;
pub mod event;
pub mod highlight;
pub mod keymap;
pub mod layout;
pub mod model;
pub mod popups;
pub mod stepping;
pub mod theme;
pub mod views;
pub mod widgets;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::StreamExt;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    EventStream,
};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;
use tokio::sync::{mpsc, Notify};

use crate::analysis::LintOptions;
use crate::cli::commands;
use crate::cli::Args;
use crate::config::{ConfigError, ResolvedUrl, Settings};
use crate::db::{self, version_table::VersionTable};
use crate::engine::alembic::AlembicCommand;
use crate::engine::exec::{self, Cancel};
use crate::engine::journal::Journal;
use crate::engine::prepare;
use crate::engine::render::{render_cache, Renderer};
use crate::engine::script::StepBody;
use crate::graph::{Direction, Step};
use crate::tui::action::Action;
use crate::tui::app::{App, Effect, Level, Target};
use crate::tui::event::SqlReport;
use crate::tui::event::{DbReport, WorkerEvent};
use crate::tui::highlight::{Highlighter, Lang};
use crate::tui::popups::prompt::Purpose;
use crate::tui::theme::Theme;
use crate::workspace::Workspace;

/// How often spinners advance and the screen is redrawn without input.
const TICK: Duration = Duration::from_millis(app::TICK_MS);
/// How often the version table is read again (and an unreachable database retried).
const DB_POLL: Duration = Duration::from_secs(5);
/// How long connecting may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything the console needs, resolved before the terminal is taken over (so errors in the
/// project or config print as normal CLI errors).
pub struct Session {
    pub args: Args,
    pub cwd: PathBuf,
    pub ws: Arc<Workspace>,
    pub warnings: Vec<String>,
    pub target: Target,
    pub db: Option<(Settings, ResolvedUrl)>,
    pub theme: Theme,
    /// Rule severities from the lint settings, for badges and the confirmation's flags.
    pub lint: LintOptions,
}

impl Session {
    /// Loads the project and resolves the profile and URL as the CLI does.
    pub fn prepare(args: &Args, cwd: &Path) -> Result<Session> {
        let no_color = theme::no_color_requested(std::env::var_os("NO_COLOR"));
        let theme = Theme::load(args.theme.as_deref(), no_color)?;
        let mut warn = Vec::new();
        let ws = commands::load_workspace(args, cwd, &mut warn)?;
        let mut warnings: Vec<String> = String::from_utf8_lossy(&warn)
            .lines()
            .map(str::to_owned)
            .collect();
        let ctx = commands::context(args, &ws)?;
        warnings.extend(ctx.warnings.iter().map(|w| format!("warning: {w}")));
        let (target, db) = match &ctx.url {
            Ok(url) => (
                target_of(&ctx.settings, url),
                Some((ctx.settings.clone(), url.clone())),
            ),
            // No URL anywhere: the console still shows the project.
            Err(err @ (ConfigError::NoUrl | ConfigError::MissingEnv { .. })) => (
                Target {
                    no_url: Some(err.to_string()),
                    ..Target::default()
                },
                None,
            ),
            Err(err) => anyhow::bail!("{err}"),
        };
        let lint = ctx.lint;
        Ok(Session {
            args: args.clone(),
            cwd: cwd.to_path_buf(),
            ws: Arc::new(ws),
            warnings,
            target,
            db,
            theme,
            lint,
        })
    }
}

/// The target's identity for the screen: profile, host/port/database, timeouts.
pub fn target_of(settings: &Settings, url: &ResolvedUrl) -> Target {
    let (label, database) = describe_url(&url.url);
    Target {
        profile: settings.profile.clone(),
        label,
        database,
        lock_timeout: settings.lock_timeout,
        statement_timeout: settings.statement_timeout,
        protected: settings.protected,
        read_only: settings.read_only,
        no_url: None,
    }
}

/// `host:port/db` (or `socket-dir/db`) and the database name, from a libpq URL; never the
/// password. An URL the driver cannot parse is shown redacted as it is.
pub fn describe_url(url: &str) -> (String, Option<String>) {
    let Ok(opts) = db::tls::split_tls_options(url) else {
        return (crate::config::redact(url), None);
    };
    let Ok(config) = opts.url.parse::<tokio_postgres::Config>() else {
        return (crate::config::redact(url), None);
    };
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => format!("socket {}", p.display()),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .map(str::to_owned)
        .or_else(|| config.get_user().map(str::to_owned));
    let label = match &db {
        Some(db) => format!("{host}:{port}/{db}"),
        None => format!("{host}:{port}"),
    };
    // The driver ends credentials at the first `@`: the rest of a password holding a raw `@`
    // is what it calls the host.
    (crate::redact::text(&label, url), db)
}

/// Opens the console and runs it until the user quits.
pub fn run(session: Session) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the console needs a terminal; for scripts use a command (heads, history, status, \
             upgrade, …; see --help)"
        );
    }
    let _log_guard = init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(session))
}

/// Logs go to `alembic-tui.log` in the state dir; nothing may reach the terminal while the
/// console owns it. Without a state dir, no logs.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = state_dir()?;
    // Owner only: the log names databases and shows their errors.
    crate::paths::create_private_dir(&dir).ok()?;
    let file = crate::paths::open_private_append(&dir.join("alembic-tui.log")).ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("ALEMBIC_TUI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

fn state_dir() -> Option<PathBuf> {
    crate::paths::state_dir().ok()
}

/// How often the revision files are looked at for changes.
const FILE_POLL: Duration = Duration::from_secs(2);

/// Reports when the revision files change (added, removed, edited: names, sizes, modification
/// times under the version locations, and env.py), so the console reads the project again by
/// itself. Polling, not inotify: a handful of directories every two seconds costs nothing.
async fn watch_files(paths: Vec<PathBuf>, tx: mpsc::UnboundedSender<WorkerEvent>) {
    let fingerprint = move || {
        let mut seen: Vec<(PathBuf, u64, Option<std::time::SystemTime>)> = Vec::new();
        let mut stack = paths.clone();
        while let Some(path) = stack.pop() {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() && seen.len() < 100_000 {
                if let Ok(entries) = std::fs::read_dir(&path) {
                    stack.extend(entries.flatten().map(|e| e.path()));
                }
            } else if meta.is_file() && path.extension().is_some_and(|e| e == "py") {
                seen.push((path, meta.len(), meta.modified().ok()));
            }
        }
        seen.sort();
        seen
    };
    let mut last = None;
    loop {
        let probe = fingerprint.clone();
        let Ok(now) = tokio::task::spawn_blocking(probe).await else {
            return;
        };
        if last.as_ref().is_some_and(|l| *l != now) && tx.send(WorkerEvent::FilesChanged).is_err() {
            return;
        }
        if tx.is_closed() {
            return;
        }
        last = Some(now);
        tokio::time::sleep(FILE_POLL).await;
    }
}

/// Hands the terminal to `$VISUAL` / `$EDITOR` (default `vi`) on `path`, and takes it back.
fn edit(terminal: &mut ratatui::DefaultTerminal, path: &Path) -> Result<()> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_owned());
    let words = crate::config::split_command(&editor)
        .map_err(|e| anyhow::anyhow!("$EDITOR {editor:?}: {e}"))?;
    let Some((program, rest)) = words.split_first() else {
        anyhow::bail!("$EDITOR is empty");
    };
    restore_extra();
    ratatui::restore();
    let status = std::process::Command::new(program)
        .args(rest)
        .arg(path)
        .status();
    *terminal = ratatui::try_init().context("taking the terminal back")?;
    let _ = execute!(std::io::stdout(), EnableMouseCapture, EnableBracketedPaste);
    terminal.clear().context("redrawing")?;
    let status = status.with_context(|| format!("starting the editor {program:?}"))?;
    if !status.success() {
        anyhow::bail!("the editor {program:?} exited with {status}");
    }
    Ok(())
}

/// Terminal modes we turn on beyond ratatui's: undone on exit and in the panic hook.
fn restore_extra() {
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste
    );
}

/// Set by the panic hook: a panic anywhere (a worker thread, a task) has restored the terminal,
/// so the event loop must stop drawing into it and end with an error.
static CRASHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

async fn run_async(session: Session) -> Result<()> {
    // Installed before ratatui's hook, which restores the screen and then calls this one.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_extra();
        CRASHED.store(true, Ordering::SeqCst);
        tracing::error!("panic: {info}");
        previous(info);
    }));
    let mut terminal = ratatui::try_init().context("opening the terminal")?;
    let mouse = execute!(std::io::stdout(), EnableMouseCapture, EnableBracketedPaste);
    let result = event_loop(&mut terminal, session).await;
    if mouse.is_ok() {
        restore_extra();
    }
    ratatui::restore();
    result
}

async fn event_loop(terminal: &mut ratatui::DefaultTerminal, session: Session) -> Result<()> {
    let size = terminal.size().context("reading the terminal size")?;
    let Session {
        args,
        cwd,
        ws,
        warnings,
        target,
        db,
        theme,
        lint,
    } = session;
    let mut app = App::new(ws, target, Rect::new(0, 0, size.width, size.height));
    if let Some(reason) = &app.target.no_url {
        app.sql_unavailable = Some(format!(
            "alembic --sql runs env.py, which needs the target's URL: {reason}"
        ));
    }
    for warning in warnings {
        app.log(Level::Warn, warning);
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<WorkerEvent>();
    let mut dirs = app.ws.project.config.version_locations.clone();
    dirs.push(app.ws.project.config.script_location.join("env.py"));
    tokio::spawn(watch_files(dirs, tx.clone()));
    let mut workers = Workers::start(tx.clone(), db, theme.syntax.clone(), lint, args, cwd);
    let mut effects = app.start();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    loop {
        for effect in std::mem::take(&mut effects) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Edit(path) => {
                    let outcome = edit(terminal, &path);
                    if let Err(err) = &outcome {
                        app.log(Level::Error, format!("{err:#}"));
                    }
                    // Read again whatever the editor did to the file.
                    effects.extend(app.update(Action::Refresh));
                }
                Effect::Copy(text) => match clipboard::osc52(&text) {
                    Some(sequence) => {
                        use std::io::Write as _;
                        let mut stdout = std::io::stdout();
                        let _ = stdout.write_all(sequence.as_bytes());
                        let _ = stdout.flush();
                    }
                    None => app.log(
                        Level::Warn,
                        format!(
                            "not copied: {} bytes is more than a terminal takes in one copy",
                            text.len()
                        ),
                    ),
                },
                other => workers.carry_out(other),
            }
        }
        let size = terminal.size().context("reading the terminal size")?;
        if (size.width, size.height) != (app.size.width, app.size.height) {
            effects.extend(app.update(Action::Resize {
                width: size.width,
                height: size.height,
            }));
        }
        terminal
            .draw(|frame| views::draw(frame, &app, &theme))
            .context("drawing the console")?;
        if CRASHED.load(Ordering::SeqCst) {
            anyhow::bail!(
                "a background task of the console crashed; the terminal was restored and nothing \
                 more runs (the panic is in the log in the state dir)"
            );
        }
        let action = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => keymap::map(&app, &event),
                Some(Err(err)) => return Err(err).context("reading the terminal"),
                None => Some(Action::Quit),
            },
            Some(report) = rx.recv() => Some(Action::Worker(report)),
            _ = tick.tick() => Some(Action::Tick),
        };
        if let Some(action) = action {
            effects.extend(app.update(action));
        }
    }
}

/// The renderer of the workspace loaded last, keyed by the workspace's generation (never by its
/// address: a reloaded workspace may be allocated where the old one was).
pub type RendererSlot = std::sync::Mutex<Option<(u64, Arc<Renderer>)>>;

/// The background side: the database reader, the highlighter thread, rendering, the executor
/// and project reloads.
struct Workers {
    tx: mpsc::UnboundedSender<WorkerEvent>,
    db_wake: Arc<Notify>,
    highlight: std::sync::mpsc::Sender<(event::BodyKey, String, Lang)>,
    db: Option<(Settings, ResolvedUrl)>,
    /// One renderer per loaded workspace (it hashes every revision file once).
    renderer: Arc<RendererSlot>,
    cancel: Option<Cancel>,
    lint: LintOptions,
    /// The connected server's major version once known (0 until then).
    server_major: Arc<AtomicU32>,
    args: Args,
    cwd: PathBuf,
}

impl Workers {
    /// The lint settings, with the connected server's version once it is known.
    fn lint_options(&self) -> LintOptions {
        let mut lint = self.lint.clone();
        match self.server_major.load(Ordering::Relaxed) {
            0 => {}
            major => lint.pg_version = major,
        }
        lint
    }

    fn start(
        tx: mpsc::UnboundedSender<WorkerEvent>,
        db: Option<(Settings, ResolvedUrl)>,
        syntax: Option<String>,
        lint: LintOptions,
        args: Args,
        cwd: PathBuf,
    ) -> Workers {
        let db_wake = Arc::new(Notify::new());
        let server_major = Arc::new(AtomicU32::new(0));
        if let Some((settings, url)) = &db {
            tokio::spawn(read_db(
                settings.clone(),
                url.clone(),
                tx.clone(),
                db_wake.clone(),
                server_major.clone(),
            ));
        }
        let (htx, hrx) = std::sync::mpsc::channel::<(event::BodyKey, String, Lang)>();
        let out = tx.clone();
        // One thread owns the grammars (loading them takes a while; once is enough).
        std::thread::spawn(move || {
            let highlighter = Highlighter::new();
            while let Ok((key, source, lang)) = hrx.recv() {
                let lines = highlighter.highlight(&source, lang, syntax.as_deref());
                if out.send(WorkerEvent::Highlighted { key, lines }).is_err() {
                    break;
                }
            }
        });
        Workers {
            tx,
            db_wake,
            highlight: htx,
            db,
            renderer: Arc::new(std::sync::Mutex::new(None)),
            cancel: None,
            lint,
            server_major,
            args,
            cwd,
        }
    }

    fn carry_out(&mut self, effect: Effect) {
        match effect {
            Effect::Quit => {}
            Effect::Highlight { key, source, lang } => {
                let _ = self.highlight.send((key, source, lang));
            }
            Effect::RefreshDb => self.db_wake.notify_one(),
            Effect::Reload => {
                let (args, cwd, tx) = (self.args.clone(), self.cwd.clone(), self.tx.clone());
                tokio::task::spawn_blocking(move || {
                    let mut warn = Vec::new();
                    let result = commands::load_workspace(&args, &cwd, &mut warn)
                        .map(|ws| {
                            let warnings = String::from_utf8_lossy(&warn)
                                .lines()
                                .map(|l| l.trim_start_matches("warning: ").to_owned())
                                .collect();
                            (event::Loaded(Arc::new(ws)), warnings)
                        })
                        .map_err(|e| format!("{e:#}"));
                    let _ = tx.send(WorkerEvent::Reloaded(result));
                });
            }
            Effect::RenderSql {
                ws: event::Loaded(ws),
                key,
                upgrade,
            } => {
                let Some((settings, url)) = self.db.clone() else {
                    return;
                };
                let (tx, cache) = (self.tx.clone(), self.renderer.clone());
                tokio::task::spawn_blocking(move || {
                    let report = render_one(&ws, &settings, &url, &cache, key.revision, upgrade);
                    let _ = tx.send(WorkerEvent::Sql { key, report });
                });
            }
            Effect::Prepare {
                ws: event::Loaded(ws),
                steps,
            } => {
                let Some((settings, url)) = self.db.clone() else {
                    return;
                };
                let (tx, cache) = (self.tx.clone(), self.renderer.clone());
                let lint = self.lint_options();
                tokio::task::spawn_blocking(move || {
                    let renderer = renderer_for(&ws, &settings, &url, &cache);
                    let result = prepare::prepare(&ws, &settings, &lint, &renderer, &steps)
                        .map_err(|e| e.to_string());
                    let scripts = result.as_ref().map(|p| p.scripts()).ok();
                    let _ = tx.send(WorkerEvent::Prepared {
                        steps: steps.clone(),
                        result,
                    });
                    // Then the locks it will take, measured on a shadow database (cached by
                    // the steps' SQL), and who on the target stands in their way.
                    if let Some(scripts) = scripts {
                        let cache = crate::engine::locks::trace_cache();
                        let result = crate::engine::locks::report(
                            &ws,
                            &settings,
                            &url,
                            &scripts,
                            cache.as_deref(),
                            &Cancel::new(),
                        )
                        .map_err(|e| e.to_string());
                        let _ = tx.send(WorkerEvent::Locks { steps, result });
                    }
                });
            }
            Effect::Execute {
                ws: event::Loaded(ws),
                scripts,
            } => {
                let Some((settings, url)) = self.db.clone() else {
                    return;
                };
                let cancel = Cancel::new();
                self.cancel = Some(cancel.clone());
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let journal = match Journal::default_location() {
                        Ok(j) => j,
                        Err(err) => {
                            let _ = tx.send(WorkerEvent::Exec(exec::Event::Failed(
                                exec::ExecFailure {
                                    message: format!("no journal, so nothing runs: {err}"),
                                    ..Default::default()
                                },
                            )));
                            return;
                        }
                    };
                    let target = exec::Target {
                        alembic: AlembicCommand::new(&ws, &settings, &url),
                        url,
                        settings,
                        journal: Some(journal),
                    };
                    let (etx, mut erx) = mpsc::unbounded_channel();
                    let forward = {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            while let Some(event) = erx.recv().await {
                                if tx.send(WorkerEvent::Exec(event)).is_err() {
                                    break;
                                }
                            }
                        })
                    };
                    let outcome = exec::execute(&target, &scripts, &etx, &cancel).await;
                    if let Err(failure) = &outcome {
                        tracing::warn!("migration stopped: {failure}");
                    }
                    drop(etx);
                    let _ = forward.await;
                });
            }
            Effect::Lint { ws } => {
                let (tx, lint) = (self.tx.clone(), self.lint_options());
                let url = self.db.as_ref().map(|(_, url)| url.clone());
                tokio::task::spawn_blocking(move || {
                    let journal = Journal::default_location().ok();
                    let against = journal.as_ref().zip(url.as_ref());
                    let findings = console_findings(&ws.0, &lint, against);
                    let _ = tx.send(WorkerEvent::Findings { ws, findings });
                });
            }
            Effect::CheckAlembic {
                ws: event::Loaded(ws),
            } => {
                let Some((settings, url)) = self.db.clone() else {
                    return;
                };
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let alembic = AlembicCommand::new(&ws, &settings, &url);
                    let checked = crate::engine::alembic::check(&alembic);
                    let _ = tx.send(WorkerEvent::AlembicChecked(checked));
                });
            }
            Effect::CancelBackend { pid } => {
                let Some((settings, url)) = self.db.clone() else {
                    return;
                };
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let options = db::ConnectOptions {
                        read_only: settings.read_only,
                    };
                    let result = match db::connect(&url, options).await {
                        Ok(client) => db::locks::cancel_backend(&client, &url.url, pid)
                            .await
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = tx.send(WorkerEvent::BackendCancelled { pid, result });
                });
            }
            // The event loop hands the terminal to the editor and writes copies itself.
            Effect::Edit(_) | Effect::Copy(_) => {}
            Effect::ReadJournal { revision } => {
                let tx = self.tx.clone();
                let target = self
                    .db
                    .as_ref()
                    .map(|(_, url)| crate::config::redact(&url.url));
                tokio::task::spawn_blocking(move || {
                    let entries = Journal::default_location()
                        .and_then(|j| j.read_all())
                        .map(|all| {
                            all.into_iter()
                                .filter(|e| target.as_ref().is_none_or(|t| e.target == *t))
                                .filter(|e| revision.as_ref().is_none_or(|r| e.revision == *r))
                                .collect()
                        })
                        .map_err(|e| e.to_string());
                    let _ = tx.send(WorkerEvent::JournalRead { revision, entries });
                });
            }
            Effect::Save(files) => {
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    for (path, text) in files {
                        let line = match std::fs::write(&path, text) {
                            Ok(()) => format!("saved {}", path.display()),
                            Err(e) => format!("cannot save {}: {e}", path.display()),
                        };
                        let _ = tx.send(WorkerEvent::CheckProgress(line));
                    }
                });
            }
            Effect::Develop {
                ws: event::Loaded(ws),
                purpose,
                text,
            } => {
                let tx = self.tx.clone();
                let Some((settings, url)) = self.db.clone() else {
                    let _ = tx.send(WorkerEvent::Developed(Err(
                        "the alembic command runs with the target's URL, and there is none"
                            .to_owned(),
                    )));
                    return;
                };
                let alembic = AlembicCommand::new(&ws, &settings, &url);
                match purpose {
                    Purpose::NewRevision { autogenerate } => {
                        let mut args = vec!["revision".to_owned(), "-m".to_owned(), text];
                        if autogenerate {
                            args.push("--autogenerate".to_owned());
                        }
                        tokio::task::spawn_blocking(move || {
                            let result = crate::engine::alembic::generate(&alembic, &args)
                                .map(event::Developed::Generated);
                            let _ = tx.send(WorkerEvent::Developed(result));
                        });
                    }
                    Purpose::MergeHeads => {
                        let args = vec![
                            "merge".to_owned(),
                            "-m".to_owned(),
                            text,
                            "heads".to_owned(),
                        ];
                        tokio::task::spawn_blocking(move || {
                            let result = crate::engine::alembic::generate(&alembic, &args)
                                .map(event::Developed::Generated);
                            let _ = tx.send(WorkerEvent::Developed(result));
                        });
                    }
                    Purpose::Stamp { revision, rows } => {
                        let cancel = Cancel::new();
                        self.cancel = Some(cancel.clone());
                        tokio::spawn(async move {
                            let journal = match Journal::default_location() {
                                Ok(j) => j,
                                Err(err) => {
                                    let _ = tx.send(WorkerEvent::Developed(Err(format!(
                                        "no journal, so no stamp: {err}"
                                    ))));
                                    return;
                                }
                            };
                            let target = exec::Target {
                                alembic,
                                url,
                                settings,
                                journal: Some(journal),
                            };
                            // The stamp's progress is one alembic line; its outcome is what counts.
                            let (events, _) = mpsc::unbounded_channel();
                            let result = exec::stamp(&target, &revision, &rows, &events, &cancel)
                                .await
                                .map(event::Developed::Stamped)
                                .map_err(|e| e.to_string());
                            let _ = tx.send(WorkerEvent::Developed(result));
                        });
                    }
                }
            }
            Effect::Cancel => {
                if let Some(cancel) = &self.cancel {
                    cancel.cancel();
                }
            }
            Effect::Drift {
                ws: event::Loaded(ws),
            } => self.spawn_check(move |settings, url, cancel, progress| {
                let result = crate::engine::checks::drift(&ws, settings, url, cancel, progress);
                WorkerEvent::DriftChecked(result.map_err(|e| format!("{e:#}")))
            }),
            Effect::Verify {
                ws: event::Loaded(ws),
                revision,
            } => self.spawn_check(move |settings, url, cancel, progress| {
                let result = crate::engine::checks::verify(
                    &ws,
                    settings,
                    url,
                    Some(&revision),
                    cancel,
                    progress,
                );
                WorkerEvent::Verified {
                    revision,
                    result: result.map_err(|e| format!("{e:#}")),
                }
            }),
        }
    }
}

impl Workers {
    /// Runs a schema check (drift or verify) on a thread of its own — they block and run their
    /// own runtime — with a fresh cancel token for Ctrl-C and its progress lines forwarded.
    fn spawn_check<F>(&mut self, check: F)
    where
        F: FnOnce(&Settings, &ResolvedUrl, &Cancel, &mut dyn FnMut(&str)) -> WorkerEvent
            + Send
            + 'static,
    {
        let Some((settings, url)) = self.db.clone() else {
            return;
        };
        let cancel = Cancel::new();
        self.cancel = Some(cancel.clone());
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let progress_tx = tx.clone();
            let mut progress = |line: &str| {
                let _ = progress_tx.send(WorkerEvent::CheckProgress(line.to_owned()));
            };
            let done = check(&settings, &url, &cancel, &mut progress);
            let _ = tx.send(done);
        });
    }
}

/// The renderer for `ws`, built once per loaded workspace.
pub fn renderer_for(
    ws: &Arc<Workspace>,
    settings: &Settings,
    url: &ResolvedUrl,
    cache: &RendererSlot,
) -> Arc<Renderer> {
    let mut slot = match cache.lock() {
        Ok(slot) => slot,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some((generation, r)) = slot.as_ref() {
        if *generation == ws.generation {
            return r.clone();
        }
    }
    let renderer = Arc::new(Renderer::new(ws, settings, url, render_cache()));
    *slot = Some((ws.generation, renderer.clone()));
    renderer
}

/// Every revision's findings, by index into the project's revisions.
/// What the console shows: every revision's findings, and `edited-after-apply` where the journal
/// says a revision was applied to this database from a file that has changed since.
pub fn console_findings(
    ws: &Workspace,
    lint: &LintOptions,
    journal: Option<(&Journal, &ResolvedUrl)>,
) -> Vec<Vec<crate::analysis::Finding>> {
    let mut findings = lint_all(ws, lint);
    if let Some((journal, url)) = journal {
        let revs: Vec<&crate::project::Revision> = ws.project.revisions.iter().collect();
        let edited =
            crate::engine::journal::edited_since_applied(journal, url, &revs, lint, &mut |w| {
                tracing::warn!("{w}")
            });
        for finding in edited {
            if let Some(i) = revs.iter().position(|r| r.id == finding.revision) {
                findings[i].push(finding);
            }
        }
    }
    findings
}

pub fn lint_all(ws: &Workspace, lint: &LintOptions) -> Vec<Vec<crate::analysis::Finding>> {
    let revisions: Vec<&crate::project::Revision> = ws.project.revisions.iter().collect();
    let index: std::collections::HashMap<&str, usize> = ws
        .project
        .revisions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut out = vec![Vec::new(); revisions.len()];
    for finding in crate::analysis::lint_revisions(&revisions, lint) {
        if let Some(&i) = index.get(finding.revision.as_str()) {
            out[i].push(finding);
        }
    }
    out
}

/// The sql tab: one revision's upgrade (from its parents) or downgrade (to them), rendered.
fn render_one(
    ws: &Arc<Workspace>,
    settings: &Settings,
    url: &ResolvedUrl,
    cache: &RendererSlot,
    revision: usize,
    upgrade: bool,
) -> SqlReport {
    let Some(rev) = ws.project.revisions.get(revision) else {
        return SqlReport::Failed {
            reason: "the revision is gone (reloaded?)".to_owned(),
        };
    };
    let mut parents = rev.down_revisions.clone();
    parents.sort();
    let me = vec![rev.id.clone()];
    let step = if upgrade {
        Step {
            direction: Direction::Upgrade,
            revision: rev.id.clone(),
            heads_before: parents,
            heads_after: me,
        }
    } else {
        Step {
            direction: Direction::Downgrade,
            revision: rev.id.clone(),
            heads_before: me,
            heads_after: parents,
        }
    };
    let renderer = renderer_for(ws, settings, url, cache);
    match renderer.render(&ws.map, std::slice::from_ref(&step)) {
        Err(err) => SqlReport::Failed {
            reason: format!("{err:#}"),
        },
        Ok(scripts) => match scripts.into_iter().next().map(|s| s.body) {
            Some(StepBody::Sql(statements)) => SqlReport::Sql(
                statements
                    .iter()
                    .map(|s| {
                        if s.autocommit {
                            format!("-- runs alone, outside a transaction\n{};", s.text)
                        } else {
                            format!("{};", s.text)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            ),
            Some(StepBody::OnlineOnly { reason, .. }) => SqlReport::OnlineOnly { reason },
            None => SqlReport::Failed {
                reason: "alembic rendered nothing for this step".to_owned(),
            },
        },
    }
}

/// Reads the version table now and every `DB_POLL` (or when woken), reconnecting as needed;
/// reports every outcome so the status bar says why the database is missing.
async fn read_db(
    settings: Settings,
    url: ResolvedUrl,
    tx: mpsc::UnboundedSender<WorkerEvent>,
    wake: Arc<Notify>,
    server_major: Arc<AtomicU32>,
) {
    let table = VersionTable::of(&settings);
    let options = db::ConnectOptions { read_only: true };
    let mut client: Option<tokio_postgres::Client> = None;
    loop {
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            client = match tokio::time::timeout(CONNECT_TIMEOUT, db::connect(&url, options)).await {
                Ok(Ok(c)) => {
                    // Version-dependent review verdicts use the connected server's (150004 → 15).
                    if let Ok(row) = c.query_one("SHOW server_version_num", &[]).await {
                        if let Some(n) = row
                            .try_get::<_, String>(0)
                            .ok()
                            .and_then(|v| v.trim().parse::<u32>().ok())
                        {
                            server_major.store(n / 10_000, Ordering::Relaxed);
                        }
                    }
                    Some(c)
                }
                Ok(Err(err)) => {
                    tracing::warn!("database: {err}");
                    let _ = tx.send(WorkerEvent::Db(DbReport::Unreachable {
                        reason: err.to_string(),
                    }));
                    None
                }
                Err(_) => {
                    let _ = tx.send(WorkerEvent::Db(DbReport::Unreachable {
                        reason: format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
                    }));
                    None
                }
            };
        }
        if let Some(c) = &client {
            match table.read(c, &url.url).await {
                Ok(rows) => {
                    if tx.send(WorkerEvent::Db(DbReport::Rows(rows))).is_err() {
                        return;
                    }
                    // Best effort: a role that cannot read pg_locks just sees no notice.
                    let running = db::locks::migration_in_progress(c, &url.url, &table)
                        .await
                        .ok()
                        .flatten();
                    let _ = tx.send(WorkerEvent::Db(DbReport::Migrating(running)));
                }
                Err(err) => {
                    tracing::warn!("database: {err}");
                    let _ = tx.send(WorkerEvent::Db(DbReport::Unreachable {
                        reason: err.to_string(),
                    }));
                    client = None;
                }
            }
        }
        if tx.is_closed() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(DB_POLL) => {}
            _ = wake.notified() => {}
        }
    }
}
