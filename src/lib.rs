//! alembic-tui: a terminal console for Alembic migrations on PostgreSQL.
//!
//! Four layers, arrows pointing down only (design.md): the front ends (`main.rs`, `cli`, `tui`,
//! `demo`); the engine (`engine`, `workspace`, `context`); the adapters (`db`, `config`,
//! `paths`, `pgtemp`); and the pure core (`project`, `graph`, `analysis`).
#![deny(clippy::unwrap_used)]
// Tests may unwrap: a panic there is a failing test, not a crash in front of a user.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod analysis;
pub mod cli;
pub mod config;
pub mod context;
pub mod db;
pub mod dburl;
pub mod demo;
pub mod engine;
pub mod graph;
pub mod paths;
pub mod pgtemp;
pub mod project;
pub mod redact;
pub mod tui;
pub mod workspace;
