//! Colours: themes are YAML files (the repository's `themes/`, built in, or any path given to
//! `--theme`), turned into ratatui styles once. `NO_COLOR` replaces every colour with the
//! terminal's own and keeps only bold/reverse/underline to tell things apart.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The bundled themes, by name. The files are the source; the binary carries a copy.
const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.yaml")),
    ("light", include_str!("../../themes/light.yaml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.yaml"),
    ),
];

/// A theme problem, naming the theme file and key.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("theme {0:?} is neither a bundled theme (dark, light, high-contrast) nor a file")]
    Unknown(String),
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    text: String,
    dim: String,
    border: String,
    border_focus: String,
    title: String,
    selection_fg: String,
    selection_bg: String,
    id: String,
    label: String,
    head: String,
    current: String,
    applied: String,
    pending: String,
    off_path: String,
    danger: String,
    warning: String,
    ok: String,
    line_number: String,
    status_fg: String,
    status_bg: String,
    lanes: Vec<String>,
    syntax: String,
}

/// Resolved styles for everything the console draws.
#[derive(Debug, Clone)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub border: Style,
    pub border_focus: Style,
    pub title: Style,
    pub selection: Style,
    pub id: Style,
    pub label: Style,
    pub head: Style,
    pub current: Style,
    pub applied: Style,
    pub pending: Style,
    pub off_path: Style,
    pub danger: Style,
    pub warning: Style,
    pub ok: Style,
    pub line_number: Style,
    pub status: Style,
    /// One colour per drawn graph line, cycled.
    pub lanes: Vec<Style>,
    /// The syntect theme for bodies; None: no syntax colours (NO_COLOR).
    pub syntax: Option<String>,
}

impl Theme {
    /// `--theme NAME|PATH` (None: dark), or the colourless theme when `no_color` (the caller
    /// passes whether `NO_COLOR` is set to a non-empty value).
    pub fn load(choice: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
        let choice = choice.unwrap_or("dark");
        let (label, text) = match BUILTIN.iter().find(|(name, _)| *name == choice) {
            Some((name, text)) => (format!("themes/{name}.yaml"), (*text).to_owned()),
            None => {
                let path = Path::new(choice);
                if !path.is_file() {
                    return Err(ThemeError::Unknown(choice.to_owned()));
                }
                let text =
                    std::fs::read_to_string(path).map_err(|source| ThemeError::Unreadable {
                        path: path.display().to_string(),
                        source,
                    })?;
                (path.display().to_string(), text)
            }
        };
        // A bad theme file is reported even under NO_COLOR: the flag was given for a reason.
        let theme = Theme::parse(&label, &text)?;
        Ok(if no_color { Theme::monochrome() } else { theme })
    }

    /// The default theme (the bundled dark one).
    pub fn dark() -> Theme {
        // The bundled file is checked by a unit test; fall back to monochrome rather than panic.
        Theme::parse("themes/dark.yaml", BUILTIN[0].1).unwrap_or_else(|_| Theme::monochrome())
    }

    /// Reads a theme file's text; `label` names it in errors.
    pub fn parse(label: &str, text: &str) -> Result<Theme, ThemeError> {
        let file: ThemeFile = serde_yaml::from_str(text).map_err(|e| ThemeError::Invalid {
            path: label.to_owned(),
            message: e.to_string(),
        })?;
        let color = |key: &str, value: &str| {
            Color::from_str(value).map_err(|_| ThemeError::Invalid {
                path: label.to_owned(),
                message: format!("{key}: {value:?} is not a colour (a name, #rrggbb or 0-255)"),
            })
        };
        let fg = |key: &str, value: &str| color(key, value).map(|c| Style::new().fg(c));
        let lanes = file
            .lanes
            .iter()
            .map(|c| fg("lanes", c))
            .collect::<Result<Vec<_>, _>>()?;
        if lanes.is_empty() {
            return Err(ThemeError::Invalid {
                path: label.to_owned(),
                message: "lanes: needs at least one colour".to_owned(),
            });
        }
        Ok(Theme {
            text: fg("text", &file.text)?,
            dim: fg("dim", &file.dim)?,
            border: fg("border", &file.border)?,
            border_focus: fg("border_focus", &file.border_focus)?,
            title: fg("title", &file.title)?.add_modifier(Modifier::BOLD),
            selection: Style::new()
                .fg(color("selection_fg", &file.selection_fg)?)
                .bg(color("selection_bg", &file.selection_bg)?),
            id: fg("id", &file.id)?,
            label: fg("label", &file.label)?,
            head: fg("head", &file.head)?.add_modifier(Modifier::BOLD),
            current: fg("current", &file.current)?.add_modifier(Modifier::BOLD),
            applied: fg("applied", &file.applied)?,
            pending: fg("pending", &file.pending)?,
            off_path: fg("off_path", &file.off_path)?,
            danger: fg("danger", &file.danger)?.add_modifier(Modifier::BOLD),
            warning: fg("warning", &file.warning)?,
            ok: fg("ok", &file.ok)?,
            line_number: fg("line_number", &file.line_number)?,
            status: Style::new()
                .fg(color("status_fg", &file.status_fg)?)
                .bg(color("status_bg", &file.status_bg)?),
            lanes,
            syntax: Some(file.syntax),
        })
    }

    /// No colours at all: the terminal's defaults, with modifiers where meaning needs emphasis.
    pub fn monochrome() -> Theme {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Theme {
            text: plain,
            dim: plain,
            border: plain,
            border_focus: bold,
            title: bold,
            selection: Style::new().add_modifier(Modifier::REVERSED),
            id: plain,
            label: plain,
            head: bold,
            current: bold,
            applied: plain,
            pending: Style::new().add_modifier(Modifier::UNDERLINED),
            off_path: plain,
            danger: bold,
            warning: plain,
            ok: plain,
            line_number: plain,
            status: Style::new().add_modifier(Modifier::REVERSED),
            lanes: vec![plain],
            syntax: None,
        }
    }

    /// The style of a graph line.
    pub fn lane(&self, line: usize) -> Style {
        self.lanes[line % self.lanes.len()]
    }
}

/// Whether `NO_COLOR` asks for no colour: set and not empty (no-color.org).
pub fn no_color_requested(value: Option<std::ffi::OsString>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_theme_parses() {
        for (name, _) in BUILTIN {
            let theme = Theme::load(Some(name), false).unwrap();
            assert!(theme.syntax.is_some(), "{name}");
        }
    }

    #[test]
    fn a_bad_colour_names_the_file_and_key() {
        let text = BUILTIN[0].1.replace("id: yellow", "id: not-a-colour");
        let err = Theme::parse("mine.yaml", &text).unwrap_err().to_string();
        assert!(err.contains("mine.yaml") && err.contains("id:"), "{err}");
    }

    #[test]
    fn no_color_wins_and_empty_means_unset() {
        assert!(Theme::load(None, true).unwrap().syntax.is_none());
        assert!(!no_color_requested(Some("".into())));
        assert!(no_color_requested(Some("1".into())));
        assert!(!no_color_requested(None));
    }

    #[test]
    fn an_unknown_theme_is_named() {
        let err = Theme::load(Some("no-such-theme"), false).unwrap_err();
        assert!(err.to_string().contains("no-such-theme"));
    }
}
