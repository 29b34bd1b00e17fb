//! Splitting a SQL script into statements the way PostgreSQL reads it: semicolons inside quotes,
//! dollar quotes, `E''` strings, quoted identifiers and (nested) comments do not end a statement.
//! The tokenizer is sqlparser's PostgreSQL one; statements are cut from the original text so what
//! runs is byte for byte what was shown.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Whitespace};

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement as written (leading comments kept, surrounding blank space and the `;` not).
    pub text: String,
    /// 1-based line where its first non-comment token starts.
    pub line: usize,
}

/// Text the tokenizer cannot read (an unterminated quote or comment), with where it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SplitError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Byte offsets of line starts, to turn the tokenizer's (line, column) into text offsets.
/// Locations are asked for in increasing order, so each is found from the previous one: a
/// script of many statements on one long line stays linear.
struct Offsets<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// The last location answered: (line index, column index, byte offset).
    last: (usize, usize, usize),
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Offsets<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Offsets {
            text,
            line_starts,
            last: (0, 0, 0),
        }
    }

    /// The byte offset of a 1-based (line, column-in-characters) location.
    fn of(&mut self, at: Location) -> usize {
        let line = (at.line as usize).saturating_sub(1);
        let Some(&line_start) = self.line_starts.get(line) else {
            return self.text.len();
        };
        let column = (at.column as usize).saturating_sub(1);
        let (from_column, from) = match self.last {
            (l, c, offset) if l == line && c <= column => (c, offset),
            _ => (0, line_start),
        };
        let offset = self.text[from..]
            .char_indices()
            .nth(column - from_column)
            .map_or(self.text.len(), |(i, _)| from + i);
        self.last = (line, column, offset);
        offset
    }
}

fn is_blank(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

fn is_comment(token: &Token) -> bool {
    matches!(
        token,
        Token::Whitespace(Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_))
    )
}

/// Splits `sql` into statements; segments holding only blank space or comments are dropped.
pub fn split(sql: &str) -> Result<Vec<Statement>, SplitError> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| SplitError {
            line: e.location.line as usize,
            column: e.location.column as usize,
            message: e.message,
        })?;
    let mut offsets = Offsets::new(sql);
    let mut statements = Vec::new();
    let mut start = 0usize;
    let mut first_line: Option<usize> = None;
    let push = |from: usize, to: usize, line: Option<usize>, out: &mut Vec<Statement>| {
        if let Some(line) = line {
            out.push(Statement {
                text: sql[from..to].trim().to_owned(),
                line,
            });
        }
    };
    for token in &tokens {
        if token.token == Token::SemiColon {
            let at = offsets.of(token.span.start);
            push(start, at, first_line.take(), &mut statements);
            start = at + 1;
        } else if !is_blank(&token.token) && !is_comment(&token.token) && first_line.is_none() {
            first_line = Some(token.span.start.line as usize);
        }
    }
    push(start, sql.len(), first_line, &mut statements);
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<String> {
        split(sql).unwrap().into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn semicolons_inside_quotes_and_comments_do_not_split() {
        let sql = "INSERT INTO t VALUES ('a;b', E'it\\'s;', \"odd;col\");\n\
                   -- note; still a comment\n\
                   /* outer /* nested; */ still; */ SELECT 1;\n\
                   CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\
                   DO $body$ BEGIN PERFORM 1; END $body$;\n\
                   SELECT 'no semicolon at the end'";
        let got = texts(sql);
        assert_eq!(got.len(), 5, "{got:#?}");
        assert_eq!(
            got[0],
            "INSERT INTO t VALUES ('a;b', E'it\\'s;', \"odd;col\")"
        );
        assert!(got[1].starts_with("-- note; still a comment") && got[1].ends_with("SELECT 1"));
        assert_eq!(
            got[2],
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql"
        );
        assert_eq!(got[3], "DO $body$ BEGIN PERFORM 1; END $body$");
        assert_eq!(got[4], "SELECT 'no semicolon at the end'");
    }

    #[test]
    fn lines_point_at_the_statement_not_its_comments() {
        let got =
            split("BEGIN;\n\n-- Running upgrade  -> a\n\nCREATE TABLE a (id int);\n").unwrap();
        assert_eq!(got[1].line, 5);
        assert!(got[1].text.starts_with("-- Running upgrade"));
    }

    #[test]
    fn blank_and_comment_only_segments_are_dropped() {
        assert!(texts("  ;\n-- only a comment\n;  ").is_empty());
        assert!(texts("").is_empty());
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        assert_eq!(
            texts("SELECT 'é;ß'; SELECT 'ü'"),
            ["SELECT 'é;ß'", "SELECT 'ü'"]
        );
    }

    #[test]
    fn many_statements_on_one_line_split_in_linear_time() {
        // Quadratic offsets would scan this 2 MB line 200,000 times: the test would not end.
        let sql = "SELECT 1;".repeat(200_000);
        let got = split(&sql).unwrap();
        assert_eq!(got.len(), 200_000);
        assert_eq!(got[199_999].text, "SELECT 1");
    }

    #[test]
    fn unterminated_strings_are_errors_with_a_position() {
        let err = split("SELECT 1;\nSELECT 'open").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
