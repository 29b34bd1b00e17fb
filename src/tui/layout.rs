//! Where each pane goes for a terminal size: one pure function shared by drawing and by mouse
//! handling, so a click lands on the row that was drawn there.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

/// The screen's panes for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    pub graph: Rect,
    /// Below the graph, when something is pending.
    pub pending: Option<Rect>,
    pub detail: Rect,
    /// Below the detail pane, when there is something to log.
    pub log: Option<Rect>,
    pub status: Rect,
}

/// Splits `size`: revisions on the left (with pending below), detail on the right (with the log
/// below), one status line at the bottom.
pub fn areas(size: Rect, pending_rows: usize, log_rows: usize) -> Areas {
    let [main, status] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas::<2>(size);
    // Narrow terminals give the graph a little more than a third: ids and messages stay legible.
    let left = if main.width < 100 {
        Constraint::Percentage(45)
    } else {
        Constraint::Percentage(40)
    };
    let [left, right] = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([left, Constraint::Min(20)])
        .areas::<2>(main);
    let (graph, pending) = split_bottom(left, pending_rows, left.height / 3);
    let (detail, log) = split_bottom(right, log_rows, right.height / 3);
    Areas {
        graph,
        pending,
        detail,
        log,
        status,
    }
}

/// Gives `rows` lines (plus borders, at most `max`) at the bottom of `area` when there are any.
fn split_bottom(area: Rect, rows: usize, max: u16) -> (Rect, Option<Rect>) {
    if rows == 0 || max < 3 {
        return (area, None);
    }
    let height = (rows as u16).saturating_add(2).min(max);
    let [top, bottom] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(height)]).areas::<2>(area);
    (top, Some(bottom))
}

/// The rows inside a bordered block.
pub fn inner_height(area: Rect) -> usize {
    area.height.saturating_sub(2) as usize
}

/// A rectangle of `width`×`height` centred in `area` (clipped to it).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// Whether a screen position lies inside `area`.
pub fn contains(area: Rect, x: u16, y: u16) -> bool {
    x >= area.x && x < area.x + area.width && y >= area.y && y < area.y + area.height
}
