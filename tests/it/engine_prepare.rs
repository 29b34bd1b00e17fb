//! The engine's one prepare path: the CLI's preview and the console's confirmation are the same
//! prepared plan for the same database, and the console's renderer cache is keyed by the
//! workspace's generation, never by where the workspace happens to live in memory.

use crate::common;

use std::sync::Arc;

use clap::Parser;

use alembic_tui::cli::Args;
use alembic_tui::engine::prepare::{self, Gate};
use alembic_tui::graph::Direction;
use alembic_tui::tui::{self, stepping};

/// The demo project with a profile that renders through the test venv's alembic and targets `url`.
fn demo_with_profile(url: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, _ini) = common::demo_copy();
    let project = dir.path().to_path_buf();
    let yaml = format!(
        "default_profile: t\nprofiles:\n  t:\n    url: {}\n    alembic: {}\n",
        serde_json::to_string(url).unwrap(),
        serde_json::to_string(&format!("'{}' -m alembic", common::python().display())).unwrap()
    );
    std::fs::write(project.join("alembic-tui.yaml"), yaml).unwrap();
    (dir, project)
}

#[test]
fn cli_and_console_prepare_the_same_plan() {
    let url = common::pg::fresh_db("same_plan");
    let (_dir, project) = demo_with_profile(&url);
    let data = tempfile::tempdir().unwrap();
    let ini = project.join("alembic.ini");
    let out = common::bin()
        .arg("-c")
        .arg(&ini)
        .args(["--json", "upgrade", "heads", "--sql"])
        .env_remove("DATABASE_URL")
        .env("ALEMBIC_TUI_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    // The console's own start-up and planning, then the engine call its worker makes.
    let args = Args::parse_from(["alembic-tui", "-c", ini.to_str().unwrap()]);
    let session = tui::Session::prepare(&args, &project).unwrap();
    let (settings, resolved) = session.db.clone().unwrap();
    let steps = stepping::to_revision(&session.ws, &[], Direction::Upgrade, "heads").unwrap();
    let slot = tui::RendererSlot::default();
    let renderer = tui::renderer_for(&session.ws, &settings, &resolved, &slot);
    let console =
        prepare::prepare(&session.ws, &settings, &session.lint, &renderer, &steps).unwrap();

    let cli_steps = cli["steps"].as_array().unwrap();
    assert_eq!(cli_steps.len(), console.steps.len());
    for (c, p) in cli_steps.iter().zip(&console.steps) {
        assert_eq!(c["revision"], p.script.step.revision.as_str());
        let sql: Vec<&str> = c["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sql"].as_str().unwrap())
            .collect();
        let console_sql: Vec<&str> = p
            .script
            .statements()
            .iter()
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(sql, console_sql, "step {}", p.script.step.revision);
        let flags: Vec<&str> = c["statements"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["flags"].as_array().unwrap())
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        let console_flags: Vec<&str> = p.flags.iter().flatten().map(|f| f.rule.id()).collect();
        assert_eq!(flags, console_flags, "step {}", p.script.step.revision);
        let findings: Vec<&str> = c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        let console_findings: Vec<&str> = p.findings.iter().map(|f| f.rule.id()).collect();
        assert_eq!(
            findings, console_findings,
            "step {}",
            p.script.step.revision
        );
    }
    // The demo drops a table on the way: both front ends get the same deliberate gate.
    assert!(matches!(
        console.gate,
        Gate::Deliberate {
            word: "destroy",
            ..
        }
    ));
}

#[test]
fn a_reloaded_workspace_never_gets_the_renderer_of_the_one_before() {
    let (_dir, project) = demo_with_profile("postgresql://demo@localhost/demo");
    let ini = project.join("alembic.ini");
    let args = Args::parse_from(["alembic-tui", "-c", ini.to_str().unwrap()]);
    let load = || {
        let mut warn = Vec::new();
        Arc::new(alembic_tui::cli::commands::load_workspace(&args, &project, &mut warn).unwrap())
    };
    let session = tui::Session::prepare(&args, &project).unwrap();
    let (settings, resolved) = session.db.clone().unwrap();
    let slot = tui::RendererSlot::default();
    // Load, render, drop, reload many times: a new workspace allocated where the old one was must
    // still get a renderer of its own (one that hashed the files as they are now).
    let mut seen = Vec::new();
    for _ in 0..20 {
        let ws = load();
        let renderer = tui::renderer_for(&ws, &settings, &resolved, &slot);
        let address = Arc::as_ptr(&ws) as usize;
        assert!(
            !seen.iter().any(|(_, old)| Arc::ptr_eq(old, &renderer)),
            "a reloaded workspace (at {address:#x}) got an earlier workspace's renderer"
        );
        seen.push((address, renderer));
        drop(ws);
    }
    assert_eq!(seen.len(), 20);
}
