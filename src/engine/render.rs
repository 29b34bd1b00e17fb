//! Turning plan steps into the exact SQL they run: alembic's offline mode (`upgrade S:E --sql`)
//! for a whole range in one process, split per step on its `-- Running …` markers, with alembic's
//! own BEGIN/COMMIT and version-table statements replaced by ours (the executor owns transactions
//! and the version-table guard). Rendered bodies are cached on disk by the content hash of the
//! revision file and env.py, so a second view of a step is instant.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::analysis::sql_split;
use crate::config::{ResolvedUrl, Settings};
use crate::db::version_table::VersionTable;
use crate::engine::alembic::AlembicCommand;
use crate::engine::inputs::ImportHasher;
use crate::engine::script::{
    direction_word, version_statements, DecidedBy, ScriptStatement, StatementKind, StepBody,
    StepScript,
};
use crate::engine::EngineError;
use crate::graph::{Direction, RevisionMap, Step};
use crate::workspace::Workspace;

/// A rendered body: the revision's statements without version-table bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CachedBody {
    statements: Vec<ScriptStatement>,
}

/// How to run alembic for this project, and what the rendered SQL depends on.
pub struct Renderer {
    alembic: AlembicCommand,
    version_table: VersionTable,
    /// What every step's SQL depends on beyond its own file: env.py and the project modules it
    /// imports, alembic.ini, the alembic command and the environment the profile gives it.
    project_sha256: String,
    /// Revision id → its file's hashes.
    files: HashMap<String, SourceHashes>,
    cache_dir: Option<PathBuf>,
    memory: Mutex<HashMap<String, CachedBody>>,
    /// The alembic/SQLAlchemy/Python versions the command runs, asked on the first cache lookup
    /// (not when the renderer is made: the console makes one on its event loop), once per
    /// renderer: the console makes a new one on every reload, the CLI one per run.
    toolchain: std::sync::OnceLock<String>,
    /// Parents of each revision through `down_revision` (not depends_on), as alembic's offline
    /// ranges follow them; the workspace's map answers everything else.
    parents: HashMap<String, Option<String>>,
}

/// The render cache in the data dir (None when there is no data dir: memory only).
pub fn render_cache() -> Option<PathBuf> {
    crate::paths::data_dir()
        .ok()
        .map(|d| d.join("render-cache"))
}

/// sha256 of bytes, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// A Python file's own hash (the journal records it) and the hash of everything its rendering
/// reads: its text and the project modules it imports.
struct SourceHashes {
    file: String,
    inputs: String,
}

fn source_hashes(path: &Path, hasher: &mut ImportHasher) -> SourceHashes {
    match std::fs::read(path) {
        Ok(bytes) => {
            let file = sha256_hex(&bytes);
            let imports = hasher.imports_sha256(path, &String::from_utf8_lossy(&bytes));
            SourceHashes {
                inputs: sha256_hex(format!("{file}|{imports}").as_bytes()),
                file,
            }
        }
        // An unreadable file gets a hash no cache entry has, so it is rendered (and fails) afresh.
        Err(e) => SourceHashes {
            file: format!("unreadable:{e}"),
            inputs: format!("unreadable:{e}"),
        },
    }
}

fn file_sha256(path: &Path) -> String {
    // An unreadable file gets a hash no cache entry has, so it is rendered (and fails) afresh.
    std::fs::read(path).map_or_else(|e| format!("unreadable:{e}"), |b| sha256_hex(&b))
}

