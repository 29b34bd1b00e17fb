//! Keys and mouse to actions, per mode, and the table the help overlay prints: the bindings are
//! listed once here so help can never miss one.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use crate::tui::action::Action;
use crate::tui::app::{App, Overlay, Pane};

/// Rows the mouse wheel scrolls per notch.
const WHEEL_ROWS: i64 = 3;

/// Columns `<` and `>` scroll the detail pane's code sideways.
const SIDEWAYS_COLUMNS: i64 = 8;

/// One line of the help overlay: keys, then what they do.
pub struct Binding {
    pub keys: &'static str,
    pub what: &'static str,
}

const fn b(keys: &'static str, what: &'static str) -> Binding {
    Binding { keys, what }
}

/// Every binding, by section, as the help overlay shows them.
pub const HELP: &[(&str, &[Binding])] = &[
    (
        "move",
        &[
            b(
                "↑ ↓  k j",
                "previous / next revision (or scroll the focused pane)",
            ),
            b("PgUp PgDn  Ctrl-b Ctrl-f", "a page up / down"),
            b("g G  Home End", "first / last revision"),
            b(
                "c",
                "the database's revision (each press: its next row, when it has several)",
            ),
            b("p", "the next pending step (what `u` would run first)"),
            b("H", "a head (each press: the next head)"),
            b("Tab  Shift-Tab", "next / previous pane"),
            b("1 2 3 4", "the graph, detail, pending or log pane"),
            b(
                "← →  h l",
                "previous / next detail tab (upgrade, downgrade, sql)",
            ),
            b("< >", "scroll the detail pane's code and SQL sideways"),
            b(
                "mouse wheel, click",
                "scroll the pane under the pointer, select a revision",
            ),
        ],
    ),
    (
        "glyphs in the graph",
        &[
            b("◉  ◄ db", "the database's version-table row(s)"),
            b("●", "applied (below the database's rows)"),
            b("○", "pending: `upgrade heads` would run it"),
            b(
                "◌",
                "off the path: neither applied nor pending (another branch)",
            ),
            b("│ ─ ╮ ╯ ┼", "branches and merges (one colour per line)"),
            b(
                "(head)  (label)",
                "a head; a branch label, declared or inherited",
            ),
            b(
                "⚠  !",
                "its upgrade destroys data; other findings (detail pane)",
            ),
            b("✓  ✗", "verify's round trip passed / left something behind"),
        ],
    ),
    (
        "find",
        &[
            b(
                "/",
                "search revisions by id, branch label, message or upgrade/downgrade body",
            ),
            b(
                "f",
                "only the path from the database to the heads (f again: all revisions)",
            ),
            b(
                "b",
                "only the selected revision's branch: its ancestors and descendants (b again: all)",
            ),
            b("n N", "next / previous match"),
        ],
    ),
    (
        "migrate",
        &[
            b(
                "u",
                "upgrade one step (asks which branch when there are several)",
            ),
            b("d", "downgrade one step"),
            b("U", "upgrade to the selected revision"),
            b("D", "downgrade to the selected revision"),
            b("Enter", "menu for the selected revision"),
            b(
                "y  n",
                "run / cancel in the confirmation pane (Enter: the focused button)",
            ),
            b(
                "Tab ← →",
                "switch between Cancel and Run in the confirmation pane",
            ),
            b("Ctrl-c", "cancel the running statement (rolls back)"),
            b(
                "K",
                "while blocked: cancel the blocking session's statement (type its pid)",
            ),
        ],
    ),
    (
        "develop (through the profile's alembic command)",
        &[
            b("a", "new revision: alembic revision -m (Tab: --autogenerate)"),
            b("m", "merge the heads: alembic merge -m"),
            b(
                "s",
                "stamp the selected revision (no migration runs; journaled; protected: type the name)",
            ),
            b("e", "open the selected revision in $EDITOR, then read the project again"),
        ],
    ),
    (
        "check (on a throwaway shadow database)",
        &[
            b(
                "x",
                "drift: compare the database with what its history builds, by table",
            ),
            b(
                "v",
                "verify the selected revision: upgrade, downgrade, upgrade again",
            ),
            b(
                "Ctrl-c",
                "cancel the running check (its shadow database is dropped)",
            ),
        ],
    ),
    (
        "other",
        &[
            b("r", "read the project and the database again"),
            b(
                "Y",
                "copy (OSC 52, works over ssh/tmux): the id, the detail tab, or the report",
            ),
            b("w", "in a report window: save it as text and JSON in the current directory"),
            b(
                "J",
                "this database's journal: who ran what, when, outcome, SQL (J again: this revision)",
            ),
            b("?", "this help"),
            b("Esc", "close a window or prompt"),
            b("q", "quit"),
        ],
    ),
];

/// The action for a terminal event in the app's current mode, if it has one.
pub fn map(app: &App, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => map_key(app, key),
        Event::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollUp => Some(Action::Scroll {
                x: mouse.column,
                y: mouse.row,
                delta: -WHEEL_ROWS,
            }),
            MouseEventKind::ScrollDown => Some(Action::Scroll {
                x: mouse.column,
                y: mouse.row,
                delta: WHEEL_ROWS,
            }),
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                x: mouse.column,
                y: mouse.row,
            }),
            _ => None,
        },
        Event::Resize(width, height) => Some(Action::Resize {
            width: *width,
            height: *height,
        }),
        Event::Paste(text) => Some(Action::Paste(text.clone())),
        _ => None,
    }
}

