//! The confirmation popup: one type owns what the user is asked to confirm (the engine's
//! [`Prepared`] plan, once rendered), the keys that answer it and its drawing. The target's
//! identity (never a password), the timeouts, whether the preview is exact SQL or unreviewable,
//! every step with the revision's findings and every statement with its flags; Cancel and Run at
//! the bottom, with the database name to type for protected profiles. A plan the engine gates as
//! deliberate (it destroys data or cannot be reviewed) opens on Cancel and runs only from Run.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::analysis::{Category, Rule};
use crate::engine::prepare::{Gate, Prepared, PreparedStep};
use crate::engine::script::{direction_word, StatementKind, StepBody, StepScript};
use crate::graph::{Direction, Step};
use crate::tui::action::Action;
use crate::tui::app::{add, short, App, Target};
use crate::tui::layout::centered;
use crate::tui::theme::Theme;
use crate::tui::views::detail::duration;
use crate::tui::widgets;

/// How bad a flagged statement is, for colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    /// Lock-heavy or otherwise worth reading (yellow).
    Caution,
    /// Loses data or cannot be undone (red).
    Destructive,
}

/// One reason a statement is flagged, as the pane shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFlag {
    pub mark: Mark,
    pub reason: String,
}

/// The focused button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Cancel,
    Run,
}

/// The popup's state.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// What the user asked for, e.g. "upgrade one step" or "downgrade to 1a0c3e5f7b21".
    pub title: String,
    pub steps: Vec<Step>,
    /// The engine's prepared plan, once it answered.
    pub prepared: Option<Prepared>,
    /// Why preparing failed (nothing can run then).
    pub error: Option<String>,
    pub focus: Button,
    /// What has been typed of the database name (protected profiles).
    pub typed: String,
    pub scroll: usize,
}

/// What a key did to the popup, for the app to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Nothing for the app to do.
    Stay,
    /// Close the popup; nothing runs.
    Close,
    /// Tell the user (status line) and stay.
    Note(String),
    /// Run these scripts (the popup is done).
    Run(Vec<StepScript>),
}

fn mark_of(rule: Rule) -> Mark {
    match rule.category() {
        Category::Destructive => Mark::Destructive,
        Category::Locking | Category::Review => Mark::Caution,
    }
}

/// The pane's flags for statement `j` of a step: the engine's review, plus the fact that an
/// autocommit statement cannot be rolled back by a later failure.
pub fn statement_flags(step: &PreparedStep, j: usize) -> Vec<StatementFlag> {
    let mut out = Vec::new();
    if let Some(st) = step.script.statements().get(j) {
        if st.autocommit && st.kind == StatementKind::Body {
            out.push(StatementFlag {
                mark: Mark::Caution,
                reason: "runs alone outside a transaction: a later failure cannot roll it back"
                    .to_owned(),
            });
        }
    }
    for flag in step.flags.get(j).into_iter().flatten() {
        out.push(StatementFlag {
            mark: mark_of(flag.rule),
            reason: format!("{}: {}", flag.rule.id(), flag.reason),
        });
    }
    out
}

impl Confirm {
    pub fn new(title: String, steps: Vec<Step>) -> Confirm {
        Confirm {
            title,
            steps,
            prepared: None,
            error: None,
            focus: Button::Cancel,
            typed: String::new(),
            scroll: 0,
        }
    }

    /// Why this plan runs only from its Run button (the engine's gate), once prepared.
    pub fn deliberate(&self) -> Option<&str> {
        match self.prepared.as_ref().map(|p| &p.gate) {
            Some(Gate::Deliberate { why, .. }) => Some(why),
            _ => None,
        }
    }

    /// The engine answered for these steps: deliberate plans keep the focus on Cancel, others
    /// move it to Run.
    pub fn answered(&mut self, result: Result<Prepared, String>) {
        match result {
            Ok(prepared)
                if !prepared
                    .steps
                    .iter()
                    .map(|s| &s.script.step)
                    .eq(self.steps.iter()) =>
            {
                self.error = Some("the engine answered for other steps than planned".to_owned())
            }
            Ok(prepared) => {
                self.prepared = Some(prepared);
                self.focus = if self.deliberate().is_some() {
                    Button::Cancel
                } else {
                    Button::Run
                };
            }
            Err(reason) => self.error = Some(reason),
        }
    }

    /// Ready to run: prepared, no error.
    pub fn ready(&self) -> bool {
        self.prepared.is_some() && self.error.is_none()
    }

    /// A key while the popup is up.
    pub fn on_key(&mut self, action: Action, target: &Target) -> Answer {
        match action {
            Action::Move(d) => self.scroll = add(self.scroll, d, usize::MAX / 4),
            Action::PageDown => self.scroll = self.scroll.saturating_add(10),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(10),
            Action::FocusNext | Action::FocusPrev | Action::TabLeft | Action::TabRight => {
                self.focus = match self.focus {
                    Button::Cancel => Button::Run,
                    Button::Run => Button::Cancel,
                };
            }
            Action::ConfirmChar(c) => self.typed.push(c),
            Action::ConfirmBackspace => {
                self.typed.pop();
            }
            // `y`: only a plain plan runs on one key.
            Action::Confirm => {
                if let Some(why) = self.deliberate() {
                    return Answer::Note(format!(
                        "`y` does not run it: {why}; Tab or → to Run, then Enter"
                    ));
                }
                return self.run(target);
            }
            Action::Open => {
                return match self.focus {
                    Button::Cancel => Answer::Close,
                    Button::Run => self.run(target),
                }
            }
            Action::Quit if !target.protected => return Answer::Close,
            _ => {}
        }
        Answer::Stay
    }

