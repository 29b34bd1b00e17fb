//! Every case recorded from real alembic (tests/fixtures/alembic-graph.json) against the graph
//! library directly: heads, bases, identifier resolution, upgrade and downgrade plans.

use crate::common;

use std::collections::BTreeMap;

use alembic_tui::graph::{Direction, NodeSpec, RevisionMap};
use common::vectors::{self, Case, GraphRow};
use serde_json::{json, Value};

fn sorted(mut ids: Vec<String>) -> Value {
    ids.sort();
    json!(ids)
}

fn answer(map: &RevisionMap, case: &Case) -> Result<Value, String> {
    let arg = |k: &str| case.args.get(k).and_then(Value::as_str).unwrap_or_default();
    let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    match case.op.as_str() {
        "heads" => Ok(sorted(owned(map.heads()))),
        "bases" => Ok(sorted(owned(map.bases()))),
        "resolve" => map
            .resolve(arg("id"))
            .map(sorted)
            .map_err(|e| e.to_string()),
        "upgrade" | "downgrade" => {
            let from: Vec<String> = case.args["from"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let steps = if case.op == "upgrade" {
                map.plan_upgrade(&from, arg("to"))
            } else {
                map.plan_downgrade(&from, arg("to"))
            }
            .map_err(|e| e.to_string())?;
            Ok(json!(steps
                .iter()
                .map(|s| json!({
                    "direction": if s.direction == Direction::Upgrade { "upgrade" } else { "downgrade" },
                    "revision": s.revision,
                    "heads_before": s.heads_before,
                    "heads_after": s.heads_after,
                }))
                .collect::<Vec<_>>()))
        }
        other => Err(format!("unknown op {other}")),
    }
}

#[test]
fn every_recorded_case_matches_alembic() {
    let vectors = vectors::load();
    let maps: BTreeMap<&str, RevisionMap> = vectors
        .graphs
        .iter()
        .map(|(name, rows)| {
            // The recorder wrote one file per revision named after its id, so alembic loaded
            // them in id order: that order breaks ties in heads and in the topological sort.
            let mut rows: Vec<&GraphRow> = rows.iter().collect();
            rows.sort_by(|a, b| a.rev.cmp(&b.rev));
            let specs = rows
                .iter()
                .map(|r| NodeSpec {
                    id: r.rev.clone(),
                    down_revisions: r.down.clone(),
                    branch_labels: r.branch_labels.clone(),
                    depends_on: r.depends_on.clone(),
                })
                .collect();
            let (map, _) = RevisionMap::new(specs).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name.as_str(), map)
        })
        .collect();
    let mut failures = Vec::new();
    for case in &vectors.cases {
        let got = answer(&maps[case.graph.as_str()], case);
        let ok = match (&got, case.expect.get("error")) {
            (Err(_), Some(_)) => true,
            (Ok(value), None) => *value == case.expect,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{} {} {:?}\n  expected {}\n  got      {:?}",
                case.graph, case.op, case.args, case.expect, got
            ));
        }
    }
    for f in failures.iter().take(30) {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} recorded cases differ from alembic",
        failures.len(),
        vectors.cases.len()
    );
}
