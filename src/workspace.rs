//! The loaded project and the graph built from it: what every command and the console start
//! from, loaded from a plain request (never from the command line's own types).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::graph::{GraphError, GraphWarning, NodeSpec, RevisionMap};
use crate::project::{self, Project, ProjectError};

/// Where the project is: the same three things `alembic -c INI -n SECTION` takes from its
/// working directory.
#[derive(Debug, Clone, Copy)]
pub struct WorkspaceRequest<'a> {
    /// The ini file; None: alembic.ini found from `cwd` upward.
    pub config: Option<&'a Path>,
    /// The ini section holding alembic's options (`alembic -n`).
    pub section: &'a str,
    pub cwd: &'a Path,
    /// Read only the revisions' headers (through the parse cache in the data dir): for
    /// answers that never look inside `upgrade()` / `downgrade()` (heads, history, plans).
    pub headers_only: bool,
}

/// Why a workspace could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("the revision graph of {ini} is invalid: {source}")]
    Graph { ini: String, source: GraphError },
}

/// A loaded project and its revision map.
pub struct Workspace {
    pub project: Project,
    pub map: RevisionMap,
    /// Distinct for every workspace this process builds: caches of things derived from a
    /// workspace (renderers, rendered SQL) are keyed by it, never by a memory address, which a
    /// later workspace may reuse.
    pub generation: u64,
}

static GENERATION: AtomicU64 = AtomicU64::new(1);

impl Workspace {
    /// Discovers and loads the project and builds the graph; unreadable files and graph warnings
    /// go to `warn` (the rest still loads).
    pub fn load(
        req: WorkspaceRequest<'_>,
        warn: &mut dyn FnMut(String),
    ) -> Result<Workspace, WorkspaceError> {
        let config = project::discover(req.cwd, req.config, req.section)?;
        let project = if req.headers_only {
            let cache = crate::paths::data_dir().ok().map(|d| d.join("parse-cache"));
            project::load_headers(&config, cache.as_deref())?
        } else {
            project::load(&config)?
        };
        for problem in &project.problems {
            warn(problem.to_string());
        }
        let (ws, warnings) = Workspace::new(project).map_err(|source| WorkspaceError::Graph {
            ini: config.ini_path().display().to_string(),
            source,
        })?;
        for warning in &warnings {
            warn(warning.to_string());
        }
        Ok(ws)
    }

    /// Builds the graph of a loaded project (its revisions in load order).
    pub fn new(project: Project) -> Result<(Workspace, Vec<GraphWarning>), GraphError> {
        let specs = project
            .revisions
            .iter()
            .map(|r| NodeSpec {
                id: r.id.clone(),
                down_revisions: r.down_revisions.clone(),
                branch_labels: r.branch_labels.clone(),
                depends_on: r.depends_on.clone(),
            })
            .collect();
        let (map, warnings) = RevisionMap::new(specs)?;
        let generation = GENERATION.fetch_add(1, Ordering::Relaxed);
        Ok((
            Workspace {
                project,
                map,
                generation,
            },
            warnings,
        ))
    }
}
