//! The real binary in a real pseudo-terminal (tmux) against a throwaway database: step the demo
//! up through its destructive revision (confirming), step down, and check the version table and
//! the schema after each step, and the journal at the end.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::pg::{fresh_db, psql};

/// How long the screen may take to show what a step leads to (alembic starts are slow on a
/// loaded machine); the test polls, it never asserts on time.
const PATIENCE: Duration = Duration::from_secs(120);

/// Tests run in parallel: each tmux server gets a socket of its own.
static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A tmux server of our own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str, width: u16, height: u16) -> Tmux {
        let tmux = Tmux {
            socket: format!(
                "alembic-tui-e2e-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
        };
        let status = tmux
            .cmd()
            .args(["new-session", "-d", "-s", "e2e", "-x"])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .arg(command)
            .status()
            .expect("run tmux (is it installed?)");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "e2e"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn send(&self, keys: &[&str]) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", "e2e"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// Pastes `text` as a terminal does (bracketed, since the console asks for that).
    fn paste(&self, text: &str) {
        let status = self
            .cmd()
            .args(["set-buffer", "-b", "e2e", text])
            .status()
            .expect("tmux set-buffer");
        assert!(status.success());
        let status = self
            .cmd()
            .args(["paste-buffer", "-p", "-b", "e2e", "-t", "e2e"])
            .status()
            .expect("tmux paste-buffer");
        assert!(status.success());
    }

    /// Waits until the screen shows `text`; panics with the screen when it never does.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Tmux {
    /// Waits until one line of the screen holds every one of `parts`.
    fn wait_for_line(&self, parts: &[&str]) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if screen.lines().any(|l| parts.iter().all(|p| l.contains(p))) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no line ever held {parts:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn version_rows(url: &str) -> Vec<String> {
    let mut rows: Vec<String> = psql(url, "SELECT version_num FROM alembic_version")
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    rows.sort();
    rows
}

fn table_exists(url: &str, table: &str) -> bool {
    psql(url, &format!("SELECT to_regclass('{table}')::text"))
        .unwrap()
        .first()
        .is_some_and(|v| v.is_some())
}

/// The demo project in a temp dir with a profile for `url` (plus `extra` profile lines), and the
/// console on it in tmux: (work dir, data dir, tmux).
fn demo_console(url: &str, extra: &str) -> (tempfile::TempDir, PathBuf, Tmux) {
    let work = tempfile::tempdir().unwrap();
    let project = demo_project(work.path());
    let (data, tmux) = console_on(&project, work.path(), url, extra);
    (work, data, tmux)
}

/// A copy of the demo project in `work/demo`.
fn demo_project(work: &Path) -> PathBuf {
    let project = work.join("demo");
    common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo"),
        &project,
    );
    project
}

/// The console on the project in `project` (an alembic.ini there), with a profile for `url`
/// (plus `extra` profile lines) and its files under `work`: (data dir, tmux).
fn console_on(project: &Path, work: &Path, url: &str, extra: &str) -> (PathBuf, Tmux) {
    let python = common::python();
    let yaml = format!(
        "default_profile: e2e\nprofiles:\n  e2e:\n    url: {}\n    alembic: {}\n    lock_timeout: 5s\n{extra}",
        serde_json::to_string(url).unwrap(),
        serde_json::to_string(&format!("{} -m alembic", sh_quote(&python.display().to_string())))
            .unwrap(),
    );
    std::fs::write(project.join("alembic-tui.yaml"), yaml).unwrap();
    let data: PathBuf = work.join("data");
    let state: PathBuf = work.join("state");
    // Nothing from the caller's environment decides where the URL or the files come from.
    let command = format!(
        "env -u DATABASE_URL -u NO_COLOR ALEMBIC_TUI_DATA_DIR={data} ALEMBIC_TUI_STATE_DIR={state} \
         {bin} -c {ini}; echo EXITED $?; exec sh",
        data = sh_quote(&data.display().to_string()),
        state = sh_quote(&state.display().to_string()),
        bin = sh_quote(env!("CARGO_BIN_EXE_alembic-tui")),
        ini = sh_quote(&project.join("alembic.ini").display().to_string()),
    );
    let tmux = Tmux::start(&command, 160, 45);
    (data, tmux)
}

#[test]
fn step_up_through_a_destructive_revision_and_back_down() {
    let url = fresh_db("tui_e2e");
    let (_work, data, tmux) = demo_console(&url, "");
    tmux.wait_for("at base · 12 pending");

    // Up to the merge and through the destructive drop: select it, U, review, confirm.
    tmux.send(&["/", "9c4eb0d7", "Enter"]);
    tmux.wait_for("revisions 2/12");
    tmux.send(&["U"]);
    tmux.wait_for("confirm: upgrade to 9c4eb0d71f3a");
    let pane = tmux.wait_for("exact SQL: the statements below run as shown");
    assert!(pane.contains("Run 9 step(s)"), "{pane}");
    assert!(pane.contains("lock_timeout 5s"), "{pane}");
    assert!(pane.contains("step 1/9 ↑ upgrade 1a0c3e5f7b21"), "{pane}");
    // The plan drops a table: one key does not run it (issue 12c), only its Run button does.
    tmux.wait_for("it runs only from its Run button");
    tmux.send(&["y"]);
    tmux.wait_for("`y` does not run it");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        psql(&url, "SELECT to_regclass('alembic_version')::text")
            .unwrap()
            .first()
            .is_some_and(|v| v.is_none()),
        "y ran a destructive plan"
    );
    tmux.send(&["Tab"]);
    tmux.send(&["Enter"]);
    tmux.wait_for("head 9c4eb0d71f3a");
    assert_eq!(version_rows(&url), ["9c4eb0d71f3a"]);
    assert!(!table_exists(&url, "coupons"), "coupons survived its drop");
    assert!(table_exists(&url, "orders"));

    // One step down: the drop is undone.
    tmux.send(&["d"]);
    tmux.wait_for("confirm: downgrade one step");
    let pane = tmux.wait_for("exact SQL: the statements below run as shown");
    assert!(pane.contains("downgrade 9c4eb0d71f3a"), "{pane}");
    tmux.send(&["y"]);
    tmux.wait_for("head 8b3dafc60e29");
    assert_eq!(version_rows(&url), ["8b3dafc60e29"]);
    assert!(
        table_exists(&url, "coupons"),
        "the downgrade did not recreate coupons"
    );

    tmux.send(&["q"]);
    tmux.wait_for("EXITED 0");

    // Every executed step is journaled: nine up to the drop, one down.
    let journal = std::fs::read_to_string(data.join("journal.jsonl")).unwrap();
    let entries: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["outcome"] == "applied")
        .collect();
    let ups = entries
        .iter()
        .filter(|e| e["direction"] == "upgrade")
        .count();
    let downs = entries
        .iter()
        .filter(|e| e["direction"] == "downgrade")
        .count();
    assert_eq!((ups, downs), (9, 1), "{journal}");
    assert!(
        !journal.contains("password"),
        "the journal names no password"
    );
}

