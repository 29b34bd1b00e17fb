//! The revision graph with alembic's semantics: heads, bases, labels, dependencies, identifier
//! resolution and upgrade/downgrade plans. Pure: no I/O.

pub mod lanes;
pub mod plan;
pub mod resolve;
