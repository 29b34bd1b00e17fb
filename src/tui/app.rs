//! The console's state and its one `update`: an action in, the state changed and a list of
//! effects out (highlight this, read the database, quit). No I/O happens here, so tests drive the
//! whole app with key sequences and draw it into a test backend.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::analysis::Finding;
use crate::engine::exec;
use crate::engine::script::StepScript;
use crate::graph::{Direction, Step};
use crate::tui::action::Action;
use crate::tui::event::{BodyKey, DbReport, Loaded, Part, SqlReport, WorkerEvent};
use crate::tui::highlight::Lang;
use crate::tui::layout::{self, Areas};
use crate::tui::model::{DbView, Filter, Model};
use crate::tui::popups::confirm::{Answer, Confirm};
use crate::tui::popups::prompt::{self, Prompt, Purpose};
use crate::tui::stepping::{self, Outcome, Progress};
use crate::workspace::Workspace;

/// Milliseconds between ticks: the event loop ticks this often, and elapsed times on screen are
/// counted in ticks so the app never reads a clock.
pub const TICK_MS: u64 = 200;

/// The most log lines kept; older ones are dropped.
const LOG_LIMIT: usize = 2000;

/// The database the console points at, as it may be shown (never a password).
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub profile: Option<String>,
    /// `host:port/database`, or the socket directory for unix sockets.
    pub label: String,
    pub database: Option<String>,
    pub lock_timeout: Duration,
    pub statement_timeout: Option<Duration>,
    pub protected: bool,
    pub read_only: bool,
    /// Why there is no database URL at all, when there is none.
    pub no_url: Option<String>,
}

/// What the background reader last said about the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbState {
    Connecting,
    Connected,
    Unreachable { reason: String },
    NoUrl { reason: String },
}

/// The pane that has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Graph,
    Detail,
    Pending,
    Log,
}

/// What the sql tab shows for one revision and direction.
#[derive(Debug, Clone)]
pub enum SqlState {
    Loading,
    Ready(Vec<Line<'static>>),
    OnlineOnly { reason: String },
    Failed { reason: String },
}

/// A window on top of the panes.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    /// A problem the user must read (reload failed, a plan alembic refuses).
    Error {
        title: String,
        lines: Vec<String>,
    },
    Menu(Menu),
    /// The plan to review before anything runs.
    Confirm(Box<Confirm>),
    /// `K` while blocked: cancel the blocking session's statement, after typing its pid.
    CancelBlocker(crate::tui::popups::cancel_blocker::CancelBlocker),
    /// One line of text for the developer's loop (a message, a stamp's confirmation).
    Prompt(Prompt),
    /// What a drift check or a verify found, scrollable.
    Report {
        report: crate::tui::checks::Report,
        scroll: usize,
    },
}

/// A short list of choices (Enter on a revision; which branch to step).
#[derive(Debug, Clone)]
pub struct Menu {
    pub title: String,
    pub items: Vec<MenuItem>,
    pub selected: usize,
}

#[derive(Debug, Clone)]
pub struct MenuItem {
    pub label: String,
    pub choice: Choice,
}

/// What picking a menu item does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Merge the project's heads (`alembic merge`, asking for the message first).
    MergeHeads,
    /// Show a detail tab of the selected revision.
    ShowTab(Part),
    UpgradeTo(String),
    DowngradeTo(String),
    /// One step up towards this head.
    StepUpTo(String),
    /// One step down on the branch of this version-table row.
    StepDownFrom(String),
    /// Kept in the list so the digits stay put, but nothing to do: says why.
    Nothing(String),
}

/// A side effect for the event loop to carry out; results come back as `WorkerEvent`s.
#[derive(Debug, Clone)]
pub enum Effect {
    Quit,
    /// Highlight a body off the render path.
    Highlight {
        key: BodyKey,
        source: String,
        lang: Lang,
    },
    /// Render one revision's upgrade or downgrade to SQL in the background.
    RenderSql {
        ws: Loaded,
        key: BodyKey,
        upgrade: bool,
    },
    /// Read the version table now (not waiting for the next retry).
    RefreshDb,
    /// Read the project from disk again.
    Reload,
    /// Render and review these steps for the confirmation pane.
    Prepare {
        ws: Loaded,
        steps: Vec<Step>,
    },
    /// The developer's loop through the alembic command: a new revision, a merge, a stamp.
    Develop {
        ws: Loaded,
        purpose: Purpose,
        text: String,
    },
    /// Open this file in `$EDITOR` (the terminal is handed over), then read the project again.
    Edit(std::path::PathBuf),
    /// Put this text on the clipboard (OSC 52, written by the event loop).
    Copy(String),
    /// Read the journal's entries for this database (only `revision`'s when given).
    ReadJournal {
        revision: Option<String>,
    },
    /// Save a report: these files with these contents.
    Save(Vec<(std::path::PathBuf, String)>),
    /// Run the confirmed scripts through the executor.
    Execute {
        ws: Loaded,
        scripts: Vec<StepScript>,
    },
    /// Run the analysis rules over every revision.
    Lint {
        ws: Loaded,
    },
    /// Check that the profile's alembic command runs (stepping and the sql tab need it).
    CheckAlembic {
        ws: Loaded,
    },
    /// Cancel the running statement (or the running check's step).
    Cancel,
    /// Cancel another session's statement (the user typed its pid).
    CancelBackend {
        pid: i32,
    },
    /// Compare the database with what its history builds, on a shadow database.
    Drift {
        ws: Loaded,
    },
    /// Upgrade, downgrade and upgrade again one revision on a shadow database.
    Verify {
        ws: Loaded,
        revision: String,
    },
}

/// One line of the log pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// The whole state of the console.
pub struct App {
    /// A file alembic just generated: selected once the reload that reads it arrives.
    pub select_after_reload: Option<std::path::PathBuf>,
    pub ws: Arc<Workspace>,
    pub model: Model,
    pub target: Target,
    pub db: DbState,
    /// The last successful read of the version table (default until one succeeds).
    pub view: DbView,
    pub view_known: bool,
    pub selected: usize,
    /// First graph row on screen: only rows from here to the pane's height are drawn.
    pub graph_offset: usize,
    /// Which revisions the graph shows (`f`, `b`); `model` holds only those.
    pub filter: Filter,
    pub focus: Pane,
    pub tab: Part,
    pub detail_scroll: usize,
    /// Columns the detail pane's code is scrolled sideways (`<` `>`); 0 after a new selection.
    pub detail_hscroll: usize,
    pub pending_scroll: usize,
    pub log_scroll: usize,
    /// The search being typed, when the prompt is open.
    pub search: Option<String>,
    pub last_search: Option<String>,
    /// The rows the search being typed (or the last one) matches, highlighted in the graph.
    pub search_matches: HashSet<usize>,
    /// Where the selection was when `/` was pressed: typing searches onward from there.
    pub search_origin: usize,
    pub overlay: Option<Overlay>,
    /// Highlighted bodies by revision and tab.
    pub bodies: HashMap<BodyKey, Vec<Line<'static>>>,
    requested: HashSet<BodyKey>,
    pub sql: HashMap<BodyKey, SqlState>,
    pub log: Vec<LogLine>,
    /// A one-line note in the status bar (cleared by the next key).
    pub note: Option<String>,
    pub size: Rect,
    /// Ticks seen: drives spinners, never clocks (snapshots stay deterministic).
    pub ticks: u64,
    /// Whether the SQL tab can render at all, or why not.
    pub sql_unavailable: Option<String>,
    /// Why stepping is off (no alembic command, read-only profile), when it is.
    pub stepping_off: Option<String>,
    /// The plan being run, or the last one run (until the next starts).
    pub progress: Option<Progress>,
    /// Another session's migration in progress on this database (the poller's last word).
    pub migrating: Option<crate::db::locks::InProgress>,
    /// Findings by index into the project's revisions (empty until the analysis answered).
    pub findings: Vec<Vec<Finding>>,
    /// The drift check or verify running in the background, if one is.
    pub check: Option<crate::tui::checks::Check>,
    /// What verify found, by revision id (badges and the detail pane).
    pub verified: HashMap<String, crate::tui::checks::Verdict>,
    /// Bumped on every reload (body caches) and every version-table change (sql caches).
    generation: u64,
    sql_generation: u64,
    pub quitting: bool,
}