impl Renderer {
    /// A renderer for `ws`, running the profile's alembic command against `url` (online-only
    /// steps and env.py files that read `DATABASE_URL`). `cache_dir`: where rendered bodies are
    /// kept (None: memory only).
    pub fn new(
        ws: &Workspace,
        settings: &Settings,
        url: &ResolvedUrl,
        cache_dir: Option<PathBuf>,
    ) -> Renderer {
        let config = &ws.project.config;
        // Where Python finds the project's modules when alembic runs: prepend_sys_path and the
        // directory alembic runs in.
        let mut search = config.prepend_sys_path.clone();
        search.push(config.alembic_dir().to_path_buf());
        let mut hasher = ImportHasher::new(search);
        let files = ws
            .project
            .revisions
            .iter()
            .map(|r| (r.id.clone(), source_hashes(&r.path, &mut hasher)))
            .collect();
        let parents = ws
            .map
            .revisions()
            .map(|n| (n.id().to_owned(), n.down_revisions().first().cloned()))
            .collect();
        let alembic = AlembicCommand::new(ws, settings, url);
        Renderer {
            version_table: VersionTable::of(settings),
            project_sha256: sha256_hex(
                format!(
                    "{}|{}|{:?}",
                    source_hashes(&config.script_location.join("env.py"), &mut hasher).inputs,
                    file_sha256(config.ini_path()),
                    alembic.inputs()
                )
                .as_bytes(),
            ),
            files,
            cache_dir,
            memory: Mutex::new(HashMap::new()),
            toolchain: std::sync::OnceLock::new(),
            parents,
            alembic,
        }
    }

    /// The alembic command this renderer runs.
    pub fn alembic(&self) -> &AlembicCommand {
        &self.alembic
    }

    fn cache_key(&self, direction: Direction, revision: &str) -> String {
        let file = self.files.get(revision).map_or("", |h| h.inputs.as_str());
        let toolchain = self.toolchain.get_or_init(|| self.alembic.toolchain());
        sha256_hex(
            format!(
                "v3|postgresql|{}|{revision}|{file}|{}|{toolchain}",
                direction_word(direction),
                self.project_sha256
            )
            .as_bytes(),
        )
    }

    fn cached(&self, key: &str) -> Option<CachedBody> {
        if let Some(hit) = self.memory.lock().ok()?.get(key) {
            return Some(hit.clone());
        }
        let path = self.cache_dir.as_ref()?.join(format!("{key}.json"));
        let body: CachedBody = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        if let Ok(mut memory) = self.memory.lock() {
            memory.insert(key.to_owned(), body.clone());
        }
        Some(body)
    }

