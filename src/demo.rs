//! `alembic-tui demo`: the bundled demo project on a throwaway PostgreSQL.

use std::path::Path;

use anyhow::Result;

use crate::cli::Args;

/// Not yet: the throwaway server arrives in the next slice.
pub fn run(_args: &Args, _cwd: &Path) -> Result<()> {
    anyhow::bail!("alembic-tui demo is not built yet")
}
