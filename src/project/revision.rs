//! One revision file as alembic-tui understands it: header variables, docstring, and bodies.

use std::path::PathBuf;

use crate::project::ops::OpCall;

/// A revision script read statically from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// The `revision` variable.
    pub id: String,
    /// `down_revision`, normalised: None/()/[] → empty; a str → one element; tuple order kept.
    pub down_revisions: Vec<String>,
    /// `branch_labels` as declared in the file (inherited labels are the graph's business).
    pub branch_labels: Vec<String>,
    /// `depends_on` as declared (ids, prefixes or branch labels; the graph resolves them).
    pub depends_on: Vec<String>,
    /// alembic's `Script.doc`: the first paragraph of the stripped module docstring.
    pub doc: String,
    /// alembic's `Script.longdoc`: the whole stripped module docstring.
    pub longdoc: String,
    /// The `Create Date:` line of the docstring, when present.
    pub create_date: Option<String>,
    /// The file the revision was read from.
    pub path: PathBuf,
    /// `def upgrade()`, when the file defines it.
    pub upgrade: Option<Body>,
    /// `def downgrade()`, when the file defines it.
    pub downgrade: Option<Body>,
}

/// A function body (`upgrade` or `downgrade`) with where it lives and the `op.*` calls inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// 1-based line of the `def` statement.
    pub def_line: usize,
    /// 1-based last line of the function.
    pub end_line: usize,
    /// The source text of the whole function, `def` line included.
    pub source: String,
    /// True when the body does nothing (only `pass`, a docstring, `...` and comments).
    pub is_empty: bool,
    /// Every `op.<name>(...)` call in the body, in source order (nested blocks included).
    pub ops: Vec<OpCall>,
}
