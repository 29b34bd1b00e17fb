//! Settings: YAML profiles (the user's config file and an optional `alembic-tui.yaml` beside
//! alembic.ini), the database URL's precedence (`--url`, profile, `DATABASE_URL`, the ini's
//! `sqlalchemy.url`), durations, and a URL form that never shows its password.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::analysis::{Level, LintOptions, Rule};

/// A settings problem, naming the file, profile and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Yaml { path: String, message: String },
    #[error("{path}: profile {profile:?}: {key}: {message}")]
    BadValue {
        path: String,
        profile: String,
        key: String,
        message: String,
    },
    #[error("no profile {profile:?} (defined: {})", if known.is_empty() { "none".to_owned() } else { known.join(", ") })]
    NoSuchProfile { profile: String, known: Vec<String> },
    #[error("profile {profile:?}: url_env names {var}, which is not set")]
    MissingEnv { profile: String, var: String },
    #[error("no database URL: pass --url, set DATABASE_URL, choose a profile with a url, or set sqlalchemy.url in alembic.ini")]
    NoUrl,
    #[error("{path}: lint: {key}: {message}")]
    BadLint {
        path: String,
        key: String,
        message: String,
    },
    #[error("{source_name}: {message}")]
    BadUrl {
        source_name: String,
        message: String,
    },
}

/// How steps run: our executor over the statements alembic renders, or alembic itself online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Executor {
    #[default]
    Sql,
    Alembic,
}

/// How many steps one transaction covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TransactionMode {
    /// Each step commits on its own (alembic's `transaction_per_migration`).
    #[default]
    Step,
    /// The steps share one transaction that commits at the end; an autocommit statement or an
    /// online step commits what came before it (the preview says so).
    Plan,
}

/// One profile as written in YAML; every key optional so files can be layered.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub alembic: Option<String>,
    pub executor: Option<Executor>,
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
    pub protected: Option<bool>,
    pub read_only: Option<bool>,
    pub version_table: Option<String>,
    pub version_table_schema: Option<String>,
    pub transaction: Option<TransactionMode>,
    /// The server where `drift` and `verify` create their throwaway databases (a connection
    /// to this database runs CREATE DATABASE); default: the target's own server.
    pub shadow_url: Option<String>,
    /// Environment variables for the alembic command (rendering and online-only steps), e.g.
    /// the settings module an env.py reads. Set on top of alembic-tui's own environment.
    #[serde(default, deserialize_with = "unique_keys_opt")]
    pub alembic_env: Option<BTreeMap<String, String>>,
}

impl ProfileFile {
    /// `other` without the safety keys that would loosen what `self` (the user's layers) says:
    /// `read_only` and `protected` cannot be switched off, timeouts cannot grow or be disabled
    /// (the defaults count when the user set nothing). Each dropped key is reported to `warn`.
    fn only_tightening(
        &self,
        other: &ProfileFile,
        mut warn: impl FnMut(&str, String),
    ) -> ProfileFile {
        let mut out = other.clone();
        for (key, mine, theirs) in [
            ("read_only", self.read_only, &mut out.read_only),
            ("protected", self.protected, &mut out.protected),
        ] {
            if mine == Some(true) && *theirs == Some(false) {
                warn(key, "your config sets it to true".to_owned());
                *theirs = None;
            }
        }
        // A timeout of 0 is none at all: the loosest.
        let looser = |theirs: Duration, mine: Duration| {
            !mine.is_zero() && (theirs.is_zero() || theirs > mine)
        };
        let mine = self
            .lock_timeout
            .as_deref()
            .map_or(Ok(Duration::from_secs(5)), parse_duration);
        if let (Ok(mine), Some(Ok(theirs))) =
            (mine, out.lock_timeout.as_deref().map(parse_duration))
        {
            if looser(theirs, mine) {
                warn(
                    "lock_timeout",
                    format!("{theirs:?} is looser than your {mine:?}"),
                );
                out.lock_timeout = None;
            }
        }
        if let (Some(Ok(mine)), Some(Ok(theirs))) = (
            self.statement_timeout.as_deref().map(parse_duration),
            out.statement_timeout.as_deref().map(parse_duration),
        ) {
            if looser(theirs, mine) {
                warn(
                    "statement_timeout",
                    format!("{theirs:?} is looser than your {mine:?}"),
                );
                out.statement_timeout = None;
            }
        }
        out
    }

