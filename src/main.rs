//! Placeholder until the graph and project modules land.
fn main() {}
