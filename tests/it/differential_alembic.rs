//! Differential test against real alembic: random histories are written as projects, and
//! alembic-tui's `heads`, `history` and `plan` must agree with `alembic heads`, `alembic history`
//! and with what `alembic upgrade/downgrade FROM:TO --sql` (offline, no database) prints: the
//! `-- Running upgrade A, B -> C` markers give the step order, and the INSERT/UPDATE/DELETE on
//! alembic_version under each marker give the version-table rows after each step. Where alembic
//! refuses (non-zero exit), alembic-tui must refuse too, with exit code 2.
//!
//! Alembic runs through `common::alembic_batch` (one Python process per history, alembic's own
//! console entry point per command line), and the histories are shared between two threads: about
//! 25 Python processes in all instead of ~350. `batch_runner_answers_as_alembic_processes_do`
//! checks that the batch runner answers exactly as separate `python -m alembic` processes.

use crate::common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use common::gen::{random_graph, write_project, GenRev, GraphOpts, Rng};
use serde_json::Value;

const SEEDS: u64 = 25;

/// A version-table row set, ordered for stable comparison and printing.
type Rows = BTreeSet<String>;

/// One `plan` to compare: `alembic DIRECTION [FROM:]TO --sql` against
/// `alembic-tui plan DIRECTION TO --from FROM|base`.
#[derive(Debug, Clone)]
struct Case {
    direction: &'static str,
    from: Option<String>,
    to: String,
}

impl Case {
    fn up(from: Option<&str>, to: &str) -> Case {
        Case {
            direction: "upgrade",
            from: from.map(str::to_owned),
            to: to.to_owned(),
        }
    }
    fn down(from: &str, to: &str) -> Case {
        Case {
            direction: "downgrade",
            from: Some(from.to_owned()),
            to: to.to_owned(),
        }
    }
    fn range(&self) -> String {
        match &self.from {
            Some(f) => format!("{f}:{}", self.to),
            None => self.to.clone(),
        }
    }
    fn alembic_argv(&self) -> Vec<String> {
        vec![self.direction.to_owned(), self.range(), "--sql".to_owned()]
    }
}

/// One step as alembic printed it: the revision it ran and the version-table rows after it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    revision: String,
    rows_after: Rows,
}

/// Everything quoted ('…') in a line, in order.
fn quoted(line: &str) -> Vec<&str> {
    line.split('\'').skip(1).step_by(2).collect()
}

/// Reads alembic's offline SQL: the step markers (`-- Running upgrade A, B -> C`: C ran;
/// `-- Running downgrade C -> A, B`: C ran) and, replaying the version-table statements under each
/// marker on `start`, the rows after each step. Offline output runs exactly these statements.
fn steps_from_sql(sql: &str, start: Rows) -> Result<Vec<Step>, String> {
    let mut rows = start;
    let mut steps: Vec<Step> = Vec::new();
    for line in sql.lines() {
        let marker = line
            .strip_prefix("-- Running upgrade ")
            .map(|r| (r, true))
            .or_else(|| {
                line.strip_prefix("-- Running downgrade ")
                    .map(|r| (r, false))
            });
        if let Some((text, upgrade)) = marker {
            let (from, to) = text
                .split_once(" -> ")
                .ok_or_else(|| format!("unreadable marker {line:?}"))?;
            let rev = if upgrade { to } else { from };
            if let Some(prev) = steps.last_mut() {
                prev.rows_after = rows.clone();
            }
            steps.push(Step {
                revision: rev.trim().to_owned(),
                rows_after: Rows::new(),
            });
            continue;
        }
        let q = quoted(line);
        if line.starts_with("INSERT INTO alembic_version") {
            let [new] = q[..] else {
                return Err(format!("unreadable {line:?}"));
            };
            rows.insert(new.to_owned());
        } else if line.starts_with("UPDATE alembic_version") {
            let [new, old] = q[..] else {
                return Err(format!("unreadable {line:?}"));
            };
            if !rows.remove(old) {
                return Err(format!("{line:?}: no row {old:?} in {rows:?}"));
            }
            rows.insert(new.to_owned());
        } else if line.starts_with("DELETE FROM alembic_version") {
            let [old] = q[..] else {
                return Err(format!("unreadable {line:?}"));
            };
            if !rows.remove(old) {
                return Err(format!("{line:?}: no row {old:?} in {rows:?}"));
            }
        } else if line.contains("alembic_version")
            && !line.starts_with("CREATE TABLE")
            && !line.trim_start().starts_with("CONSTRAINT")
        {
            return Err(format!("unexpected version-table statement {line:?}"));
        }
    }
    if let Some(prev) = steps.last_mut() {
        prev.rows_after = rows;
    }
    Ok(steps)
}

