//! The confirmation pane: the target's identity (never a password), the timeouts, whether the
//! preview is exact SQL or online-only, every step with its direction and every statement with
//! its flags; Cancel and Run at the bottom, with the database name to type for protected profiles.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::graph::Direction;
use crate::render::{direction_word, StatementKind, StepBody};
use crate::tui::app::{short, App};
use crate::tui::layout::centered;
use crate::tui::stepping::{Button, Confirm, Mark};
use crate::tui::theme::Theme;
use crate::tui::views::detail::duration;
use crate::tui::widgets;

pub fn draw(frame: &mut Frame, screen: Rect, app: &App, confirm: &Confirm, theme: &Theme) {
    let width = screen.width.saturating_sub(4).min(120);
    let area = centered(screen, width, screen.height.saturating_sub(2));
    frame.render_widget(Clear, area);
    let title = Line::from(Span::styled(
        format!(" confirm: {} ", confirm.title),
        if confirm.destructive() {
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
    let preview = match (&confirm.scripts, &confirm.error) {
        (_, Some(_)) => Span::styled("cannot render: see below", theme.danger),
        (None, None) => Span::styled(
            format!(
                "{} rendering the exact SQL with alembic --sql…",
                widgets::spinner(app.ticks)
            ),
            theme.dim,
        ),
        (Some(scripts), None) => {
            let online = scripts
                .iter()
                .filter(|s| matches!(s.body, StepBody::OnlineOnly { .. }))
                .count();
            if online == 0 {
                Span::styled("exact SQL: the statements below run as shown", theme.ok)
            } else {
                Span::styled(
                    format!(
                        "{online} of {} step(s) online-only: alembic runs them, no exact SQL \
                         to review",
                        scripts.len()
                    ),
                    theme.warning,
                )
            }
        }
    };
    lines.push(Line::from(vec![key("preview"), preview]));
    if let Some(note) = &confirm.review_note {
        lines.push(Line::from(vec![
            key("review"),
            Span::styled(note.as_str(), theme.dim),
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
        let Some(script) = confirm.scripts.as_ref().and_then(|s| s.get(i)) else {
            continue;
        };
        match &script.body {
            StepBody::Sql(statements) if statements.is_empty() => {
                lines.push(Line::styled("    (no statements)", theme.dim));
            }
            StepBody::Sql(statements) => {
                let m = statements.len();
                for (j, st) in statements.iter().enumerate() {
                    let flags = confirm
                        .flags
                        .get(i)
                        .and_then(|f| f.get(j))
                        .map_or(&[][..], Vec::as_slice);
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
            StepBody::OnlineOnly { reason, target } => {
                lines.push(Line::styled(
                    "    online-only: alembic could not render this step offline",
                    theme.warning,
                ));
                lines.push(Line::styled(
                    format!("    alembic said: {reason}"),
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
    if confirm.destructive() {
        lines.push(Line::styled(
            "✖ this plan destroys data: the focus starts on Cancel",
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
    let keys = if app.target.protected {
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