    /// Runs the plan if it is ready and, for protected profiles, the database name was typed.
    fn run(&mut self, target: &Target) -> Answer {
        if !self.ready() {
            return Answer::Note(match &self.error {
                Some(_) => "this plan cannot run: see the error in the pane".to_owned(),
                None => "still rendering the SQL…".to_owned(),
            });
        }
        if target.protected {
            let want = target.database.as_deref().unwrap_or("");
            if self.typed != want {
                return Answer::Note(format!(
                    "protected profile: type the database name ({want}) to run"
                ));
            }
        }
        Answer::Run(
            self.prepared
                .as_ref()
                .map(Prepared::scripts)
                .unwrap_or_default(),
        )
    }
}

pub fn draw(frame: &mut Frame, screen: Rect, app: &App, confirm: &Confirm, theme: &Theme) {
    let width = screen.width.saturating_sub(4).min(120);
    let area = centered(screen, width, screen.height.saturating_sub(2));
    frame.render_widget(Clear, area);
    let title = Line::from(Span::styled(
        format!(" confirm: {} ", confirm.title),
        if confirm.deliberate().is_some() {
            theme.danger
        } else {
            theme.title
        },
    ));
    let block = widgets::pane(title, true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let footer = footer(app, confirm, theme);
    let [body, foot] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(footer.len() as u16)])
            .areas::<2>(inner);
    let lines = body_lines(app, confirm, theme);
    let scroll = confirm.scroll.min(lines.len().saturating_sub(1)) as u16;
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        body,
    );
    frame.render_widget(Paragraph::new(footer), foot);
}

