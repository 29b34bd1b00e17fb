//! The vectors recorded from real alembic (tests/fixtures/alembic-graph.json): graphs and the
//! cases alembic answered about them.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(serde::Deserialize)]
pub struct Vectors {
    pub graphs: BTreeMap<String, Vec<GraphRow>>,
    pub cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
pub struct GraphRow {
    pub rev: String,
    pub down: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
}

#[derive(serde::Deserialize)]
pub struct Case {
    pub graph: String,
    pub op: String,
    pub args: BTreeMap<String, Value>,
    pub expect: Value,
}

/// Reads the fixture copied from the recording.
pub fn load() -> Vectors {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alembic-graph.json");
    let text = std::fs::read_to_string(path).expect("read tests/fixtures/alembic-graph.json");
    serde_json::from_str(&text).expect("parse alembic-graph.json")
}