    /// `other`'s keys win where set: the project file refines the user's.
    fn overlay(&mut self, other: &ProfileFile) {
        macro_rules! take {
            ($($field:ident),*) => {$(
                if other.$field.is_some() {
                    self.$field = other.$field.clone();
                }
            )*};
        }
        take!(
            url,
            url_env,
            alembic,
            executor,
            lock_timeout,
            statement_timeout,
            protected,
            read_only,
            version_table,
            version_table_schema,
            transaction,
            shadow_url,
            alembic_env
        );
    }
}

/// A YAML mapping into a `BTreeMap`, refusing a key written twice: with a plain map the last
/// one silently wins (a copy-pasted profile pointing at another database). The YAML reader
/// adds the line and column to the error.
fn unique_keys<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate key {key:?} (each key may appear once)"
                    )));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
    }
    deserializer.deserialize_map(Unique(std::marker::PhantomData))
}

fn unique_keys_opt<'de, D, V>(deserializer: D) -> Result<Option<BTreeMap<String, V>>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    unique_keys(deserializer).map(Some)
}

/// A config file: named profiles and which one to use when none is asked for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub default_profile: Option<String>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub profiles: BTreeMap<String, ProfileFile>,
    /// The `lint:` section: review rules' severities and the assumed server version.
    pub lint: Option<LintFile>,
    /// The `drift:` section: objects `drift` and `verify` leave out (`db::exclude`).
    pub drift: Option<crate::db::exclude::DriftFile>,
}

/// `lint: { severity: { drop-index: warning }, pg_version: 15 }` as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LintFile {
    /// Rule id → `error`, `warning`, `info` or `off`.
    #[serde(default, deserialize_with = "unique_keys")]
    pub severity: BTreeMap<String, String>,
    /// PostgreSQL major version assumed when no server is connected.
    pub pg_version: Option<u32>,
}

/// A profile's name and its keys layered over every file.
pub type NamedProfile = (String, ProfileFile);

/// The config files that apply, in increasing precedence, with where each came from.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    pub files: Vec<(PathBuf, ConfigFile)>,
    /// Files from this index on come with the project (a repository anyone can commit to):
    /// their safety keys may only tighten what the files before them say.
    pub project_from: Option<usize>,
}

/// The user's config file: `<config dir>/alembic-tui/config.yaml`.
pub fn user_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "alembic-tui")
        .map(|d| d.config_dir().join("config.yaml"))
}

/// The project's config file, beside alembic.ini.
pub fn project_config_path(ini_dir: &Path) -> PathBuf {
    ini_dir.join("alembic-tui.yaml")
}

