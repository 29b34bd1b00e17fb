//! The status bar: which database (profile, host/db — never a password), its heads, how much is
//! pending, the lock timeout; or why the database is not there. The search prompt takes its place
//! while typing.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::{short, App, DbState, Pane};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if let Some(query) = &app.search {
        let line = Line::from(vec![
            Span::styled("/", theme.title),
            Span::raw(query.clone()),
            Span::styled("█", theme.dim),
            Span::styled("   Enter search · Esc cancel", theme.dim),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let (text, style) = match (&app.note, progress(app), danger(app)) {
        (Some(note), _, _) => (format!(" {note}"), theme.status),
        (None, Some(progress), _) => (progress, theme.status),
        // A database the history cannot place is never "up to date": the bar turns red.
        (None, None, Some(danger)) => (
            format!(" {danger} · {}", summary(app).trim_start()),
            theme
                .danger
                .add_modifier(ratatui::style::Modifier::REVERSED),
        ),
        (None, None, None) => (summary(app), theme.status),
    };
    // The state comes first; the focused pane's keys only where the state leaves room for them.
    let keys = keys_hint(app);
    let room = usize::from(area.width).saturating_sub(text.chars().count());
    let hint = if keys.chars().count() <= room {
        keys
    } else {
        SHORT_HINT
    };
    let [left, right] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length(hint.chars().count() as u16),
    ])
    .areas::<2>(area);
    frame.render_widget(Paragraph::new(text).style(style), left);
    frame.render_widget(Paragraph::new(hint).style(theme.status), right);
}

const SHORT_HINT: &str = " ? help  q quit ";

/// The focused pane's keys, lazygit-style, so the bar teaches what the pane under the cursor does.
fn keys_hint(app: &App) -> &'static str {
    match app.focus {
        Pane::Graph => " u d step · U D to it · / find · c p H jump · f b filter · ? help  q quit ",
        Pane::Detail => " ← → tab · ↑ ↓ scroll · < > sideways · Y copy · ? help  q quit ",
        Pane::Pending => " ↑ ↓ scroll · u step · ? help  q quit ",
        Pane::Log => " ↑ ↓ scroll · ? help  q quit ",
    }
}

/// What makes the database's state untrustworthy: version-table rows no revision file defines,
/// or rows the history cannot plan from (the CLI exits 2 on both).
pub fn danger(app: &App) -> Option<String> {
    if !matches!(app.db, DbState::Connected) {
        return None;
    }
    let unknown = app.unknown_rows();
    if !unknown.is_empty() {
        return Some(format!(
            "UNKNOWN revision {} in the version table: no revision file defines it",
            unknown.join(", ")
        ));
    }
    app.view
        .plan_error
        .as_ref()
        .map(|e| format!("cannot plan from the version table: {e}"))
}

/// ` profile · host/db · head X · N pending · lock_timeout 5s`.
pub fn summary(app: &App) -> String {
    let t = &app.target;
    let mut parts = vec![t.profile.clone().unwrap_or_else(|| "no profile".to_owned())];
    match &app.db {
        DbState::NoUrl { reason } => {
            parts.push(format!("no database: {reason}"));
            return format!(" {}", parts.join(" · "));
        }
        _ => parts.push(short_label(&t.label)),
    }
    match &app.db {
        DbState::Connecting => parts.push("connecting…".to_owned()),
        DbState::Unreachable { reason } => {
            // The full message is in the log pane; the bar keeps the root cause.
            let cause = reason.rsplit(": ").next().unwrap_or(reason);
            parts.push(format!(
                "database unreachable ({cause}), retrying · read-only"
            ));
        }
        DbState::Connected | DbState::NoUrl { .. } => {
            if let Some(running) = &app.migrating {
                parts.push(running.to_string());
            }
            let rows = &app.view.rows;
            parts.push(match rows.as_slice() {
                [] => "at base".to_owned(),
                [one] => format!("head {}", short(one)),
                many => format!(
                    "heads {}",
                    many.iter().map(|r| short(r)).collect::<Vec<_>>().join(",")
                ),
            });
            parts.push(match app.view.pending.len() {
                _ if danger(app).is_some() => "pending unknown".to_owned(),
                0 => "up to date".to_owned(),
                n => format!("{n} pending"),
            });
        }
    }
    parts.push(format!(
        "lock_timeout {}",
        crate::tui::views::detail::duration(t.lock_timeout)
    ));
    if let Some(st) = t.statement_timeout {
        parts.push(format!(
            "statement_timeout {}",
            crate::tui::views::detail::duration(st)
        ));
    }
    if t.protected {
        parts.push("protected".to_owned());
    }
    if t.read_only {
        parts.push("read-only profile".to_owned());
    }
    format!(" {}", parts.join(" · "))
}

/// ` running step 2/3 · upgrade 9c4e… · statement 1/2 · 1.4s · Ctrl-C cancels` while a plan runs.
fn progress(app: &App) -> Option<String> {
    if let Some(check) = &app.check {
        let ms = app.ticks.saturating_sub(check.started) * crate::tui::app::TICK_MS;
        let mut parts = vec![check.kind.label()];
        if let Some(last) = &check.last {
            parts.push(last.clone());
        }
        parts.push(format!("{:.1}s", ms as f64 / 1000.0));
        parts.push(if check.cancelling {
            "cancelling…".to_owned()
        } else {
            "Ctrl-C cancels".to_owned()
        });
        return Some(format!(" {}", parts.join(" · ")));
    }
    let p = app.progress.as_ref().filter(|_| app.running())?;
    let n = p.steps.len();
    let mut parts = Vec::new();
    match p.step {
        Some(i) => {
            parts.push(format!("running step {}/{n}", i + 1));
            if let Some((dir, rev)) = p.steps.get(i) {
                parts.push(format!(
                    "{} {}",
                    crate::engine::script::direction_word(*dir),
                    short(rev)
                ));
            }
        }
        None => parts.push(format!("starting {n} step(s): taking the advisory lock")),
    }
    if let Some((j, m)) = p.statement {
        parts.push(format!("statement {}/{m}", j + 1));
    }
    if let Some(blocked) = &p.blocked {
        // The one line is cut at the right edge: who blocks us goes first.
        let mut first = vec![blocked.clone()];
        if p.blockers
            .iter()
            .any(|b| b.may_cancel && b.state == "active")
        {
            first.push("K cancels the blocker's statement".to_owned());
        }
        parts.splice(0..0, first);
    }
    let ms = app.ticks.saturating_sub(p.started_tick) * crate::tui::app::TICK_MS;
    parts.push(format!("{:.1}s", ms as f64 / 1000.0));
    parts.push(if p.cancelling {
        "cancelling…".to_owned()
    } else {
        "Ctrl-C cancels".to_owned()
    });
    Some(format!(" {}", parts.join(" · ")))
}

/// The target for the status bar: a unix socket's directory shortened to its last component (the
/// confirmation pane shows it whole).
fn short_label(label: &str) -> String {
    let Some(rest) = label.strip_prefix("socket ") else {
        return label.to_owned();
    };
    // `DIR:PORT/DB`: keep the last component of DIR.
    let (dir, tail) = match rest.rfind(':') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    match dir.rsplit_once('/') {
        Some((_, last)) if !last.is_empty() => format!("socket …/{last}{tail}"),
        _ => label.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::short_label;

    #[test]
    fn socket_directories_are_shortened() {
        assert_eq!(
            short_label("socket /tmp/alembic-tui-demo-pg-x/socket:5432/demo"),
            "socket …/socket:5432/demo"
        );
        assert_eq!(short_label("db.internal:5432/app"), "db.internal:5432/app");
    }
}