    fn store(&self, key: &str, body: &CachedBody) {
        if let Ok(mut memory) = self.memory.lock() {
            memory.insert(key.to_owned(), body.clone());
        }
        let Some(dir) = &self.cache_dir else { return };
        // The cache is an optimisation: a full disk or a read-only home only costs a re-render.
        if crate::paths::create_private_dir(dir).is_ok() {
            if let Ok(bytes) = serde_json::to_vec(body) {
                let tmp = dir.join(format!("{key}.json.tmp{}", std::process::id()));
                if crate::paths::write_private(&tmp, &bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, dir.join(format!("{key}.json")));
                }
            }
        }
    }

    /// The statements of every step. Steps whose offline rendering fails come back online-only;
    /// an alembic command that cannot be started at all is an error.
    pub fn render(
        &self,
        map: &RevisionMap,
        steps: &[Step],
    ) -> Result<Vec<StepScript>, EngineError> {
        let mut bodies: Vec<Option<Result<CachedBody, String>>> = steps
            .iter()
            .map(|s| {
                self.cached(&self.cache_key(s.direction, &s.revision))
                    .map(Ok)
            })
            .collect();
        while let Some(first) = bodies.iter().position(Option::is_none) {
            let (start, end) = self.range_for(map, steps, &bodies, first);
            let direction = steps[first].direction;
            let outcome = self.run_offline(direction, &start, &end)?;
            for rendered in &outcome.steps {
                let body = CachedBody {
                    statements: rendered.statements.clone(),
                };
                self.store(&self.cache_key(direction, &rendered.revision), &body);
            }
            let mut progressed = false;
            for (i, step) in steps.iter().enumerate() {
                if bodies[i].is_some() || step.direction != direction {
                    continue;
                }
                if let Some(r) = outcome.steps.iter().find(|r| r.revision == step.revision) {
                    bodies[i] = Some(Ok(CachedBody {
                        statements: r.statements.clone(),
                    }));
                    progressed = true;
                } else if outcome.failed_at.as_deref() == Some(step.revision.as_str())
                    || (outcome.error.is_some() && i == first)
                {
                    let reason = outcome
                        .error
                        .clone()
                        .unwrap_or_else(|| "alembic failed".to_owned());
                    bodies[i] = Some(Err(reason));
                    progressed = true;
                }
            }
            if !progressed {
                // alembic succeeded but did not run this step: the range was not what we
                // expected. Say so rather than loop.
                bodies[first] = Some(Err(format!(
                    "`{} {} {start}:{end} --sql` did not render {}",
                    self.alembic.text(),
                    direction_word(direction),
                    steps[first].revision
                )));
            }
        }
        Ok(steps
            .iter()
            .zip(bodies)
            .map(|(step, body)| {
                let file_sha256 = self
                    .files
                    .get(&step.revision)
                    .map_or_else(String::new, |h| h.file.clone());
                let body = match body {
                    Some(Ok(cached)) => {
                        let mut statements = cached.statements;
                        statements.extend(version_statements(&self.version_table, step));
                        StepBody::Sql(statements)
                    }
                    Some(Err(reason)) => StepBody::OnlineOnly {
                        reason,
                        by: DecidedBy::Alembic,
                        target: online_target(map, step),
                    },
                    None => StepBody::OnlineOnly {
                        reason: "not rendered".to_owned(),
                        by: DecidedBy::Alembic,
                        target: online_target(map, step),
                    },
                };
                StepScript {
                    step: step.clone(),
                    file_sha256,
                    body,
                }
            })
            .collect())
    }

    /// An alembic range `start:end` whose offline run includes step `first` and as many of the
    /// following unrendered steps of the same direction as one range can.
    fn range_for(
        &self,
        map: &RevisionMap,
        steps: &[Step],
        bodies: &[Option<Result<CachedBody, String>>],
        first: usize,
    ) -> (String, String) {
        let step = &steps[first];
        let missing = || {
            steps
                .iter()
                .zip(bodies)
                .skip(first)
                .filter(|(s, b)| b.is_none() && s.direction == step.direction)
                .map(|(s, _)| s.revision.as_str())
        };
        let parent = |rev: &str| {
            self.parents
                .get(rev)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "base".to_owned())
        };
        match step.direction {
            Direction::Upgrade => {
                // One range for all of them where possible: from the first step's parent when
                // every missing step lies above it (else from base) to their one tip (else all
                // heads). alembic's startup is most of an offline run's cost, so rendering a few
                // steps outside the plan (cached too) beats a second process.
                let missing: Vec<&str> = missing().collect();
                let start = parent(&step.revision);
                let above = map.descendants_of(&start);
                let start = if start == "base" || missing.iter().all(|r| above.contains(*r)) {
                    start
                } else {
                    "base".to_owned()
                };
                let below = map.strict_ancestors_of(&missing);
                let tips: Vec<&&str> = missing.iter().filter(|r| !below.contains(**r)).collect();
                let end = match tips.as_slice() {
                    [one] => (**one).to_owned(),
                    _ => "heads".to_owned(),
                };
                (start, end)
            }
            Direction::Downgrade => {
                let last = missing()
                    .rfind(|r| map.is_ancestor(r, &step.revision))
                    .unwrap_or(&step.revision)
                    .to_owned();
                (step.revision.clone(), parent(&last))
            }
        }
    }

    fn run_offline(
        &self,
        direction: Direction,
        start: &str,
        end: &str,
    ) -> Result<Offline, EngineError> {
        let args = vec![
            direction_word(direction).to_owned(),
            format!("{start}:{end}"),
            "--sql".to_owned(),
        ];
        let out = self.alembic.output(&args)?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut parsed = parse_offline(&stdout, direction, &self.version_table);
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            // An env.py may print the URL it was given: its password stays here.
            let stderr = self.alembic.scrub(&stderr);
            parsed.error = Some(alembic_error(&stderr, out.status.code()));
            // The last step alembic announced is the one that failed; its SQL is incomplete.
            if let Some(last) = parsed.steps.pop() {
                parsed.failed_at = Some(last.revision);
            }
        } else if let Some(err) = parsed.parse_error.take() {
            parsed.error = Some(err);
            parsed.failed_at = parsed.steps.pop().map(|s| s.revision);
        }
        Ok(parsed)
    }
}

