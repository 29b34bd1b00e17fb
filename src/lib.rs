//! alembic-tui: a terminal console for Alembic migrations on PostgreSQL.
//!
//! The pure core (`project`, `graph`) never touches a database or a terminal; the binary in
//! `main.rs` and the `cli` module sit at the edge.
#![deny(clippy::unwrap_used)]

// pub mod cli; (enabled when graph and project land)
pub mod graph;
pub mod project;