/// alembic-tui's answer: exit code and stdout as JSON (Null when not JSON).
fn ours(ini: &Path, args: &[&str], config_after: bool) -> (i32, Value) {
    let mut cmd = common::bin();
    // `-c` is global: half the calls give it after the subcommand, as users do.
    if config_after {
        cmd.args(args).arg("--json").arg("-c").arg(ini);
    } else {
        cmd.arg("-c").arg(ini).arg("--json").args(args);
    }
    let out = cmd
        .env_remove("DATABASE_URL")
        .output()
        .expect("run alembic-tui");
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

fn rows_of(v: &Value) -> Option<Rows> {
    v.as_array()?
        .iter()
        .map(|r| r.as_str().map(str::to_owned))
        .collect()
}

/// Revisions a revision descends from through down_revision (not depends_on), itself excluded.
fn ancestors(revs: &[GenRev], id: &str) -> Vec<String> {
    let by_id: HashMap<&str, &GenRev> = revs.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack = vec![id];
    while let Some(r) = stack.pop() {
        for d in &by_id[r].down_revisions {
            if seen.insert(d) {
                stack.push(d);
            }
        }
    }
    // In file order, so a seeded pick is deterministic.
    revs.iter()
        .filter(|r| seen.contains(r.id.as_str()))
        .map(|r| r.id.clone())
        .collect()
}

/// The plans to compare on one history: from base or one revision (alembic's offline mode takes
/// a single start) to `heads`, `head` (refused when there are several), a revision, a tip,
/// `label@head`; downgrades from a tip or any revision to base, an ancestor or any revision (which
/// alembic may refuse). Random picks make some of these refusals, and those are compared too.
fn cases(revs: &[GenRev], rng: &mut Rng) -> Vec<Case> {
    let pick = |rng: &mut Rng| revs[rng.below(revs.len())].id.clone();
    let parents: HashSet<&str> = revs
        .iter()
        .flat_map(|r| r.down_revisions.iter().map(String::as_str))
        .collect();
    let tips: Vec<&str> = revs
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !parents.contains(id))
        .collect();
    let tip = |rng: &mut Rng| tips[rng.below(tips.len())].to_owned();
    let mut out = vec![
        Case::up(None, "heads"),
        Case::up(None, "head"),
        Case::up(None, &pick(rng)),
        Case::up(Some(&pick(rng)), "heads"),
        Case::up(Some(&pick(rng)), "heads"),
        Case::up(Some(&pick(rng)), &pick(rng)),
        Case::up(Some(&pick(rng)), &tip(rng)),
        Case::down(&tip(rng), "base"),
        Case::down(&pick(rng), "base"),
        Case::down(&tip(rng), &pick(rng)),
    ];
    let from = pick(rng);
    let older = ancestors(revs, &from);
    if !older.is_empty() {
        let to = older[rng.below(older.len())].clone();
        out.push(Case::down(&from, &to));
    }
    let labels: Vec<&String> = revs.iter().flat_map(|r| &r.branch_labels).collect();
    if !labels.is_empty() {
        let label = labels[rng.below(labels.len())];
        out.push(Case::up(None, &format!("{label}@head")));
        out.push(Case::up(Some(&pick(rng)), &format!("{label}@head")));
    }
    out
}