fn body_lines<'a>(app: &'a App, confirm: &'a Confirm, theme: &Theme) -> Vec<Line<'a>> {
    let t = &app.target;
    let key = |name: &str| widgets::key(name, 10, theme);
    let mut lines = Vec::new();
    let mut who = vec![
        key("target"),
        Span::styled(
            format!(
                "profile {} · database {} on {}",
                t.profile.as_deref().unwrap_or("(none)"),
                t.database.as_deref().unwrap_or("?"),
                t.label
            ),
            theme.text,
        ),
    ];
    if t.protected {
        who.push(Span::styled(" · PROTECTED", theme.danger));
    }
    lines.push(Line::from(who));
    lines.push(Line::from(vec![
        key("timeouts"),
        Span::styled(
            format!(
                "lock_timeout {} · statement_timeout {}",
                duration(t.lock_timeout),
                t.statement_timeout
                    .map_or_else(|| "none".to_owned(), duration)
            ),
            theme.text,
        ),
    ]));
    let preview = match (&confirm.prepared, &confirm.error) {
        (_, Some(_)) => Span::styled("cannot render: see below", theme.danger),
        (None, None) => Span::styled(
            format!(
                "{} rendering the exact SQL with alembic --sql…",
                widgets::spinner(app.ticks)
            ),
            theme.dim,
        ),
        (Some(prepared), None) => {
            let online = prepared.steps.iter().filter(|s| s.unreviewable()).count();
            if online == 0 {
                Span::styled("exact SQL: the statements below run as shown", theme.ok)
            } else {
                Span::styled(
                    format!(
                        "{online} of {} step(s) UNREVIEWABLE: alembic runs them online, their \
                         SQL is unknown until then; the revisions' findings are all there is",
                        prepared.steps.len()
                    ),
                    theme.danger,
                )
            }
        }
    };
    lines.push(Line::from(vec![key("preview"), preview]));
    for note in confirm.prepared.iter().flat_map(|p| &p.notes) {
        lines.push(Line::from(vec![
            key("note"),
            Span::styled(note.as_str(), theme.warning),
        ]));
    }
    if let Some(err) = &confirm.error {
        lines.push(Line::raw(""));
        for l in err.lines() {
            lines.push(Line::styled(l.to_owned(), theme.danger));
        }
    }
    let n = confirm.steps.len();
    for (i, step) in confirm.steps.iter().enumerate() {
        lines.push(Line::raw(""));
        let arrow = match step.direction {
            Direction::Upgrade => "↑",
            Direction::Downgrade => "↓",
        };
        let message = app
            .model
            .position(&step.revision)
            .and_then(|p| app.model.rows.get(p))
            .map_or("", |r| r.message.as_str());
        lines.push(Line::from(vec![
            Span::styled(format!("step {}/{n} ", i + 1), theme.title),
            Span::styled(
                format!("{arrow} {} ", direction_word(step.direction)),
                theme.pending,
            ),
            Span::styled(short(&step.revision), theme.id),
            Span::styled(format!(" {message}"), theme.text),
            Span::styled(
                format!(
                    "   [{}] → [{}]",
                    rows(&step.heads_before),
                    rows(&step.heads_after)
                ),
                theme.dim,
            ),
        ]));
        let Some(prepared) = confirm.prepared.as_ref().and_then(|p| p.steps.get(i)) else {
            continue;
        };
        for f in &prepared.findings {
            let (mark, s) = match mark_of(f.rule) {
                Mark::Destructive => ("✖", theme.danger),
                Mark::Caution => ("⚠", theme.warning),
            };
            lines.push(Line::styled(
                format!(
                    "    {mark} revision {} (line {}): {}",
                    f.rule.id(),
                    f.line,
                    f.message
                ),
                s,
            ));
        }
        let script = &prepared.script;
        match &script.body {
            StepBody::Sql(statements) if statements.is_empty() => {
                lines.push(Line::styled("    (no statements)", theme.dim));
            }
            StepBody::Sql(statements) => {
                let m = statements.len();
                for (j, st) in statements.iter().enumerate() {
                    let flags = statement_flags(prepared, j);
                    let worst = flags.iter().map(|f| f.mark).max();
                    let style = match (worst, &st.kind) {
                        (Some(Mark::Destructive), _) => theme.danger,
                        (Some(Mark::Caution), _) => theme.warning,
                        (None, StatementKind::VersionTable { .. }) => theme.dim,
                        (None, StatementKind::Body) => theme.text,
                    };
                    for (k, text) in st.text.lines().enumerate() {
                        let number = if k == 0 {
                            format!("  {:>2}/{m} ", j + 1)
                        } else {
                            " ".repeat(m.to_string().len() + 6)
                        };
                        lines.push(Line::from(vec![
                            Span::styled(number, theme.line_number),
                            Span::styled(text.to_owned(), style),
                        ]));
                    }
                    let mut notes: Vec<(String, Style)> = Vec::new();
                    if st.autocommit {
                        notes.push(("runs alone in autocommit".to_owned(), theme.warning));
                    }
                    match st.kind {
                        StatementKind::VersionTable {
                            expect_rows: Some(n),
                        } => notes.push((
                            format!("version table: must touch exactly {n} row(s)"),
                            theme.dim,
                        )),
                        StatementKind::VersionTable { expect_rows: None } => {
                            notes.push(("version table".to_owned(), theme.dim))
                        }
                        StatementKind::Body => {}
                    }
                    for f in flags {
                        let (mark, s) = match f.mark {
                            Mark::Destructive => ("✖ destructive:", theme.danger),
                            Mark::Caution => ("⚠", theme.warning),
                        };
                        notes.push((format!("{mark} {}", f.reason), s));
                    }
                    for (text, s) in notes {
                        lines.push(Line::styled(format!("         {text}"), s));
                    }
                }
            }
            StepBody::OnlineOnly { target, .. } => {
                lines.push(Line::styled(
                    "    ✖ unreviewable: alembic runs this step online; its SQL is unknown until then",
                    theme.danger,
                ));
                lines.push(Line::styled(
                    format!(
                        "    why: {}",
                        script.body.online_reason().unwrap_or_default()
                    ),
                    theme.dim,
                ));
                lines.push(Line::styled(
                    match target {
                        Some(t) => format!(
                            "    runs as: alembic {} {t}",
                            direction_word(step.direction)
                        ),
                        None => "    no single alembic command runs just this step".to_owned(),
                    },
                    theme.dim,
                ));
            }
        }
    }
    lines
}

fn rows(rows: &[String]) -> String {
    if rows.is_empty() {
        "base".to_owned()
    } else {
        rows.iter().map(|r| short(r)).collect::<Vec<_>>().join(", ")
    }
}

fn footer<'a>(app: &App, confirm: &Confirm, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = vec![Line::raw("")];
    if let Some(why) = confirm.deliberate() {
        lines.push(Line::styled(
            format!("✖ {why}: it runs only from its Run button (Tab or → to Run, then Enter)"),
            theme.danger,
        ));
    }
    if app.target.protected {
        let want = app.target.database.clone().unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(
                format!("protected: type the database name ({want}) to enable Run: "),
                theme.warning,
            ),
            Span::styled(confirm.typed.clone(), theme.text),
            Span::styled("█", theme.dim),
        ]));
    }
    let button = |label: String, which: Button| {
        if confirm.focus == which {
            Span::styled(format!("[ {label} ]"), theme.selection)
        } else {
            Span::styled(format!("[ {label} ]"), theme.text)
        }
    };
    let run_label = format!("Run {} step(s)", confirm.steps.len());
    let keys = if app.target.protected || confirm.deliberate().is_some() {
        "   Enter: focused button · Tab switch · ↑↓ scroll · Esc cancel"
    } else {
        "   y run · n cancel · Enter: focused button · Tab switch · ↑↓ scroll"
    };
    lines.push(Line::from(vec![
        Span::raw(" "),
        button("Cancel".to_owned(), Button::Cancel),
        Span::raw("  "),
        button(run_label, Button::Run),
        Span::styled(keys, theme.dim),
    ]));
    lines
}
