//! Small windows over the panes: a menu of choices and an error the user must read.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::app::Menu;
use crate::tui::layout::centered;
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn menu(frame: &mut Frame, screen: Rect, menu: &Menu, theme: &Theme) {
    let mut lines: Vec<Line> = menu
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let line = Line::from(vec![
                Span::styled(format!(" {} ", i + 1), theme.id),
                Span::styled(item.label.clone(), theme.text),
            ]);
            if i == menu.selected {
                theme.selected(line)
            } else {
                line
            }
        })
        .collect();
    lines.push(Line::styled(" Enter or 1-9 choose · Esc close", theme.dim));
    let width = lines
        .iter()
        .map(Line::width)
        .chain([menu.title.chars().count() + 4])
        .max()
        .unwrap_or(30) as u16
        + 4;
    let area = centered(screen, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    let block = widgets::pane(widgets::title(menu.title.clone(), theme), true, theme);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

pub fn error(frame: &mut Frame, screen: Rect, title: &str, lines: &[String], theme: &Theme) {
    let mut text: Vec<Line> = lines
        .iter()
        .map(|l| Line::styled(l.clone(), theme.text))
        .collect();
    text.push(Line::raw(""));
    text.push(Line::styled("Enter or Esc closes", theme.dim));
    let width = (screen.width * 3 / 4).max(40);
    let area = centered(screen, width, text.len() as u16 + 4);
    frame.render_widget(Clear, area);
    let block = widgets::pane(
        Line::from(Span::styled(format!(" {title} "), theme.danger)),
        true,
        theme,
    );
    frame.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        area,
    );
}
