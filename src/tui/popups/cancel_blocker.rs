//! The offer to cancel the statement of a session that blocks our running step: only for a
//! session this role may signal (`pg_cancel_backend`: its own role, or `pg_signal_backend` for a
//! non-superuser session), only for one that runs a statement (a cancel does nothing to an idle
//! transaction), and only after its pid is typed. It never terminates a session.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::db::locks::Blocker;
use crate::tui::action::Action;
use crate::tui::layout::centered;
use crate::tui::theme::Theme;
use crate::tui::widgets;

/// The popup's state: which session, and what has been typed of its pid.
#[derive(Debug, Clone)]
pub struct CancelBlocker {
    pub blocker: Blocker,
    pub typed: String,
}

/// What a key did, for the app to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Stay,
    Close,
    Note(String),
    /// Ask the server to cancel this backend's running statement.
    Cancel(i32),
}

impl CancelBlocker {
    /// The offer for the first blocker that a cancel would help and this role may cancel, or
    /// why there is none.
    pub fn offer(blockers: &[Blocker]) -> Result<CancelBlocker, String> {
        if blockers.is_empty() {
            return Err("the running statement waits for no one".to_owned());
        }
        if let Some(b) = blockers
            .iter()
            .find(|b| b.may_cancel && b.state == "active")
        {
            return Ok(CancelBlocker {
                blocker: b.clone(),
                typed: String::new(),
            });
        }
        let why: Vec<String> =
            blockers
                .iter()
                .map(|b| {
                    if !b.may_cancel {
                        format!(
                        "pid {}: this role may not cancel it (it needs to be that session's role, \
                         or pg_signal_backend for a non-superuser session)",
                        b.pid
                    )
                    } else {
                        format!(
                        "pid {} is {}: a cancel does nothing there, only ending its transaction \
                         would, which alembic-tui never does — ask its owner",
                        b.pid,
                        if b.state.is_empty() { "not running a statement" } else { &b.state }
                    )
                    }
                })
                .collect();
        Err(why.join("; "))
    }

    pub fn on_key(&mut self, action: Action) -> Answer {
        match action {
            Action::ConfirmChar(c) => self.typed.push(c),
            Action::ConfirmBackspace => {
                self.typed.pop();
            }
            Action::Open => {
                return if self.typed.trim() == self.blocker.pid.to_string() {
                    Answer::Cancel(self.blocker.pid)
                } else {
                    Answer::Note(format!(
                        "type the pid ({}) to cancel its statement, or Esc",
                        self.blocker.pid
                    ))
                };
            }
            Action::Quit => return Answer::Close,
            _ => {}
        }
        Answer::Stay
    }
}

pub fn draw(frame: &mut Frame, screen: Rect, popup: &CancelBlocker, theme: &Theme) {
    let b = &popup.blocker;
    let text = vec![
        Line::styled(format!("blocked by {b}"), theme.text),
        Line::raw(""),
        Line::styled(
            format!(
                "Cancel pid {}'s running statement (pg_cancel_backend)? Its transaction goes on \
                 or fails as its client decides; its session is not terminated.",
                b.pid
            ),
            theme.warning,
        ),
        Line::raw(""),
        Line::from(vec![
            Span::styled(
                format!("type {} and Enter to cancel it: ", b.pid),
                theme.warning,
            ),
            Span::styled(popup.typed.clone(), theme.text),
            Span::styled("█", theme.dim),
        ]),
        Line::styled("Esc closes (nothing is cancelled)", theme.dim),
    ];
    let width = (screen.width * 3 / 4).max(40);
    let area = centered(screen, width, text.len() as u16 + 6);
    frame.render_widget(Clear, area);
    let block = widgets::pane(
        Line::from(Span::styled(
            " cancel the blocking statement? ",
            theme.danger,
        )),
        true,
        theme,
    );
    frame.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocker(pid: i32, state: &str, may_cancel: bool) -> Blocker {
        Blocker {
            pid,
            user: "u".to_owned(),
            application: "psql".to_owned(),
            state: state.to_owned(),
            xact_age_s: Some(3.0),
            query: "select 1".to_owned(),
            may_cancel,
        }
    }

    #[test]
    fn only_an_active_session_the_role_may_signal_is_offered() {
        assert!(CancelBlocker::offer(&[]).is_err());
        let idle = CancelBlocker::offer(&[blocker(7, "idle in transaction", true)]).unwrap_err();
        assert!(idle.contains("does nothing"), "{idle}");
        let foreign = CancelBlocker::offer(&[blocker(8, "active", false)]).unwrap_err();
        assert!(foreign.contains("may not cancel"), "{foreign}");
        let offer = CancelBlocker::offer(&[
            blocker(7, "idle in transaction", true),
            blocker(9, "active", true),
        ])
        .unwrap();
        assert_eq!(offer.blocker.pid, 9);
    }

    #[test]
    fn it_cancels_only_on_the_typed_pid() {
        let mut p = CancelBlocker::offer(&[blocker(9, "active", true)]).unwrap();
        assert!(matches!(p.on_key(Action::Open), Answer::Note(_)));
        p.on_key(Action::ConfirmChar('8'));
        assert!(matches!(p.on_key(Action::Open), Answer::Note(_)));
        p.on_key(Action::ConfirmBackspace);
        p.on_key(Action::ConfirmChar('9'));
        assert_eq!(p.on_key(Action::Open), Answer::Cancel(9));
    }
}
