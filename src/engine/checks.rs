//! Drift and round-trip verification on shadow databases: the history is applied to a throwaway
//! database through the same renderer and executor as a real migration, and schema snapshots
//! are compared — with the target database (`drift`), or before and after each downgrade and
//! repeated upgrade (`verify`). The shadow is dropped whatever happens. The lock trace
//! (`engine::locks`) builds its shadow with the helpers here.
//!
//! Both entry points block (alembic renders in a subprocess) and run their own async runtime;
//! the console calls them from a worker thread.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use tokio_postgres::Client;

use crate::config::{self, redact, Layers, ResolvedUrl, Settings};
use crate::db::diff::{diff, SchemaDiff};
use crate::db::exclude::DriftFilter;
use crate::db::introspect::{self, Options, Snapshot};
use crate::db::shadow::Shadow;
use crate::db::version_table::VersionTable;
use crate::db::{self, ConnectOptions};
use crate::engine::alembic::AlembicCommand;
use crate::engine::exec::{self, Cancel, Target};
use crate::engine::prepare;
use crate::engine::render::{render_cache, Renderer};
use crate::engine::script::StepScript;
use crate::engine::EngineError;
use crate::graph::{Direction, RevisionMap, Step};
use crate::workspace::Workspace;

type Result<T> = std::result::Result<T, EngineError>;

/// `bail!` for checks: the check could not be carried out, for this reason.
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err(EngineError::Check(format!($($arg)*)))
    };
}

/// Adds what the check was doing to an error's message.
trait Doing<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: std::fmt::Display> Doing<T> for std::result::Result<T, E> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| EngineError::Check(format!("{}: {e}", what())))
    }
}

/// What `drift` found.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    /// The target database (password redacted).
    pub target: String,
    /// The target's version-table rows: the revisions the shadow was built to.
    pub revisions: Vec<String>,
    /// How many steps built the shadow.
    pub steps: usize,
    /// The shadow database's name (dropped by the time the report is read).
    pub shadow: String,
    /// Expected: what the history builds; actual: the target database.
    pub differences: SchemaDiff,
    /// Differences left out by the config's `drift:` section.
    pub excluded: usize,
}

/// One revision's round trip.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionCheck {
    pub revision: String,
    /// Expected: the schema before the upgrade; actual: after upgrade + downgrade. An index the
    /// downgrade forgot to drop is an extra index here.
    pub not_undone: SchemaDiff,
    /// Expected: the schema after the first upgrade; actual: after downgrade + upgrade again.
    pub not_repeatable: SchemaDiff,
    /// A step that failed (the run stopped there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RevisionCheck {
    pub fn clean(&self) -> bool {
        self.not_undone.is_empty() && self.not_repeatable.is_empty() && self.error.is_none()
    }
}

/// What `verify` found, revision by revision in upgrade order.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The shadow database's name (dropped by the time the report is read).
    pub shadow: String,
    pub revisions: Vec<RevisionCheck>,
    /// Revisions in the range left unchecked because a step failed before them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_verified: Vec<String>,
    /// Differences left out by the config's `drift:` section, over all revisions.
    pub excluded: usize,
}

impl VerifyReport {
    pub fn clean(&self) -> bool {
        self.revisions.iter().all(RevisionCheck::clean)
    }
}

/// Where the shadow goes: the profile's `shadow_url`, else the target's own server. A read-only
/// profile promises not to touch its server, so it needs `shadow_url`.
pub(crate) fn shadow_for(settings: &Settings, url: &ResolvedUrl) -> Result<Shadow> {
    let admin = match &settings.shadow_url {
        Some(shadow) => shadow,
        None if settings.read_only => fail!(
            "profile {} is read_only: set shadow_url to a server where a throwaway database may \
             be created",
            settings.profile.as_deref().unwrap_or("(none)")
        ),
        None => url,
    };
    Ok(Shadow::plan(admin)?)
}

/// The `drift:` sections of the user's and the project's config files.
fn drift_filter(ws: &Workspace) -> Result<DriftFilter> {
    let mut paths: Vec<std::path::PathBuf> = config::user_config_path().into_iter().collect();
    paths.push(config::project_config_path(ws.project.config.ini_dir()));
    let layers = Layers::read(&paths)?;
    DriftFilter::from_files(
        layers
            .files
            .iter()
            .map(|(p, f)| (p.as_path(), f.drift.as_ref())),
    )
    .map_err(|e| EngineError::Check(e.to_string()))
}

fn snapshot_options(settings: &Settings) -> Options {
    Options::without_version_table(
        &settings.version_table,
        settings.version_table_schema.as_deref(),
    )
}

