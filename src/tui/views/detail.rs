//! The detail pane for the selected revision: its ids, parents, children, labels, dependencies,
//! file, date and state, then tabs with the highlighted `upgrade()` / `downgrade()` bodies (with
//! the file's line numbers) and the rendered SQL.

use std::time::Duration;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::app::{short, App, Pane, SqlState};
use crate::tui::event::Part;
use crate::tui::theme::Theme;
use crate::tui::views::graph::state_word;
use crate::tui::widgets;

const KEY_WIDTH: usize = 10;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Pane::Detail;
    let Some(row) = app.model.rows.get(app.selected) else {
        let block = widgets::pane(widgets::title("detail", theme), focused, theme);
        frame.render_widget(
            Paragraph::new("No revisions: create one with `alembic revision -m …`.").block(block),
            area,
        );
        return;
    };
    let title = widgets::title(format!("{}  {}", short(&row.id), row.message), theme);
    let block = widgets::pane(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    // Long values (findings, paths, parents of a merge) wrap under their value.
    let mut header: Vec<Line> = header_lines(app, theme)
        .iter()
        .flat_map(|l| widgets::wrap::hang(l, KEY_WIDTH, inner.width as usize))
        .collect();
    // The header never takes more than half the pane: the body is what people scroll. What
    // does not fit is counted on its last line.
    let header_height = (header.len() as u16).min(inner.height / 2);
    if header.len() > header_height as usize && header_height > 0 {
        let cut = header_height as usize - 1;
        let more = header.len() - cut;
        header.truncate(cut);
        header.push(Line::styled(
            format!(
                "{:KEY_WIDTH$}… {more} more lines · alembic-tui lint {}",
                "",
                short(&row.id)
            ),
            theme.dim,
        ));
    }
    let [head, tabs, body] = Layout::vertical([
        Constraint::Length(header_height),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas::<3>(inner);
    frame.render_widget(Paragraph::new(header), head);
    frame.render_widget(Paragraph::new(tab_line(app, theme)), tabs);
    draw_body(frame, body, app, theme);
}

fn header_lines<'a>(app: &'a App, theme: &Theme) -> Vec<Line<'a>> {
    let row = &app.model.rows[app.selected];
    let field = |name: &str, value: String| {
        Line::from(vec![
            widgets::key(name, KEY_WIDTH, theme),
            Span::styled(value, theme.text),
        ])
    };
    let list = |items: &[String], empty: &str| {
        if items.is_empty() {
            empty.to_owned()
        } else {
            items.join(", ")
        }
    };
    let mut lines = vec![field("revision", row.id.clone())];
    let node = app.ws.map.get(&row.id);
    let parents = node
        .map(|n| n.down_revisions().to_vec())
        .unwrap_or_default();
    lines.push(field("parents", list(&parents, "<base>")));
    let children: Vec<String> = node
        .map(|n| {
            app.ws
                .map
                .children(n)
                .into_iter()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    lines.push(field("children", list(&children, "none (head)")));
    if !row.labels.is_empty() {
        lines.push(field("labels", row.labels.join(", ")));
    }
    let depends: Vec<String> = node.map(|n| n.depends_on().to_vec()).unwrap_or_default();
    if !depends.is_empty() {
        lines.push(field("depends on", depends.join(", ")));
    }
    if let Some(rev) = app.ws.project.revisions.get(row.revision) {
        // Relative to alembic.ini: the same text wherever the project is checked out.
        let dir = app.ws.project.config.ini_dir();
        let path = rev.path.strip_prefix(dir).unwrap_or(&rev.path);
        lines.push(field("path", path.display().to_string()));
        if let Some(date) = &rev.create_date {
            lines.push(field("created", date.clone()));
        }
    }
    let state = app.view.state(app.selected);
    lines.push(Line::from(vec![
        widgets::key("state", KEY_WIDTH, theme),
        Span::styled(
            state_word(state),
            crate::tui::views::graph::state_style(state, theme),
        ),
    ]));
    if let Some(verdict) = app.verified.get(&row.id) {
        let style = match verdict {
            crate::tui::checks::Verdict::Clean => theme.ok,
            _ => theme.danger,
        };
        lines.push(Line::from(vec![
            widgets::key("verify", KEY_WIDTH, theme),
            Span::styled(verdict.summary(), style),
        ]));
    }
    let mut findings: Vec<_> = app.findings_of(row.revision).collect();
    // Worst first: when the header runs out of room, what is cut is advice, not a danger.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    if findings.is_empty() {
        lines.push(Line::from(vec![
            widgets::key("findings", KEY_WIDTH, theme),
            Span::styled("none", theme.ok),
        ]));
    }
    for (i, f) in findings.iter().enumerate() {
        // Info findings (a downgrade's expected inverse, type advice) are shown, not alarming.
        let (mark, style) = if f.severity == crate::analysis::Severity::Info {
            ("·", theme.dim)
        } else if f.rule.category() == crate::analysis::Category::Destructive {
            ("⚠", theme.danger)
        } else {
            ("!", theme.warning)
        };
        lines.push(Line::from(vec![
            widgets::key(if i == 0 { "findings" } else { "" }, KEY_WIDTH, theme),
            Span::styled(format!("{mark} {} ", f.rule.id()), style),
            Span::styled(
                format!("({} line {}) ", f.direction.as_str(), f.line),
                theme.dim,
            ),
            Span::styled(f.message.clone(), theme.text),
        ]));
    }
    lines
}

fn tab_line<'a>(app: &App, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, part) in Part::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" │ ", theme.dim));
        }
        let name = if *part == app.tab {
            Span::styled(format!("[{}]", part.title()), theme.title)
        } else {
            Span::styled(format!(" {} ", part.title()), theme.dim)
        };
        spans.push(name);
    }
    if app.detail_hscroll > 0 {
        spans.push(Span::styled(
            format!("   ◂ from column {} (< >)", app.detail_hscroll + 1),
            theme.dim,
        ));
    }
    Line::from(spans)
}