/// The argument of the one `alembic upgrade|downgrade` command that, from the step's rows, runs
/// exactly this step — checked with the planner, which agrees with alembic.
pub fn online_target(map: &RevisionMap, step: &Step) -> Option<String> {
    let mut candidates = vec![step.revision.clone()];
    if step.direction == Direction::Downgrade {
        candidates = map
            .get(&step.revision)
            .map(|n| n.down_revisions().to_vec())
            .unwrap_or_default();
        if candidates.is_empty() {
            candidates.push("base".to_owned());
        }
        candidates.push(format!("{}-1", step.revision));
    }
    candidates.into_iter().find(|target| {
        let plan = match step.direction {
            Direction::Upgrade => map.plan_upgrade(&step.heads_before, target),
            Direction::Downgrade => map.plan_downgrade(&step.heads_before, target),
        };
        plan.is_ok_and(|p| p.len() == 1 && &p[0] == step)
    })
}

/// alembic's error, from its stderr: the last lines, where Python puts the exception.
fn alembic_error(stderr: &str, code: Option<i32>) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with("INFO  ["))
        .collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
    match (tail.is_empty(), code) {
        (true, Some(c)) => format!("alembic exited with code {c}"),
        (true, None) => "alembic was killed by a signal".to_owned(),
        (false, _) => tail,
    }
}

/// One step of an offline script.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RenderedStep {
    revision: String,
    statements: Vec<ScriptStatement>,
}

#[derive(Debug, Default)]
struct Offline {
    steps: Vec<RenderedStep>,
    failed_at: Option<String>,
    error: Option<String>,
    parse_error: Option<String>,
}

/// The revision a `-- Running upgrade A, B -> R` / `-- Running downgrade R -> A` marker names.
fn marker_revision(line: &str, direction: Direction) -> Option<String> {
    let rest = line.strip_prefix("-- Running ")?;
    let rest = rest
        .strip_prefix(direction_word(direction))?
        .strip_prefix(' ')?;
    let (from, to) = rest.split_once("->")?;
    let rev = match direction {
        Direction::Upgrade => to,
        Direction::Downgrade => from,
    };
    let rev = rev.trim();
    (!rev.is_empty() && !rev.contains(',')).then(|| rev.to_owned())
}

/// Splits alembic's offline output into steps. BEGIN/COMMIT track alembic's transaction state:
/// statements it puts outside a transaction (between `COMMIT;` and `BEGIN;`, its
/// `autocommit_block`) are marked autocommit. Version-table statements are dropped.
fn parse_offline(stdout: &str, direction: Direction, vt: &VersionTable) -> Offline {
    let mut sections: Vec<(Option<String>, String)> = vec![(None, String::new())];
    for line in stdout.lines() {
        if let Some(rev) = marker_revision(line, direction) {
            sections.push((Some(rev), String::new()));
        } else if let Some((_, text)) = sections.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    // Scripts without any BEGIN (non-transactional DDL) run statement by statement in alembic;
    // we still wrap them, so nothing is autocommit.
    let has_transactions = stdout
        .lines()
        .any(|l| l.trim().eq_ignore_ascii_case("BEGIN;"));
    let mut in_tx = false;
    let mut out = Offline::default();
    for (revision, text) in sections {
        let statements = match sql_split::split(&text) {
            Ok(s) => s,
            Err(err) => {
                out.parse_error = Some(format!("cannot split alembic's SQL: {err}"));
                if let Some(revision) = revision {
                    out.steps.push(RenderedStep {
                        revision,
                        statements: Vec::new(),
                    });
                }
                return out;
            }
        };
        let mut body = Vec::new();
        for st in statements {
            let bare = strip_comments(&st.text);
            let upper = bare.to_ascii_uppercase();
            if upper == "BEGIN" || upper == "BEGIN TRANSACTION" {
                in_tx = true;
            } else if upper == "COMMIT" {
                in_tx = false;
            } else {
                body.push(ScriptStatement {
                    text: st.text,
                    autocommit: has_transactions && !in_tx,
                    kind: StatementKind::Body,
                });
            }
        }
        // alembic writes its bookkeeping after each step's body (and creates the table before
        // the first marker): only that trailing run is alembic's own.
        while body
            .last()
            .is_some_and(|st| is_version_statement(strip_comments(&st.text), vt))
        {
            body.pop();
        }
        if let Some(revision) = revision {
            out.steps.push(RenderedStep {
                revision,
                statements: body,
            });
        }
    }
    out
}

/// The statement without leading `--` and `/* */` comments.
fn strip_comments(text: &str) -> &str {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if rest.starts_with("/*") {
            rest = rest.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            return rest.trim_end();
        }
    }
}

