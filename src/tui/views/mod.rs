//! Drawing the app: each pane in its own file, all reading `App` and never changing it. Only the
//! rows on screen are built, so a frame costs the same at 10 or 10,000 revisions.

pub mod detail;
pub mod graph;
pub mod help;
pub mod log;
pub mod pending;
pub mod popup;
pub mod report;
pub mod status;

use ratatui::Frame;

use crate::tui::app::{App, Overlay};
use crate::tui::theme::Theme;

/// Draws one frame.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    frame.render_widget(
        ratatui::widgets::Block::new().style(theme.background),
        frame.area(),
    );
    let areas = app.areas();
    graph::draw(frame, areas.graph, app, theme);
    if let Some(area) = areas.pending {
        pending::draw(frame, area, app, theme);
    }
    detail::draw(frame, areas.detail, app, theme);
    if let Some(area) = areas.log {
        log::draw(frame, area, app, theme);
    }
    status::draw(frame, areas.status, app, theme);
    match &app.overlay {
        Some(Overlay::Help { scroll }) => help::draw(frame, frame.area(), *scroll, theme),
        Some(Overlay::Error { title, lines }) => {
            popup::error(frame, frame.area(), title, lines, theme)
        }
        Some(Overlay::Menu(menu)) => popup::menu(frame, frame.area(), menu, theme),
        Some(Overlay::Confirm(confirm)) => {
            crate::tui::popups::confirm::draw(frame, frame.area(), app, confirm, theme)
        }
        Some(Overlay::Report { report, scroll }) => {
            report::draw(frame, frame.area(), report, *scroll, theme)
        }
        None => {}
    }
}