#[derive(Default)]
struct Tally {
    failures: Vec<String>,
    /// Steps compared where both sides planned the same: proof the comparison compared something.
    agreed_steps: usize,
    agreed_plans: usize,
    agreed_refusals: usize,
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|h| h["revision"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Generates, writes and compares one history; returns its tally.
fn check_seed(root: &Path, seed: u64) -> Tally {
    let mut t = Tally::default();
    let mut rng = Rng::new(seed.wrapping_mul(7919));
    let revs = random_graph(seed, 10 + rng.below(31), &GraphOpts::default());
    let dir = root.join(format!("seed{seed}"));
    write_project(&dir, &revs).expect("write project");
    let ini = dir.join("alembic.ini");
    let cases = cases(&revs, &mut rng);

    let mut argvs: Vec<Vec<String>> = vec![vec!["heads".into()], vec!["history".into()]];
    argvs.extend(cases.iter().map(Case::alembic_argv));
    let runs = common::alembic_batch(&dir, &argvs);
    let mut failures = Vec::new();
    let mut fail = |what: &str, msg: String| failures.push(format!("seed {seed}: {what}: {msg}"));

    // heads: `<id> (labels) (head)` or `(effective head)` per line; compared as sets.
    let heads = &runs[0];
    if heads.code != 0 {
        fail(
            "alembic heads",
            format!("failed: {}{}", heads.stdout, heads.stderr),
        );
    } else {
        let theirs: BTreeSet<String> = heads
            .stdout
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect();
        let (code, v) = ours(&ini, &["heads"], !seed.is_multiple_of(2));
        let mine: BTreeSet<String> = ids(&v).into_iter().collect();
        if code != 0 || mine != theirs {
            fail(
                "heads",
                format!("alembic {theirs:?}, ours {mine:?} (exit {code})"),
            );
        }
    }

    // history: `A, B -> C (head), message` per line, newest first; the same order.
    let theirs: Vec<String> = runs[1]
        .stdout
        .lines()
        .filter_map(|l| l.split_once(" -> ").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split([' ', ',']).next().map(str::to_owned))
        .collect();
    let (code, v) = ours(&ini, &["history"], seed.is_multiple_of(2));
    let mine = ids(&v);
    if runs[1].code != 0 || code != 0 || theirs.len() != revs.len() || mine != theirs {
        fail(
            "history",
            format!("alembic {theirs:?}, ours {mine:?} (exit {code})"),
        );
    }

    for (i, (case, run)) in cases.iter().zip(&runs[2..]).enumerate() {
        let what = format!("{} {}", case.direction, case.range());
        let from = case.from.as_deref().unwrap_or("base");
        let (code, v) = ours(
            &ini,
            &["plan", case.direction, &case.to, "--from", from],
            (seed as usize + i).is_multiple_of(2),
        );
        if run.code != 0 {
            let why = run.stdout.lines().chain(run.stderr.lines()).last();
            if code == 2 {
                t.agreed_refusals += 1;
            } else {
                fail(
                    &what,
                    format!("alembic refused ({why:?}), ours exit {code}: {v}"),
                );
            }
            continue;
        }
        let start: Rows = case.from.iter().cloned().collect();
        let theirs = match steps_from_sql(&run.stdout, start.clone()) {
            Ok(s) => s,
            Err(e) => {
                fail(&what, format!("reading alembic's SQL: {e}"));
                continue;
            }
        };
        if code != 0 {
            let plan: Vec<&str> = theirs.iter().map(|s| s.revision.as_str()).collect();
            fail(&what, format!("alembic ran {plan:?}, ours exit {code}"));
            continue;
        }
        let mine_steps = v["steps"].as_array().cloned().unwrap_or_default();
        let mine_revs: Vec<String> = mine_steps
            .iter()
            .map(|s| s["revision"].as_str().unwrap_or("?").to_owned())
            .collect();
        let theirs_revs: Vec<String> = theirs.iter().map(|s| s.revision.clone()).collect();
        if mine_revs != theirs_revs {
            fail(
                &what,
                format!("steps: alembic {theirs_revs:?}, ours {mine_revs:?}"),
            );
            continue;
        }
        // The same steps: now the direction and version-table rows of each.
        let mut before = start;
        let mut rows_agree = true;
        for (s, m) in theirs.iter().zip(&mine_steps) {
            let dir_ok = m["direction"].as_str() == Some(case.direction);
            let mb = rows_of(&m["heads_before"]);
            let ma = rows_of(&m["heads_after"]);
            if !dir_ok || mb.as_ref() != Some(&before) || ma.as_ref() != Some(&s.rows_after) {
                fail(
                    &what,
                    format!(
                        "step {}: alembic rows {before:?} -> {:?}, ours {m}",
                        s.revision, s.rows_after
                    ),
                );
                rows_agree = false;
                break;
            }
            before = s.rows_after.clone();
        }
        if rows_agree {
            t.agreed_plans += 1;
            t.agreed_steps += theirs.len();
        }
    }
    t.failures = failures;
    t
}

#[test]
fn random_histories_agree_with_real_alembic() {
    let root = tempfile::tempdir().unwrap();
    let next = AtomicU64::new(1);
    let total = Mutex::new((Vec::<(u64, String)>::new(), 0usize, 0usize, 0usize));
    // Two workers: each alembic batch is one single-threaded Python process.
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed > SEEDS {
                    break;
                }
                let t = check_seed(root.path(), seed);
                let mut total = total.lock().unwrap();
                total.0.extend(t.failures.into_iter().map(|f| (seed, f)));
                total.1 += t.agreed_steps;
                total.2 += t.agreed_plans;
                total.3 += t.agreed_refusals;
            });
        }
    });
    let (mut failures, steps, plans, refusals) = total.into_inner().unwrap();
    failures.sort();
    for (_, f) in &failures {
        eprintln!("{f}");
    }
    eprintln!(
        "{SEEDS} histories: {plans} plans ({steps} steps) and {refusals} refusals agreed, {} disagreements",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements with alembic (listed above)",
        failures.len()
    );
    // Guards against a generator or a parser that stopped producing anything to compare.
    assert!(steps > 1000, "only {steps} steps compared");
    assert!(plans > 150, "only {plans} plans compared");
    assert!(refusals >= 10, "only {refusals} refusals compared");
}