/// Is this one of the version-table statements alembic's offline mode writes itself (which the
/// executor replaces with its own, guarded ones)? Only alembic's exact shapes count, so a
/// revision's own `op.execute("UPDATE alembic_version …")` stays in its body.
fn is_version_statement(bare: &str, vt: &VersionTable) -> bool {
    let flat: String = bare.split_whitespace().collect::<Vec<_>>().join(" ");
    // Every spelling that names exactly this table: SQLAlchemy quotes mixed-case names and
    // reserved words (`"AlembicVersion"`, `"order"`); a plain lower-case name means the same
    // table quoted or not.
    let spellings = |name: &str| -> Vec<String> {
        let quoted = crate::db::version_table::quote_ident(name);
        let plain = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '$'));
        if plain {
            vec![name.to_owned(), quoted]
        } else {
            vec![quoted]
        }
    };
    let tables = spellings(&vt.table);
    let names: Vec<String> = match &vt.schema {
        Some(schema) => spellings(schema)
            .iter()
            .flat_map(|s| tables.iter().map(move |t| format!("{s}.{t}")))
            .collect(),
        None => tables.clone(),
    };
    // The column is qualified by the table, with or without its schema.
    let columns: Vec<String> = names
        .iter()
        .chain(tables.iter())
        .map(|t| format!("{t}.version_num"))
        .collect();
    names.iter().any(|t| {
        columns.iter().any(|column| {
            (flat.starts_with(&format!("INSERT INTO {t} (version_num) VALUES ("))
                && flat.ends_with(&format!("RETURNING {column}")))
                || (flat.starts_with(&format!("UPDATE {t} SET version_num="))
                    && flat.contains(&format!(" WHERE {column} = ")))
                || flat.starts_with(&format!("DELETE FROM {t} WHERE {column} = "))
        }) || flat.starts_with(&format!("CREATE TABLE {t} ( version_num VARCHAR("))
            || flat == format!("DROP TABLE {t}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vt() -> VersionTable {
        VersionTable::default()
    }

    #[test]
    fn markers_name_the_revision_that_runs() {
        assert_eq!(
            marker_revision("-- Running upgrade  -> abc", Direction::Upgrade).as_deref(),
            Some("abc")
        );
        assert_eq!(
            marker_revision("-- Running upgrade a, b -> m", Direction::Upgrade).as_deref(),
            Some("m")
        );
        assert_eq!(
            marker_revision("-- Running downgrade m -> a, b", Direction::Downgrade).as_deref(),
            Some("m")
        );
        assert_eq!(
            marker_revision("-- Running upgrade  -> abc", Direction::Downgrade),
            None
        );
    }

    #[test]
    fn offline_output_splits_per_step_without_bookkeeping() {
        let sql = "BEGIN;\n\nCREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n\n\
                   -- Running upgrade  -> a1\n\nCREATE TABLE t (id SERIAL NOT NULL, PRIMARY KEY (id));\n\n\
                   INSERT INTO alembic_version (version_num) VALUES ('a1') RETURNING alembic_version.version_num;\n\n\
                   -- Running upgrade a1 -> b2\n\nCOMMIT;\n\nCREATE INDEX CONCURRENTLY ix ON t (id);\n\nBEGIN;\n\n\
                   INSERT INTO t VALUES (1);\n\nUPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'a1';\n\nCOMMIT;\n\n";
        let out = parse_offline(sql, Direction::Upgrade, &vt());
        assert_eq!(out.steps.len(), 2);
        assert_eq!(out.steps[0].revision, "a1");
        assert_eq!(
            out.steps[0].statements,
            [ScriptStatement {
                text: "CREATE TABLE t (id SERIAL NOT NULL, PRIMARY KEY (id))".into(),
                autocommit: false,
                kind: StatementKind::Body
            }]
        );
        let b2 = &out.steps[1].statements;
        assert_eq!(b2.len(), 2);
        assert!(b2[0].autocommit && b2[0].text.starts_with("CREATE INDEX CONCURRENTLY"));
        assert!(!b2[1].autocommit && b2[1].text == "INSERT INTO t VALUES (1)");
    }

    #[test]
    fn a_revisions_own_version_table_sql_stays_in_its_body() {
        let sql = "-- Running upgrade  -> a1\n\nUPDATE alembic_version SET version_num = 'x';\n\nCREATE TABLE t (id int);\n\n\
                   INSERT INTO alembic_version (version_num) VALUES ('a1') RETURNING alembic_version.version_num;\n\n";
        let out = parse_offline(sql, Direction::Upgrade, &vt());
        let texts: Vec<&str> = out.steps[0]
            .statements
            .iter()
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(
            texts,
            [
                "UPDATE alembic_version SET version_num = 'x'",
                "CREATE TABLE t (id int)"
            ]
        );
    }

    #[test]
    fn only_alembics_own_bookkeeping_shapes_count() {
        assert!(is_version_statement(
            "UPDATE alembic_version SET version_num='b' WHERE alembic_version.version_num = 'a'",
            &vt()
        ));
        let in_schema = VersionTable {
            table: "alembic_version".into(),
            schema: Some("ops".into()),
        };
        assert!(is_version_statement(
            "UPDATE ops.alembic_version SET version_num='b' WHERE ops.alembic_version.version_num = 'a'",
            &in_schema
        ));
        assert!(is_version_statement(
            "INSERT INTO ops.alembic_version (version_num) VALUES ('a') RETURNING ops.alembic_version.version_num",
            &in_schema
        ));
        assert!(!is_version_statement(
            "UPDATE alembic_version SET version_num = 'x'",
            &vt()
        ));
        assert!(!is_version_statement("UPDATE accounts SET x = 1", &vt()));
        assert!(!is_version_statement(
            "DELETE FROM alembic_versions_old",
            &vt()
        ));
    }

    fn step(before: &[&str], after: &[&str]) -> Step {
        Step {
            direction: Direction::Upgrade,
            revision: "x".into(),
            heads_before: before.iter().map(|s| s.to_string()).collect(),
            heads_after: after.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn version_rows_move_as_the_head_maintainer_moves_them() {
        let texts = |s: &Step| {
            version_statements(&vt(), s)
                .into_iter()
                .map(|s| s.text)
                .collect::<Vec<_>>()
        };
        let first = texts(&step(&[], &["a"]));
        assert!(first[0].starts_with("CREATE TABLE IF NOT EXISTS \"alembic_version\""));
        assert_eq!(
            first[1],
            "INSERT INTO \"alembic_version\" (version_num) VALUES ('a')"
        );
        assert_eq!(
            texts(&step(&["a", "b"], &["m"])),
            [
                "DELETE FROM \"alembic_version\" WHERE version_num = 'b'",
                "UPDATE \"alembic_version\" SET version_num = 'm' WHERE version_num = 'a'"
            ]
        );
        assert_eq!(
            texts(&step(&["m"], &["a", "b"])),
            [
                "UPDATE \"alembic_version\" SET version_num = 'a' WHERE version_num = 'm'",
                "INSERT INTO \"alembic_version\" (version_num) VALUES ('b')"
            ]
        );
        assert_eq!(
            texts(&step(&["a"], &[])),
            ["DELETE FROM \"alembic_version\" WHERE version_num = 'a'"]
        );
    }
}
