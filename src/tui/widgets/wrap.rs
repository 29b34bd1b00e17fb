//! Word wrapping with a hanging indent, for `label  value` lines whose value runs long: the
//! continuation lines start under the value, not under the label (ratatui's own wrap restarts
//! at column 0).

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// `line` cut into lines of at most `width` columns, breaking after the last space that fits
/// (anywhere, for a word longer than a line); continuation lines start with `indent` spaces.
pub fn hang(line: &Line<'_>, indent: usize, width: usize) -> Vec<Line<'static>> {
    let width = width.max(indent + 8);
    let mut out: Vec<Line<'static>> = Vec::new();
    // The current line as styled chars, with its width and its last breaking space.
    let mut cur: Vec<(char, Style)> = Vec::new();
    let mut cur_width = 0;
    let mut last_space: Option<usize> = None;
    for span in &line.spans {
        let style = line.style.patch(span.style);
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if cur_width + w > width && cur_width > indent {
                // Break after the last space past the indent; else mid-word.
                let cut = last_space
                    .filter(|&s| s + 1 > indent)
                    .map_or(cur.len(), |s| s + 1);
                let rest = cur.split_off(cut);
                out.push(to_line(&cur));
                cur = vec![(' ', Style::default()); indent];
                cur.extend(rest);
                cur_width = cur.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
                last_space = None;
            }
            if c == ' ' && cur.len() >= indent {
                last_space = Some(cur.len());
            }
            cur.push((c, style));
            cur_width += w;
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(to_line(&cur));
    }
    out
}

/// Styled chars back into spans, one per run of equal style.
fn to_line(chars: &[(char, Style)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = None;
    for &(c, s) in chars {
        if style.is_some_and(|st| st != s) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                style.unwrap_or_default(),
            ));
        }
        style = Some(s);
        text.push(c);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style.unwrap_or_default()));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn long_values_continue_under_the_value_at_a_space() {
        let line = Line::from(vec![
            Span::raw("findings  "),
            Span::raw("! rule (upgrade line 3) drops the column name of customers"),
        ]);
        let lines = hang(&line, 10, 40);
        assert_eq!(
            texts(&lines),
            [
                "findings  ! rule (upgrade line 3) drops ",
                "          the column name of customers"
            ]
        );
    }

    #[test]
    fn a_word_longer_than_the_line_is_cut_and_short_lines_stay() {
        let line = Line::raw(format!("path      {}", "x".repeat(50)));
        let lines = hang(&line, 10, 30);
        assert!(lines.iter().all(|l| l.width() <= 30), "{:?}", texts(&lines));
        assert_eq!(
            texts(&lines).concat().replace(' ', "").len(),
            "path".len() + 50
        );
        assert_eq!(texts(&hang(&Line::raw("short"), 10, 30)), ["short"]);
        assert_eq!(texts(&hang(&Line::raw(""), 10, 30)), [""]);
    }

    #[test]
    fn wide_characters_count_twice() {
        let line = Line::raw(format!("labels    {}", "表".repeat(20)));
        for l in hang(&line, 10, 30) {
            assert!(l.width() <= 30, "{l}");
        }
    }
}
