//! The fallback reading: tokens of the statement, matched against the shapes of the
//! statements the rules care about.

use super::*;

#[derive(Debug, Clone)]
struct Tok {
    /// Unquoted words upper-cased; empty for anything else.
    word: String,
    /// The identifier as PostgreSQL folds it (quoted kept as is), or the token text.
    name: String,
    depth: usize,
    comma: bool,
    dollar_body: Option<String>,
}

fn tokens(sql: &str) -> Vec<Tok> {
    let dialect = PostgreSqlDialect {};
    let raw = match Tokenizer::new(&dialect, sql).tokenize() {
        Ok(t) => t,
        // Not even tokenizable: read whitespace-separated words.
        Err(_) => sql
            .split_whitespace()
            .map(|w| Token::make_word(w, None))
            .collect(),
    };
    let mut depth = 0usize;
    let mut out = Vec::new();
    for token in raw {
        match &token {
            Token::Whitespace(_) => continue,
            Token::LParen => {
                depth += 1;
                continue;
            }
            Token::RParen => {
                depth = depth.saturating_sub(1);
                continue;
            }
            _ => {}
        }
        let (word, name) = match &token {
            Token::Word(w) if w.quote_style.is_none() => {
                (w.value.to_uppercase(), w.value.to_lowercase())
            }
            Token::Word(w) => (String::new(), w.value.clone()),
            other => (String::new(), other.to_string()),
        };
        let dollar_body = match &token {
            Token::DollarQuotedString(s) => Some(s.value.clone()),
            _ => None,
        };
        out.push(Tok {
            word,
            name,
            depth,
            comma: token == Token::Comma,
            dollar_body,
        });
    }
    out
}

/// A cursor over top-level tokens.
struct Words<'t> {
    toks: &'t [Tok],
    at: usize,
}

