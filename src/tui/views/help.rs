//! The help overlay: every key binding, straight from the keymap's table.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::tui::keymap::HELP;
use crate::tui::layout::centered;
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn draw(frame: &mut Frame, screen: Rect, scroll: usize, theme: &Theme) {
    let keys_width = HELP
        .iter()
        .flat_map(|(_, b)| b.iter())
        .map(|b| b.keys.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let mut lines = Vec::new();
    for (section, bindings) in HELP {
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(*section, theme.title));
        for b in *bindings {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<keys_width$}", b.keys), theme.id),
                Span::styled(b.what, theme.text),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("? or Esc closes this help", theme.dim));
    let width = lines.iter().map(Line::width).max().unwrap_or(40) as u16 + 4;
    let area = centered(screen, width, lines.len() as u16 + 2);
    let block = widgets::pane(widgets::title("keys", theme), true, theme);
    frame.render_widget(Clear, area);
    let scroll = scroll.min(lines.len().saturating_sub(1)) as u16;
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}