/// The batch runner must answer as `python -m alembic` processes do: same exit status, same
/// stdout, for listings, offline upgrades and downgrades, and refusals.
#[test]
fn batch_runner_answers_as_alembic_processes_do() {
    let root = tempfile::tempdir().unwrap();
    let revs = random_graph(3, 30, &GraphOpts::default());
    write_project(root.path(), &revs).unwrap();
    let last = &revs[revs.len() - 1].id;
    let down = format!("{last}:base");
    let argvs: Vec<Vec<&str>> = vec![
        vec!["heads"],
        vec!["history"],
        vec!["upgrade", "heads", "--sql"],
        vec!["downgrade", &down, "--sql"],
        vec!["upgrade", "nosuchrevision", "--sql"],
        // Refused: offline downgrades need start:end.
        vec!["downgrade", "base", "--sql"],
        // argparse's exit 2.
        vec!["nosuchcommand"],
    ];
    let owned: Vec<Vec<String>> = argvs
        .iter()
        .map(|v| v.iter().map(|s| (*s).to_owned()).collect())
        .collect();
    let batch = common::alembic_batch(root.path(), &owned);
    for (argv, b) in argvs.iter().zip(&batch) {
        let p = common::alembic(root.path(), argv);
        let code = p.status.code().unwrap_or(-1);
        assert_eq!(
            (b.code, b.stdout.as_str()),
            (code, String::from_utf8_lossy(&p.stdout).as_ref()),
            "alembic {argv:?}: batch vs process (process stderr: {})",
            String::from_utf8_lossy(&p.stderr)
        );
    }
    assert!(batch[2].stdout.contains("-- Running upgrade"), "{batch:?}");
    assert!(
        batch[3].stdout.contains("-- Running downgrade"),
        "{batch:?}"
    );
    assert_ne!(batch[4].code, 0);
}