fn map_key(app: &App, key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Interrupt);
    }
    if app.search.is_some() {
        return match key.code {
            KeyCode::Esc => Some(Action::Close),
            KeyCode::Enter => Some(Action::SearchSubmit),
            KeyCode::Backspace => Some(Action::SearchBackspace),
            KeyCode::Char(c) if !ctrl => Some(Action::SearchChar(c)),
            _ => None,
        };
    }
    if let Some(Overlay::Confirm(_)) = &app.overlay {
        return confirm_key(app, key);
    }
    if let Some(Overlay::CancelBlocker(_)) = &app.overlay {
        return match key.code {
            KeyCode::Esc => Some(Action::Close),
            KeyCode::Enter => Some(Action::Open),
            KeyCode::Backspace => Some(Action::ConfirmBackspace),
            KeyCode::Char(c) => Some(Action::ConfirmChar(c)),
            _ => None,
        };
    }
    if let Some(Overlay::Prompt(_)) = &app.overlay {
        return match key.code {
            KeyCode::Esc => Some(Action::Close),
            KeyCode::Enter => Some(Action::Open),
            KeyCode::Tab => Some(Action::FocusNext),
            KeyCode::Backspace => Some(Action::ConfirmBackspace),
            KeyCode::Char(c) if !ctrl => Some(Action::ConfirmChar(c)),
            _ => None,
        };
    }
    if let Some(Overlay::Menu(_)) = &app.overlay {
        if let KeyCode::Char(c @ '1'..='9') = key.code {
            return Some(Action::MenuPick(Some(c as usize - '1' as usize)));
        }
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Close,
        KeyCode::Up | KeyCode::Char('k') => Action::Move(-1),
        KeyCode::Down | KeyCode::Char('j') => Action::Move(1),
        KeyCode::Char('b') if ctrl => Action::PageUp,
        KeyCode::Char('f') if ctrl => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::Left | KeyCode::Char('h') => Action::TabLeft,
        KeyCode::Right | KeyCode::Char('l') => Action::TabRight,
        KeyCode::Enter => Action::Open,
        KeyCode::Char('/') => Action::SearchStart,
        KeyCode::Char('n') => Action::SearchNext(true),
        KeyCode::Char('N') => Action::SearchNext(false),
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('r') => Action::Refresh,
        KeyCode::Char('u') => Action::StepUp,
        KeyCode::Char('d') => Action::StepDown,
        KeyCode::Char('U') => Action::UpgradeToSelected,
        KeyCode::Char('D') => Action::DowngradeToSelected,
        KeyCode::Char('x') => Action::DriftCheck,
        KeyCode::Char('v') => Action::VerifySelected,
        KeyCode::Char('y') => Action::Confirm,
        KeyCode::Char('1') => Action::FocusPane(Pane::Graph),
        KeyCode::Char('2') => Action::FocusPane(Pane::Detail),
        KeyCode::Char('3') => Action::FocusPane(Pane::Pending),
        KeyCode::Char('4') => Action::FocusPane(Pane::Log),
        KeyCode::Char('Y') => Action::Copy,
        KeyCode::Char('J') => Action::Journal,
        KeyCode::Char('w') => Action::SaveReport,
        KeyCode::Char('K') => Action::CancelBlocker,
        KeyCode::Char('a') => Action::NewRevision,
        KeyCode::Char('m') => Action::MergeHeads,
        KeyCode::Char('s') => Action::StampSelected,
        KeyCode::Char('e') => Action::EditSelected,
        KeyCode::Char('c') => Action::JumpCurrent,
        KeyCode::Char('p') => Action::JumpPending,
        KeyCode::Char('H') => Action::JumpHead,
        KeyCode::Char('<') => Action::Sideways(-SIDEWAYS_COLUMNS),
        KeyCode::Char('>') => Action::Sideways(SIDEWAYS_COLUMNS),
        KeyCode::Char('f') => Action::FilterPath,
        KeyCode::Char('b') => Action::FilterBranch,
        _ => return None,
    })
}

/// The confirmation pane: for protected profiles letters type the database name, so only Enter
/// (on Run) confirms; otherwise `y` confirms and `n`/`q` cancel.
fn confirm_key(app: &App, key: &KeyEvent) -> Option<Action> {
    let common = match key.code {
        KeyCode::Esc => Some(Action::Close),
        KeyCode::Enter => Some(Action::Open),
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right => Some(Action::FocusNext),
        KeyCode::Up => Some(Action::Move(-1)),
        KeyCode::Down => Some(Action::Move(1)),
        KeyCode::PageUp => Some(Action::PageUp),
        KeyCode::PageDown => Some(Action::PageDown),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    if app.target.protected {
        return match key.code {
            KeyCode::Backspace => Some(Action::ConfirmBackspace),
            KeyCode::Char(c) => Some(Action::ConfirmChar(c)),
            _ => None,
        };
    }
    match key.code {
        KeyCode::Char('y') => Some(Action::Confirm),
        KeyCode::Char('n') | KeyCode::Char('q') => Some(Action::Close),
        KeyCode::Char('k') => Some(Action::Move(-1)),
        KeyCode::Char('j') => Some(Action::Move(1)),
        KeyCode::Char('h') | KeyCode::Char('l') => Some(Action::FocusNext),
        _ => None,
    }
}