impl Layers {
    /// Reads the files that exist among `paths` (lowest precedence first).
    pub fn read(paths: &[PathBuf]) -> Result<Layers, ConfigError> {
        let mut files = Vec::new();
        for path in paths {
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(ConfigError::Unreadable {
                        path: path.display().to_string(),
                        source,
                    })
                }
            };
            files.push((path.clone(), parse_config(path, &text)?));
        }
        Ok(Layers {
            files,
            project_from: None,
        })
    }

    /// The user's own file (trusted) and the project's `alembic-tui.yaml` (safety keys only
    /// tighten), whichever exist.
    pub fn read_user_and_project(
        user: Option<&Path>,
        project: &Path,
    ) -> Result<Layers, ConfigError> {
        let user_layers =
            Layers::read(&user.map(Path::to_path_buf).into_iter().collect::<Vec<_>>())?;
        let project_layers = Layers::read(&[project.to_path_buf()])?;
        let project_from = user_layers.files.len();
        let mut files = user_layers.files;
        files.extend(project_layers.files);
        Ok(Layers {
            files,
            project_from: Some(project_from),
        })
    }

    /// The lint options: each file's `lint:` section refines the ones before it, rule by rule.
    pub fn lint_options(&self) -> Result<LintOptions, ConfigError> {
        let mut opts = LintOptions::default();
        for (path, file) in &self.files {
            let Some(lint) = &file.lint else { continue };
            let bad = |key: &str, message: String| ConfigError::BadLint {
                path: path.display().to_string(),
                key: key.to_owned(),
                message,
            };
            for (id, level) in &lint.severity {
                let rule = Rule::from_id(id).ok_or_else(|| {
                    bad(
                        &format!("severity.{id}"),
                        "no such rule (docs/rules.md lists them)".to_owned(),
                    )
                })?;
                let level = Level::parse(level).ok_or_else(|| {
                    bad(
                        &format!("severity.{id}"),
                        format!("{level:?} is not error, warning, info or off"),
                    )
                })?;
                opts.levels.insert(rule, level);
            }
            if let Some(version) = lint.pg_version {
                // Major versions: 9 for 9.x, then 10, 11, …
                if !(9..=99).contains(&version) {
                    return Err(bad(
                        "pg_version",
                        format!("{version} is not a PostgreSQL major version (e.g. 15)"),
                    ));
                }
                opts.pg_version = version;
            }
        }
        Ok(opts)
    }

    /// The named profile (or the default one, or none), layered over all files.
    pub fn profile(
        &self,
        name: Option<&str>,
    ) -> Result<Option<(String, ProfileFile)>, ConfigError> {
        Ok(self.profile_with_warnings(name)?.0)
    }

    /// As [`Layers::profile`], with a warning for each safety key a project file tried to
    /// loosen (and that was ignored).
    pub fn profile_with_warnings(
        &self,
        name: Option<&str>,
    ) -> Result<(Option<NamedProfile>, Vec<String>), ConfigError> {
        let name = name.map(str::to_owned).or_else(|| {
            self.files
                .iter()
                .rev()
                .find_map(|(_, f)| f.default_profile.clone())
        });
        let Some(name) = name else {
            return Ok((None, Vec::new()));
        };
        let mut merged: Option<ProfileFile> = None;
        let mut warnings = Vec::new();
        for (i, (path, file)) in self.files.iter().enumerate() {
            if let Some(p) = file.profiles.get(&name) {
                let base = merged.get_or_insert_with(ProfileFile::default);
                if self.project_from.is_some_and(|from| i >= from) {
                    let tightened = base.only_tightening(p, |key, why| {
                        warnings.push(format!(
                            "{}: profile {name:?}: {key} ignored: {why} (a project file may \
                             only tighten the safety settings of your own config file)",
                            path.display()
                        ))
                    });
                    base.overlay(&tightened);
                } else {
                    base.overlay(p);
                }
            }
        }
        match merged {
            Some(p) => Ok((Some((name, p)), warnings)),
            None => Err(ConfigError::NoSuchProfile {
                profile: name,
                known: self
                    .files
                    .iter()
                    .flat_map(|(_, f)| f.profiles.keys().cloned())
                    .collect(),
            }),
        }
    }
}

/// A config file larger than this is refused unread: real ones are a few kilobytes.
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;

/// Nesting deeper than this is refused before the YAML reader sees it (ours is four deep).
pub const MAX_CONFIG_DEPTH: usize = 32;

/// Parses one YAML config file; unknown keys, keys written twice, oversized and overly nested
/// files are errors that name the file (and the line).
pub fn parse_config(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    let refuse = |message: String| ConfigError::Yaml {
        path: path.display().to_string(),
        message,
    };
    if text.len() > MAX_CONFIG_BYTES {
        return Err(refuse(format!(
            "{} bytes is more than a config file may hold ({MAX_CONFIG_BYTES})",
            text.len()
        )));
    }
    if let Some(line) = too_deep(text, MAX_CONFIG_DEPTH) {
        return Err(refuse(format!(
            "line {line}: nested more than {MAX_CONFIG_DEPTH} levels deep"
        )));
    }
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    serde_yaml::from_str(text).map_err(|err| ConfigError::Yaml {
        path: path.display().to_string(),
        message: duplicate_message(text, &err).unwrap_or_else(|| err.to_string()),
    })
}

/// For a key written twice, the reader can only say where its mapping starts: find the
/// second writing of the key among that mapping's lines and name both lines.
fn duplicate_message(text: &str, err: &serde_yaml::Error) -> Option<String> {
    let message = err.to_string();
    let key = match message.split_once("duplicate key \"") {
        Some((_, rest)) => rest.split_once('"')?.0.to_owned(),
        None => message
            .split_once("duplicate field `")?
            .1
            .split_once('`')?
            .0
            .to_owned(),
    };
    let at = err.location()?;
    let indent = at.column().saturating_sub(1);
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .skip(at.line().saturating_sub(1))
        .filter(|(_, line)| {
            let body = line.trim_start_matches(' ');
            line.len() - body.len() == indent
                && [key.clone(), format!("\"{key}\""), format!("'{key}'")]
                    .iter()
                    .any(|k| {
                        body.strip_prefix(k.as_str())
                            .is_some_and(|r| r.trim_start().starts_with(':'))
                    })
        })
        .map(|(n, _)| n + 1)
        .take(2)
        .collect();
    let section = message
        .split_once(": duplicate")
        .map_or(String::new(), |(s, _)| format!("{s}: "));
    match lines[..] {
        [first, second] => Some(format!(
            "line {second}: {section}{key:?} is written twice (first on line {first}); each \
             key may appear once"
        )),
        _ => None,
    }
}

