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
    /// The background the theme is made for, painted behind the panes so every colour keeps its
    /// contrast whatever the terminal's own background is (None: the terminal's).
    #[serde(default)]
    background: Option<String>,
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
    /// Painted behind everything (the default style: the terminal's own background).
    pub background: Style,
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
            background: match &file.background {
                Some(c) => Style::new().bg(color("background", c)?),
                None => Style::new(),
            },
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
            background: plain,
        }
    }

    /// The selected row: every span in the selection's colours, whatever its own (a yellow id
    /// on a yellow selection bar cannot be read).
    pub fn selected<'a>(&self, line: ratatui::text::Line<'a>) -> ratatui::text::Line<'a> {
        let spans: Vec<ratatui::text::Span<'a>> = line
            .spans
            .into_iter()
            .map(|s| {
                let style = s.style.patch(self.selection);
                s.style(style)
            })
            .collect();
        ratatui::text::Line::from(spans).style(self.selection)
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

    /// sRGB of a colour as xterm draws it by default (named colours and the 256-colour cube).
    fn rgb(color: Color) -> Option<(u8, u8, u8)> {
        Some(match color {
            Color::Black => (0, 0, 0),
            Color::Red => (205, 0, 0),
            Color::Green => (0, 205, 0),
            Color::Yellow => (205, 205, 0),
            Color::Blue => (0, 0, 238),
            Color::Magenta => (205, 0, 205),
            Color::Cyan => (0, 205, 205),
            Color::Gray => (229, 229, 229),
            Color::DarkGray => (127, 127, 127),
            Color::LightRed => (255, 0, 0),
            Color::LightGreen => (0, 255, 0),
            Color::LightYellow => (255, 255, 0),
            Color::LightBlue => (92, 92, 255),
            Color::LightMagenta => (255, 0, 255),
            Color::LightCyan => (0, 255, 255),
            Color::White => (255, 255, 255),
            Color::Rgb(r, g, b) => (r, g, b),
            Color::Indexed(i) if i >= 232 => {
                let v = 8 + 10 * (i - 232);
                (v, v, v)
            }
            Color::Indexed(i) if i >= 16 => {
                let step = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
                let n = i - 16;
                (step(n / 36), step(n / 6 % 6), step(n % 6))
            }
            _ => return None,
        })
    }

    /// WCAG 2 contrast ratio of two colours.
    fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
        let lum = |(r, g, b): (u8, u8, u8)| {
            let lin = |c: u8| {
                let c = f64::from(c) / 255.0;
                if c <= 0.03928 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
        };
        let (la, lb) = (lum(a), lum(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn every_colour_of_every_bundled_theme_reads_at_4_5_to_1() {
        let mut failures = Vec::new();
        for (name, _) in BUILTIN {
            let t = Theme::load(Some(name), false).unwrap();
            let background =
                rgb(t.background.bg.expect("bundled themes paint a background")).unwrap();
            let mut check = |what: String, fg: Option<Color>, bg: (u8, u8, u8)| {
                let fg = rgb(fg.expect("a foreground colour")).unwrap();
                let ratio = contrast(fg, bg);
                if ratio < 4.5 {
                    failures.push(format!("{what}: {ratio:.2}:1"));
                }
            };
            let on_background = [
                ("text", t.text),
                ("dim", t.dim),
                ("border", t.border),
                ("border_focus", t.border_focus),
                ("title", t.title),
                ("id", t.id),
                ("label", t.label),
                ("head", t.head),
                ("current", t.current),
                ("applied", t.applied),
                ("pending", t.pending),
                ("off_path", t.off_path),
                ("danger", t.danger),
                ("warning", t.warning),
                ("ok", t.ok),
                ("line_number", t.line_number),
            ];
            for (key, style) in on_background {
                check(format!("{name}: {key}"), style.fg, background);
            }
            for (i, lane) in t.lanes.iter().enumerate() {
                check(format!("{name}: lanes[{i}]"), lane.fg, background);
            }
            let selection_bg = rgb(t.selection.bg.unwrap()).unwrap();
            check(format!("{name}: selection"), t.selection.fg, selection_bg);
            let status_bg = rgb(t.status.bg.unwrap()).unwrap();
            check(format!("{name}: status"), t.status.fg, status_bg);
            // A selected row shows every span in the selection's colours.
            for (key, style) in on_background {
                let line = t.selected(ratatui::text::Line::styled("x", style));
                let span = line.spans[0].style;
                check(
                    format!("{name}: {key} selected"),
                    span.fg,
                    rgb(span.bg.unwrap()).unwrap(),
                );
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn an_unknown_theme_is_named() {
        let err = Theme::load(Some("no-such-theme"), false).unwrap_err();
        assert!(err.to_string().contains("no-such-theme"));
    }
}
