//! The revisions pane: lanes, short id, labels, markers and message, newest first. Only the rows
//! inside the pane are turned into lines (the layout was computed once for the whole history).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::{short, App, Pane};
use crate::tui::model::{RevState, Row};
use crate::tui::theme::Theme;
use crate::tui::widgets;

/// Branch labels a graph row names before counting the rest.
const SHOWN_LABELS: usize = 2;

/// Draws the visible slice of the graph.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let unknown = app.unknown_rows();
    let height = app.graph_rows_in(area);
    let total = app.model.rows.len();
    let mut title = if total == 0 {
        "revisions".to_owned()
    } else {
        format!("revisions {}/{}", app.selected + 1, total)
    };
    if app.filter != crate::tui::model::Filter::All {
        title.push_str(&format!(" · {}", app.filter.describe()));
    }
    let block = widgets::pane(
        widgets::title(title, theme),
        app.focus == Pane::Graph,
        theme,
    );
    let end = (app.graph_offset + height).min(total);
    // A row no file defines is where the database stands, so it leads the pane.
    let mut lines: Vec<Line> = unknown
        .iter()
        .map(|id| {
            Line::from(vec![
                Span::styled("✗ ", theme.danger),
                Span::styled(id.to_string(), theme.danger),
                Span::styled(" ◄ db  no revision file defines it", theme.danger),
            ])
        })
        .collect();
    lines.extend((app.graph_offset..end).map(|i| row_line(app, i, theme)));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The glyph of a row's node: what the database has done with it.
pub fn node_glyph(state: RevState) -> char {
    match state {
        RevState::Current => '◉',
        RevState::Applied => '●',
        RevState::Pending => '○',
        RevState::OffPath => '◌',
        RevState::Unknown => '●',
    }
}

fn row_line<'a>(app: &'a App, i: usize, theme: &Theme) -> Line<'a> {
    let row: &Row = &app.model.rows[i];
    let state = app.view.state(i);
    let mut spans: Vec<Span> = Vec::with_capacity(row.layout.cells.len() * 2 + 8);
    for cell in &row.layout.cells {
        let glyph = cell.glyph(node_glyph(state)).to_string();
        let style = if cell.node {
            state_style(state, theme)
        } else {
            cell.line.map_or(theme.text, |l| theme.lane(l.0))
        };
        spans.push(Span::styled(glyph, style));
        let gap_style = cell.gap.map_or(theme.text, |l| theme.lane(l.0));
        spans.push(Span::styled(cell.gap_glyph().to_string(), gap_style));
    }
    spans.push(Span::raw(" "));
    let id_style = match state {
        RevState::OffPath => theme.off_path,
        _ => theme.id,
    };
    // Rows the search matches stand out (in ids, labels, messages or bodies).
    let id_style = if app.search_matches.contains(&i) {
        id_style.add_modifier(ratatui::style::Modifier::REVERSED)
    } else {
        id_style
    };
    spans.push(Span::styled(short(&row.id), id_style));
    // What a row is (the database's, a head, dangerous, verified) comes before its labels and
    // message, so neither a narrow pane nor a pile of inherited labels can cut it off.
    if state == RevState::Current {
        spans.push(Span::styled(" ◄ db", theme.current));
    }
    if row.head {
        spans.push(Span::styled(" (head)", theme.head));
    }
    match badge(app, row.revision) {
        Some(Badge::Destructive) => spans.push(Span::styled(" ⚠", theme.danger)),
        Some(Badge::Warning) => spans.push(Span::styled(" !", theme.warning)),
        None => {}
    }
    // What verify found for this revision, once it has been verified.
    match app.verified.get(&row.id) {
        Some(crate::tui::checks::Verdict::Clean) => spans.push(Span::styled(" ✓", theme.ok)),
        Some(_) => spans.push(Span::styled(" ✗", theme.danger)),
        None => {}
    }
    // Labels are inherited by every revision above: a long-lived history carries dozens, so
    // the row names a few and counts the rest (the detail pane lists them all).
    for label in row.labels.iter().take(SHOWN_LABELS) {
        spans.push(Span::styled(format!(" ({label})"), theme.label));
    }
    if row.labels.len() > SHOWN_LABELS {
        let more = row.labels.len() - SHOWN_LABELS;
        spans.push(Span::styled(format!(" (+{more})"), theme.label));
    }
    spans.push(Span::raw(" "));
    let message_style = match state {
        RevState::Pending => theme.pending,
        RevState::OffPath => theme.off_path,
        _ => theme.text,
    };
    spans.push(Span::styled(row.message.as_str(), message_style));
    let line = Line::from(spans);
    if i == app.selected {
        theme.selected(line)
    } else {
        line
    }
}

/// The colour of a node for its state.
pub fn state_style(state: RevState, theme: &Theme) -> ratatui::style::Style {
    match state {
        RevState::Current => theme.current,
        RevState::Applied => theme.applied,
        RevState::Pending => theme.pending,
        RevState::OffPath => theme.off_path,
        RevState::Unknown => theme.text,
    }
}

/// The word for a state, for the detail pane.
pub fn state_word(state: RevState) -> &'static str {
    match state {
        RevState::Current => "current (a row of the version table)",
        RevState::Applied => "applied",
        RevState::Pending => "pending (upgrade heads would run it)",
        RevState::OffPath => "not on the path from the database to the heads",
        RevState::Unknown => "unknown (database not read)",
    }
}

/// The worst finding of a revision, as a graph badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    /// A destructive rule fired (drops, truncates, type changes): data can be lost.
    Destructive,
    /// Some other rule fired at warning or error level.
    Warning,
}

/// The badge for a revision (by index into the project's revisions), from the unsuppressed
/// findings of its upgrade: nearly every downgrade drops what its upgrade made, so counting
/// downgrades would put a warning on every row (the detail pane lists both directions).
pub fn badge(app: &App, revision: usize) -> Option<Badge> {
    let mut worst = None;
    for f in app
        .findings_of(revision)
        .filter(|f| f.direction == crate::analysis::Direction::Upgrade)
    {
        if f.rule.category() == crate::analysis::Category::Destructive {
            return Some(Badge::Destructive);
        }
        if f.severity >= crate::analysis::Severity::Warning {
            worst = Some(Badge::Warning);
        }
    }
    worst
}