impl App {
    /// A console over a loaded workspace; the database starts as `Connecting` (or `NoUrl`).
    pub fn new(ws: Arc<Workspace>, target: Target, size: Rect) -> App {
        let model = Model::build(&ws);
        let db = match &target.no_url {
            Some(reason) => DbState::NoUrl {
                reason: reason.clone(),
            },
            None => DbState::Connecting,
        };
        let mut app = App {
            ws,
            model,
            target,
            db,
            view: DbView::default(),
            view_known: false,
            selected: 0,
            graph_offset: 0,
            filter: Filter::All,
            focus: Pane::Graph,
            tab: Part::Upgrade,
            detail_scroll: 0,
            detail_hscroll: 0,
            pending_scroll: 0,
            log_scroll: 0,
            search: None,
            last_search: None,
            search_matches: HashSet::new(),
            search_origin: 0,
            overlay: None,
            bodies: HashMap::new(),
            requested: HashSet::new(),
            sql: HashMap::new(),
            log: Vec::new(),
            note: None,
            size,
            ticks: 0,
            sql_unavailable: None,
            stepping_off: None,
            progress: None,
            migrating: None,
            findings: Vec::new(),
            check: None,
            verified: HashMap::new(),
            generation: 0,
            sql_generation: 0,
            quitting: false,
            select_after_reload: None,
        };
        if app.model.rows.is_empty() {
            app.note = Some("this project has no revisions yet".to_owned());
        }
        app
    }

    /// The effects the first frame needs (the selected body's highlighting).
    pub fn start(&mut self) -> Vec<Effect> {
        let mut effects = vec![Effect::Lint {
            ws: Loaded(self.ws.clone()),
        }];
        if self.target.no_url.is_none() {
            effects.push(Effect::CheckAlembic {
                ws: Loaded(self.ws.clone()),
            });
        }
        self.want_body(&mut effects);
        effects
    }

    /// The unsuppressed findings of a revision (by index into the project's revisions).
    pub fn findings_of(&self, revision: usize) -> impl Iterator<Item = &Finding> {
        self.findings
            .get(revision)
            .into_iter()
            .flatten()
            .filter(|f| f.suppressed.is_none())
    }

    /// Adds a line to the log pane.
    pub fn log(&mut self, level: Level, text: impl Into<String>) {
        for line in text.into().lines() {
            self.log.push(LogLine {
                level,
                text: line.to_owned(),
            });
        }
        if self.log.len() > LOG_LIMIT {
            let extra = self.log.len() - LOG_LIMIT;
            self.log.drain(..extra);
        }
    }

    /// The panes for the current size.
    pub fn areas(&self) -> Areas {
        let first = layout::areas(self.size, self.view.pending.len(), self.log.len());
        let Some(log) = first.log else {
            return first;
        };
        // Long log lines wrap: size the pane for the rows the newest lines take at its width.
        let width = (log.width.saturating_sub(2) as usize).max(1);
        let rows: usize = self
            .log
            .iter()
            .rev()
            .take(self.size.height as usize)
            .map(|l| l.text.chars().count().div_ceil(width).max(1))
            .sum();
        layout::areas(self.size, self.view.pending.len(), rows)
    }

    /// The selected row's revision file index, if any row is selected.
    pub fn selected_revision(&self) -> Option<usize> {
        self.model.rows.get(self.selected).map(|r| r.revision)
    }

