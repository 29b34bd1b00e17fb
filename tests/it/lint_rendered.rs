//! The SQL classifier over what real alembic renders: every rule case (fire and look-alike) is
//! written as a revision, rendered with `alembic upgrade/downgrade --sql` through the real
//! `Renderer`, and the statements reviewed with `StepReview` as the confirmation pane does. For
//! rules a single statement can show, the verdicts on the rendered SQL must equal those on the
//! Python `op.*` calls.

use crate::common;

use std::collections::BTreeSet;

use alembic_tui::analysis::{self, Category, Direction, LintOptions, Rule, StepReview};
use alembic_tui::config::{self, ProfileFile, Settings};
use alembic_tui::engine::render::Renderer;
use alembic_tui::engine::script::{StatementKind, StepBody};
use alembic_tui::project;
use alembic_tui::workspace::Workspace;
use common::gen::{write_project, GenRev};
use common::lint_cases::CASES;

/// Rules one statement shows, whatever wrote it.
fn statement_level(rule: Rule) -> bool {
    matches!(rule.category(), Category::Destructive | Category::Locking)
        || matches!(rule, Rule::RenameColumn | Rule::RenameTable)
}

#[test]
fn rendered_sql_gets_the_same_verdicts_as_the_op_calls() {
    // One revision per case body, in a line: c0 (fire of the first case), c1 (its look-alike), …
    let mut revs: Vec<GenRev> = Vec::new();
    for case in CASES {
        for (kind, (upgrade, downgrade)) in [("fire", case.fire), ("quiet", case.quiet)] {
            let id = format!("c{}", revs.len());
            revs.push(GenRev {
                down_revisions: revs.last().map(|r| vec![r.id.clone()]).unwrap_or_default(),
                message: format!("{} {kind}", case.rule),
                upgrade: upgrade.iter().map(|s| s.to_string()).collect(),
                downgrade: downgrade.iter().map(|s| s.to_string()).collect(),
                id,
                ..GenRev::default()
            });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path(), &revs).unwrap();
    let ini = dir.path().join("alembic.ini");
    let config = project::discover(dir.path(), Some(&ini), "alembic").unwrap();
    let (ws, _) = Workspace::new(project::load(&config).unwrap()).unwrap();

    let python = common::python();
    let profile = ProfileFile {
        alembic: Some(format!("'{}' -m alembic", python.display())),
        ..ProfileFile::default()
    };
    let settings = Settings::from_profile(Some("test"), &profile, "test").unwrap();
    let url =
        config::resolve_url(Some("postgresql://localhost/unused"), None, |_| None, None).unwrap();
    let renderer = Renderer::new(&ws, &settings, &url, None);
    let up = ws.map.plan_upgrade(&[], "heads").unwrap();
    let heads: Vec<String> = ws.map.heads().iter().map(|h| h.to_string()).collect();
    let down = ws.map.plan_downgrade(&heads, "base").unwrap();
    let opts = LintOptions::default();

    let (mut compared, mut skipped) = (0, 0);
    for steps in [up, down] {
        let scripts = renderer.render(&ws.map, &steps).unwrap();
        for script in scripts {
            let direction = match script.step.direction {
                alembic_tui::graph::Direction::Upgrade => Direction::Upgrade,
                alembic_tui::graph::Direction::Downgrade => Direction::Downgrade,
            };
            let rev = ws
                .project
                .revisions
                .iter()
                .find(|r| r.id == script.step.revision)
                .unwrap();
            // The one body that raises cannot be rendered; every other one must be.
            if let StepBody::OnlineOnly { reason, .. } = &script.body {
                assert!(reason.contains("no way back"), "{}: {reason}", rev.id);
                skipped += 1;
                continue;
            }
            let statements = script.statements();
            let mut review = StepReview::new(&opts);
            let from_sql: BTreeSet<&str> = statements
                .iter()
                .filter(|s| s.kind == StatementKind::Body)
                .flat_map(|s| review.statement(&s.text, s.autocommit))
                .map(|f| f.rule.id())
                .collect();
            let from_ops: BTreeSet<&str> = analysis::lint_revision(rev, &opts)
                .into_iter()
                .filter(|f| f.direction == direction && statement_level(f.rule))
                .map(|f| f.rule.id())
                .collect();
            let sql_text: Vec<&str> = statements.iter().map(|s| s.text.as_str()).collect();
            assert_eq!(
                from_sql, from_ops,
                "{} ({}) {direction:?}: rendered SQL {sql_text:#?}",
                rev.id, rev.doc
            );
            compared += 1;
        }
    }
    assert_eq!((compared, skipped), (2 * revs.len() - 1, 1));
}
