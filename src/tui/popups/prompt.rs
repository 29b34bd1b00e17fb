//! The prompt popup: one line of text for the developer's loop — the message of a new revision
//! (`alembic revision -m`, optionally `--autogenerate`), of a merge of the heads (`alembic merge
//! -m`), or the confirmation of a stamp. It owns its state, keys and drawing; the app carries
//! out what it answers.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::action::Action;
use crate::tui::app::{short, Target};
use crate::tui::layout::centered;
use crate::tui::theme::Theme;
use crate::tui::widgets;

/// What the text is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// `alembic revision -m TEXT` (with `--autogenerate` when on; Tab switches).
    NewRevision { autogenerate: bool },
    /// `alembic merge -m TEXT heads`.
    MergeHeads,
    /// `alembic stamp REVISION` from the version-table rows the user saw.
    Stamp { revision: String, rows: Vec<String> },
}

/// The popup's state.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub purpose: Purpose,
    pub text: String,
}

/// What a key did, for the app to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Stay,
    Close,
    Note(String),
    /// Done: run it.
    Submit(Purpose, String),
}

impl Prompt {
    pub fn new(purpose: Purpose) -> Prompt {
        Prompt {
            purpose,
            text: String::new(),
        }
    }

    pub fn title(&self) -> String {
        match &self.purpose {
            Purpose::NewRevision { .. } => "new revision".to_owned(),
            Purpose::MergeHeads => "merge the heads".to_owned(),
            Purpose::Stamp { revision, .. } => format!("stamp {}", short(revision)),
        }
    }

    /// A key while the prompt is up. Stamps on protected profiles want the database's name
    /// typed, as a destructive plan does; elsewhere Enter stamps.
    pub fn on_key(&mut self, action: Action, target: &Target) -> Answer {
        match action {
            Action::SearchChar(c) | Action::ConfirmChar(c) => self.text.push(c),
            Action::SearchBackspace | Action::ConfirmBackspace => {
                self.text.pop();
            }
            Action::FocusNext => {
                if let Purpose::NewRevision { autogenerate } = &mut self.purpose {
                    *autogenerate = !*autogenerate;
                }
            }
            Action::Close => return Answer::Close,
            Action::SearchSubmit | Action::Open => return self.submit(target),
            _ => {}
        }
        Answer::Stay
    }

    /// Pasted text goes into the field, without line breaks (never a submit).
    pub fn paste(&mut self, text: &str) {
        self.text.extend(text.chars().filter(|c| !c.is_control()));
    }

    fn submit(&self, target: &Target) -> Answer {
        match &self.purpose {
            Purpose::Stamp { .. } if target.protected => {
                let want = target.database.as_deref().unwrap_or("");
                if self.text != want {
                    return Answer::Note(format!(
                        "protected profile: type the database name ({want}) to stamp"
                    ));
                }
            }
            Purpose::Stamp { .. } => {}
            _ if self.text.trim().is_empty() => {
                return Answer::Note(
                    "a message is needed (alembic names the file after it)".to_owned(),
                )
            }
            _ => {}
        }
        Answer::Submit(self.purpose.clone(), self.text.trim().to_owned())
    }
}

pub fn draw(frame: &mut Frame, screen: Rect, prompt: &Prompt, target: &Target, theme: &Theme) {
    let area = centered(screen, screen.width.saturating_sub(8).min(90), 8);
    frame.render_widget(Clear, area);
    let block = widgets::pane(
        Line::from(Span::styled(format!(" {} ", prompt.title()), theme.title)),
        true,
        theme,
    );
    let (label, help) = match &prompt.purpose {
        Purpose::NewRevision { autogenerate } => (
            "message: ",
            format!(
                "alembic revision -m MESSAGE{} · Tab: autogenerate {} · Enter create · Esc cancel",
                if *autogenerate { " --autogenerate" } else { "" },
                if *autogenerate { "on" } else { "off" }
            ),
        ),
        Purpose::MergeHeads => (
            "message: ",
            "alembic merge -m MESSAGE heads · Enter merge · Esc cancel".to_owned(),
        ),
        Purpose::Stamp { revision, rows } => {
            let from = if rows.is_empty() {
                "base".to_owned()
            } else {
                rows.iter().map(|r| short(r)).collect::<Vec<_>>().join(", ")
            };
            let what = format!(
                "sets the version table from [{from}] to {} WITHOUT running any migration; journaled",
                short(revision)
            );
            if target.protected {
                (
                    "database name: ",
                    format!(
                        "{what} · protected: type the database name ({}) and Enter · Esc cancel",
                        target.database.as_deref().unwrap_or("?")
                    ),
                )
            } else {
                ("", format!("{what} · Enter stamps · Esc cancel"))
            }
        }
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(label, theme.dim),
            Span::styled(prompt.text.clone(), theme.text),
            Span::styled("█", theme.dim),
        ]),
        Line::raw(""),
        Line::styled(help, theme.dim),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}
