//! Where alembic-tui keeps its own files: the data dir (render cache, journal) and the state dir
//! (logs). Each can be moved with an environment variable, which tests and sandboxes use.

use std::path::PathBuf;

use anyhow::{Context, Result};

fn project_dirs() -> Result<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "alembic-tui")
        .context("no home directory: set ALEMBIC_TUI_DATA_DIR and ALEMBIC_TUI_STATE_DIR")
}

/// `$ALEMBIC_TUI_DATA_DIR`, else the platform's data dir (`~/.local/share/alembic-tui` on Linux).
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("ALEMBIC_TUI_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    Ok(project_dirs()?.data_dir().to_path_buf())
}

/// `$ALEMBIC_TUI_STATE_DIR`, else the platform's state dir (data dir where there is none).
pub fn state_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("ALEMBIC_TUI_STATE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let dirs = project_dirs()?;
    Ok(dirs
        .state_dir()
        .map_or_else(|| dirs.data_dir().to_path_buf(), |d| d.to_path_buf()))
}