/// Renders `steps` for the shadow, as `upgrade` would for a real database.
pub(crate) fn render(
    ws: &Workspace,
    settings: &Settings,
    shadow: &ResolvedUrl,
    steps: &[Step],
) -> Result<Vec<StepScript>> {
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let renderer = Renderer::new(ws, settings, shadow, render_cache());
    prepare::render(ws, settings, &renderer, steps)
}

/// The executor's target for the shadow: the profile's timeouts and transaction mode, writable,
/// not journaled (nothing real happened).
pub(crate) fn shadow_target(ws: &Workspace, settings: &Settings, shadow: &ResolvedUrl) -> Target {
    let mut settings = settings.clone();
    settings.read_only = false;
    Target {
        alembic: AlembicCommand::new(ws, &settings, shadow),
        url: shadow.clone(),
        settings,
        journal: None,
    }
}

pub(crate) async fn run_scripts(
    target: &Target,
    scripts: &[StepScript],
    cancel: &Cancel,
) -> Result<()> {
    // Progress events are not shown for the shadow; the failure carries what matters.
    let (events, _) = tokio::sync::mpsc::unbounded_channel();
    Ok(exec::execute(target, scripts, &events, cancel).await?)
}

async fn snapshot(client: &Client, url: &ResolvedUrl, options: &Options) -> Result<Snapshot> {
    Ok(introspect::snapshot(client, &redact(&url.url), options).await?)
}

/// Steps from an empty database to exactly the version-table rows `rows`, one row after another.
pub(crate) fn plan_to_rows(map: &RevisionMap, rows: &[String]) -> Result<Vec<Step>> {
    let mut current: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    for row in rows {
        let more = map
            .plan_upgrade(&current, row)
            .doing(|| format!("planning the shadow's upgrade to {row}"))?;
        if let Some(last) = more.last() {
            current = last.heads_after.clone();
        }
        steps.extend(more);
    }
    Ok(steps)
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    crate::engine::runtime()
}

/// Runs `work` against a freshly created shadow and drops the shadow afterwards, also when the
/// work failed; a failure to drop is reported after the work's own error.
pub(crate) async fn with_shadow<T>(
    shadow: &Shadow,
    settings: &Settings,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    shadow
        .create(settings.version_table_schema.as_deref())
        .await?;
    let result = work.await;
    let dropped = shadow.drop_database().await;
    match (result, dropped) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(e)) => Err(EngineError::Check(e.to_string())),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(d)) => Err(EngineError::Check(format!("{e}; and then: {d}"))),
    }
}

/// Builds a shadow from base to the target's current revisions and compares it with the target.
pub fn drift(
    ws: &Workspace,
    settings: &Settings,
    url: &ResolvedUrl,
    cancel: &Cancel,
    progress: &mut dyn FnMut(&str),
) -> Result<DriftReport> {
    let options = snapshot_options(settings);
    let filter = drift_filter(ws)?;
    let table = VersionTable::of(settings);
    let rt = runtime()?;
    let (rows, actual) = rt.block_on(async {
        let client = db::connect(
            url,
            ConnectOptions {
                read_only: settings.read_only,
            },
        )
        .await?;
        let rows = table.read(&client, &url.url).await?;
        let snap = snapshot(&client, url, &options).await?;
        Ok::<_, EngineError>((rows, snap))
    })?;
    let steps = plan_to_rows(&ws.map, &rows)?;
    let shadow = shadow_for(settings, url)?;
    progress(&format!(
        "rendering {} step(s) to [{}]",
        steps.len(),
        rows.join(", ")
    ));
    let scripts = render(ws, settings, &shadow.url, &steps)?;
    let target = shadow_target(ws, settings, &shadow.url);
    let expected = rt.block_on(with_shadow(&shadow, settings, async {
        progress(&format!("applying them to shadow database {}", shadow.name));
        run_scripts(&target, &scripts, cancel)
            .await
            .doing(|| "building the shadow database from the history".to_owned())?;
        let client = db::connect(&shadow.url, ConnectOptions { read_only: false }).await?;
        snapshot(&client, &shadow.url, &options).await
    }))?;
    let (differences, excluded) = filter.apply(diff(&expected, &actual));
    Ok(DriftReport {
        target: redact(&url.url),
        revisions: rows,
        steps: steps.len(),
        shadow: shadow.name.clone(),
        differences,
        excluded,
    })
}

/// Which steps of which plan a `verify` range covers.
struct VerifyPlan {
    /// Every upgrade step from base, in order.
    steps: Vec<Step>,
    /// The indexes (into `steps`) whose round trip is checked; the others only set the stage.
    checked: HashSet<usize>,
}

