//! Reviewing SQL and `op.*` calls. For now: splitting scripts into statements, the piece the
//! executor and the rules (issue 6) share. Pure: no I/O.

pub mod sql_split;
