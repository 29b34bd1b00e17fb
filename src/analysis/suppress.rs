//! Suppression comments: `# alembic-tui: allow drop-column -- reason`. Trailing code, a comment
//! covers the findings of that statement's lines; on a line of its own, the whole revision.

use crate::analysis::Rule;
use crate::project::pyparse::ToolComment;

/// One `allow` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    pub rules: Vec<Rule>,
    /// The comment's line when it trails code; None when it covers the whole revision.
    pub line: Option<usize>,
    pub reason: String,
}

/// The text given when a comment names no reason.
pub const NO_REASON: &str = "no reason given";

/// The `allow` comments among a revision's tool comments; unknown rule ids are ignored.
pub fn parse(comments: &[ToolComment]) -> Vec<Allow> {
    comments
        .iter()
        .filter_map(|c| {
            let (_, rest) = c.text.split_once("alembic-tui:")?;
            let rest = rest.trim_start().strip_prefix("allow")?;
            let (ids, reason) = match rest.split_once("--") {
                Some((ids, reason)) => (ids, reason.trim()),
                None => (rest, ""),
            };
            let rules: Vec<Rule> = ids
                .split(|ch: char| ch == ',' || ch.is_whitespace())
                .filter_map(Rule::from_id)
                .collect();
            (!rules.is_empty()).then(|| Allow {
                rules,
                line: (!c.own_line).then_some(c.line),
                reason: if reason.is_empty() {
                    NO_REASON.to_owned()
                } else {
                    reason.to_owned()
                },
            })
        })
        .collect()
}

/// The reason a finding of `rule` on lines `lines` is suppressed, if one comment covers it.
pub fn reason(allows: &[Allow], rule: Rule, lines: (usize, usize)) -> Option<String> {
    allows
        .iter()
        .find(|a| {
            a.rules.contains(&rule)
                && a.line
                    .is_none_or(|line| (lines.0..=lines.1.max(lines.0)).contains(&line))
        })
        .map(|a| a.reason.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(line: usize, text: &str, own_line: bool) -> ToolComment {
        ToolComment {
            line,
            text: text.to_owned(),
            own_line,
        }
    }

    #[test]
    fn trailing_comments_cover_their_statement_and_own_line_comments_the_revision() {
        let allows = parse(&[
            comment(
                4,
                "# alembic-tui: allow drop-column -- moved to archive",
                false,
            ),
            comment(1, "#alembic-tui: allow drop-index, truncate", true),
            comment(2, "# alembic-tui: allow no-such-rule -- x", true),
            comment(3, "# alembic-tui: deny drop-table", true),
        ]);
        assert_eq!(allows.len(), 2);
        assert_eq!(
            reason(&allows, Rule::DropColumn, (3, 5)).as_deref(),
            Some("moved to archive")
        );
        assert_eq!(reason(&allows, Rule::DropColumn, (5, 6)), None);
        assert_eq!(
            reason(&allows, Rule::Truncate, (40, 40)).as_deref(),
            Some(NO_REASON)
        );
        assert_eq!(reason(&allows, Rule::DropTable, (1, 1)), None);
    }
}
