//! Everything that can happen to the app, as values: keys and mouse mapped by the keymap, ticks,
//! resizes and worker results. `App::update` is the one place they are handled.

use crate::tui::event::WorkerEvent;

/// One input to `App::update`.
#[derive(Debug)]
pub enum Action {
    Quit,
    /// Move the selection (graph) or scroll (other panes) by rows; negative is up.
    Move(i64),
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// `c`: to the database's revision (the next one on each press when it has several rows).
    JumpCurrent,
    /// `p`: to the next pending step (the first step of `upgrade heads`).
    JumpPending,
    /// `H`: to a head (the next one on each press).
    JumpHead,
    /// `f`: only the path from the database to the heads (again: every revision).
    FilterPath,
    /// `b`: only the selected revision's branch, its ancestors and descendants (again: every
    /// revision).
    FilterBranch,
    /// Cycle the focused pane.
    FocusNext,
    FocusPrev,
    /// `<` / `>`: scroll the detail pane's code sideways by columns (negative: left).
    Sideways(i64),
    /// Previous / next detail tab.
    TabLeft,
    TabRight,
    /// Enter on the graph: the action menu for the selected revision.
    Open,
    Help,
    /// Esc: close the overlay or prompt on top.
    Close,
    SearchStart,
    SearchChar(char),
    SearchBackspace,
    SearchSubmit,
    /// `n` / `N`: next and previous search match.
    SearchNext(bool),
    Refresh,
    /// `a`: a new revision (`alembic revision -m`, optionally `--autogenerate`).
    NewRevision,
    /// `m`: merge the heads (`alembic merge -m … heads`).
    MergeHeads,
    /// `s`: stamp the selected revision (version table only, journaled).
    StampSelected,
    /// `e`: open the selected revision's file in `$EDITOR`, then read the project again.
    EditSelected,
    /// `Y`: copy what has focus (the selected id, the detail tab's text, a report).
    Copy,
    /// `w` in a report window: save it as text and JSON.
    SaveReport,
    /// `1`–`4`: focus the graph, detail, pending or log pane directly.
    FocusPane(crate::tui::app::Pane),
    /// `J`: the journal of this database (again in the window: only the selected revision).
    Journal,
    /// `u` / `d`: one step up or down.
    StepUp,
    StepDown,
    /// `U` / `D`: to the selected revision.
    UpgradeToSelected,
    DowngradeToSelected,
    /// A line chosen in a menu (digits or Enter on the highlighted one).
    MenuPick(Option<usize>),
    /// `y` in the confirmation pane, or Enter on its focused button.
    Confirm,
    /// Typing the database name into a protected profile's confirmation.
    ConfirmChar(char),
    ConfirmBackspace,
    /// Ctrl-C: cancel the running statement.
    Interrupt,
    /// `K` while our statement is blocked: offer to cancel the blocking session's statement.
    CancelBlocker,
    /// `x`: compare the database with what its history builds.
    DriftCheck,
    /// `v`: upgrade, downgrade and upgrade again the selected revision on a shadow database.
    VerifySelected,
    /// Mouse: scroll at a screen position (negative up), click at a position.
    Scroll {
        x: u16,
        y: u16,
        delta: i64,
    },
    Click {
        x: u16,
        y: u16,
    },
    Resize {
        width: u16,
        height: u16,
    },
    Tick,
    Worker(WorkerEvent),
    /// Text the terminal delivered as a paste (bracketed paste): text for the focused field,
    /// never keys — a pasted `u⏎` must not open and confirm a plan.
    Paste(String),
}