    /// Handles one action.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mut effects = Vec::new();
        if !matches!(action, Action::Tick | Action::Worker(_)) {
            self.note = None;
        }
        match action {
            Action::Interrupt if self.check.is_some() => {
                if let Some(check) = self.check.as_mut() {
                    check.cancelling = true;
                }
                self.log(
                    Level::Warn,
                    "cancel requested: the check's running step is rolled back and its shadow database dropped",
                );
                effects.push(Effect::Cancel);
            }
            Action::Interrupt if self.running() => {
                if let Some(p) = self.progress.as_mut() {
                    p.cancelling = true;
                }
                self.log(
                    Level::Warn,
                    "cancel requested: the running statement is cancelled and its step rolled back",
                );
                effects.push(Effect::Cancel);
            }
            Action::Quit | Action::Interrupt if self.running() => {
                self.note =
                    Some("a migration is running: Ctrl-C cancels it, then q quits".to_owned());
            }
            Action::Interrupt if self.overlay.is_some() || self.search.is_some() => self.on_close(),
            Action::Quit | Action::Interrupt
                if self.search.is_none() && !matches!(self.overlay, Some(Overlay::Confirm(_))) =>
            {
                self.quitting = true;
                effects.push(Effect::Quit);
            }
            Action::Tick => self.ticks = self.ticks.wrapping_add(1),
            Action::Resize { width, height } => {
                self.size = Rect::new(0, 0, width, height);
                self.keep_visible();
            }
            Action::Worker(event) => self.on_worker(event, &mut effects),
            Action::Paste(text) => self.on_paste(&text, &mut effects),
            Action::Close => self.on_close(),
            _ if self.search.is_some() => self.on_search_key(action, &mut effects),
            _ if matches!(self.overlay, Some(Overlay::Confirm(_))) => {
                self.on_confirm_key(action, &mut effects)
            }
            _ if matches!(self.overlay, Some(Overlay::Prompt(_))) => {
                self.on_prompt_key(action, &mut effects)
            }
            _ if self.overlay.is_some() => self.on_overlay_key(action, &mut effects),
            other => self.on_key(other, &mut effects),
        }
        effects
    }

    /// A paste is text for the field that has focus (the search, the database name a protected
    /// profile asks for) without its line breaks; anywhere else it is dropped, never read as keys.
    fn on_paste(&mut self, text: &str, effects: &mut Vec<Effect>) {
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        if self.search.is_some() {
            for c in clean.chars() {
                self.on_search_key(Action::SearchChar(c), effects);
            }
        } else if let Some(Overlay::Prompt(p)) = self.overlay.as_mut() {
            p.paste(&clean);
        } else if let Some(Overlay::Confirm(confirm)) = self.overlay.as_mut() {
            if self.target.protected {
                confirm.typed.push_str(&clean);
            } else {
                self.note = Some("pasted text ignored: a paste never confirms a plan".to_owned());
            }
        } else {
            self.note = Some("pasted text ignored: a paste is never a command".to_owned());
        }
    }

    fn on_close(&mut self) {
        if self.search.take().is_some() {
            self.search_matches.clear();
            return;
        }
        if self.overlay.take().is_none() {
            // Esc with nothing open: the highlighted matches go too.
            self.search_matches.clear();
        }
    }

    fn on_key(&mut self, action: Action, effects: &mut Vec<Effect>) {
        match action {
            Action::Move(delta) => self.move_focused(delta, effects),
            Action::PageUp => self.move_focused(-(self.page() as i64), effects),
            Action::PageDown => self.move_focused(self.page() as i64, effects),
            Action::Top => self.move_focused(i64::MIN / 2, effects),
            Action::Bottom => self.move_focused(i64::MAX / 2, effects),
            Action::JumpCurrent => {
                let rows = self.view.rows.clone();
                self.jump_among(
                    &rows,
                    "the database is at base: no revision to show",
                    effects,
                )
            }
            Action::JumpPending => match self.view.pending.first().map(|s| s.revision.clone()) {
                Some(next) => self.jump_among(&[next], "", effects),
                None => self.note = Some("nothing pending".to_owned()),
            },
            Action::JumpHead => {
                let heads: Vec<String> =
                    self.ws.map.heads().into_iter().map(str::to_owned).collect();
                self.jump_among(&heads, "no heads", effects)
            }
            Action::Sideways(d) => self.detail_hscroll = add(self.detail_hscroll, d, 4096),
            Action::FilterPath => self.toggle_filter(Filter::Path, effects),
            Action::FilterBranch => {
                if let Some(row) = self.model.rows.get(self.selected) {
                    let branch = Filter::Lineage(row.id.clone());
                    self.toggle_filter(branch, effects);
                }
            }
            Action::FocusNext => self.cycle_focus(true),
            Action::FocusPrev => self.cycle_focus(false),
            Action::TabLeft => self.switch_tab(-1, effects),
            Action::TabRight => self.switch_tab(1, effects),
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::SearchStart => {
                self.search = Some(String::new());
                self.search_origin = self.selected;
            }
            Action::SearchNext(forward) => self.search_again(forward, effects),
            Action::Refresh => {
                effects.push(Effect::Reload);
                effects.push(Effect::RefreshDb);
                self.note = Some("refreshing…".to_owned());
            }
            Action::Open => self.open_menu(),
            Action::Scroll { x, y, delta } => self.scroll_at(x, y, delta, effects),
            Action::Click { x, y } => self.click(x, y, effects),
            Action::DriftCheck | Action::VerifySelected => self.start_check(action, effects),
            Action::CancelBlocker => {
                let blockers = self
                    .progress
                    .as_ref()
                    .filter(|_| self.running())
                    .map(|p| p.blockers.clone())
                    .unwrap_or_default();
                match crate::tui::popups::cancel_blocker::CancelBlocker::offer(&blockers) {
                    Ok(popup) => self.overlay = Some(Overlay::CancelBlocker(popup)),
                    Err(why) => self.note = Some(why),
                }
            }
            Action::StepUp
            | Action::StepDown
            | Action::UpgradeToSelected
            | Action::DowngradeToSelected
                if self.check.is_some() =>
            {
                self.note = Some(
                    "a schema check is running: wait for it (or Ctrl-C) before migrating"
                        .to_owned(),
                );
            }
            Action::StepUp => self.step_up(effects),
            Action::StepDown => self.step_down(effects),
            Action::NewRevision => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(Purpose::NewRevision {
                    autogenerate: false,
                })))
            }
            Action::MergeHeads if self.ws.map.heads().len() < 2 => {
                self.note = Some("one head: nothing to merge".to_owned())
            }
            Action::MergeHeads => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(Purpose::MergeHeads)))
            }
            Action::StampSelected => {
                let rows = self.rows_for_stepping();
                if let (Some(rows), Some(row)) = (rows, self.model.rows.get(self.selected)) {
                    self.overlay = Some(Overlay::Prompt(Prompt::new(Purpose::Stamp {
                        revision: row.id.clone(),
                        rows,
                    })));
                }
            }
            Action::Journal => effects.push(Effect::ReadJournal { revision: None }),
            Action::FocusPane(pane) => {
                let areas = self.areas();
                let shown = match pane {
                    Pane::Graph | Pane::Detail => true,
                    Pane::Pending => areas.pending.is_some(),
                    Pane::Log => areas.log.is_some(),
                };
                if shown {
                    self.focus = pane;
                } else {
                    self.note =
                        Some("that pane is not on screen (the terminal is too small)".to_owned());
                }
            }
            Action::Copy => {
                if let Some((what, text)) = self.copyable() {
                    self.note = Some(format!("copied {what} ({} bytes)", text.len()));
                    effects.push(Effect::Copy(text));
                }
            }
            Action::EditSelected => {
                if let Some(rev) = self
                    .model
                    .rows
                    .get(self.selected)
                    .and_then(|r| self.ws.project.revisions.get(r.revision))
                {
                    effects.push(Effect::Edit(rev.path.clone()));
                }
            }
            Action::UpgradeToSelected | Action::DowngradeToSelected => {
                let direction = if matches!(action, Action::UpgradeToSelected) {
                    Direction::Upgrade
                } else {
                    Direction::Downgrade
                };
                if let Some(row) = self.model.rows.get(self.selected) {
                    let id = row.id.clone();
                    self.plan_to(direction, &id, effects);
                }
            }
            _ => {}
        }
    }

    /// `x` (drift) and `v` (verify the selected revision): on a shadow database, in the
    /// background; one check at a time, never during a migration.
    fn start_check(&mut self, action: Action, effects: &mut Vec<Effect>) {
        use crate::tui::checks::{Check, CheckKind};
        if let Some(check) = &self.check {
            self.note = Some(format!("{} is still running", check.kind.label()));
            return;
        }
        if self.running() {
            self.note = Some("a migration is running: checks wait until it is done".to_owned());
            return;
        }
        if let Some(reason) = &self.target.no_url {
            self.note = Some(format!("checks need a database: {reason}"));
            return;
        }
        if let Some(reason) = &self.sql_unavailable {
            self.note = Some(format!(
                "checks replay the history through alembic: {reason}"
            ));
            return;
        }
        let ws = Loaded(self.ws.clone());
        let kind = match action {
            Action::DriftCheck => {
                effects.push(Effect::Drift { ws });
                CheckKind::Drift
            }
            _ => {
                let Some(row) = self.model.rows.get(self.selected) else {
                    return;
                };
                let revision = row.id.clone();
                effects.push(Effect::Verify {
                    ws,
                    revision: revision.clone(),
                });
                CheckKind::Verify { revision }
            }
        };
        self.log(
            Level::Info,
            format!("{} started on a shadow database", kind.label()),
        );
        self.check = Some(Check {
            kind,
            started: self.ticks,
            last: None,
            cancelling: false,
        });
    }

    /// A check's answer: the report window, the log, and verify's verdict for the badges.
    fn on_check_done(&mut self, report: Result<crate::tui::checks::Report, String>) {
        let label = self
            .check
            .take()
            .map_or_else(|| "check".to_owned(), |c| c.kind.label());
        match report {
            Ok(report) => {
                for (_, line) in report.lines.iter().take(2) {
                    self.log(Level::Info, format!("{label}: {line}"));
                }
                self.overlay = Some(Overlay::Report { report, scroll: 0 });
            }
            Err(reason) => {
                self.log(Level::Error, format!("{label} failed: {reason}"));
                self.overlay = Some(Overlay::Error {
                    title: format!("{label} failed"),
                    lines: reason.lines().map(str::to_owned).collect(),
                });
            }
        }
    }

    /// Whether a plan is running now.
    pub fn running(&self) -> bool {
        self.progress.as_ref().is_some_and(|p| p.outcome.is_none())
    }

    /// The version table's rows when stepping may start; otherwise says why not.
    fn rows_for_stepping(&mut self) -> Option<Vec<String>> {
        let why = if self.running() {
            Some("a migration is already running".to_owned())
        } else if let Some(off) = &self.stepping_off {
            Some(off.clone())
        } else if self.target.read_only {
            Some("this profile is read-only: stepping is off".to_owned())
        } else {
            match &self.db {
                DbState::Connected if self.view_known => None,
                DbState::NoUrl { reason } => Some(format!("stepping needs a database: {reason}")),
                DbState::Unreachable { .. } => {
                    Some("the database is unreachable: stepping waits for it".to_owned())
                }
                _ => Some("the database has not been read yet".to_owned()),
            }
        };
        match why {
            Some(why) => {
                self.note = Some(why);
                None
            }
            None => Some(self.view.rows.clone()),
        }
    }

    /// Graph order (newest first, as drawn): menus list branches in it, so a digit keeps naming
    /// the same branch from one press to the next.
    fn in_graph_order(&self, mut ids: Vec<String>) -> Vec<String> {
        ids.sort_by_key(|id| self.model.position(id).unwrap_or(usize::MAX));
        ids
    }

    /// ` (label, …)` for a revision that carries branch labels, declared or inherited.
    fn labels_of(&self, id: &str) -> String {
        match self.ws.map.get(id).map(|n| self.ws.map.branch_labels(n)) {
            Some(labels) if !labels.is_empty() => format!(" ({})", labels.join(", ")),
            _ => String::new(),
        }
    }

    fn step_up(&mut self, effects: &mut Vec<Effect>) {
        let Some(rows) = self.rows_for_stepping() else {
            return;
        };
        // Every head, always, in graph order: one that is up to date stays in the menu (and
        // says so) so the digits of the others do not move.
        let heads =
            self.in_graph_order(self.ws.map.heads().into_iter().map(str::to_owned).collect());
        let next: Vec<(String, Option<Step>)> = heads
            .into_iter()
            .map(|h| {
                let first = stepping::one_step_up(&self.ws, &rows, &h)
                    .ok()
                    .and_then(|s| s.into_iter().next());
                (h, first)
            })
            .collect();
        let mut firsts: Vec<&str> = next
            .iter()
            .filter_map(|(_, s)| s.as_ref().map(|s| s.revision.as_str()))
            .collect();
        firsts.sort_unstable();
        firsts.dedup();
        match firsts.len() {
            0 => self.note = Some("up to date: nothing to upgrade".to_owned()),
            // Heads whose next step is the same revision need no choice.
            1 => {
                let Some(head) = next
                    .iter()
                    .find(|(_, s)| s.is_some())
                    .map(|(h, _)| h.clone())
                else {
                    return;
                };
                self.confirm_plan(
                    "upgrade one step".to_owned(),
                    stepping::one_step_up(&self.ws, &rows, &head),
                    effects,
                );
            }
            _ => {
                let items = next
                    .iter()
                    .map(|(head, first)| match first {
                        Some(step) => MenuItem {
                            label: format!(
                                "towards {}{}: next {}",
                                short(head),
                                self.labels_of(head),
                                self.describe(&step.revision)
                            ),
                            choice: Choice::StepUpTo(head.clone()),
                        },
                        None => MenuItem {
                            label: format!("{}{}: up to date", short(head), self.labels_of(head)),
                            choice: Choice::Nothing(format!(
                                "{} is up to date: nothing to upgrade on that branch",
                                short(head)
                            )),
                        },
                    })
                    .collect();
                self.overlay = Some(Overlay::Menu(Menu {
                    title: "upgrade one step on which branch?".to_owned(),
                    items,
                    selected: 0,
                }));
            }
        }
    }

    fn step_down(&mut self, effects: &mut Vec<Effect>) {
        let Some(rows) = self.rows_for_stepping() else {
            return;
        };
        match rows.as_slice() {
            [] => self.note = Some("at base: nothing to downgrade".to_owned()),
            [row] => {
                let row = row.clone();
                self.confirm_plan(
                    "downgrade one step".to_owned(),
                    stepping::one_step_down(&self.ws, &rows, &row),
                    effects,
                );
            }
            many => {
                // Graph order, not the version table's physical row order (which changes as
                // rows are updated).
                let items = self
                    .in_graph_order(many.to_vec())
                    .iter()
                    .map(|r| {
                        let to = stepping::one_step_down(&self.ws, &rows, r)
                            .ok()
                            .and_then(|s| s.into_iter().next())
                            .map(|s| {
                                let after: Vec<&str> =
                                    s.heads_after.iter().map(|h| short(h)).collect();
                                if after.is_empty() {
                                    "base".to_owned()
                                } else {
                                    after.join(", ")
                                }
                            })
                            .unwrap_or_else(|| "?".to_owned());
                        MenuItem {
                            label: format!(
                                "from {}{}: the database goes to [{to}]",
                                self.describe(r),
                                self.labels_of(r)
                            ),
                            choice: Choice::StepDownFrom(r.clone()),
                        }
                    })
                    .collect();
                self.overlay = Some(Overlay::Menu(Menu {
                    title: "downgrade one step on which branch?".to_owned(),
                    items,
                    selected: 0,
                }));
            }
        }
    }

    fn plan_to(&mut self, direction: Direction, id: &str, effects: &mut Vec<Effect>) {
        let Some(rows) = self.rows_for_stepping() else {
            return;
        };
        let word = match direction {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        };
        self.confirm_plan(
            format!("{word} to {}", short(id)),
            stepping::to_revision(&self.ws, &rows, direction, id),
            effects,
        );
    }

    /// `id message` of a revision, for menus.
    fn describe(&self, id: &str) -> String {
        let message = self
            .model
            .position(id)
            .and_then(|p| self.model.rows.get(p))
            .map_or("", |r| r.message.as_str());
        format!("{} {message}", short(id))
    }

    /// Opens the confirmation for a plan (rendering starts in the background), or says why not.
    fn confirm_plan(
        &mut self,
        title: String,
        plan: Result<Vec<Step>, String>,
        effects: &mut Vec<Effect>,
    ) {
        match plan {
            Err(reason) => {
                self.overlay = Some(Overlay::Error {
                    title: "alembic would refuse this".to_owned(),
                    lines: vec![reason],
                });
            }
            Ok(steps) if steps.is_empty() => {
                self.note = Some(format!("{title}: nothing to do"));
            }
            Ok(steps) => {
                effects.push(Effect::Prepare {
                    ws: Loaded(self.ws.clone()),
                    steps: steps.clone(),
                });
                self.overlay = Some(Overlay::Confirm(Box::new(Confirm::new(title, steps))));
            }
        }
    }

    /// What `Y` copies where the focus is: the selected id, or the detail tab's text.
    fn copyable(&self) -> Option<(String, String)> {
        let row = self.model.rows.get(self.selected)?;
        if self.focus != Pane::Detail {
            return Some(("the revision id".to_owned(), row.id.clone()));
        }
        let rev = self.ws.project.revisions.get(row.revision)?;
        match self.tab {
            Part::Upgrade => rev
                .upgrade
                .as_ref()
                .map(|b| ("upgrade()".to_owned(), b.source.clone())),
            Part::Downgrade => rev
                .downgrade
                .as_ref()
                .map(|b| ("downgrade()".to_owned(), b.source.clone())),
            Part::Sql => match self.sql.get(&self.key(row.revision, Part::Sql)) {
                Some(SqlState::Ready(lines)) => Some((
                    "the SQL".to_owned(),
                    lines
                        .iter()
                        .map(|l| {
                            l.spans
                                .iter()
                                .map(|s| s.content.as_ref())
                                .collect::<String>()
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                )),
                _ => None,
            },
        }
    }

    /// Keys go to the prompt; the app carries out what it answers.
    fn on_prompt_key(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Overlay::Prompt(p)) = self.overlay.as_mut() else {
            return;
        };
        match p.on_key(action, &self.target) {
            prompt::Answer::Stay => {}
            prompt::Answer::Close => self.overlay = None,
            prompt::Answer::Note(note) => self.note = Some(note),
            prompt::Answer::Submit(purpose, text) => {
                self.overlay = None;
                let what = match &purpose {
                    Purpose::NewRevision { .. } => format!("creating revision {text:?}…"),
                    Purpose::MergeHeads => format!("merging the heads as {text:?}…"),
                    Purpose::Stamp { revision, .. } => format!("stamping {}…", short(revision)),
                };
                self.log(Level::Info, what.clone());
                self.note = Some(what);
                effects.push(Effect::Develop {
                    ws: Loaded(self.ws.clone()),
                    purpose,
                    text,
                });
            }
        }
    }

    /// Keys go to the confirmation popup; the app carries out its answer.
    fn on_confirm_key(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Overlay::Confirm(confirm)) = self.overlay.as_mut() else {
            return;
        };
        match confirm.on_key(action, &self.target) {
            Answer::Stay => {}
            Answer::Close => self.overlay = None,
            Answer::Note(note) => self.note = Some(note),
            Answer::Run(scripts) => {
                let title = confirm.title.clone();
                self.overlay = None;
                self.progress = Some(Progress {
                    steps: scripts
                        .iter()
                        .map(|s| (s.step.direction, s.step.revision.clone()))
                        .collect(),
                    started_tick: self.ticks,
                    ..Progress::default()
                });
                self.log(
                    Level::Info,
                    format!("running {title}: {} step(s)", scripts.len()),
                );
                effects.push(Effect::Execute {
                    ws: Loaded(self.ws.clone()),
                    scripts,
                });
            }
        }
    }

    fn on_exec(&mut self, event: exec::Event, effects: &mut Vec<Effect>) {
        let Some(progress) = self.progress.as_mut() else {
            return;
        };
        let mut log: Vec<(Level, String)> = Vec::new();
        match event {
            exec::Event::PlanStarted { steps } => {
                log.push((Level::Info, format!("advisory lock held; {steps} step(s)")))
            }
            exec::Event::StepStarted { index, of, step } => {
                progress.step = Some(index);
                progress.statement = None;
                let word = crate::engine::script::direction_word(step.direction);
                log.push((
                    Level::Info,
                    format!("step {}/{of}: {word} {}", index + 1, step.revision),
                ));
            }
            exec::Event::Statement {
                index, of, text, ..
            } => {
                progress.statement = Some((index, of));
                let first = text.lines().next().unwrap_or_default().to_owned();
                log.push((Level::Info, format!("  {}/{of} {first}", index + 1)));
            }
            exec::Event::StatementDone { .. } => {
                progress.blocked = None;
                progress.blockers.clear();
            }
            exec::Event::Notice { severity, message } => {
                log.push((Level::Warn, format!("  {severity}: {message}")))
            }
            exec::Event::Output { line } => log.push((Level::Info, format!("  | {line}"))),
            exec::Event::Blocked {
                waiting_for,
                blocked_by,
            } => {
                let text = crate::db::locks::waiting_text(waiting_for.as_ref(), &blocked_by);
                progress.blocked = (!blocked_by.is_empty()).then(|| text.clone());
                let level = if blocked_by.is_empty() {
                    Level::Info
                } else {
                    Level::Warn
                };
                progress.blockers = blocked_by;
                log.push((level, format!("  {text}")));
            }
            exec::Event::StepDone { index, elapsed } => {
                progress.done = index + 1;
                log.push((
                    Level::Info,
                    format!("step {} done in {} ms", index + 1, elapsed.as_millis()),
                ));
            }
            exec::Event::Failed(failure) => {
                log.push((Level::Error, format!("failed: {failure}")));
                self.overlay = Some(Overlay::Error {
                    title: "the migration failed and its step was rolled back".to_owned(),
                    lines: failure_lines(&failure),
                });
                progress.outcome = Some(Outcome::Failed(failure));
                effects.push(Effect::RefreshDb);
            }
            exec::Event::Cancelled { step } => {
                log.push((
                    Level::Warn,
                    "cancelled; the running step was rolled back".to_owned(),
                ));
                progress.outcome = Some(Outcome::Cancelled { step });
                effects.push(Effect::RefreshDb);
            }
            exec::Event::PlanDone { elapsed } => {
                log.push((Level::Info, format!("done in {} ms", elapsed.as_millis())));
                progress.outcome = Some(Outcome::Done {
                    elapsed_ms: elapsed.as_millis(),
                });
                effects.push(Effect::RefreshDb);
            }
        }
        for (level, text) in log {
            self.log(level, text);
        }
    }

    fn on_search_key(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(query) = self.search.as_mut() else {
            return;
        };
        match action {
            // Incremental: every key moves to the first match from where `/` was pressed.
            Action::SearchChar(_) | Action::SearchBackspace => {
                match action {
                    Action::SearchChar(c) => query.push(c),
                    _ => {
                        query.pop();
                    }
                }
                let query = query.clone();
                let matches = self.model.search(&self.ws, &query);
                let origin = self.search_origin;
                let next = matches
                    .iter()
                    .find(|&&i| i >= origin)
                    .or(matches.first())
                    .copied();
                self.search_matches = matches.into_iter().collect();
                match next {
                    Some(row) => self.select(row, effects),
                    None => self.select(origin, effects),
                }
            }
            Action::SearchSubmit => {
                let query = self.search.take().unwrap_or_default();
                if !query.trim().is_empty() {
                    self.last_search = Some(query.clone());
                    // Typing already moved to the first match: Enter stays there.
                    let matches = self.model.search(&self.ws, &query);
                    match matches.iter().position(|&m| m == self.selected) {
                        Some(at) => {
                            self.note =
                                Some(format!("/{query}: match {} of {}", at + 1, matches.len()))
                        }
                        None => self.search_again(true, effects),
                    }
                }
            }
            _ => {}
        }
    }

    fn on_overlay_key(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(overlay) = self.overlay.as_mut() else {
            return;
        };
        match overlay {
            Overlay::Help { scroll } => match action {
                Action::Move(d) => *scroll = add(*scroll, d, usize::MAX),
                Action::PageDown => *scroll = scroll.saturating_add(10),
                Action::PageUp => *scroll = scroll.saturating_sub(10),
                Action::Top => *scroll = 0,
                Action::Help | Action::Quit | Action::Open => self.overlay = None,
                _ => {}
            },
            Overlay::Confirm(_) | Overlay::Prompt(_) => {}
            Overlay::CancelBlocker(popup) => {
                use crate::tui::popups::cancel_blocker::Answer;
                match popup.on_key(action) {
                    Answer::Stay => {}
                    Answer::Close => self.overlay = None,
                    Answer::Note(note) => self.note = Some(note),
                    Answer::Cancel(pid) => {
                        self.overlay = None;
                        self.log(
                            Level::Warn,
                            format!("asking the server to cancel pid {pid}'s statement"),
                        );
                        effects.push(Effect::CancelBackend { pid });
                    }
                }
            }
            Overlay::Report { scroll, report } => match action {
                // In the journal window, J narrows it to the selected revision.
                Action::Journal if report.title.starts_with("journal") => {
                    let revision = self.model.rows.get(self.selected).map(|r| r.id.clone());
                    effects.push(Effect::ReadJournal { revision });
                }
                Action::Copy => {
                    let text = report.text();
                    self.note = Some(format!("copied the report ({} bytes)", text.len()));
                    effects.push(Effect::Copy(text));
                }
                Action::SaveReport => {
                    let stamp = crate::engine::journal::utc_now().replace([':', '.'], "-");
                    let base = format!(
                        "alembic-tui-{}-{stamp}",
                        report
                            .title
                            .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                    );
                    let json = serde_json::to_string_pretty(&report.json).unwrap_or_default();
                    let files = vec![
                        (
                            std::path::PathBuf::from(format!("{base}.txt")),
                            report.text(),
                        ),
                        (
                            std::path::PathBuf::from(format!("{base}.json")),
                            json + "\n",
                        ),
                    ];
                    self.note = Some(format!("saving {base}.txt and {base}.json"));
                    effects.push(Effect::Save(files));
                }
                Action::Move(d) => *scroll = add(*scroll, d, usize::MAX),
                Action::PageDown => *scroll = scroll.saturating_add(10),
                Action::PageUp => *scroll = scroll.saturating_sub(10),
                Action::Top => *scroll = 0,
                Action::Open | Action::Quit | Action::Confirm => self.overlay = None,
                _ => {}
            },
            Overlay::Error { .. } => {
                if matches!(action, Action::Open | Action::Quit | Action::Confirm) {
                    self.overlay = None;
                }
            }
            Overlay::Menu(menu) => match action {
                Action::Move(d) => {
                    menu.selected = add(menu.selected, d, menu.items.len().saturating_sub(1))
                }
                Action::Open | Action::MenuPick(None) => {
                    let pick = menu.selected;
                    self.pick(pick, effects);
                }
                Action::MenuPick(Some(i)) => self.pick(i, effects),
                Action::Quit => self.overlay = None,
                _ => {}
            },
        }
    }

    fn pick(&mut self, index: usize, effects: &mut Vec<Effect>) {
        let Some(Overlay::Menu(menu)) = self.overlay.take() else {
            return;
        };
        let Some(item) = menu.items.get(index) else {
            self.overlay = Some(Overlay::Menu(menu));
            return;
        };
        match &item.choice {
            Choice::ShowTab(part) => {
                self.tab = *part;
                self.detail_scroll = 0;
                self.focus = Pane::Detail;
                self.want_body(effects);
            }
            Choice::UpgradeTo(id) => self.plan_to(Direction::Upgrade, &id.clone(), effects),
            Choice::DowngradeTo(id) => self.plan_to(Direction::Downgrade, &id.clone(), effects),
            Choice::StepUpTo(head) => {
                if let Some(rows) = self.rows_for_stepping() {
                    let plan = stepping::one_step_up(&self.ws, &rows, head);
                    self.confirm_plan("upgrade one step".to_owned(), plan, effects);
                }
            }
            Choice::StepDownFrom(row) => {
                if let Some(rows) = self.rows_for_stepping() {
                    let plan = stepping::one_step_down(&self.ws, &rows, row);
                    self.confirm_plan("downgrade one step".to_owned(), plan, effects);
                }
            }
            Choice::MergeHeads => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(Purpose::MergeHeads)))
            }
            Choice::Nothing(why) => self.note = Some(why.clone()),
        }
    }

    fn open_menu(&mut self) {
        let Some(row) = self.model.rows.get(self.selected) else {
            return;
        };
        let id = row.id.clone();
        let short = short(&id).to_owned();
        let heads = self.ws.map.heads().len();
        let merge = (row.head && heads > 1).then(|| MenuItem {
            label: format!("merge the {heads} heads into one (alembic merge; m)"),
            choice: Choice::MergeHeads,
        });
        let items = vec![
            MenuItem {
                label: format!("upgrade to {short}"),
                choice: Choice::UpgradeTo(id.clone()),
            },
            MenuItem {
                label: format!("downgrade to {short}"),
                choice: Choice::DowngradeTo(id.clone()),
            },
            MenuItem {
                label: "show upgrade()".to_owned(),
                choice: Choice::ShowTab(Part::Upgrade),
            },
            MenuItem {
                label: "show downgrade()".to_owned(),
                choice: Choice::ShowTab(Part::Downgrade),
            },
            MenuItem {
                label: "show sql".to_owned(),
                choice: Choice::ShowTab(Part::Sql),
            },
        ]
        .into_iter()
        .chain(merge)
        .collect();
        self.overlay = Some(Overlay::Menu(Menu {
            title: format!("{short} {}", row.message),
            items,
            selected: 0,
        }));
    }

    fn on_worker(&mut self, event: WorkerEvent, effects: &mut Vec<Effect>) {
        match event {
            WorkerEvent::CheckProgress(line) => {
                self.log(Level::Info, line.clone());
                if let Some(check) = self.check.as_mut() {
                    check.last = Some(line);
                }
            }
            WorkerEvent::DriftChecked(result) => {
                let report = result.map(|r| crate::tui::checks::drift_report(&r));
                self.on_check_done(report);
            }
            WorkerEvent::Verified { revision, result } => {
                let verdict = match &result {
                    Ok(r) => crate::tui::checks::verdict(r, &revision),
                    Err(reason) => crate::tui::checks::Verdict::Failed(reason.clone()),
                };
                self.verified.insert(revision.clone(), verdict);
                let report = result.map(|r| crate::tui::checks::verify_report(&r, &revision));
                self.on_check_done(report);
            }
            WorkerEvent::Db(DbReport::Rows(rows)) => {
                let was = std::mem::replace(&mut self.db, DbState::Connected);
                if let DbState::Unreachable { .. } = was {
                    self.log(Level::Info, "database reachable again");
                }
                if self.view_known && self.view.rows == rows {
                    // The poller reports every few seconds; planning a long history is not free.
                    return;
                }
                if self.view_known {
                    // The sql tab shows the next step of each revision, which just changed.
                    self.forget_sql();
                }
                let first_read = !self.view_known;
                if self.filter == Filter::Path {
                    // The path starts at the rows that just changed.
                    if let Some(why) = self.rebuild_model(Some(rows), effects) {
                        self.note = Some(format!("filter off: {why}"));
                    }
                } else {
                    self.view = DbView::new(&self.ws, &self.model, rows);
                }
                // The console opens on the database's revision (when the user has not moved yet).
                if first_read && self.selected == 0 {
                    if let Some(row) = self
                        .view
                        .rows
                        .iter()
                        .filter_map(|r| self.model.position(r))
                        .min()
                    {
                        self.select(row, effects);
                    }
                }
                if let Some(err) = &self.view.plan_error {
                    let err = format!("cannot plan upgrade heads: {err}");
                    if !self.log.iter().any(|l| l.text == err) {
                        self.log(Level::Error, err);
                    }
                }
                self.view_known = true;
                self.pending_scroll = 0;
            }
            WorkerEvent::Db(DbReport::Migrating(running)) => {
                // Our own plan holds the lock while it runs: that is no news.
                let running = running.filter(|_| !self.running());
                if running != self.migrating {
                    match &running {
                        Some(r) => self.log(Level::Warn, r.to_string()),
                        None if self.migrating.is_some() => {
                            self.log(Level::Info, "the other migration has ended")
                        }
                        None => {}
                    }
                    self.migrating = running;
                }
            }
            WorkerEvent::Db(DbReport::Unreachable { reason }) => {
                if !matches!(&self.db, DbState::Unreachable { reason: r } if *r == reason) {
                    self.log(Level::Warn, format!("database unreachable: {reason}"));
                }
                self.db = DbState::Unreachable { reason };
            }
            WorkerEvent::Highlighted { key, lines } => {
                if key == self.key(key.revision, key.part) {
                    self.bodies.insert(key, lines);
                }
            }
            WorkerEvent::Sql { key, report } => {
                if key != self.key(key.revision, Part::Sql) {
                    return;
                }
                let state = match report {
                    SqlReport::Sql(text) => {
                        effects.push(Effect::Highlight {
                            key,
                            source: text.clone(),
                            lang: Lang::Sql,
                        });
                        SqlState::Ready(crate::tui::highlight::plain(&text))
                    }
                    SqlReport::OnlineOnly { reason } => SqlState::OnlineOnly { reason },
                    SqlReport::Failed { reason } => SqlState::Failed { reason },
                };
                self.sql.insert(key, state);
            }
            WorkerEvent::Prepared { steps, result } => {
                // A late answer for a plan the user already left must never fill in another
                // plan's pane: it has to be for exactly these steps.
                if let Some(Overlay::Confirm(confirm)) = self
                    .overlay
                    .as_mut()
                    .filter(|o| matches!(o, Overlay::Confirm(c) if c.steps == steps))
                {
                    confirm.answered(result);
                }
            }
            WorkerEvent::Locks { steps, result } => {
                if let Some(Overlay::Confirm(confirm)) = self
                    .overlay
                    .as_mut()
                    .filter(|o| matches!(o, Overlay::Confirm(c) if c.steps == steps))
                {
                    confirm.locks = Some(result);
                }
            }
            WorkerEvent::Exec(event) => self.on_exec(event, effects),
            WorkerEvent::BackendCancelled { pid, result } => match result {
                Ok(true) => self.log(Level::Info, format!("pid {pid}'s statement was cancelled")),
                Ok(false) => self.log(
                    Level::Warn,
                    format!("pid {pid} was not signalled (it ended, or the server refused)"),
                ),
                Err(e) => self.log(Level::Error, format!("cancelling pid {pid}: {e}")),
            },
            WorkerEvent::AlembicChecked(Ok(version)) => {
                self.log(Level::Info, format!("alembic: {version}"));
            }
            WorkerEvent::AlembicChecked(Err(reason)) => {
                let why =
                    format!("stepping and the sql tab need a working alembic command: {reason}");
                self.log(Level::Error, why.clone());
                self.stepping_off = Some(why.clone());
                self.sql_unavailable = Some(why);
                self.forget_sql();
            }
            WorkerEvent::Findings { ws, findings } => {
                // Findings of a project since reloaded would be put on the wrong revisions.
                if ws.0.generation == self.ws.generation {
                    self.findings = findings;
                }
            }
            WorkerEvent::Developed(Ok(crate::tui::event::Developed::Generated(path))) => {
                self.log(Level::Info, format!("alembic wrote {}", path.display()));
                self.select_after_reload = Some(path);
                effects.push(Effect::Reload);
            }
            WorkerEvent::Developed(Ok(crate::tui::event::Developed::Stamped(rows))) => {
                let rows = if rows.is_empty() {
                    "base".to_owned()
                } else {
                    rows.join(", ")
                };
                let what = format!("stamped: the version table holds [{rows}] (journaled)");
                self.log(Level::Info, what.clone());
                self.note = Some(what);
                effects.push(Effect::RefreshDb);
            }
            // Not while a plan runs: its scripts were rendered from the files as they were.
            WorkerEvent::FilesChanged if !self.running() => {
                self.note = Some("revision files changed: reading the project again".to_owned());
                effects.push(Effect::Reload);
            }
            WorkerEvent::FilesChanged => {}
            WorkerEvent::JournalRead { revision, entries } => match entries {
                Ok(entries) => {
                    let report = crate::tui::checks::journal_report(&entries, revision.as_deref());
                    self.overlay = Some(Overlay::Report { report, scroll: 0 });
                }
                Err(reason) => self.note = Some(format!("cannot read the journal: {reason}")),
            },
            WorkerEvent::Developed(Err(reason)) => {
                self.log(Level::Error, reason.clone());
                self.overlay = Some(Overlay::Error {
                    title: "alembic did not do it".to_owned(),
                    lines: vec![reason],
                });
            }
            WorkerEvent::Reloaded(Ok((ws, warnings))) => {
                self.replace_workspace(ws.0, effects);
                // A revision alembic just wrote opens selected, with its findings.
                if let Some(path) = self.select_after_reload.take() {
                    let found = self
                        .ws
                        .project
                        .revisions
                        .iter()
                        .find(|r| same_file(&r.path, &path))
                        .and_then(|r| self.model.position(&r.id));
                    if let Some(row) = found {
                        self.focus = Pane::Graph;
                        self.select(row, effects);
                        self.note =
                            Some(format!("new revision {}", short(&self.model.rows[row].id)));
                    }
                }
                // Files that no longer parse are left out of the graph: say which, loudly.
                if !warnings.is_empty() {
                    self.note = Some(format!(
                        "{} revisions loaded · {} warning(s), e.g. {} (all in the log)",
                        self.model.rows.len(),
                        warnings.len(),
                        warnings[0]
                    ));
                }
                for warning in warnings {
                    self.log(Level::Warn, warning);
                }
            }
            WorkerEvent::Reloaded(Err(reason)) => {
                self.log(Level::Error, format!("reload failed: {reason}"));
                self.overlay = Some(Overlay::Error {
                    title: "cannot read the project again".to_owned(),
                    lines: reason.lines().map(str::to_owned).collect(),
                });
            }
        }
    }

    /// A freshly loaded project: keep the selected revision when it still exists.
    fn replace_workspace(&mut self, ws: Arc<Workspace>, effects: &mut Vec<Effect>) {
        self.ws = ws;
        self.generation += 1;
        self.sql_generation += 1;
        self.findings.clear();
        effects.push(Effect::Lint {
            ws: Loaded(self.ws.clone()),
        });
        self.bodies.clear();
        self.requested.clear();
        self.sql.clear();
        let rows = self.view_known.then(|| std::mem::take(&mut self.view.rows));
        let filter_off = self.rebuild_model(rows, effects);
        let loaded = format!("{} revisions loaded", self.ws.map.len());
        self.note = Some(match filter_off {
            Some(why) => format!("{loaded}; filter off: {why}"),
            None => loaded,
        });
    }

    /// Lays the graph out again for the filter and the version table's `rows` (`None`: not
    /// read), keeping the selected revision when it is still shown (else the database's). A
    /// filter that no longer applies is switched off; the reason is returned.
    fn rebuild_model(
        &mut self,
        rows: Option<Vec<String>>,
        effects: &mut Vec<Effect>,
    ) -> Option<String> {
        let selected_id = self.model.rows.get(self.selected).map(|r| r.id.clone());
        let (keep, off) = match self.filter.keep(&self.ws, rows.as_deref()) {
            Ok(keep) => (keep, None),
            Err(why) => {
                self.filter = Filter::All;
                (None, Some(why))
            }
        };
        self.model = Model::build_only(&self.ws, keep.as_ref());
        self.search_matches.clear();
        self.view = match rows {
            Some(rows) => DbView::new(&self.ws, &self.model, rows),
            None => DbView::default(),
        };
        let db_row = || {
            self.view
                .rows
                .iter()
                .filter_map(|r| self.model.position(r))
                .min()
        };
        self.selected = selected_id
            .and_then(|id| self.model.position(&id))
            .or_else(db_row)
            .unwrap_or(0);
        self.graph_offset = self.graph_offset.min(self.selected);
        self.keep_visible();
        self.detail_scroll = 0;
        self.detail_hscroll = 0;
        self.want_body(effects);
        off
    }

    /// `f` / `b`: show only `wanted` (the path, or a branch); the same kind again shows every
    /// revision. A filter that cannot apply says why and leaves every revision shown.
    fn toggle_filter(&mut self, wanted: Filter, effects: &mut Vec<Effect>) {
        let same_kind = std::mem::discriminant(&self.filter) == std::mem::discriminant(&wanted);
        self.filter = if same_kind { Filter::All } else { wanted };
        let rows = self.view_known.then(|| self.view.rows.clone());
        let off = self.rebuild_model(rows, effects);
        let total = self.ws.map.len();
        self.note = Some(match (off, &self.filter) {
            (Some(why), _) => format!("no filter: {why}"),
            (None, Filter::All) => format!("all {total} revisions"),
            (None, f) => format!(
                "{}: {} of {total} revisions (again: all)",
                f.describe(),
                self.model.rows.len()
            ),
        });
    }

    fn page(&self) -> usize {
        let areas = self.areas();
        let area = match self.focus {
            Pane::Graph => areas.graph,
            Pane::Detail => areas.detail,
            Pane::Pending => areas.pending.unwrap_or(areas.graph),
            Pane::Log => areas.log.unwrap_or(areas.detail),
        };
        layout::inner_height(area).saturating_sub(1).max(1)
    }

    /// Selects the first of `ids` (in graph order) below the selection, wrapping around, so
    /// pressing again visits each in turn; `none` is said when there is none.
    fn jump_among(&mut self, ids: &[String], none: &str, effects: &mut Vec<Effect>) {
        let mut rows: Vec<usize> = ids
            .iter()
            .filter_map(|id| self.model.position(id))
            .collect();
        rows.sort_unstable();
        let next = rows
            .iter()
            .copied()
            .find(|&r| r > self.selected)
            .or_else(|| rows.first().copied());
        match next {
            Some(row) => {
                self.focus = Pane::Graph;
                self.select(row, effects);
            }
            None if !ids.is_empty() && self.filter != Filter::All => {
                self.note = Some(format!(
                    "not shown with the filter ({}): f or b again shows every revision",
                    self.filter.describe()
                ))
            }
            None if !none.is_empty() => self.note = Some(none.to_owned()),
            None => {}
        }
    }

    fn move_focused(&mut self, delta: i64, effects: &mut Vec<Effect>) {
        match self.focus {
            Pane::Graph => self.select(add(self.selected, delta, self.last_row()), effects),
            Pane::Detail => self.detail_scroll = add(self.detail_scroll, delta, usize::MAX / 4),
            Pane::Pending => {
                let max = self.view.pending.len().saturating_sub(1);
                self.pending_scroll = add(self.pending_scroll, delta, max);
            }
            Pane::Log => {
                let max = self.log.len().saturating_sub(1);
                self.log_scroll = add(self.log_scroll, delta, max);
            }
        }
    }

    fn last_row(&self) -> usize {
        self.model.rows.len().saturating_sub(1)
    }

    /// Selects a graph row, scrolling it into view and asking for its body.
    pub fn select(&mut self, row: usize, effects: &mut Vec<Effect>) {
        if self.model.rows.is_empty() {
            return;
        }
        let row = row.min(self.last_row());
        if row != self.selected {
            self.selected = row;
            self.detail_scroll = 0;
            self.detail_hscroll = 0;
        }
        self.keep_visible();
        self.want_body(effects);
    }

    /// Version-table rows no revision file defines (once the database has been read): the
    /// graph draws them above the history, in the danger colour.
    pub fn unknown_rows(&self) -> Vec<&str> {
        if !matches!(self.db, DbState::Connected) {
            return Vec::new();
        }
        self.view
            .rows
            .iter()
            .filter(|r| self.ws.map.get(r).is_none())
            .map(String::as_str)
            .collect()
    }

    /// How many revisions the graph pane shows at once (below the unknown rows).
    pub fn graph_rows_height(&self) -> usize {
        self.graph_rows_in(self.areas().graph)
    }

    /// How many revisions a graph pane drawn in `area` holds below the unknown rows.
    pub fn graph_rows_in(&self, area: ratatui::layout::Rect) -> usize {
        layout::inner_height(area)
            .saturating_sub(self.unknown_rows().len())
            .max(1)
    }

    /// Keeps the selected row inside the graph pane.
    fn keep_visible(&mut self) {
        let height = self.graph_rows_height();
        if self.selected < self.graph_offset {
            self.graph_offset = self.selected;
        } else if self.selected >= self.graph_offset + height {
            self.graph_offset = self.selected + 1 - height;
        }
        let max_offset = self.model.rows.len().saturating_sub(height);
        self.graph_offset = self.graph_offset.min(max_offset);
    }

    fn cycle_focus(&mut self, forward: bool) {
        let areas = self.areas();
        let mut panes = vec![Pane::Graph, Pane::Detail];
        if areas.pending.is_some() {
            panes.push(Pane::Pending);
        }
        if areas.log.is_some() {
            panes.push(Pane::Log);
        }
        let at = panes.iter().position(|p| *p == self.focus).unwrap_or(0);
        let next = if forward {
            (at + 1) % panes.len()
        } else {
            (at + panes.len() - 1) % panes.len()
        };
        self.focus = panes[next];
    }

    fn switch_tab(&mut self, delta: i64, effects: &mut Vec<Effect>) {
        let at = Part::ALL.iter().position(|p| *p == self.tab).unwrap_or(0) as i64;
        let n = Part::ALL.len() as i64;
        self.tab = Part::ALL[(at + delta).rem_euclid(n) as usize];
        self.detail_scroll = 0;
        self.detail_hscroll = 0;
        self.want_body(effects);
    }

    fn search_again(&mut self, forward: bool, effects: &mut Vec<Effect>) {
        let Some(query) = self.last_search.clone() else {
            self.note = Some("no search yet: press / to search".to_owned());
            return;
        };
        let matches = self.model.search(&self.ws, &query);
        let next = if forward {
            matches
                .iter()
                .find(|&&i| i > self.selected)
                .or(matches.first())
        } else {
            matches
                .iter()
                .rev()
                .find(|&&i| i < self.selected)
                .or(matches.last())
        };
        match next {
            Some(&row) => {
                let at = matches.iter().position(|&m| m == row).unwrap_or(0) + 1;
                self.search_matches = matches.iter().copied().collect();
                self.focus = Pane::Graph;
                self.select(row, effects);
                self.note = Some(format!("/{query}: match {at} of {}", matches.len()));
            }
            None => self.note = Some(format!("/{query}: no revision matches")),
        }
    }

    fn scroll_at(&mut self, x: u16, y: u16, delta: i64, effects: &mut Vec<Effect>) {
        let areas = self.areas();
        if layout::contains(areas.graph, x, y) {
            // The wheel scrolls the view; the selection follows only when it would leave it.
            let height = self.graph_rows_height();
            let max = self.model.rows.len().saturating_sub(height);
            self.graph_offset = add(self.graph_offset, delta, max);
            let last_visible = self.graph_offset + height - 1;
            let row = self.selected.clamp(self.graph_offset, last_visible);
            if row != self.selected {
                self.selected = row.min(self.last_row());
                self.detail_scroll = 0;
                self.want_body(effects);
            }
        } else if layout::contains(areas.detail, x, y) {
            self.detail_scroll = add(self.detail_scroll, delta, usize::MAX / 4);
        } else if areas.log.is_some_and(|a| layout::contains(a, x, y)) {
            let max = self.log.len().saturating_sub(1);
            self.log_scroll = add(self.log_scroll, delta, max);
        } else if areas.pending.is_some_and(|a| layout::contains(a, x, y)) {
            let max = self.view.pending.len().saturating_sub(1);
            self.pending_scroll = add(self.pending_scroll, delta, max);
        }
    }

    fn click(&mut self, x: u16, y: u16, effects: &mut Vec<Effect>) {
        let areas = self.areas();
        if layout::contains(areas.graph, x, y) {
            self.focus = Pane::Graph;
            // Row 0 of the pane is its top border, then the unknown version-table rows.
            let first = areas.graph.y as usize + 1 + self.unknown_rows().len();
            if (y as usize) >= first && y < areas.graph.y + areas.graph.height - 1 {
                let row = self.graph_offset + (y as usize - first);
                if row < self.model.rows.len() {
                    self.select(row, effects);
                }
            }
        } else if layout::contains(areas.detail, x, y) {
            self.focus = Pane::Detail;
        } else if areas.pending.is_some_and(|a| layout::contains(a, x, y)) {
            self.focus = Pane::Pending;
        } else if areas.log.is_some_and(|a| layout::contains(a, x, y)) {
            self.focus = Pane::Log;
        }
    }

    /// Asks for the selected revision's current tab when it is neither cached nor on its way.
    fn want_body(&mut self, effects: &mut Vec<Effect>) {
        let Some(revision) = self.selected_revision() else {
            return;
        };
        let key = self.key(revision, self.tab);
        if self.requested.contains(&key) {
            return;
        }
        match self.tab {
            Part::Upgrade | Part::Downgrade => {
                let Some(rev) = self.ws.project.revisions.get(revision) else {
                    return;
                };
                let body = if self.tab == Part::Upgrade {
                    &rev.upgrade
                } else {
                    &rev.downgrade
                };
                if let Some(body) = body {
                    self.requested.insert(key);
                    effects.push(Effect::Highlight {
                        key,
                        source: body.source.clone(),
                        lang: Lang::Python,
                    });
                }
            }
            Part::Sql => {
                self.requested.insert(key);
                if let Some(reason) = &self.sql_unavailable {
                    self.sql.insert(
                        key,
                        SqlState::Failed {
                            reason: reason.clone(),
                        },
                    );
                } else {
                    self.sql.insert(key, SqlState::Loading);
                    effects.push(Effect::RenderSql {
                        ws: Loaded(self.ws.clone()),
                        key,
                        upgrade: self.sql_direction_is_up(),
                    });
                }
            }
        }
    }

    /// The cache key of a revision's tab in the current generation.
    pub fn key(&self, revision: usize, part: Part) -> BodyKey {
        BodyKey {
            revision,
            part,
            generation: if part == Part::Sql {
                self.sql_generation
            } else {
                self.generation
            },
        }
    }

    fn forget_sql(&mut self) {
        self.sql_generation += 1;
        self.sql.clear();
        self.bodies.retain(|k, _| k.part != Part::Sql);
        self.requested.retain(|k| k.part != Part::Sql);
    }

    /// The sql tab shows the step that would run next for this revision: its downgrade when it
    /// is applied, its upgrade otherwise.
    pub fn sql_direction_is_up(&self) -> bool {
        !matches!(
            self.view.state(self.selected),
            crate::tui::model::RevState::Applied | crate::tui::model::RevState::Current
        )
    }
}

/// The server's words for a failure, one field per line.
pub fn failure_lines(f: &exec::ExecFailure) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(rev) = &f.revision {
        lines.push(format!("step:      {rev}"));
    }
    if let Some(code) = &f.sqlstate {
        lines.push(format!("SQLSTATE:  {code}"));
    }
    lines.push(format!("message:   {}", f.message));
    if let Some(detail) = &f.detail {
        lines.push(format!("detail:    {detail}"));
    }
    if let Some(hint) = &f.hint {
        lines.push(format!("hint:      {hint}"));
    }
    if let Some(statement) = &f.statement {
        lines.push("statement:".to_owned());
        lines.extend(statement.lines().map(|l| format!("  {l}")));
    }
    lines
}

/// `base + delta`, clamped to `0..=max`.
/// The same file, however the two paths spell it.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

pub(crate) fn add(base: usize, delta: i64, max: usize) -> usize {
    let value = base as i128 + delta as i128;
    value.clamp(0, max as i128) as usize
}

/// The first twelve characters of a revision id (alembic's ids are twelve hex digits).
pub fn short(id: &str) -> &str {
    match id.char_indices().nth(12) {
        Some((at, _)) => &id[..at],
        None => id,
    }
}
