//! The pending pane: the steps `upgrade heads` would run from the database's rows, in order.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::{short, App, Pane};
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let steps = &app.view.pending;
    let title = widgets::title(format!("pending {}", steps.len()), theme);
    let block = widgets::pane(title, app.focus == Pane::Pending, theme);
    let lines: Vec<Line> = steps
        .iter()
        .enumerate()
        .skip(app.pending_scroll)
        // Only what fits: thousands of pending steps cost nothing per frame.
        .take(crate::tui::layout::inner_height(area))
        .map(|(i, step)| {
            let message = app
                .model
                .position(&step.revision)
                .and_then(|p| app.model.rows.get(p))
                .map_or("", |r| r.message.as_str());
            Line::from(vec![
                Span::styled(format!("{:>3}. ", i + 1), theme.dim),
                Span::styled("↑ ", theme.pending),
                Span::styled(short(&step.revision), theme.id),
                Span::raw(" "),
                Span::styled(message, theme.text),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
