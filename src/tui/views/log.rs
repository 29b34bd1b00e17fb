//! The log pane: warnings from loading, database problems, and (while stepping) alembic output
//! and server NOTICEs. Follows the newest line unless scrolled.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::{App, Level, Pane};
use crate::tui::layout::inner_height;
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let height = inner_height(area);
    let block = widgets::pane(widgets::title("log", theme), app.focus == Pane::Log, theme);
    // log_scroll counts lines up from the newest.
    let end = app.log.len().saturating_sub(app.log_scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = app.log[start..end]
        .iter()
        .map(|l| {
            let style = match l.level {
                Level::Info => theme.text,
                Level::Warn => theme.warning,
                Level::Error => theme.danger,
            };
            Line::from(Span::styled(l.text.as_str(), style))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