/// The generator keeps the shape the comparisons rely on: deterministic per seed, unique ids,
/// parents written before children, 1–2 bases, 2–3-way branches, 2- and 3-parent merges, labels
/// and depends_on somewhere among the seeds.
#[test]
fn generated_histories_have_the_intended_shape() {
    let opts = GraphOpts::default();
    let (mut merges2, mut merges3, mut branches3, mut labels, mut deps) = (0, 0, 0, 0, 0);
    for seed in 1..=SEEDS {
        let revs = random_graph(seed, 40, &opts);
        let again = random_graph(seed, 40, &opts);
        assert_eq!(
            format!("{revs:?}"),
            format!("{again:?}"),
            "seed {seed} not deterministic"
        );
        let mut seen: HashSet<&str> = HashSet::new();
        let mut children: HashMap<&str, usize> = HashMap::new();
        for r in &revs {
            for d in r.down_revisions.iter().chain(&r.depends_on) {
                assert!(seen.contains(d.as_str()), "seed {seed}: {d} after {}", r.id);
            }
            for d in &r.down_revisions {
                *children.entry(d).or_default() += 1;
            }
            assert!(seen.insert(&r.id), "seed {seed}: {} twice", r.id);
            match r.down_revisions.len() {
                2 => merges2 += 1,
                3 => merges3 += 1,
                _ => {}
            }
            labels += r.branch_labels.len();
            deps += r.depends_on.len();
        }
        let bases = revs.iter().filter(|r| r.down_revisions.is_empty()).count();
        assert!((1..=2).contains(&bases), "seed {seed}: {bases} bases");
        branches3 += children.values().filter(|c| **c >= 3).count();
    }
    assert!(
        merges2 > 0 && merges3 > 0,
        "merges: {merges2} of 2, {merges3} of 3"
    );
    assert!(branches3 > 0, "no 3-way branch in {SEEDS} seeds");
    assert!(labels > 0 && deps > 0, "{labels} labels, {deps} depends_on");
}

/// ProjectOpts reach alembic: the version table's name and schema and per-step transactions
/// show in the offline SQL.
#[test]
fn project_options_reach_alembic() {
    let root = tempfile::tempdir().unwrap();
    let revs = random_graph(5, 12, &GraphOpts::default());
    let opts = common::gen::ProjectOpts {
        url: "postgresql+psycopg://u:p%40ss@localhost/db".to_owned(),
        version_table: Some("my_versions".to_owned()),
        version_table_schema: Some("meta".to_owned()),
        transaction_per_migration: true,
    };
    common::gen::write_project_with(root.path(), &revs, &opts).unwrap();
    let runs = common::alembic_batch(
        root.path(),
        &[vec!["upgrade".into(), "heads".into(), "--sql".into()]],
    );
    let sql = &runs[0].stdout;
    assert_eq!(runs[0].code, 0, "{}{}", runs[0].stdout, runs[0].stderr);
    assert!(sql.contains("CREATE TABLE meta.my_versions"), "{sql}");
    assert!(sql.contains("INSERT INTO meta.my_versions"), "{sql}");
    let commits = sql.lines().filter(|l| *l == "COMMIT;").count();
    assert_eq!(commits, revs.len(), "one transaction per step:\n{sql}");
}
