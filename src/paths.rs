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

/// Creates `dir` and its missing parents, each new one `0700` (owner only): they hold the
/// journal, logs and rendered SQL, which name databases and users.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens `path` for appending, creating it `0600`; a file left readable by others (by an older
/// version) is narrowed to `0600`.
pub fn open_private_append(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    narrow(&file)?;
    Ok(file)
}

/// Writes `bytes` to a new file at `path`, created `0600` (replacing what was there).
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    narrow(&file)?;
    file.write_all(bytes)
}

#[cfg(unix)]
fn narrow(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn narrow(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn private_files_and_directories_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        super::create_private_dir(&dir).unwrap();
        for d in [root.path().join("a"), dir.clone()] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        let log = dir.join("x.log");
        std::fs::write(&log, "old").unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::open_private_append(&log).unwrap();
        super::write_private(&dir.join("y.json"), b"{}").unwrap();
        for f in [log, dir.join("y.json")] {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }
}