/// The first line (1-based) where YAML nesting — block indentation, `- ` sequence entries and
/// `[`/`{` flow collections together — goes deeper than `limit`. A cheap over-estimate read
/// line by line, so the YAML reader never meets a pathological document.
fn too_deep(text: &str, limit: usize) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        if flow == 0 && !body.is_empty() && !body.starts_with('#') {
            let indent = line.len() - body.len();
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        let mut dashes = 0;
        let mut rest = body;
        while let Some(after) = rest
            .strip_prefix('-')
            .filter(|a| a.starts_with([' ', '\t']))
        {
            dashes += 1;
            rest = after.trim_start();
        }
        let mut quote: Option<char> = None;
        let mut deepest = flow;
        let mut chars = rest.chars().peekable();
        let mut previous = ' ';
        while let Some(c) = chars.next() {
            let after_blank = previous.is_whitespace();
            previous = c;
            match (quote, c) {
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                // A comment starts at `#` after blank space only (`a#b` is a plain scalar).
                (None, '#') if after_blank => break,
                (None, '[' | '{') => {
                    flow += 1;
                    deepest = deepest.max(flow);
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
        if indents.len() + dashes + deepest > limit {
            return Some(n + 1);
        }
    }
    None
}

/// Where the database URL came from, for messages and the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    Flag,
    Profile(String),
    ProfileEnv { profile: String, var: String },
    Environment,
    AlembicIni,
}

impl fmt::Display for UrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlSource::Flag => write!(f, "--url"),
            UrlSource::Profile(p) => write!(f, "profile {p} (url)"),
            UrlSource::ProfileEnv { profile, var } => write!(f, "profile {profile} (${var})"),
            UrlSource::Environment => write!(f, "$DATABASE_URL"),
            UrlSource::AlembicIni => write!(f, "alembic.ini sqlalchemy.url"),
        }
    }
}

/// A libpq-style URL ready for the driver, and where it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct ResolvedUrl {
    pub url: String,
    pub source: UrlSource,
}

impl fmt::Debug for ResolvedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ResolvedUrl({}, from {})",
            redact(&self.url),
            self.source
        )
    }
}

/// The URL precedence: `--url`, the profile (`url`, then `url_env`), `DATABASE_URL`, the ini's
/// `sqlalchemy.url`. Pure: the environment is passed in.
pub fn resolve_url(
    cli: Option<&str>,
    profile: Option<(&str, &ProfileFile)>,
    env: impl Fn(&str) -> Option<String>,
    ini_url: Option<&str>,
) -> Result<ResolvedUrl, ConfigError> {
    let (raw, source) = if let Some(url) = cli {
        (url.to_owned(), UrlSource::Flag)
    } else if let Some((name, p)) = profile.filter(|(_, p)| p.url.is_some() || p.url_env.is_some())
    {
        match (&p.url, &p.url_env) {
            (Some(url), _) => (url.clone(), UrlSource::Profile(name.to_owned())),
            (None, Some(var)) => match env(var) {
                Some(url) => (
                    url,
                    UrlSource::ProfileEnv {
                        profile: name.to_owned(),
                        var: var.clone(),
                    },
                ),
                None => {
                    return Err(ConfigError::MissingEnv {
                        profile: name.to_owned(),
                        var: var.clone(),
                    })
                }
            },
            (None, None) => return Err(ConfigError::NoUrl),
        }
    } else if let Some(url) = env("DATABASE_URL").filter(|u| !u.is_empty()) {
        (url, UrlSource::Environment)
    } else if let Some(url) = ini_url.filter(|u| !u.trim().is_empty()) {
        (url.trim().to_owned(), UrlSource::AlembicIni)
    } else {
        return Err(ConfigError::NoUrl);
    };
    let url = normalize_url(&raw).map_err(|message| ConfigError::BadUrl {
        source_name: source.to_string(),
        message,
    })?;
    Ok(ResolvedUrl { url, source })
}