impl<'t> Words<'t> {
    fn peek(&self) -> &str {
        self.toks.get(self.at).map_or("", |t| t.word.as_str())
    }
    fn eat(&mut self, word: &str) -> bool {
        if self.peek() == word {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn eat_all(&mut self, words: &[&str]) -> bool {
        let save = self.at;
        if words.iter().all(|w| self.eat(w)) {
            true
        } else {
            self.at = save;
            false
        }
    }
    /// A possibly qualified name: (bare, shown).
    fn name(&mut self) -> (String, String) {
        let mut parts = Vec::new();
        while let Some(t) = self.toks.get(self.at) {
            parts.push(t.name.clone());
            self.at += 1;
            if self.toks.get(self.at).is_some_and(|t| t.name == ".") {
                self.at += 1;
            } else {
                break;
            }
        }
        (parts.last().cloned().unwrap_or_default(), parts.join("."))
    }
    fn rest(&self) -> &'t [Tok] {
        self.toks.get(self.at..).unwrap_or_default()
    }
}

/// Words that end a column's type in a column definition.
const TYPE_ENDS: &[&str] = &[
    "NOT",
    "NULL",
    "DEFAULT",
    "PRIMARY",
    "REFERENCES",
    "UNIQUE",
    "CHECK",
    "CONSTRAINT",
    "COLLATE",
    "GENERATED",
    "USING",
];

/// A column's type as SQL text from its tokens (at nesting `base`; parentheses are not tokens,
/// so a deeper token is a type parameter): `character varying(50)`, `int4[]`.
fn type_text(toks: &[Tok], base: usize) -> String {
    let mut name: Vec<&str> = Vec::new();
    let mut params: Vec<&str> = Vec::new();
    let mut array = false;
    for t in toks {
        if t.depth == base {
            if TYPE_ENDS.contains(&t.word.as_str()) || t.comma {
                break;
            }
            match t.name.as_str() {
                "[" => array = true,
                "]" => {}
                other => name.push(other),
            }
        } else if t.depth == base + 1 && !t.comma {
            params.push(t.name.as_str());
        }
    }
    let mut text = name.join(" ");
    if !params.is_empty() {
        text.push_str(&format!("({})", params.join(",")));
    }
    if array {
        text.push_str("[]");
    }
    text
}

fn has_word(toks: &[Tok], word: &str) -> bool {
    toks.iter().any(|t| t.word == word)
}

fn has_top_word(toks: &[Tok], word: &str) -> bool {
    toks.iter().any(|t| t.depth == 0 && t.word == word)
}

pub(super) fn classify(sql: &str, ctx: &SqlContext) -> Facts {
    let toks = tokens(sql);
    let mut facts = Facts::default();
    let mut w = Words { toks: &toks, at: 0 };
    // Common table expressions in front: judge the statement after them (the first top-level
    // DELETE, UPDATE, INSERT, MERGE or SELECT).
    if w.peek() == "WITH" {
        match toks.iter().position(|t| {
            t.depth == 0
                && matches!(
                    t.word.as_str(),
                    "DELETE" | "UPDATE" | "INSERT" | "MERGE" | "SELECT"
                )
        }) {
            Some(at) => w.at = at,
            None => return facts,
        }
    }
    let control = match w.peek() {
        "BEGIN" | "START" => Some("BEGIN"),
        "COMMIT" | "END" => Some("COMMIT"),
        "ROLLBACK" | "ABORT" if !has_top_word(&toks, "TO") => Some("ROLLBACK"),
        _ => None,
    };
    if let Some(what) = control {
        facts.flag(Rule::TransactionNesting, transaction_message(what));
        return facts;
    }
    if w.eat("DROP") {
        facts.schema = true;
        let kind = if w.eat("TABLE") || w.eat_all(&["FOREIGN", "TABLE"]) {
            Some(ObjectType::Table)
        } else if w.eat_all(&["MATERIALIZED", "VIEW"]) {
            Some(ObjectType::MaterializedView)
        } else if w.eat("VIEW") {
            Some(ObjectType::View)
        } else if w.eat("INDEX") {
            Some(ObjectType::Index)
        } else if w.eat("SCHEMA") {
            Some(ObjectType::Schema)
        } else if w.eat("SEQUENCE") {
            Some(ObjectType::Sequence)
        } else if w.eat("TYPE") || w.eat("DOMAIN") {
            Some(ObjectType::Type)
        } else if w.eat("DATABASE") {
            Some(ObjectType::Database)
        } else {
            None
        };
        let Some(kind) = kind else { return facts };
        let concurrently = w.eat("CONCURRENTLY");
        let guarded = w.eat_all(&["IF", "EXISTS"]);
        loop {
            let (object, shown) = w.name();
            if object.is_empty() {
                break;
            }
            match kind {
                ObjectType::Table => facts.dropped.push(Object::Table(object.clone())),
                ObjectType::Index => facts.dropped.push(Object::Index(object.clone())),
                _ => {}
            }
            if !(kind == ObjectType::Table && ctx.created_tables.contains(&object)) {
                if let Some((rule, what)) = drop_rule(&kind) {
                    facts.flag(rule, drop_message(what, &shown));
                }
            }
            if kind == ObjectType::Index {
                if let Some((rule, message)) = robust_verdict("drops", &shown, guarded, ctx) {
                    facts.flag(rule, message);
                }
            }
            if concurrently && ctx.in_transaction {
                facts.flag(
                    Rule::ConcurrentlyInsideTransaction,
                    format!(
                        "drops index {shown} CONCURRENTLY inside the migration's transaction \
                         (PostgreSQL refuses; wrap it in op.get_context().autocommit_block())"
                    ),
                );
            }
            if !w.toks.get(w.at).is_some_and(|t| t.comma) {
                break;
            }
            w.at += 1;
        }
        return facts;
    }
    if w.eat("TRUNCATE") {
        facts.data = true;
        w.eat("TABLE");
        w.eat("ONLY");
        let (_, shown) = w.name();
        facts.flag(
            Rule::Truncate,
            format!("truncates {shown}: every row is deleted"),
        );
        return facts;
    }
    if w.eat("DELETE") {
        facts.data = true;
        w.eat("FROM");
        w.eat("ONLY");
        let (_, shown) = w.name();
        let rest = w.rest();
        if !has_top_word(rest, "WHERE") && !has_top_word(rest, "USING") {
            facts.flag(
                Rule::DeleteWithoutWhere,
                format!("deletes every row of {shown} (no WHERE)"),
            );
        }
        return facts;
    }
    if w.eat("UPDATE") {
        facts.data = true;
        w.eat("ONLY");
        let (_, shown) = w.name();
        let rest = w.rest();
        if !has_top_word(rest, "WHERE") && !has_top_word(rest, "FROM") {
            facts.flag(
                Rule::UpdateWithoutWhere,
                format!("updates every row of {shown} (no WHERE)"),
            );
        }
        return facts;
    }
    if matches!(w.peek(), "INSERT" | "COPY" | "MERGE") {
        facts.data = true;
        return facts;
    }
    if w.eat("CREATE") {
        facts.schema = true;
        w.eat_all(&["OR", "REPLACE"]);
        w.eat("UNIQUE");
        if w.eat("INDEX") {
            let concurrently = w.eat("CONCURRENTLY");
            let guarded = w.eat_all(&["IF", "NOT", "EXISTS"]);
            let index = if w.peek() == "ON" {
                "(unnamed)".to_owned()
            } else {
                let (bare_name, shown) = w.name();
                facts.created.push(Object::Index(bare_name));
                shown
            };
            w.eat("ON");
            w.eat("ONLY");
            let (table, _) = w.name();
            for (rule, message) in create_index_verdicts(&index, &table, concurrently, ctx) {
                facts.flag(rule, message);
            }
            if let Some((rule, message)) = robust_verdict("creates", &index, guarded, ctx) {
                facts.flag(rule, message);
            }
            return facts;
        }
        for prefix in ["TEMPORARY", "TEMP", "UNLOGGED"] {
            w.eat(prefix);
        }
        if w.eat("TABLE") {
            w.eat_all(&["IF", "NOT", "EXISTS"]);
            let (table, _) = w.name();
            // Column definitions: `name type …` elements of the parenthesised list.
            let body: Vec<Tok> = w.rest().iter().filter(|t| t.depth >= 1).cloned().collect();
            for element in body.split(|t| t.comma && t.depth == 1) {
                let Some(first) = element.first() else {
                    continue;
                };
                let constraint = matches!(
                    first.word.as_str(),
                    "CONSTRAINT" | "PRIMARY" | "UNIQUE" | "CHECK" | "FOREIGN" | "EXCLUDE" | "LIKE"
                );
                if constraint {
                    continue;
                }
                let ty = type_text(&element[1..], 1);
                for (rule, message) in sql_type_verdicts(&table, &first.name, &ty) {
                    facts.flag(rule, message);
                }
            }
            facts.created.push(Object::Table(table));
        }
        return facts;
    }
    if w.eat("DO") {
        // An anonymous block runs now: read the statements of its body.
        for t in w.rest() {
            if let Some(body) = &t.dollar_body {
                facts.merge(plpgsql_body(body, ctx));
            }
        }
        return facts;
    }
    if w.eat_all(&["ALTER", "TYPE"]) {
        facts.schema = true;
        let (_, ty) = w.name();
        if w.eat_all(&["ADD", "VALUE"]) {
            w.eat_all(&["IF", "NOT", "EXISTS"]);
            let value = w
                .toks
                .get(w.at)
                .map(|t| t.name.trim_matches('\'').to_owned());
            enum_add_value(&mut facts, &ty, &value.unwrap_or_default(), ctx);
        }
        return facts;
    }
    if w.eat_all(&["ALTER", "TABLE"]) {
        facts.schema = true;
        w.eat_all(&["IF", "EXISTS"]);
        w.eat("ONLY");
        let (table, shown) = w.name();
        let rest = w.rest();
        for clause in rest.split(|t| t.comma && t.depth == 0) {
            alter_table_clause(&mut facts, &table, &shown, clause, ctx);
        }
        return facts;
    }
    if matches!(w.peek(), "ALTER" | "COMMENT" | "GRANT" | "REVOKE") {
        facts.schema = true;
    }
    // Nothing recognised: still refuse to call it safe if it drops or empties something.
    if !facts.schema && !facts.data && (has_word(&toks, "DROP") || has_word(&toks, "TRUNCATE")) {
        facts.schema = true;
    }
    facts
}

/// Statements inside a `DO` body, with PL/pgSQL's block words taken off.
fn plpgsql_body(body: &str, ctx: &SqlContext) -> Facts {
    let mut facts = Facts::default();
    let Ok(statements) = sql_split::split(body) else {
        return classify(body, ctx);
    };
    for statement in statements {
        let mut text = statement.text.as_str();
        // Byte-wise ASCII comparison: upper-casing could change lengths in other scripts.
        while let Some(k) = [
            "BEGIN", "DECLARE", "END IF", "END LOOP", "END", "ELSE", "THEN",
        ]
        .iter()
        .find(|k| {
            text.get(..k.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(k))
                && text
                    .get(k.len()..)
                    .and_then(|rest| rest.chars().next())
                    .is_none_or(char::is_whitespace)
        }) {
            text = text.get(k.len()..).unwrap_or_default().trim_start();
        }
        if !text.is_empty() {
            facts.merge(analyze_one(text, ctx));
        }
    }
    facts
}

fn alter_table_clause(
    facts: &mut Facts,
    table: &str,
    shown: &str,
    clause: &[Tok],
    ctx: &SqlContext,
) {
    let fresh = ctx.created_tables.contains(table);
    let mut w = Words {
        toks: clause,
        at: 0,
    };
    if w.eat("DROP") {
        if w.eat("CONSTRAINT") {
            w.eat_all(&["IF", "EXISTS"]);
            let (name, _) = w.name();
            facts.dropped.push(Object::Constraint(name.clone()));
            if !fresh {
                facts.flag(
                    Rule::DropConstraint,
                    format!("drops constraint {name} on {shown}"),
                );
            }
            return;
        }
        if matches!(w.peek(), "DEFAULT" | "NOT" | "EXPRESSION" | "IDENTITY") {
            return;
        }
        w.eat("COLUMN");
        w.eat_all(&["IF", "EXISTS"]);
        let (column, _) = w.name();
        facts
            .dropped
            .push(Object::Column(table.to_owned(), column.clone()));
        if !fresh {
            facts.flag(
                Rule::DropColumn,
                drop_message("column", &format!("{shown}.{column}")),
            );
        }
        return;
    }
    if w.eat("ADD") {
        let mut constraint_name = None;
        if w.eat("CONSTRAINT") {
            let (name, _) = w.name();
            facts.created.push(Object::Constraint(name.clone()));
            constraint_name = Some(name);
        }
        let shown_name = constraint_name
            .clone()
            .unwrap_or_else(|| "(unnamed)".to_owned());
        let rest = w.rest();
        let not_valid = rest
            .windows(2)
            .any(|p| p[0].word == "NOT" && p[1].word == "VALID" && p[0].depth == 0);
        let kind = w.peek().to_owned();
        let verdict = match kind.as_str() {
            "FOREIGN" if !not_valid => Some(fk_verdict(&shown_name, shown)),
            "CHECK" if !not_valid => Some(check_verdict(&shown_name, shown)),
            "UNIQUE" | "PRIMARY" if has_top_word(rest, "USING") && has_top_word(rest, "INDEX") => {
                None
            }
            "UNIQUE" => Some(unique_verdict("unique", &shown_name, shown)),
            "PRIMARY" => Some(unique_verdict("primary key", &shown_name, shown)),
            "FOREIGN" | "CHECK" | "EXCLUDE" => None,
            _ if constraint_name.is_some() => None,
            _ => {
                // ADD [COLUMN] [IF NOT EXISTS] name type …
                w.eat("COLUMN");
                w.eat_all(&["IF", "NOT", "EXISTS"]);
                let (column, _) = w.name();
                let rest = w.rest();
                let type_word = rest.first().map(|t| t.word.as_str()).unwrap_or_default();
                let not_null = rest.windows(2).any(|p| {
                    (p[0].word == "NOT" && p[1].word == "NULL")
                        || (p[0].word == "PRIMARY" && p[1].word == "KEY")
                });
                let default_at = rest.iter().position(|t| t.word == "DEFAULT");
                let serial = matches!(
                    type_word,
                    "SERIAL" | "BIGSERIAL" | "SMALLSERIAL" | "SERIAL2" | "SERIAL4" | "SERIAL8"
                );
                let default = match default_at {
                    _ if serial => DefaultKind::Volatile("nextval".to_owned()),
                    None => DefaultKind::None,
                    Some(at) if rest.get(at + 1).is_some_and(|t| t.word == "NULL") => {
                        DefaultKind::None
                    }
                    // Parentheses are not kept as tokens: a volatile function's name is
                    // enough to tell.
                    Some(at) => match rest[at + 1..].iter().find_map(|t| {
                        VOLATILE_FUNCTIONS
                            .iter()
                            .find(|f| t.word.eq_ignore_ascii_case(f))
                    }) {
                        Some(f) => DefaultKind::Volatile((*f).to_owned()),
                        None => DefaultKind::Constant,
                    },
                };
                facts
                    .created
                    .push(Object::Column(table.to_owned(), column.clone()));
                for (rule, message) in add_column_verdicts(table, &column, not_null, &default, ctx)
                {
                    facts.flag(rule, message);
                }
                let base = rest.first().map_or(0, |t| t.depth);
                for (rule, message) in sql_type_verdicts(table, &column, &type_text(rest, base)) {
                    facts.flag(rule, message);
                }
                None
            }
        };
        if let (false, Some((rule, message))) = (fresh, verdict) {
            facts.flag(rule, message);
        }
        return;
    }
    if w.eat("RENAME") {
        if w.eat("TO") {
            let (_, new) = w.name();
            facts.flag(Rule::RenameTable, rename_table_message(shown, &new));
            return;
        }
        if w.eat("CONSTRAINT") {
            return;
        }
        w.eat("COLUMN");
        let (old, _) = w.name();
        w.eat("TO");
        let (new, _) = w.name();
        facts.flag(Rule::RenameColumn, rename_column_message(shown, &old, &new));
        return;
    }
    if w.eat("ALTER") {
        w.eat("COLUMN");
        let (column, _) = w.name();
        if fresh {
            return;
        }
        if w.eat_all(&["SET", "NOT", "NULL"]) {
            facts.flag(Rule::SetNotNull, set_not_null_message(shown, &column));
        } else if w.eat_all(&["SET", "DATA", "TYPE"]) || w.eat("TYPE") {
            let ty: Vec<&str> = w
                .rest()
                .iter()
                .take_while(|t| t.word != "USING" && t.word != "COLLATE")
                .map(|t| t.name.as_str())
                .collect();
            facts.flag(
                Rule::AlterColumnType,
                alter_type_message(shown, &column, &ty.join(" ")),
            );
            let rest = w.rest();
            let base = rest.first().map_or(0, |t| t.depth);
            for (rule, message) in sql_type_verdicts(table, &column, &type_text(rest, base)) {
                facts.flag(rule, message);
            }
        }
    }
}
