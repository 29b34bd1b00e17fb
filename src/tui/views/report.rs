//! The report window of a drift check or a verify: what was compared, then the differences by
//! table, scrollable.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::checks::{Report, Tone};
use crate::tui::layout::centered;
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn draw(frame: &mut Frame, screen: Rect, report: &Report, scroll: usize, theme: &Theme) {
    let mut lines: Vec<Line> = report
        .lines
        .iter()
        .map(|(tone, text)| {
            let style = match tone {
                Tone::Heading => theme.title,
                Tone::Good => theme.ok,
                Tone::Bad => theme.danger,
                Tone::Plain => theme.text,
            };
            Line::styled(text.clone(), style)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "↑ ↓ PgUp PgDn scroll · Y copy · w save as text and JSON · Esc or Enter close",
        theme.dim,
    ));
    let widest = lines.iter().map(Line::width).max().unwrap_or(40) as u16 + 4;
    let width = widest.min(screen.width.saturating_sub(4)).max(30);
    let height = (lines.len() as u16 + 2).min(screen.height.saturating_sub(2));
    let area = centered(screen, width, height);
    frame.render_widget(Clear, area);
    let block = widgets::pane(widgets::title(report.title.clone(), theme), true, theme);
    let scroll = scroll.min(lines.len().saturating_sub(1)) as u16;
    // Long definitions wrap rather than run off the window.
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}
