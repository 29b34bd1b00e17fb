//! The command line: clap definitions (`args`), the read-only commands (`commands`) and their
//! human and JSON output (`output`). Exit codes are decided once, in `main.rs`.

pub mod args;
pub mod commands;
pub mod lint;
pub mod migrate;
pub mod output;
pub mod terminal;
pub mod verify;

pub use args::{Args, Command};
