//! Discovering an Alembic project (alembic.ini, script_location, version_locations) and loading its
//! revision files into `Revision` values, without executing any Python.

pub mod ini;
pub mod ops;
pub mod pyparse;
pub mod revision;

pub use revision::{Body, Revision};
