//! `alembic-tui demo`: the bundled demo project (carried inside the binary) copied to a temp
//! dir, a throwaway PostgreSQL of its own, an alembic that can run the demo's env.py (found, or a
//! venv made once in the data dir), and the console on all of it. Everything goes away on exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::cli::Args;
use crate::pgtemp::TempServer;

/// The demo project's files, relative to its alembic.ini. A unit test checks this list against
/// assets/demo so a new revision there cannot be forgotten here.
pub const FILES: &[(&str, &str)] = &[
    (
        "alembic.ini",
        include_str!("../assets/demo/alembic.ini"),
    ),
    (
        "migrations/env.py",
        include_str!("../assets/demo/migrations/env.py"),
    ),
    (
        "migrations/script.py.mako",
        include_str!("../assets/demo/migrations/script.py.mako"),
    ),
    (
        "migrations/versions/2026_01_05_1a0c3e5f7b21_initial_schema.py",
        include_str!("../assets/demo/migrations/versions/2026_01_05_1a0c3e5f7b21_initial_schema.py"),
    ),
    (
        "migrations/versions/2026_01_12_2b7d4f60a8c3_orders.py",
        include_str!("../assets/demo/migrations/versions/2026_01_12_2b7d4f60a8c3_orders.py"),
    ),
    (
        "migrations/versions/2026_01_20_3c8e5a71b9d4_index_orders_by_customer.py",
        include_str!("../assets/demo/migrations/versions/2026_01_20_3c8e5a71b9d4_index_orders_by_customer.py"),
    ),
    (
        "migrations/versions/2026_02_02_4d9f6b82cae5_loyalty_points.py",
        include_str!("../assets/demo/migrations/versions/2026_02_02_4d9f6b82cae5_loyalty_points.py"),
    ),
    (
        "migrations/versions/2026_02_09_5e0a7c93dbf6_split_customer_name.py",
        include_str!("../assets/demo/migrations/versions/2026_02_09_5e0a7c93dbf6_split_customer_name.py"),
    ),
    (
        "migrations/versions/2026_02_10_6f1b8da4ec07_product_categories.py",
        include_str!("../assets/demo/migrations/versions/2026_02_10_6f1b8da4ec07_product_categories.py"),
    ),
    (
        "migrations/versions/2026_02_16_7a2c9eb5fd18_rename_product_title.py",
        include_str!("../assets/demo/migrations/versions/2026_02_16_7a2c9eb5fd18_rename_product_title.py"),
    ),
    (
        "migrations/versions/2026_02_20_8b3dafc60e29_merge_customers_and_catalogue.py",
        include_str!("../assets/demo/migrations/versions/2026_02_20_8b3dafc60e29_merge_customers_and_catalogue.py"),
    ),
    (
        "migrations/versions/2026_03_02_9c4eb0d71f3a_drop_coupons.py",
        include_str!("../assets/demo/migrations/versions/2026_03_02_9c4eb0d71f3a_drop_coupons.py"),
    ),
    (
        "migrations/versions/2026_03_09_c2f7be3a0426_index_orders_by_date.py",
        include_str!("../assets/demo/migrations/versions/2026_03_09_c2f7be3a0426_index_orders_by_date.py"),
    ),
    (
        "migrations/versions/2026_03_10_a0d5fc1e8204_reporting_schema.py",
        include_str!("../assets/demo/migrations/versions/2026_03_10_a0d5fc1e8204_reporting_schema.py"),
    ),
    (
        "migrations/versions/2026_03_16_b1e6ad2f9315_daily_sales_view.py",
        include_str!("../assets/demo/migrations/versions/2026_03_16_b1e6ad2f9315_daily_sales_view.py"),
    ),
];

/// What the demo venv installs: alembic, SQLAlchemy and the psycopg 3 driver the env.py uses.
const VENV_PACKAGES: &[&str] = &["alembic", "SQLAlchemy", "psycopg[binary]"];

