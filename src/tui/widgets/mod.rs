//! Small drawing pieces the views share: bordered panes that show focus, and the spinner.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::tui::theme::Theme;

pub mod wrap;

/// A bordered pane; the focused one gets the focus colour and a thick border.
pub fn pane<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused {
            theme.border_focus
        } else {
            theme.border
        })
        .title(title)
}

/// A pane title: ` text ` in the title style.
pub fn title<'a>(text: impl Into<String>, theme: &Theme) -> Line<'a> {
    Line::from(Span::styled(format!(" {} ", text.into()), theme.title))
}

/// The spinner frame for a tick count (ticks, not clocks: snapshots stay stable).
pub fn spinner(ticks: u64) -> char {
    const FRAMES: [char; 8] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧'];
    FRAMES[(ticks % FRAMES.len() as u64) as usize]
}

/// A label column: `name` padded to `width`, dimmed.
pub fn key<'a>(name: &str, width: usize, theme: &Theme) -> Span<'a> {
    Span::styled(format!("{name:<width$}"), theme.dim)
}

/// Plain text in a style.
pub fn text<'a>(text: impl Into<String>, style: Style) -> Span<'a> {
    Span::styled(text.into(), style)
}