/// Query options libpq understands (and tokio-postgres or our TLS layer act on); SQLAlchemy-only
/// options are dropped rather than refused by the driver.
const LIBPQ_OPTIONS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "options",
    "application_name",
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "target_session_attrs",
    "sslmode",
    "sslrootcert",
    "channel_binding",
    "load_balance_hosts",
];

/// SQLAlchemy URL → libpq URL: `postgresql+psycopg://` and `postgres://` become `postgresql://`,
/// unknown query options go. Credentials and location are kept as written (see `dburl`).
pub fn normalize_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let Some(parts) = crate::dburl::split(raw) else {
        // Not echoed: a mangled URL may still hold a password.
        return Err("the URL is not of the form postgresql://user@host/db".to_owned());
    };
    let base = parts.scheme.split('+').next().unwrap_or_default();
    if base != "postgresql" && base != "postgres" {
        return Err(format!(
            "{}:// is not PostgreSQL; alembic-tui works with postgresql:// URLs",
            parts.scheme
        ));
    }
    let mut url = "postgresql://".to_owned();
    if let Some(info) = parts.userinfo {
        url.push_str(info);
        url.push('@');
    }
    url.push_str(parts.location);
    let kept: Vec<&str> = parts
        .options()
        .filter(|kv| {
            let key = kv.split('=').next().unwrap_or_default();
            LIBPQ_OPTIONS.contains(&key)
        })
        .collect();
    if !kept.is_empty() {
        url.push('?');
        url.push_str(&kept.join("&"));
    }
    Ok(url)
}

/// The URL (or conninfo string) with every password replaced by `***` (see `redact`).
pub fn redact(url: &str) -> String {
    crate::redact::url(url)
}

/// A duration as written in config: `5s`, `500ms`, `2min`, `1h`, or a bare number of
/// milliseconds (PostgreSQL's unit for timeouts); `0` disables.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (try 5s, 500ms, 2min)"))?;
    let millis = match unit.trim() {
        "" | "ms" => value,
        "s" | "sec" => value * 1_000.0,
        "min" | "m" => value * 60_000.0,
        "h" => value * 3_600_000.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?} (ms, s, min, h)"
            ))
        }
    };
    Ok(Duration::from_millis(millis.round() as u64))
}

/// Splits a command line such as `docker exec -i api alembic` into argv, honouring quotes.
pub fn split_command(text: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in {text:?}"));
    }
    if in_word {
        args.push(current);
    }
    if args.is_empty() {
        return Err("the alembic command is empty".to_owned());
    }
    Ok(args)
}

/// A profile with defaults applied and values checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub profile: Option<String>,
    pub alembic: Vec<String>,
    pub executor: Executor,
    pub lock_timeout: Duration,
    pub statement_timeout: Option<Duration>,
    pub protected: bool,
    pub read_only: bool,
    pub version_table: String,
    pub version_table_schema: Option<String>,
    pub transaction: TransactionMode,
    /// Where throwaway databases are created (see [`ProfileFile::shadow_url`]).
    pub shadow_url: Option<ResolvedUrl>,
    /// Extra environment for the alembic command.
    pub alembic_env: BTreeMap<String, String>,
}