#[test]
fn a_step_alembic_runs_is_unreviewable_and_runs_only_from_its_button() {
    // Issue 12b: under `executor: alembic` the pane says the step cannot be reviewed and why
    // (our policy), keeps the focus on Cancel and ignores `y`.
    let url = fresh_db("tui_e2e_online");
    let (_work, _data, tmux) = demo_console(&url, "    executor: alembic\n");
    tmux.wait_for("at base · 12 pending");
    // Issue 13: a pasted line is never read as keys (its `u` and newline would open the
    // upgrade and press Run).
    tmux.paste("pip install -U alembic\nu\n");
    tmux.wait_for("pasted text ignored");
    assert!(!tmux.screen().contains("confirm:"), "a paste opened a plan");
    tmux.send(&["/", "1a0c3e5f", "Enter"]);
    tmux.wait_for("revisions 12/12");
    tmux.send(&["U"]);
    tmux.wait_for("confirm: upgrade to 1a0c3e5f7b21");
    let pane = tmux.wait_for("UNREVIEWABLE");
    assert!(pane.contains("why: our policy"), "{pane}");
    assert!(!pane.contains("alembic said"), "{pane}");
    tmux.send(&["y"]);
    tmux.wait_for("`y` does not run it");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        psql(&url, "SELECT to_regclass('alembic_version')::text")
            .unwrap()
            .first()
            .is_some_and(|v| v.is_none()),
        "y ran an unreviewable plan"
    );
    tmux.send(&["Tab"]);
    tmux.send(&["Enter"]);
    tmux.wait_for("head 1a0c3e5f7b21");
    assert_eq!(version_rows(&url), ["1a0c3e5f7b21"]);
    tmux.send(&["q"]);
    tmux.wait_for("EXITED 0");
}

