//! alembic-tui: a terminal console for Alembic migrations on PostgreSQL.
//!
//! The pure core (`project`, `graph`) never touches a database or a terminal; the binary in
//! `main.rs` and the `cli` module sit at the edge.
#![deny(clippy::unwrap_used)]
// Tests may unwrap: a panic there is a failing test, not a crash in front of a user.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod analysis;
pub mod cli;
pub mod config;
pub mod db;
pub mod dburl;
pub mod demo;
pub mod graph;
pub mod journal;
pub mod paths;
pub mod pgtemp;
pub mod project;
pub mod redact;
pub mod render;
pub mod tui;
pub mod verify;