impl Settings {
    /// Applies defaults (alembic, sql executor, lock_timeout 5s, alembic_version) and validates.
    pub fn from_profile(
        name: Option<&str>,
        p: &ProfileFile,
        origin: &str,
    ) -> Result<Settings, ConfigError> {
        let bad = |key: &str, message: String| ConfigError::BadValue {
            path: origin.to_owned(),
            profile: name.unwrap_or("(none)").to_owned(),
            key: key.to_owned(),
            message,
        };
        let alembic = split_command(p.alembic.as_deref().unwrap_or("alembic"))
            .map_err(|m| bad("alembic", m))?;
        let lock_timeout = match &p.lock_timeout {
            Some(t) => parse_duration(t).map_err(|m| bad("lock_timeout", m))?,
            None => Duration::from_secs(5),
        };
        let statement_timeout = p
            .statement_timeout
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|m| bad("statement_timeout", m))?;
        Ok(Settings {
            profile: name.map(str::to_owned),
            alembic,
            executor: p.executor.unwrap_or_default(),
            lock_timeout,
            statement_timeout,
            protected: p.protected.unwrap_or(false),
            read_only: p.read_only.unwrap_or(false),
            version_table: p
                .version_table
                .clone()
                .unwrap_or_else(|| "alembic_version".to_owned()),
            version_table_schema: p.version_table_schema.clone(),
            transaction: p.transaction.unwrap_or_default(),
            alembic_env: p.alembic_env.clone().unwrap_or_default(),
            shadow_url: p
                .shadow_url
                .as_deref()
                .map(|raw| {
                    normalize_url(raw).map(|url| ResolvedUrl {
                        url,
                        source: UrlSource::Profile(name.unwrap_or("(none)").to_owned()),
                    })
                })
                .transpose()
                .map_err(|m| bad("shadow_url", m))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_example_config_parses_with_its_lint_section() {
        let path = Path::new("config.example.yaml");
        let file = parse_config(path, include_str!("../config.example.yaml")).unwrap();
        let layers = Layers {
            files: vec![(path.into(), file)],
            project_from: None,
        };
        let opts = layers.lint_options().unwrap();
        assert_eq!(opts.pg_version, 15);
        assert_eq!(
            opts.levels.get(&Rule::DropIndex),
            Some(&Level::Is(crate::analysis::Severity::Warning))
        );
    }

    #[test]
    fn url_precedence_flag_profile_env_ini() {
        let profile = ProfileFile {
            url: Some("postgresql://p@h/prof".into()),
            ..ProfileFile::default()
        };
        let env = |k: &str| (k == "DATABASE_URL").then(|| "postgres://e@h/env".to_owned());
        let ini = Some("postgresql+psycopg2://i@h/ini");
        let r = resolve_url(
            Some("postgresql://f@h/flag"),
            Some(("prod", &profile)),
            env,
            ini,
        )
        .unwrap();
        assert_eq!(
            (r.url.as_str(), r.source),
            ("postgresql://f@h/flag", UrlSource::Flag)
        );
        let r = resolve_url(None, Some(("prod", &profile)), env, ini).unwrap();
        assert_eq!(r.source, UrlSource::Profile("prod".into()));
        let r = resolve_url(None, None, env, ini).unwrap();
        assert_eq!(
            (r.url.as_str(), r.source),
            ("postgresql://e@h/env", UrlSource::Environment)
        );
        let r = resolve_url(None, None, no_env, ini).unwrap();
        assert_eq!(
            (r.url.as_str(), r.source),
            ("postgresql://i@h/ini", UrlSource::AlembicIni)
        );
        assert!(matches!(
            resolve_url(None, None, no_env, None),
            Err(ConfigError::NoUrl)
        ));
    }

    #[test]
    fn url_env_profiles_read_their_variable() {
        let profile = ProfileFile {
            url_env: Some("PROD_DB".into()),
            ..ProfileFile::default()
        };
        let env = |k: &str| (k == "PROD_DB").then(|| "postgresql://x@h/db".to_owned());
        let r = resolve_url(None, Some(("prod", &profile)), env, None).unwrap();
        assert_eq!(
            r.source,
            UrlSource::ProfileEnv {
                profile: "prod".into(),
                var: "PROD_DB".into()
            }
        );
        let err = resolve_url(None, Some(("prod", &profile)), no_env, None).unwrap_err();
        assert!(err.to_string().contains("PROD_DB"));
    }

    #[test]
    fn driver_suffixes_and_sqlalchemy_options_are_dropped() {
        assert_eq!(
            normalize_url(
                "postgresql+asyncpg://u:pw@h:5433/db?sslmode=require&client_encoding=utf8"
            )
            .unwrap(),
            "postgresql://u:pw@h:5433/db?sslmode=require"
        );
        assert!(normalize_url("mysql://u@h/db").is_err());
        assert!(normalize_url("not a url").is_err());
    }

    #[test]
    fn passwords_never_survive_redaction() {
        assert_eq!(
            redact("postgresql://u:s3cret@h/db"),
            "postgresql://u:***@h/db"
        );
        assert_eq!(
            redact("postgresql://u@h/db?password=s3cret&sslmode=require"),
            "postgresql://u@h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgresql://u:p@ss@h/db"),
            "postgresql://u:***@h/db"
        );
        let r = resolve_url(Some("postgresql://u:s3cret@h/db"), None, no_env, None).unwrap();
        assert!(!format!("{r:?}").contains("s3cret"));
        let err = resolve_url(Some("postgresql:/u:s3cret@h/db"), None, no_env, None).unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn durations_and_commands_parse() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2min").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("250").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
        assert_eq!(
            split_command("docker exec -i 'my api' alembic").unwrap(),
            ["docker", "exec", "-i", "my api", "alembic"]
        );
        assert!(split_command("uv run 'alembic").is_err());
    }

    #[test]
    fn project_files_override_user_files_key_by_key_and_unknown_keys_fail() {
        let user = parse_config(
            Path::new("user.yaml"),
            "default_profile: dev\nprofiles:\n  dev:\n    url: postgresql://u@h/dev\n    lock_timeout: 2s\n",
        )
        .unwrap();
        let project = parse_config(
            Path::new("alembic-tui.yaml"),
            "profiles:\n  dev:\n    lock_timeout: 9s\n    protected: true\n",
        )
        .unwrap();
        let layers = Layers {
            files: vec![
                ("user.yaml".into(), user),
                ("alembic-tui.yaml".into(), project),
            ],
            project_from: Some(1),
        };
        let (profile, warnings) = layers.profile_with_warnings(None).unwrap();
        let (name, p) = profile.unwrap();
        assert_eq!(name, "dev");
        let s = Settings::from_profile(Some(&name), &p, "alembic-tui.yaml").unwrap();
        // The project may tighten (protected) but not loosen (a longer lock_timeout).
        assert_eq!(s.lock_timeout, Duration::from_secs(2));
        assert!(s.protected);
        assert!(
            warnings.len() == 1
                && warnings[0]
                    .starts_with("alembic-tui.yaml: profile \"dev\": lock_timeout ignored"),
            "{warnings:?}"
        );
        assert_eq!(p.url.as_deref(), Some("postgresql://u@h/dev"));
        assert!(matches!(
            layers.profile(Some("prod")),
            Err(ConfigError::NoSuchProfile { .. })
        ));

        let lint = parse_config(
            Path::new("alembic-tui.yaml"),
            "lint:\n  severity:\n    drop-index: warning\n    drop-table: off\n  pg_version: 11\n",
        )
        .unwrap();
        let layers = Layers {
            files: vec![("alembic-tui.yaml".into(), lint)],
            project_from: None,
        };
        let opts = layers.lint_options().unwrap();
        assert_eq!(opts.pg_version, 11);
        assert_eq!(
            opts.levels.get(&Rule::DropIndex),
            Some(&Level::Is(crate::analysis::Severity::Warning))
        );
        assert_eq!(opts.levels.get(&Rule::DropTable), Some(&Level::Off));
        for (text, needle) in [
            (
                "lint:\n  severity:\n    drop-tabel: off\n",
                "severity.drop-tabel: no such rule",
            ),
            (
                "lint:\n  severity:\n    drop-table: loud\n",
                "\"loud\" is not error",
            ),
            ("lint:\n  pg_version: 150\n", "pg_version: 150 is not"),
        ] {
            let layers = Layers {
                files: vec![(
                    "p.yaml".into(),
                    parse_config(Path::new("p.yaml"), text).unwrap(),
                )],
                project_from: None,
            };
            let err = layers.lint_options().unwrap_err().to_string();
            assert!(
                err.starts_with("p.yaml: lint: ") && err.contains(needle),
                "{err}"
            );
        }

        let err =
            parse_config(Path::new("x.yaml"), "profiles:\n  dev:\n    urll: x\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("x.yaml:") && text.contains("urll"),
            "{text}"
        );
    }

    #[test]
    fn the_example_config_is_valid_and_shadow_urls_are_checked() {
        let file = parse_config(
            Path::new("config.example.yaml"),
            include_str!("../config.example.yaml"),
        )
        .unwrap();
        for (name, profile) in &file.profiles {
            Settings::from_profile(Some(name), profile, "config.example.yaml").unwrap();
        }
        let prod = Settings::from_profile(Some("prod"), &file.profiles["prod"], "x").unwrap();
        assert_eq!(
            prod.shadow_url.map(|u| u.url),
            Some("postgresql://app@localhost:5432/postgres".to_owned())
        );
        let bad = ProfileFile {
            shadow_url: Some("mysql://x@h/db".into()),
            ..ProfileFile::default()
        };
        let err = Settings::from_profile(Some("p"), &bad, "f.yaml").unwrap_err();
        assert!(err.to_string().contains("shadow_url"), "{err}");
    }

    fn two_layers(user: &str, project: &str) -> (ProfileFile, Vec<String>) {
        let layers = Layers {
            files: vec![
                (
                    "user.yaml".into(),
                    parse_config(Path::new("user.yaml"), user).unwrap(),
                ),
                (
                    "alembic-tui.yaml".into(),
                    parse_config(Path::new("alembic-tui.yaml"), project).unwrap(),
                ),
            ],
            project_from: Some(1),
        };
        let (profile, warnings) = layers.profile_with_warnings(Some("prod")).unwrap();
        (profile.unwrap().1, warnings)
    }

    #[test]
    fn a_project_file_cannot_loosen_the_users_safety_keys() {
        let user = "profiles:\n  prod:\n    url: postgresql://u@h/prod\n    read_only: true\n    \
                    protected: true\n    lock_timeout: 2s\n    statement_timeout: 1min\n";
        let loosen = "profiles:\n  prod:\n    read_only: false\n    protected: false\n    \
                      lock_timeout: 0\n    statement_timeout: 10min\n";
        let (p, warnings) = two_layers(user, loosen);
        let s = Settings::from_profile(Some("prod"), &p, "x").unwrap();
        assert!(s.read_only && s.protected);
        assert_eq!(s.lock_timeout, Duration::from_secs(2));
        assert_eq!(s.statement_timeout, Some(Duration::from_secs(60)));
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        for key in [
            "read_only",
            "protected",
            "lock_timeout",
            "statement_timeout",
        ] {
            assert!(
                warnings
                    .iter()
                    .any(|w| w.contains(&format!("{key} ignored"))),
                "{key}: {warnings:?}"
            );
        }
        // Tightening is taken, and so is anything the user left unsaid (defaults bound it).
        let tighten = "profiles:\n  prod:\n    lock_timeout: 1s\n    statement_timeout: 30s\n";
        let (p, warnings) = two_layers(user, tighten);
        let s = Settings::from_profile(Some("prod"), &p, "x").unwrap();
        assert_eq!(s.lock_timeout, Duration::from_secs(1));
        assert_eq!(s.statement_timeout, Some(Duration::from_secs(30)));
        assert!(warnings.is_empty(), "{warnings:?}");
        let (p, warnings) = two_layers(
            "profiles:\n  prod:\n    url: postgresql://u@h/prod\n",
            "profiles:\n  prod:\n    lock_timeout: 1h\n    read_only: true\n",
        );
        let s = Settings::from_profile(Some("prod"), &p, "x").unwrap();
        assert_eq!(
            s.lock_timeout,
            Duration::from_secs(5),
            "the default bounds it"
        );
        assert!(s.read_only);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn keys_written_twice_are_errors_naming_file_and_line() {
        for (text, key, line) in [
            (
                "profiles:\n  dev:\n    url: postgresql://u@h/dev\n  dev:\n    url: postgresql://u@h/prod\n",
                "\"dev\"",
                "line 4",
            ),
            ("profiles:\n  dev:\n    url: a\n    url: b\n", "url", "line 4"),
            (
                "lint:\n  severity:\n    drop-table: off\n    drop-table: error\n",
                "\"drop-table\"",
                "line 4",
            ),
            (
                "profiles:\n  dev:\n    alembic_env:\n      A: x\n      A: y\n",
                "\"A\"",
                "line 5",
            ),
            ("default_profile: a\ndefault_profile: b\n", "default_profile", "line 2"),
        ] {
            let err = parse_config(Path::new("alembic-tui.yaml"), text)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("alembic-tui.yaml: {line}: "))
                    && err.contains("written twice")
                    && err.contains(key),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn oversized_and_deeply_nested_yaml_is_refused_before_reading() {
        for text in [
            format!("profiles: {}{}", "[".repeat(100_000), "]".repeat(100_000)),
            format!("profiles:\n{}", "- ".repeat(50_000)),
            format!("x: {}", "{a: ".repeat(20_000)),
            (0..200)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect::<String>(),
            format!("profiles: {}", "[a#".repeat(1_000)),
        ] {
            let err = parse_config(Path::new("c.yaml"), &text)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("c.yaml: ")
                    && (err.contains("nested more than") || err.contains("bytes is more")),
                "{err}"
            );
        }
        let err = parse_config(Path::new("c.yaml"), &"#".repeat(MAX_CONFIG_BYTES + 1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bytes is more than"), "{err}");
        // The example (real nesting) is far from the limit.
        assert!(too_deep(include_str!("../config.example.yaml"), 8).is_none());
    }
}