#[test]
fn the_cli_asks_for_the_word_before_a_destructive_plan() {
    // Issue 12c: on a terminal, `y` does not run a plan that drops data; the word it names does.
    let url = fresh_db("cli_word");
    let (work, data, tmux) = demo_console(&url, "");
    tmux.wait_for("at base · 12 pending");
    tmux.send(&["q"]);
    tmux.wait_for("EXITED 0");
    let ini = work.path().join("demo/alembic.ini");
    let upgrade = format!(
        "env -u DATABASE_URL ALEMBIC_TUI_DATA_DIR={data} {bin} -c {ini} upgrade 9c4eb0d71f3a; echo EXITED $?",
        data = sh_quote(&data.display().to_string()),
        bin = sh_quote(env!("CARGO_BIN_EXE_alembic-tui")),
        ini = sh_quote(&ini.display().to_string()),
    );
    tmux.send(&["clear", "Enter"]);
    tmux.send(&[&upgrade, "Enter"]);
    tmux.wait_for("type `destroy` to run 9 step(s)");
    tmux.send(&["y", "Enter"]);
    tmux.wait_for("EXITED 2");
    assert!(
        tmux.screen().contains("nothing was run"),
        "{}",
        tmux.screen()
    );
    assert!(
        !table_exists(&url, "alembic_version"),
        "`y` ran a destructive plan"
    );
    tmux.send(&["clear", "Enter"]);
    tmux.send(&[&upgrade, "Enter"]);
    tmux.wait_for("type `destroy` to run 9 step(s)");
    tmux.send(&["destroy", "Enter"]);
    tmux.wait_for("EXITED 0");
    assert_eq!(version_rows(&url), ["9c4eb0d71f3a"]);
}

#[test]
fn a_version_row_no_file_defines_turns_the_status_bar_red() {
    let url = fresh_db("tui_e2e_unknown");
    psql(
        &url,
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); \
         INSERT INTO alembic_version VALUES ('feedc0ffee99')",
    )
    .unwrap();
    let (_work, _data, tmux) = demo_console(&url, "");
    let screen = tmux.wait_for("UNKNOWN revision feedc0ffee99 in the version table");
    assert!(!screen.contains("up to date"), "{screen}");
    tmux.send(&["q"]);
    tmux.wait_for("EXITED 0");
}