/// Writes the demo project into `dir`.
pub fn write_project(dir: &Path) -> Result<()> {
    for (path, text) in FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

/// Does this Python import everything the demo's env.py needs?
fn python_works(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import alembic, sqlalchemy, psycopg"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A Python that runs alembic with psycopg: `$ALEMBIC_TUI_PYTHON`, `python3` on PATH, or the
/// venv in the data dir (created on first use, which needs python3-venv and the package index).
pub fn find_python(say: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let venv = crate::paths::data_dir()?.join("demo-venv");
    let venv_python = venv.join("bin").join("python");
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("ALEMBIC_TUI_PYTHON").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(PathBuf::from("python3"));
    candidates.push(venv_python.clone());
    if let Some(found) = candidates.into_iter().find(|p| python_works(p)) {
        return Ok(found);
    }
    say(&format!(
        "no Python with alembic, SQLAlchemy and psycopg found: creating a venv in {} (once)",
        venv.display()
    ));
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("running python3 -m venv (install python3 and python3-venv)")?;
    if !made.success() {
        bail!(
            "python3 -m venv {} failed (on Debian/Ubuntu: apt-get install python3-venv)",
            venv.display()
        );
    }
    say(&format!("installing {} into it", VENV_PACKAGES.join(", ")));
    let pip = Command::new(&venv_python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(VENV_PACKAGES)
        .status()
        .context("running pip in the demo venv")?;
    if !pip.success() || !python_works(&venv_python) {
        bail!(
            "installing {} into {} failed; remove that directory and try again, or set \
             ALEMBIC_TUI_PYTHON to a Python that has them",
            VENV_PACKAGES.join(", "),
            venv.display()
        );
    }
    Ok(venv_python)
}

/// The profile the demo runs with, as an alembic-tui.yaml.
pub fn profile_yaml(url: &str, python: &Path) -> Result<String> {
    let alembic = format!(
        "'{}' -m alembic",
        python.display().to_string().replace('\'', r"'\''")
    );
    let config = serde_json::json!({
        "default_profile": "demo",
        "profiles": {
            "demo": {
                "url": url,
                "alembic": alembic,
                "lock_timeout": "5s",
                "statement_timeout": "1min",
            }
        }
    });
    Ok(format!(
        "# Written by alembic-tui demo for this run only.\n{}",
        serde_yaml::to_string(&config).context("writing the demo profile")?
    ))
}

/// Sets everything up, runs the console, and tears it down.
pub fn run(args: &Args, _cwd: &Path) -> Result<()> {
    let mut say = |text: &str| eprintln!("demo: {text}");
    // alembic runs as us while the directory belongs to the server's user when we are root; no
    // __pycache__ of ours must stand in the way of its clean-up. Set before any thread starts.
    std::env::set_var("PYTHONDONTWRITEBYTECODE", "1");
    // One temp dir for the project copy and the cluster: the server's keeper removes all of it
    // when we go, even when we are killed (it owns the directory once the server runs in it).
    let work = tempfile::Builder::new()
        .prefix("alembic-tui-demo-")
        .tempdir()
        .context("creating a temp dir for the demo")?;
    let project = work.path().join("project");
    write_project(&project)?;
    let python = find_python(&mut say)?;
    say("starting a throwaway PostgreSQL");
    let server = TempServer::start(work.path())?;
    server.create_database("demo")?;
    let url = server.url("demo");
    let yaml = profile_yaml(&url, &python)?;
    std::fs::write(crate::config::project_config_path(&project), yaml)
        .context("writing the demo's alembic-tui.yaml")?;
    let mut demo_args = args.clone();
    demo_args.command = None;
    demo_args.config = Some(project.join("alembic.ini"));
    demo_args.name = "alembic".to_owned();
    demo_args.url = None;
    demo_args.profile = Some("demo".to_owned());
    let result = crate::tui::Session::prepare(&demo_args, &project).and_then(crate::tui::run);
    // The server stops (and its keeper clears the directory) before the temp dir is dropped.
    drop(server);
    drop(work);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_project_is_all_of_assets_demo() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if path.file_name().is_some_and(|n| n != "__pycache__") {
                        stack.push(path);
                    }
                } else {
                    on_disk.push(path.strip_prefix(&root).unwrap().display().to_string());
                }
            }
        }
        on_disk.sort();
        let embedded: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn the_profile_quotes_the_python_path() {
        let yaml = profile_yaml(
            "postgresql://postgres@/demo?host=/tmp/x",
            Path::new("/opt/my py/python"),
        )
        .unwrap();
        let file = crate::config::parse_config(Path::new("alembic-tui.yaml"), &yaml).unwrap();
        let profile = &file.profiles["demo"];
        let settings =
            crate::config::Settings::from_profile(Some("demo"), profile, "test").unwrap();
        assert_eq!(settings.alembic, ["/opt/my py/python", "-m", "alembic"]);
    }
}
