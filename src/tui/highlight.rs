//! Syntax highlighting with syntect, converted to ratatui lines by hand (syntect-tui pins an older
//! ratatui). Highlighting is slow next to drawing, so it runs on a worker and the app caches the
//! lines; the render path only ever reads the cache.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, ThemeSet};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// Which grammar a text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Python,
    Sql,
}

/// Loaded grammars and themes (loading them takes milliseconds: do it once, off the UI thread).
pub struct Highlighter {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
}

impl Default for Highlighter {
    fn default() -> Self {
        Highlighter::new()
    }
}

impl Highlighter {
    pub fn new() -> Highlighter {
        Highlighter {
            syntaxes: SyntaxSet::load_defaults_newlines(),
            themes: ThemeSet::load_defaults(),
        }
    }

    /// `source` as styled lines. Without a theme (NO_COLOR) or a grammar, plain lines.
    pub fn highlight(&self, source: &str, lang: Lang, theme: Option<&str>) -> Vec<Line<'static>> {
        let extension = match lang {
            Lang::Python => "py",
            Lang::Sql => "sql",
        };
        let syntax = self.syntaxes.find_syntax_by_extension(extension);
        let theme = theme.and_then(|name| self.themes.themes.get(name));
        let (Some(syntax), Some(theme)) = (syntax, theme) else {
            return plain(source);
        };
        let mut highlighter = HighlightLines::new(syntax, theme);
        let mut out = Vec::new();
        for line in LinesWithEndings::from(source) {
            let Ok(regions) = highlighter.highlight_line(line, &self.syntaxes) else {
                // A grammar failure on one line: keep the text, lose the colours from here on.
                return plain(source);
            };
            let spans: Vec<Span<'static>> = regions
                .into_iter()
                .map(|(style, text)| {
                    Span::styled(
                        text.trim_end_matches(['\n', '\r']).replace('\t', "    "),
                        convert(style),
                    )
                })
                .filter(|s| !s.content.is_empty())
                .collect();
            out.push(Line::from(spans));
        }
        out
    }
}

/// Lines without colour, tabs expanded like the highlighted ones.
pub fn plain(source: &str) -> Vec<Line<'static>> {
    source
        .lines()
        .map(|l| Line::raw(l.replace('\t', "    ")))
        .collect()
}

/// syntect's foreground and font style; the background stays the terminal's.
fn convert(style: syntect::highlighting::Style) -> Style {
    let fg = style.foreground;
    let mut out = Style::new().fg(Color::Rgb(fg.r, fg.g, fg.b));
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    if style.font_style.contains(FontStyle::UNDERLINE) {
        out = out.add_modifier(Modifier::UNDERLINED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_is_coloured_and_keeps_its_text() {
        let h = Highlighter::new();
        let src = "def upgrade() -> None:\n\top.drop_table(\"coupons\")\n";
        let lines = h.highlight(src, Lang::Python, Some("base16-ocean.dark"));
        assert_eq!(lines.len(), 2);
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            text,
            ["def upgrade() -> None:", "    op.drop_table(\"coupons\")"]
        );
        let colours: std::collections::HashSet<_> =
            lines[0].spans.iter().map(|s| s.style.fg).collect();
        assert!(
            colours.len() > 1,
            "one colour for a whole def line: {colours:?}"
        );
    }

    #[test]
    fn no_theme_means_plain_text() {
        let h = Highlighter::new();
        let lines = h.highlight("SELECT 1;", Lang::Sql, None);
        assert_eq!(lines[0].spans[0].style, Style::default());
    }
}
