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
    // log_scroll counts lines up from the newest. Long lines wrap (messages name files and
    // URLs); only the newest `height` lines can be on screen, so only they are wrapped.
    let width = (area.width.saturating_sub(2) as usize).max(1);
    let end = app.log.len().saturating_sub(app.log_scroll);
    let start = end.saturating_sub(height);
    let mut rows: Vec<Line> = Vec::new();
    for l in &app.log[start..end] {
        let style = match l.level {
            Level::Info => theme.text,
            Level::Warn => theme.warning,
            Level::Error => theme.danger,
        };
        let chars: Vec<char> = l.text.chars().collect();
        if chars.is_empty() {
            rows.push(Line::raw(""));
        }
        for chunk in chars.chunks(width) {
            rows.push(Line::from(Span::styled(
                chunk.iter().collect::<String>(),
                style,
            )));
        }
    }
    let lines: Vec<Line> = rows.split_off(rows.len().saturating_sub(height));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
