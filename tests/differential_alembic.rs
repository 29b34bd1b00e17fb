//! Differential test against real alembic: random histories are written as projects, and
//! alembic-tui's `heads` and `plan` must agree with `alembic heads` and with the step markers of
//! `alembic upgrade/downgrade FROM:TO --sql` (offline, no database), refusals included.

mod common;

use common::gen::{random_graph, GenRev, Rng};
use serde_json::Value;
use std::path::Path;

fn ours(ini: &Path, args: &[&str]) -> (i32, Value) {
    let (code, value, _) = common::json_cli(ini, args);
    (code, value)
}

/// The revisions alembic ran, in order, from its `-- Running upgrade A, B -> C` markers.
fn markers(sql: &str) -> Vec<String> {
    sql.lines()
        .filter_map(|l| {
            let rest = l
                .strip_prefix("-- Running upgrade ")
                .map(|r| (r, true))
                .or_else(|| l.strip_prefix("-- Running downgrade ").map(|r| (r, false)))?;
            let (text, upgrade) = rest;
            let (from, to) = text.split_once(" -> ")?;
            let rev = if upgrade { to } else { from };
            Some(rev.trim().to_owned())
        })
        .collect()
}

struct Check<'a> {
    dir: &'a Path,
    ini: &'a Path,
    failures: Vec<String>,
    /// Plans where both sides ran steps and agreed: proof the comparison compared something.
    agreed_steps: usize,
}

impl Check<'_> {
    fn heads(&mut self, seed: u64) {
        let out = common::alembic(self.dir, &["heads"]);
        assert!(
            out.status.success(),
            "alembic heads failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect();
        theirs.sort();
        let (code, value) = ours(self.ini, &["heads"]);
        let mut mine: Vec<String> = value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h["revision"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        mine.sort();
        if code != 0 || mine != theirs {
            self.failures.push(format!(
                "seed {seed}: heads: alembic {theirs:?}, ours {mine:?} (exit {code})"
            ));
        }
    }

    /// `history`: the same revisions in the same order (newest first).
    fn history(&mut self, seed: u64) {
        let out = common::alembic(self.dir, &["history"]);
        let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(" -> ").map(|(_, rest)| rest))
            .filter_map(|rest| rest.split([' ', ',']).next().map(str::to_owned))
            .collect();
        let (code, value) = ours(self.ini, &["history"]);
        let mine: Vec<String> = value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h["revision"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if code != 0 || theirs.is_empty() || mine != theirs {
            self.failures.push(format!(
                "seed {seed}: history: alembic {theirs:?}, ours {mine:?}"
            ));
        }
    }

    /// `direction` from `from` (None = base) to `to`, compared step by step.
    fn plan(&mut self, seed: u64, direction: &str, from: Option<&str>, to: &str) {
        let range = match from {
            Some(f) => format!("{f}:{to}"),
            None => to.to_owned(),
        };
        let out = common::alembic(self.dir, &[direction, &range, "--sql"]);
        let theirs = out
            .status
            .success()
            .then(|| markers(&String::from_utf8_lossy(&out.stdout)));
        let (code, value) = ours(
            self.ini,
            &["plan", direction, to, "--from", from.unwrap_or("base")],
        );
        let mine: Option<Vec<String>> = (code == 0).then(|| {
            value["steps"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .filter_map(|x| x["revision"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        });
        let agree = match (&theirs, &mine) {
            (Some(t), Some(m)) => {
                if t == m {
                    self.agreed_steps += t.len();
                }
                t == m
            }
            (None, None) => code == 2,
            _ => false,
        };
        if !agree {
            self.failures.push(format!(
                "seed {seed}: {direction} {range}: alembic {theirs:?} ({}), ours {mine:?} (exit {code})",
                String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
            ));
        }
    }
}

fn pick<'a>(rng: &mut Rng, revs: &'a [GenRev]) -> &'a str {
    &revs[rng.below(revs.len())].id
}

#[test]
fn random_histories_agree_with_real_alembic() {
    let root = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut agreed_steps = 0;
    for seed in 1..=16u64 {
        let mut rng = Rng::new(seed * 7919);
        let revs = random_graph(seed, 10 + rng.below(30));
        let dir = root.path().join(format!("seed{seed}"));
        common::gen::write_project(&dir, &revs).unwrap();
        let ini = dir.join("alembic.ini");
        let mut check = Check {
            dir: &dir,
            ini: &ini,
            failures: Vec::new(),
            agreed_steps: 0,
        };
        check.heads(seed);
        check.history(seed);
        check.plan(seed, "upgrade", None, "heads");
        check.plan(seed, "upgrade", None, pick(&mut rng, &revs));
        check.plan(seed, "upgrade", Some(pick(&mut rng, &revs)), "heads");
        if let Some(label) = revs.iter().find_map(|r| r.branch_labels.first()) {
            check.plan(seed, "upgrade", None, &format!("{label}@head"));
        }
        // Downgrades start from one head (alembic's offline mode takes a single start).
        let (_, heads) = ours(&ini, &["heads"]);
        if let Some(head) = heads.get(0).and_then(|h| h["revision"].as_str()) {
            check.plan(seed, "downgrade", Some(head), "base");
            check.plan(seed, "downgrade", Some(head), pick(&mut rng, &revs));
        }
        compared += 1;
        agreed_steps += check.agreed_steps;
        failures.extend(check.failures);
    }
    for f in &failures {
        eprintln!("{f}");
    }
    assert_eq!(compared, 16);
    assert!(
        agreed_steps > 200,
        "only {agreed_steps} steps compared: the generator lost its shape"
    );
    assert!(
        failures.is_empty(),
        "{} disagreements with alembic",
        failures.len()
    );
}