fn draw_body(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(revision) = app.selected_revision() else {
        return;
    };
    let key = app.key(revision, app.tab);
    let Some(rev) = app.ws.project.revisions.get(revision) else {
        return;
    };
    match app.tab {
        Part::Upgrade | Part::Downgrade => {
            let body = if app.tab == Part::Upgrade {
                &rev.upgrade
            } else {
                &rev.downgrade
            };
            let Some(body) = body else {
                let text = format!("This revision has no {}() function.", app.tab.title());
                frame.render_widget(Paragraph::new(text).style(theme.dim), area);
                return;
            };
            let plain;
            let lines = match app.bodies.get(&key) {
                Some(lines) => lines,
                None => {
                    // Until the worker answers: the same text, uncoloured.
                    plain = crate::tui::highlight::plain(&body.source);
                    &plain
                }
            };
            numbered(frame, area, lines, body.def_line, app, theme);
        }
        Part::Sql => {
            let direction = if app.sql_direction_is_up() {
                "upgrade"
            } else {
                "downgrade"
            };
            match app.sql.get(&key) {
                None | Some(SqlState::Loading) => {
                    let text = format!(
                        "{} rendering the {direction} SQL with alembic --sql…",
                        widgets::spinner(app.ticks)
                    );
                    frame.render_widget(Paragraph::new(text).style(theme.dim), area);
                }
                Some(SqlState::Ready(plain)) => {
                    let lines = app.bodies.get(&key).unwrap_or(plain);
                    numbered(frame, area, lines, 1, app, theme);
                }
                Some(SqlState::OnlineOnly { reason }) => {
                    let lines = vec![
                        Line::styled("online-only", theme.warning),
                        Line::raw(""),
                        Line::raw(format!(
                            "alembic could not render this {direction} offline, so it runs \
                             through `alembic {direction}` against the database, and no exact \
                             SQL can be shown beforehand. Review the Python body instead."
                        )),
                        Line::raw(""),
                        Line::styled(format!("alembic said: {reason}"), theme.dim),
                    ];
                    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
                }
                Some(SqlState::Failed { reason }) => {
                    let lines = vec![
                        Line::styled(format!("no SQL for this {direction}"), theme.danger),
                        Line::raw(""),
                        Line::raw(reason.clone()),
                    ];
                    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
                }
            }
        }
    }
}

/// Lines with a line-number gutter starting at `first`, scrolled down by the detail scroll and,
/// code only (the gutter stays), sideways by the detail's horizontal scroll (`<` `>`).
fn numbered(
    frame: &mut Frame,
    area: Rect,
    lines: &[Line<'static>],
    first: usize,
    app: &App,
    theme: &Theme,
) {
    let scroll = app.detail_scroll.min(lines.len().saturating_sub(1));
    let width = (first + lines.len()).to_string().len();
    let visible = lines
        .iter()
        .enumerate()
        .skip(scroll)
        .take(area.height as usize);
    let gutter: Vec<Line> = visible
        .clone()
        .map(|(i, _)| {
            Line::from(Span::styled(
                format!("{:>width$} │ ", first + i),
                theme.line_number,
            ))
        })
        .collect();
    let code: Vec<Line> = visible.map(|(_, line)| line.clone()).collect();
    let gutter_width = (width + 3) as u16;
    let [left, right] =
        Layout::horizontal([Constraint::Length(gutter_width), Constraint::Min(0)]).areas::<2>(area);
    let sideways = app.detail_hscroll.min(u16::MAX as usize) as u16;
    frame.render_widget(Paragraph::new(gutter), left);
    frame.render_widget(Paragraph::new(code).scroll((0, sideways)), right);
}

/// A duration as config writes it: `5s`, `500ms`, `2min`, `0` (disabled).
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "off".to_owned()
    } else if ms.is_multiple_of(60_000) {
        format!("{}min", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}