#[test]
fn the_developers_loop_creates_merges_and_stamps_through_real_alembic() {
    let url = fresh_db("tui_e2e_loop");
    let (work, data, tmux) = demo_console(&url, "");
    tmux.wait_for("at base · 12 pending");
    let versions = work.path().join("demo/migrations/versions");
    let files = || std::fs::read_dir(&versions).unwrap().count();
    let before = files();

    // Merge the two heads: alembic writes the merge revision, which opens selected.
    tmux.send(&["m"]);
    tmux.wait_for("alembic merge -m MESSAGE heads");
    tmux.send(&["-l", "join reporting"]);
    tmux.send(&["Enter"]);
    let deadline = Instant::now() + PATIENCE;
    while files() < before + 1 {
        assert!(
            Instant::now() < deadline,
            "no merge file: {}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Read again and selected: the merge is the one head, on top.
    tmux.wait_for("revisions 1/13");
    tmux.wait_for_line(&["(head)", "join reporting"]);
    assert_eq!(files(), before + 1);

    // A new revision on top of the (now single) head.
    tmux.send(&["a"]);
    tmux.wait_for("alembic revision -m MESSAGE");
    tmux.send(&["-l", "add widgets"]);
    tmux.send(&["Enter"]);
    let deadline = Instant::now() + PATIENCE;
    while files() < before + 2 {
        assert!(
            Instant::now() < deadline,
            "no new revision file: {}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.wait_for("revisions 1/14");
    assert!(tmux.screen().contains("add widgets"));
    assert_eq!(files(), before + 2);
    let text: String = std::fs::read_dir(&versions)
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter(|t| t.contains("add widgets"))
        .collect();
    assert!(text.contains("def upgrade()"), "{text}");

    // Stamp the initial revision: the version table moves, nothing else does; journaled.
    tmux.send(&["/", "1a0c3e5f", "Enter"]);
    tmux.wait_for("revisions 14/14");
    tmux.send(&["s"]);
    tmux.wait_for("WITHOUT running any migration");
    tmux.send(&["Enter"]);
    tmux.wait_for("stamped: the version table holds [1a0c3e5f7b21]");
    assert_eq!(version_rows(&url), ["1a0c3e5f7b21"]);
    assert!(!table_exists(&url, "customers"), "stamp ran a migration");
    tmux.send(&["q"]);
    tmux.wait_for("EXITED 0");
    let journal = std::fs::read_to_string(data.join("journal.jsonl")).unwrap();
    let stamps: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["direction"] == "stamp")
        .collect();
    assert_eq!(stamps.len(), 2, "{journal}");
    assert_eq!(stamps[1]["outcome"], "applied");
    assert_eq!(stamps[1]["revision"], "1a0c3e5f7b21");
}

/// The display row (1-based, as the graph pane's title counts) of `id` in the project at `ini`,
/// and of the first step `upgrade heads` runs from `id`: the console's own model decides.
fn rows_of(ini: &Path, id: &str) -> (usize, usize) {
    use clap::Parser;
    let args = alembic_tui::cli::Args::parse_from(["alembic-tui", "-c", ini.to_str().unwrap()]);
    let mut warnings = Vec::new();
    let dir = ini.parent().unwrap();
    let ws = alembic_tui::cli::commands::load_workspace(&args, dir, &mut warnings).unwrap();
    let model = alembic_tui::tui::model::Model::build(&ws);
    let view = alembic_tui::tui::model::DbView::new(&ws, &model, vec![id.to_owned()]);
    let next = &view.pending[0].revision;
    (
        model.position(id).unwrap() + 1,
        model.position(next).unwrap() + 1,
    )
}

#[test]
fn a_450_revision_history_opens_on_the_databases_revision_and_jumps() {
    let url = fresh_db("tui_e2e_big");
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("big");
    let revs = common::gen::executable_project(450);
    let opts = common::gen::ProjectOpts {
        url: url.clone(),
        ..common::gen::ProjectOpts::default()
    };
    common::gen::write_project_with(&project, &revs, &opts).unwrap();
    // The database stands deep in the history (only its version row matters here).
    let at = revs[120].id.clone();
    psql(
        &url,
        &format!(
            "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); \
             INSERT INTO alembic_version VALUES ('{at}')"
        ),
    )
    .unwrap();
    let (row, next) = rows_of(&project.join("alembic.ini"), &at);
    assert!(row > 45, "row {row} would be on the first screen anyway");
    let (_data, tmux) = console_on(&project, work.path(), &url, "");
    // It opens with the database's revision selected, scrolled into view.
    tmux.wait_for(&format!("revisions {row}/450"));
    tmux.wait_for_line(&[&at, "◄ db"]);
    // g: the top; c: back to the database; p: the next pending step; H: a head.
    tmux.send(&["g"]);
    tmux.wait_for("revisions 1/450");
    tmux.send(&["c"]);
    tmux.wait_for(&format!("revisions {row}/450"));
    tmux.send(&["p"]);
    tmux.wait_for(&format!("revisions {next}/450"));
    tmux.send(&["G", "H"]);
    let screen = tmux.wait_for("(head)");
    assert!(
        !screen.contains("revisions 450/450"),
        "H stayed at the bottom:\n{screen}"
    );
    // f: only the path from the database to the heads; the database's row is still there.
    tmux.send(&["f"]);
    let screen = tmux.wait_for("path db → heads");
    assert!(screen.contains("of 450 revisions"), "{screen}");
    tmux.send(&["c"]);
    tmux.wait_for_line(&[&at, "◄ db"]);
    tmux.send(&["q"]);
    tmux.wait_for("EXITED 0");
}

/// The menu's lines as the screen shows them: ` 1 towards …`.
fn menu_line(screen: &str, digit: usize) -> &str {
    let key = format!(" {digit} towards ");
    screen
        .lines()
        .find(|l| l.contains(&key))
        .unwrap_or_else(|| panic!("no menu line {digit}:\n{screen}"))
}

#[test]
fn the_branch_menu_keeps_its_digits_over_three_steps() {
    let url = fresh_db("tui_e2e_menu");
    let work = tempfile::tempdir().unwrap();
    let project = demo_project(work.path());
    // At the branch point, through real alembic.
    common::alembic_online(&project, &url, &["upgrade", "3c8e5a71b9d4"]);
    let (_data, tmux) = console_on(&project, work.path(), &url, "");
    tmux.wait_for_line(&["3c8e5a71b9d4", "◄ db"]);
    // Three steps, each from the menu: 1 is always the main line, 2 always reporting.
    let mut rows = version_rows(&url);
    for (step, pick) in [(1, "1"), (2, "2"), (3, "2")] {
        tmux.send(&["u"]);
        let screen = tmux.wait_for(" 2 towards ");
        assert!(
            menu_line(&screen, 1).contains("towards c2f7be3a0426"),
            "step {step}:\n{screen}"
        );
        assert!(
            menu_line(&screen, 2).contains("towards b1e6ad2f9315 (reporting)"),
            "step {step}:\n{screen}"
        );
        tmux.send(&[pick]);
        tmux.wait_for("exact SQL: the statements below run as shown");
        tmux.send(&["y"]);
        let deadline = Instant::now() + PATIENCE;
        let before = rows.clone();
        while rows == before {
            assert!(
                Instant::now() < deadline,
                "step {step} never ran:\n{}",
                tmux.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
            rows = version_rows(&url);
        }
        // The console has read the new rows before the next step is asked for.
        for row in &rows {
            tmux.wait_for_line(&[row, "◄ db"]);
        }
    }
    // Main line one step up, reporting at its head.
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.contains(&"b1e6ad2f9315".to_owned()), "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r == "4d9f6b82cae5" || r == "6f1b8da4ec07"),
        "{rows:?}"
    );
    tmux.send(&["q"]);
    tmux.wait_for("EXITED 0");
}
