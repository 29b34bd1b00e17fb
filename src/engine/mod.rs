//! The engine: everything both front ends need between the pure core and the adapters, free of
//! any terminal or argument type. A plan becomes the SQL it will run (`render`, through the
//! profile's `alembic` command), ONE prepared, reviewed plan that the CLI prints and the console
//! draws (`prepare`), and is run by the guarded executor (`exec`) that journals what it commits
//! (`journal`). Schema checks on shadow databases live in `checks`.

pub mod alembic;
pub mod checks;
pub mod exec;
pub mod inputs;
pub mod journal;
pub mod prepare;
pub mod render;
pub mod script;
pub mod state;

use crate::config::ConfigError;
use crate::db::DbError;
use crate::graph::GraphError;

/// What can go wrong in the engine, with the file, revision, setting or command it concerns.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("planning {direction} {target} from the version table's rows [{}]: {source}", rows.join(", "))]
    Plan {
        direction: &'static str,
        target: String,
        rows: Vec<String>,
        source: Box<GraphError>,
    },
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The profile's alembic command could not be started at all.
    #[error("cannot run the alembic command `{command}` in {dir} (set `alembic:` in the profile): {source}")]
    AlembicCommand {
        command: String,
        dir: String,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// The executor stopped (its own words, with the server's SQLSTATE where it gave one).
    #[error(transparent)]
    Exec(Box<exec::ExecFailure>),
    /// A schema check could not be carried out (not a finding: the check itself failed).
    #[error("{0}")]
    Check(String),
}

impl From<exec::ExecFailure> for EngineError {
    fn from(failure: exec::ExecFailure) -> EngineError {
        EngineError::Exec(Box::new(failure))
    }
}

impl EngineError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> EngineError {
        EngineError::Io {
            what: what.into(),
            source,
        }
    }
}

/// A blocking caller's runtime for the engine's async parts (the CLI and the console's check
/// threads; the console's event loop has its own).
pub fn runtime() -> Result<tokio::runtime::Runtime, EngineError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EngineError::io("starting the async runtime", e))
}