/// `None`: every revision. `A:B`: the steps an `upgrade A:B` runs (after A, up to B; empty
/// sides are base and heads). A single identifier: the revisions it names, after their
/// ancestors.
fn verify_plan(map: &RevisionMap, range: Option<&str>) -> Result<VerifyPlan> {
    let (steps, checked) = match range {
        None => {
            let steps = map.plan_upgrade(&[], "heads")?;
            let all = (0..steps.len()).collect();
            (steps, all)
        }
        Some(range) if range.contains(':') => {
            let (lower, upper) = range.split_once(':').unwrap_or((range, ""));
            let (lower, upper) = (lower.trim(), upper.trim());
            let upper = if upper.is_empty() { "heads" } else { upper };
            let steps = map
                .plan_upgrade(&[], upper)
                .doing(|| format!("planning the upgrade to {upper}"))?;
            let before: HashSet<String> = if lower.is_empty() || lower == "base" {
                HashSet::new()
            } else {
                map.plan_upgrade(&[], lower)
                    .doing(|| format!("planning the upgrade to {lower}"))?
                    .into_iter()
                    .map(|s| s.revision)
                    .collect()
            };
            let checked = steps
                .iter()
                .enumerate()
                .filter(|(_, s)| !before.contains(&s.revision))
                .map(|(i, _)| i)
                .collect();
            (steps, checked)
        }
        Some(id) => {
            let named: HashSet<String> = map.resolve(id)?.into_iter().collect();
            let steps = map
                .plan_upgrade(&[], id)
                .doing(|| format!("planning the upgrade to {id}"))?;
            let checked = steps
                .iter()
                .enumerate()
                .filter(|(_, s)| named.contains(&s.revision))
                .map(|(i, _)| i)
                .collect();
            (steps, checked)
        }
    };
    Ok(VerifyPlan { steps, checked })
}

/// The downgrade that undoes exactly `up`: the same revision, rows swapped.
fn inverse(up: &Step) -> Step {
    Step {
        direction: Direction::Downgrade,
        revision: up.revision.clone(),
        heads_before: up.heads_after.clone(),
        heads_after: up.heads_before.clone(),
    }
}

