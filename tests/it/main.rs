//! The integration tests, one binary: the library links once (a fresh-clone build of seventeen
//! test binaries took most of CI's time), and one throwaway PostgreSQL cluster serves every module.

mod cli_lint;
mod cli_vectors;
mod cli_verify;
mod common;
mod config_parity;
mod db_current;
mod db_exec;
mod db_locks;
mod db_schema;
mod db_tls;
mod differential_alembic;
mod engine_prepare;
mod graph_vectors;
mod hardening_pg;
mod header_cache;
mod hostile_files;
mod layers;
mod lint_autogen;
mod lint_pg;
mod lint_rendered;
mod lint_rules;
mod project_parse;
mod sql_classify;
mod squawk_parity;
mod tui_checks;
mod tui_e2e;
mod tui_snapshots;
