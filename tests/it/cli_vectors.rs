//! Every case recorded from real alembic (tests/fixtures/alembic-graph.json) through the CLI
//! contract: each graph is written as a project of revision files, and each case runs the real
//! binary (`heads`, `history`, `show`, `plan … --json`), comparing its answer or its exit code 2.

use crate::common;

use std::path::Path;

use common::vectors::{self, Case, GraphRow};
use serde_json::Value;

fn py_tuple(items: &[String]) -> String {
    match items {
        [] => "None".to_owned(),
        items => {
            let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
            format!("({},)", quoted.join(", "))
        }
    }
}

/// Writes the graph as one file per revision named by its id, as the recorder did: alembic then
/// loads them in id order, which breaks ties in heads and in step order.
fn write_graph(dir: &Path, rows: &[GraphRow]) {
    let versions = dir.join("migrations/versions");
    std::fs::create_dir_all(&versions).unwrap();
    std::fs::write(
        dir.join("alembic.ini"),
        "[alembic]\nscript_location = %(here)s/migrations\n",
    )
    .unwrap();
    for row in rows {
        let down = match row.down.as_slice() {
            [] => "None".to_owned(),
            [one] => format!("{one:?}"),
            many => py_tuple(many),
        };
        let text = format!(
            "\"\"\"revision {rev}\n\nRevision ID: {rev}\n\"\"\"\nrevision = {rev:?}\ndown_revision = {down}\n\
             branch_labels = {labels}\ndepends_on = {deps}\n\n\ndef upgrade():\n    pass\n\n\n\
             def downgrade():\n    pass\n",
            rev = row.rev,
            labels = py_tuple(&row.branch_labels),
            deps = py_tuple(&row.depends_on),
        );
        std::fs::write(versions.join(format!("{}.py", row.rev)), text).unwrap();
    }
}

/// Runs the binary; returns (exit code, parsed stdout when it succeeded, stderr).
fn run(ini: &Path, args: &[&str]) -> (i32, Value, String) {
    let (code, value, stderr) = common::json_cli(ini, args);
    (code, if code == 0 { value } else { Value::Null }, stderr)
}

fn sorted_ids(items: &Value, filter: impl Fn(&Value) -> bool) -> Value {
    let mut ids: Vec<String> = items
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|i| filter(i))
                .filter_map(|i| i["revision"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    Value::from(ids)
}

/// The answer of one case in the vector format, or `{"error": …}` when the binary refused.
fn answer(ini: &Path, case: &Case) -> (Value, String) {
    let str_arg = |k: &str| case.args.get(k).and_then(Value::as_str).unwrap_or_default();
    let (code, value, stderr) = match case.op.as_str() {
        "heads" => run(ini, &["heads"]),
        "bases" => run(ini, &["history"]),
        "resolve" => run(ini, &["show", str_arg("id")]),
        "upgrade" | "downgrade" => {
            let from: Vec<&str> = case.args["from"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let from = from.join(",");
            run(ini, &["plan", &case.op, str_arg("to"), "--from", &from])
        }
        other => panic!("unknown op {other}"),
    };
    if code != 0 {
        if code != 2 || stderr.is_empty() {
            return (Value::from(format!("exit {code}: {stderr}")), stderr);
        }
        return (serde_json::json!({ "error": true }), stderr);
    }
    let got = match case.op.as_str() {
        "heads" | "resolve" => sorted_ids(&value, |_| true),
        "bases" => sorted_ids(&value, |i| {
            i["down_revisions"].as_array().is_some_and(|d| d.is_empty())
        }),
        _ => value["steps"].clone(),
    };
    (got, stderr)
}

#[test]
fn every_recorded_case_matches_alembic_through_the_cli() {
    let vectors = vectors::load();
    let root = tempfile::tempdir().unwrap();
    for (name, rows) in &vectors.graphs {
        write_graph(&root.path().join(name), rows);
    }

    let mut failures = Vec::new();
    for case in &vectors.cases {
        let ini = root.path().join(&case.graph).join("alembic.ini");
        let (got, stderr) = answer(&ini, case);
        let ok = if case.expect.get("error").is_some() {
            got.get("error").is_some()
        } else {
            got == case.expect
        };
        if !ok {
            failures.push(format!(
                "{} {} {:?}\n  expected {}\n  got      {}\n  stderr   {}",
                case.graph,
                case.op,
                case.args,
                case.expect,
                got,
                stderr.trim()
            ));
        }
    }
    for failure in failures.iter().take(30) {
        eprintln!("{failure}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} recorded cases differ from alembic",
        failures.len(),
        vectors.cases.len()
    );
}

/// `show -1`, `show -2` and `show -3` on every recorded graph, typed as users type them (no `--`),
/// against real alembic's `show` on the same project: the same revisions (one per head, repeats
/// kept), or both refuse.
#[test]
fn show_minus_n_matches_alembic_without_a_double_dash() {
    let vectors = vectors::load();
    let root = tempfile::tempdir().unwrap();
    let idents = ["-1", "-2", "-3"];
    let mut failures = Vec::new();
    let mut answered = 0;
    for (name, rows) in &vectors.graphs {
        let dir = root.path().join(name);
        write_graph(&dir, rows);
        let argvs: Vec<Vec<String>> = idents
            .iter()
            .map(|i| vec!["show".to_owned(), (*i).to_owned()])
            .collect();
        let runs = common::alembic_batch(&dir, &argvs);
        for (ident, run) in idents.iter().zip(runs) {
            // alembic prints one `Rev: <id> …` block per revision it resolves.
            let theirs = (run.code == 0).then(|| {
                let mut ids: Vec<String> = run
                    .stdout
                    .lines()
                    .filter_map(|l| l.strip_prefix("Rev: "))
                    .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
                    .collect();
                ids.sort();
                Value::from(ids)
            });
            let (code, value, stderr) = run_plain(&dir, &["--json", "show", ident]);
            let ours = (code == 0).then(|| sorted_ids(&value, |_| true));
            if theirs.is_some() {
                answered += 1;
            }
            let refused_alike = theirs.is_none() && code == 2 && !stderr.is_empty();
            if !(refused_alike || ours == theirs) {
                failures.push(format!(
                    "{name} show {ident}: alembic {theirs:?} (exit {}), ours {ours:?} (exit {code}): {}",
                    run.code,
                    stderr.trim()
                ));
            }
        }
    }
    for failure in failures.iter().take(30) {
        eprintln!("{failure}");
    }
    assert!(failures.is_empty(), "{} cases differ", failures.len());
    assert!(
        answered > 20,
        "only {answered} answers: the cases test little"
    );
}

/// Runs the binary in `dir` with ARGS exactly as given (no `--` inserted).
fn run_plain(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = common::bin()
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("ALEMBIC_CONFIG")
        .output()
        .expect("run alembic-tui");
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