/// For each revision in `range` (see [`verify_plan`]), on a shadow database: snapshot, upgrade,
/// snapshot, downgrade, snapshot (must equal the first), upgrade again, snapshot (must equal the
/// second). Stops at the first step that fails to run.
pub fn verify(
    ws: &Workspace,
    settings: &Settings,
    url: &ResolvedUrl,
    range: Option<&str>,
    cancel: &Cancel,
    progress: &mut dyn FnMut(&str),
) -> Result<VerifyReport> {
    let plan = verify_plan(&ws.map, range)?;
    let filter = drift_filter(ws)?;
    if plan.checked.is_empty() {
        fail!("no revision to verify in {}", range.unwrap_or("base:heads"));
    }
    let shadow = shadow_for(settings, url)?;
    progress(&format!(
        "rendering {} upgrade(s) and {} downgrade(s)",
        plan.steps.len(),
        plan.checked.len()
    ));
    let ups = render(ws, settings, &shadow.url, &plan.steps)?;
    // Downgrades in downgrade order, so that alembic renders them in as few runs as possible.
    let mut checked: Vec<usize> = plan.checked.iter().copied().collect();
    checked.sort_unstable();
    let inverses: Vec<Step> = checked
        .iter()
        .rev()
        .map(|&i| inverse(&plan.steps[i]))
        .collect();
    let downs: HashMap<String, StepScript> = render(ws, settings, &shadow.url, &inverses)?
        .into_iter()
        .map(|s| (s.step.revision.clone(), s))
        .collect();
    let options = snapshot_options(settings);
    let target = shadow_target(ws, settings, &shadow.url);
    let total = checked.len();
    let rt = runtime()?;
    rt.block_on(with_shadow(&shadow, settings, async {
        let client = db::connect(&shadow.url, ConnectOptions { read_only: false }).await?;
        let mut report = VerifyReport {
            shadow: shadow.name.clone(),
            revisions: Vec::new(),
            not_verified: Vec::new(),
            excluded: 0,
        };
        let mut done = 0usize;
        for (i, up) in ups.iter().enumerate() {
            if cancel.is_cancelled() {
                fail!("cancelled");
            }
            let revision = up.step.revision.clone();
            if !plan.checked.contains(&i) {
                run_scripts(&target, std::slice::from_ref(up), cancel)
                    .await
                    .doing(|| format!("upgrading the shadow through {revision}"))?;
                continue;
            }
            done += 1;
            progress(&format!("verifying {revision} ({done}/{total})"));
            let Some(down) = downs.get(&revision) else {
                fail!("no downgrade was rendered for {revision}");
            };
            let mut check = RevisionCheck {
                revision: revision.clone(),
                not_undone: SchemaDiff::default(),
                not_repeatable: SchemaDiff::default(),
                error: None,
            };
            let before = snapshot(&client, &shadow.url, &options).await?;
            if let Err(e) = run_scripts(&target, std::slice::from_ref(up), cancel).await {
                check.error = Some(format!("upgrade failed: {e:#}"));
                report.revisions.push(check);
                break;
            }
            let upgraded = snapshot(&client, &shadow.url, &options).await?;
            if let Err(e) = run_scripts(&target, std::slice::from_ref(down), cancel).await {
                check.error = Some(format!("downgrade failed: {e:#}"));
                report.revisions.push(check);
                break;
            }
            let downgraded = snapshot(&client, &shadow.url, &options).await?;
            let (not_undone, excluded) = filter.apply(diff(&before, &downgraded));
            check.not_undone = not_undone;
            report.excluded += excluded;
            if let Err(e) = run_scripts(&target, std::slice::from_ref(up), cancel).await {
                check.error = Some(format!("upgrade after the downgrade failed: {e:#}"));
                report.revisions.push(check);
                break;
            }
            let again = snapshot(&client, &shadow.url, &options).await?;
            let (not_repeatable, excluded) = filter.apply(diff(&upgraded, &again));
            check.not_repeatable = not_repeatable;
            report.excluded += excluded;
            report.revisions.push(check);
        }
        drop(client);
        let seen: HashSet<&str> = report
            .revisions
            .iter()
            .map(|c| c.revision.as_str())
            .collect();
        report.not_verified = checked
            .iter()
            .map(|&i| plan.steps[i].revision.clone())
            .filter(|r| !seen.contains(r.as_str()))
            .collect();
        Ok(report)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NodeSpec;

    /// a → b → c → d, plus e branching off b.
    fn map() -> RevisionMap {
        let spec = |id: &str, down: &[&str]| NodeSpec {
            id: id.to_owned(),
            down_revisions: down.iter().map(|d| (*d).to_owned()).collect(),
            branch_labels: vec![],
            depends_on: vec![],
        };
        RevisionMap::new(vec![
            spec("aaaa", &[]),
            spec("bbbb", &["aaaa"]),
            spec("cccc", &["bbbb"]),
            spec("dddd", &["cccc"]),
            spec("eeee", &["bbbb"]),
        ])
        .unwrap()
        .0
    }

    fn checked(plan: &VerifyPlan) -> Vec<&str> {
        let mut ids: Vec<&str> = plan
            .checked
            .iter()
            .map(|&i| plan.steps[i].revision.as_str())
            .collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn ranges_choose_the_steps_to_check() {
        let map = map();
        let all = verify_plan(&map, None).unwrap();
        assert_eq!(all.steps.len(), 5);
        assert_eq!(checked(&all), ["aaaa", "bbbb", "cccc", "dddd", "eeee"]);
        // A:B is what `upgrade A:B` runs: after A, up to B.
        let range = verify_plan(&map, Some("bbbb:dddd")).unwrap();
        assert_eq!(range.steps.len(), 4);
        assert_eq!(checked(&range), ["cccc", "dddd"]);
        let to = verify_plan(&map, Some(":bbbb")).unwrap();
        assert_eq!(checked(&to), ["aaaa", "bbbb"]);
        let from = verify_plan(&map, Some("cccc:")).unwrap();
        assert_eq!(checked(&from), ["dddd", "eeee"]);
        // One identifier: that revision, after its ancestors.
        let one = verify_plan(&map, Some("ccc")).unwrap();
        assert_eq!(one.steps.len(), 3);
        assert_eq!(checked(&one), ["cccc"]);
        assert!(verify_plan(&map, Some("zzzz")).is_err());
    }

    #[test]
    fn the_inverse_of_a_step_swaps_its_rows() {
        let up = Step {
            direction: Direction::Upgrade,
            revision: "m".into(),
            heads_before: vec!["a".into(), "b".into()],
            heads_after: vec!["m".into()],
        };
        let down = inverse(&up);
        assert_eq!(down.direction, Direction::Downgrade);
        assert_eq!(down.heads_before, vec!["m".to_owned()]);
        assert_eq!(down.heads_after, vec!["a".to_owned(), "b".to_owned()]);
    }
}
