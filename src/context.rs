//! The settings a run works under, resolved once: the config files' layers (the user's file, then
//! alembic-tui.yaml beside alembic.ini), the chosen profile, the target URL by its precedence, and
//! the lint options. Both front ends resolve a `Context` and hand it down; nothing below reads a
//! config file again.

use std::path::PathBuf;

use crate::analysis::LintOptions;
use crate::config::{self, ConfigError, Layers, ResolvedUrl, Settings};
use crate::workspace::Workspace;

/// What the user chose on the command line (or the console's start-up).
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextRequest<'a> {
    /// `--url`: beats every other source.
    pub url: Option<&'a str>,
    /// `--profile`; None: the files' `default_profile`, if any.
    pub profile: Option<&'a str>,
}

/// Settings, URL and lint options for one project.
#[derive(Debug)]
pub struct Context {
    pub settings: Settings,
    /// The target; an error when no source names one (commands that need no database still run).
    pub url: Result<ResolvedUrl, ConfigError>,
    pub lint: LintOptions,
    /// Safety keys of the project's file that were ignored because they would loosen the
    /// user's (the front ends show them).
    pub warnings: Vec<String>,
}

impl Context {
    /// Reads the config files once and resolves everything from them.
    pub fn resolve(ws: &Workspace, req: ContextRequest<'_>) -> Result<Context, ConfigError> {
        let user = config::user_config_path();
        let project = config::project_config_path(ws.project.config.ini_dir());
        let mut paths: Vec<PathBuf> = user.clone().into_iter().collect();
        paths.push(project.clone());
        // The project's file may only tighten the user's safety keys.
        let layers = Layers::read_user_and_project(user.as_deref(), &project)?;
        let lint = layers.lint_options()?;
        let (profile, warnings) = layers.profile_with_warnings(req.profile)?;
        let origin = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" + ");
        let settings = match &profile {
            Some((name, p)) => Settings::from_profile(Some(name), p, &origin)?,
            None => Settings::from_profile(None, &Default::default(), &origin)?,
        };
        let url = config::resolve_url(
            req.url,
            profile.as_ref().map(|(n, p)| (n.as_str(), p)),
            |var| std::env::var(var).ok(),
            ws.project.config.sqlalchemy_url.as_deref(),
        );
        Ok(Context {
            settings,
            url,
            lint,
            warnings,
        })
    }

    /// The target URL, or why there is none.
    pub fn url(&self) -> Result<&ResolvedUrl, &ConfigError> {
        self.url.as_ref()
    }

    /// The lint options with version-dependent verdicts for the connected server's major
    /// version, when it told us.
    pub fn lint_for(&self, server_major: Option<u32>) -> LintOptions {
        let mut lint = self.lint.clone();
        if let Some(major) = server_major {
            lint.pg_version = major;
        }
        lint
    }
}
