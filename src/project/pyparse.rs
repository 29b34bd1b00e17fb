//! The one file that names the Python parser crates: it turns a Python source file into our own
//! small summary (`PyModule`) — module docstring, top-level assignments and imports, top-level
//! functions with their spans and the `op.*` calls inside them. Nothing here executes Python.
//!
//! Nesting is input-controlled: ruff's parser grows its own stack, and every walk here does too
//! (`stacker`), while files nested deeper than [`MAX_NESTING`] are refused as one problem
//! rather than walked, so no file can overflow a thread's stack.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Arguments, Expr, Number, Stmt, UnaryOp};
use ruff_text_size::{Ranged, TextRange};

use crate::project::ops::{OpCall, Value};

/// A top-level `NAME = value` or `NAME: annotation = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub name: String,
    /// 1-based line of the statement.
    pub line: usize,
    pub value: Value,
}

/// A top-level import binding a local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The name bound in this module.
    pub local: String,
    /// The module imported from, dotted, with leading dots for relative imports.
    pub module: String,
    /// For `from M import x`: `x`; for `import a.b`: None.
    pub name: Option<String>,
}

/// A top-level function definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub def_line: usize,
    pub end_line: usize,
    pub source: String,
    /// Only `pass`, `...` and docstrings.
    pub is_empty: bool,
    pub ops: Vec<OpCall>,
}

/// A `#` comment addressed to alembic-tui (its text mentions `alembic-tui:`), e.g. a lint
/// suppression. Other comments are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolComment {
    /// 1-based line of the comment.
    pub line: usize,
    /// The comment's text, `#` included.
    pub text: String,
    /// True when nothing but blank space precedes it on its line (not trailing code).
    pub own_line: bool,
}

/// What alembic-tui needs to know about one Python file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PyModule {
    pub docstring: Option<String>,
    pub assignments: Vec<Assignment>,
    pub imports: Vec<Import>,
    pub functions: Vec<Function>,
    pub tool_comments: Vec<ToolComment>,
}

/// A syntax error, or a file nested too deeply to read, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
    /// Nested deeper than [`MAX_NESTING`] (the message says so; not a Python syntax error).
    pub too_deep: bool,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.too_deep {
            f.write_str(&self.message)
        } else {
            write!(f, "syntax error: {}", self.message)
        }
    }
}

/// Statements and expressions nested deeper than this make the file a problem. CPython allows
/// 200 nested brackets and compiles operator chains to about 3,000 levels; revision files,
/// written by hand or generated, stay within a few dozen. A thousand keeps every walk of ours,
/// including the derived ones over `Value`, shallow enough for any thread's stack.
pub const MAX_NESTING: usize = 1_000;

/// Below this much stack left, a walk continues on a fresh segment of [`STACK_SEGMENT`] bytes.
const STACK_RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 2 * 1024 * 1024;

/// Runs `f`, on a new stack segment when this thread's stack is running low.
fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, f)
}

/// How deep a module's statements and expressions nest, counted up to `MAX_NESTING + 1`, and
/// where the first node past the limit starts.
#[derive(Default)]
struct Depth {
    current: usize,
    max: usize,
    too_deep_at: Option<usize>,
}

impl Depth {
    /// Enters a node; false when it is past the limit (its children are not walked).
    fn enter(&mut self, offset: usize) -> bool {
        self.current += 1;
        self.max = self.max.max(self.current);
        if self.current > MAX_NESTING {
            self.too_deep_at.get_or_insert(offset);
            return false;
        }
        true
    }
}

impl<'a> Visitor<'a> for Depth {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.enter(stmt.start().to_usize()) {
            with_stack(|| visitor::walk_stmt(self, stmt));
        }
        self.current -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.enter(expr.start().to_usize()) {
            with_stack(|| visitor::walk_expr(self, expr));
        }
        self.current -= 1;
    }
}

/// Drops a tree too deep to drop on an ordinary stack: its destructor recurses once per level,
/// and `levels` bounds the depth (every level holds at least one token). Past what a stack may
/// sensibly be, the tree is leaked instead: a hostile file costs memory, never the process.
fn drop_deep<T>(tree: T, levels: usize) {
    const PER_LEVEL: usize = 512;
    const MOST: usize = 512 * 1024 * 1024;
    match levels.checked_mul(PER_LEVEL) {
        Some(size) if size <= MOST => {
            let size = size + STACK_RED_ZONE;
            stacker::maybe_grow(size, size, move || drop(tree))
        }
        _ => std::mem::forget(tree),
    }
}

/// Byte offsets of line starts, to turn ranges into 1-based line numbers.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(source: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// Parses one file's source.
pub fn parse(source: &str) -> Result<PyModule, SyntaxError> {
    let lines = Lines::new(source);
    // Unchecked, so that even a tree with errors is dropped here, where its depth is known.
    let parsed =
        ruff_python_parser::parse_unchecked_source(source, ruff_python_ast::PySourceType::Python);
    let mut depth = Depth::default();
    for stmt in parsed.syntax().body.iter() {
        depth.visit_stmt(stmt);
    }
    if let Some(offset) = depth.too_deep_at {
        let tokens = parsed.tokens().len();
        drop_deep(parsed, tokens);
        return Err(SyntaxError {
            line: lines.line_of(offset),
            message: format!(
                "too deeply nested: statements and expressions nest more than {MAX_NESTING} \
                 levels deep here (alembic-tui reads no deeper; CPython refuses far less)"
            ),
            too_deep: true,
        });
    }
    if let Some(err) = parsed.errors().first() {
        let error = SyntaxError {
            line: lines.line_of(err.location.start().to_usize()),
            message: err.error.to_string(),
            too_deep: false,
        };
        drop_deep(parsed, depth.max);
        return Err(error);
    }
    let module = with_stack(|| summarise(source, &lines, &parsed));
    drop_deep(parsed, depth.max);
    Ok(module)
}

/// The summary of a parsed module no deeper than `MAX_NESTING`.
fn summarise(
    source: &str,
    lines: &Lines,
    parsed: &ruff_python_parser::Parsed<ruff_python_ast::ModModule>,
) -> PyModule {
    let body = &parsed.syntax().body;
    let mut module = PyModule::default();
    // Comments come from the tokens, so a `#` inside a string is never taken for one.
    for token in parsed.tokens().iter() {
        if token.kind() != TokenKind::Comment {
            continue;
        }
        let start = token.start().to_usize();
        let comment = source
            .get(start..token.end().to_usize())
            .unwrap_or_default();
        if comment.contains("alembic-tui:") {
            let line = lines.line_of(start);
            let line_start = lines
                .starts
                .get(line.saturating_sub(1))
                .copied()
                .unwrap_or(0);
            module.tool_comments.push(ToolComment {
                line,
                text: comment.to_owned(),
                own_line: source
                    .get(line_start..start)
                    .is_some_and(|before| before.trim().is_empty()),
            });
        }
    }
    let text = |range: TextRange| {
        source
            .get(range.start().to_usize()..range.end().to_usize())
            .unwrap_or_default()
    };
    let convert = |expr: &Expr| to_value(expr, source);

    if let Some(Stmt::Expr(first)) = body.first() {
        if let Expr::StringLiteral(doc) = first.value.as_ref() {
            module.docstring = Some(doc.value.to_str().to_owned());
        }
    }
    for stmt in body.iter() {
        let line = lines.line_of(stmt.start().to_usize());
        match stmt {
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    let value = convert(&assign.value);
                    for name in target_names(target) {
                        module.assignments.push(Assignment {
                            name,
                            line,
                            value: value.clone(),
                        });
                    }
                }
            }
            Stmt::AnnAssign(assign) => {
                if let (Some(value), Expr::Name(name)) = (&assign.value, assign.target.as_ref()) {
                    module.assignments.push(Assignment {
                        name: name.id.as_str().to_owned(),
                        line,
                        value: convert(value),
                    });
                }
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    let dotted = alias.name.as_str().to_owned();
                    let local = match &alias.asname {
                        Some(asname) => asname.as_str().to_owned(),
                        // `import a.b` binds `a`, through which `a.b.X` is reached.
                        None => dotted.split('.').next().unwrap_or_default().to_owned(),
                    };
                    let module_name = if alias.asname.is_some() {
                        dotted
                    } else {
                        local.clone()
                    };
                    module.imports.push(Import {
                        local,
                        module: module_name,
                        name: None,
                    });
                }
            }
            Stmt::ImportFrom(import) => {
                let base = format!(
                    "{}{}",
                    ".".repeat(import.level as usize),
                    import
                        .module
                        .as_ref()
                        .map(|m| m.as_str())
                        .unwrap_or_default()
                );
                for alias in &import.names {
                    let name = alias.name.as_str().to_owned();
                    module.imports.push(Import {
                        local: alias
                            .asname
                            .as_ref()
                            .map(|a| a.as_str().to_owned())
                            .unwrap_or_else(|| name.clone()),
                        module: base.clone(),
                        name: Some(name),
                    });
                }
            }
            Stmt::FunctionDef(def) => {
                let mut collector = OpCollector {
                    source,
                    lines,
                    batch_aliases: Vec::new(),
                    bind_aliases: Vec::new(),
                    autocommit_depth: 0,
                    ops: Vec::new(),
                };
                for inner in def.body.iter() {
                    collector.visit_stmt(inner);
                }
                let end = def.end().to_usize();
                module.functions.push(Function {
                    name: def.name.as_str().to_owned(),
                    def_line: line,
                    end_line: lines.line_of(end.saturating_sub(1)),
                    source: text(def.range()).to_owned(),
                    is_empty: def.body.iter().all(is_noop),
                    ops: collector.ops,
                });
            }
            _ => {}
        }
    }
    module
}

/// Names bound by an assignment target (`a = b = …`, `a, b = …` binds nothing we can use).
fn target_names(target: &Expr) -> Vec<String> {
    match target {
        Expr::Name(name) => vec![name.id.as_str().to_owned()],
        _ => Vec::new(),
    }
}

/// A statement that does nothing: `pass`, `...`, or a string (a docstring).
fn is_noop(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Pass(_) => true,
        Stmt::Expr(e) => matches!(
            e.value.as_ref(),
            Expr::EllipsisLiteral(_) | Expr::StringLiteral(_)
        ),
        _ => false,
    }
}

/// An expression as a `Value`: literals decoded, calls structured, the rest as source text.
fn to_value(expr: &Expr, source: &str) -> Value {
    with_stack(|| to_value_here(expr, source))
}

fn to_value_here(expr: &Expr, source: &str) -> Value {
    let text = || {
        source
            .get(expr.start().to_usize()..expr.end().to_usize())
            .unwrap_or_default()
            .to_owned()
    };
    match expr {
        Expr::StringLiteral(s) => Value::Str(s.value.to_str().to_owned()),
        Expr::NoneLiteral(_) => Value::None,
        Expr::BooleanLiteral(b) => Value::Bool(b.value),
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i
                .as_i64()
                .map(Value::Int)
                .unwrap_or_else(|| Value::Expr(text())),
            Number::Float(f) => Value::Float(*f),
            Number::Complex { .. } => Value::Expr(text()),
        },
        Expr::UnaryOp(u) if u.op == UnaryOp::USub => match to_value(&u.operand, source) {
            Value::Int(i) => Value::Int(-i),
            Value::Float(f) => Value::Float(-f),
            _ => Value::Expr(text()),
        },
        Expr::Tuple(t) => Value::Tuple(t.elts.iter().map(|e| to_value(e, source)).collect()),
        Expr::List(l) => Value::List(l.elts.iter().map(|e| to_value(e, source)).collect()),
        Expr::Call(call) => Value::Call {
            func: source
                .get(call.func.start().to_usize()..call.func.end().to_usize())
                .unwrap_or_default()
                .to_owned(),
            args: positional(&call.arguments, source),
            kwargs: keywords(&call.arguments, source),
        },
        _ => Value::Expr(text()),
    }
}

/// A call's positional arguments as values.
fn positional(arguments: &Arguments, source: &str) -> Vec<Value> {
    arguments.args.iter().map(|a| to_value(a, source)).collect()
}

/// A call's keyword arguments as (name, value); `**kwargs` is named `**`.
fn keywords(arguments: &Arguments, source: &str) -> Vec<(String, Value)> {
    arguments
        .keywords
        .iter()
        .map(|k| {
            let name = k.arg.as_ref().map_or("**", |a| a.as_str());
            (name.to_owned(), to_value(&k.value, source))
        })
        .collect()
}

/// Collects `op.X(...)` calls, and `batch_op.X(...)` inside `with op.batch_alter_table(...) as
/// batch_op:` blocks, in source order, noting which run inside
/// `with op.get_context().autocommit_block():` (outside the migration's transaction).
/// Statements run through the connection (`op.get_bind().execute(...)`, or `conn.execute(...)`
/// after `conn = op.get_bind()`) are collected as `bind.execute`, and enum types created or
/// dropped on it (`sa.Enum(name="mood").drop(op.get_bind())`) as `bind.create_type` /
/// `bind.drop_type` with the type as their one argument.
struct OpCollector<'s> {
    source: &'s str,
    lines: &'s Lines,
    batch_aliases: Vec<String>,
    /// Names assigned the migration's connection.
    bind_aliases: Vec<String>,
    autocommit_depth: usize,
    ops: Vec<OpCall>,
}

/// `op.get_bind()`, `op.get_context().bind` or `op.get_context().connection`.
fn is_bind(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => matches!(call.func.as_ref(), Expr::Attribute(attr)
            if attr.attr.as_str() == "get_bind"
                && matches!(attr.value.as_ref(), Expr::Name(n) if n.id.as_str() == "op")),
        Expr::Attribute(attr) => {
            matches!(attr.attr.as_str(), "bind" | "connection")
                && is_method_call(&attr.value, "get_context")
        }
        _ => false,
    }
}

/// `<anything>.NAME(...)`.
fn is_method_call(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Call(call)
        if matches!(call.func.as_ref(), Expr::Attribute(attr) if attr.attr.as_str() == name))
}

impl<'a> Visitor<'a> for OpCollector<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        let mut autocommit = false;
        if let Stmt::With(with) = stmt {
            for item in &with.items {
                let is_batch = is_method_call(&item.context_expr, "batch_alter_table");
                if let (true, Some(vars)) = (is_batch, &item.optional_vars) {
                    if let Expr::Name(name) = vars.as_ref() {
                        self.batch_aliases.push(name.id.as_str().to_owned());
                    }
                }
                autocommit |= is_method_call(&item.context_expr, "autocommit_block");
            }
        }
        if let Stmt::Assign(assign) = stmt {
            if let ([Expr::Name(name)], true) = (assign.targets.as_slice(), is_bind(&assign.value))
            {
                self.bind_aliases.push(name.id.as_str().to_owned());
            }
        }
        if autocommit {
            self.autocommit_depth += 1;
        }
        with_stack(|| visitor::walk_stmt(self, stmt));
        if autocommit {
            self.autocommit_depth -= 1;
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr {
            if let Expr::Attribute(attr) = call.func.as_ref() {
                let on_bind = |e: &Expr| {
                    is_bind(e)
                        || matches!(e, Expr::Name(n)
                            if self.bind_aliases.iter().any(|a| a == n.id.as_str()))
                };
                let method = attr.attr.as_str();
                let bind_call = if method == "execute" && on_bind(&attr.value) {
                    Some(("bind.execute", positional(&call.arguments, self.source)))
                } else if matches!(method, "create" | "drop")
                    && matches!(attr.value.as_ref(), Expr::Call(_) | Expr::Name(_))
                    && call.arguments.args.first().is_some_and(on_bind)
                {
                    let name = if method == "create" {
                        "bind.create_type"
                    } else {
                        "bind.drop_type"
                    };
                    Some((name, vec![to_value(&attr.value, self.source)]))
                } else {
                    None
                };
                if let Some((name, args)) = bind_call {
                    self.ops.push(OpCall {
                        name: name.to_owned(),
                        line: self.lines.line_of(call.start().to_usize()),
                        end_line: self.lines.line_of(call.end().to_usize().saturating_sub(1)),
                        args,
                        kwargs: keywords(&call.arguments, self.source),
                        autocommit: self.autocommit_depth > 0,
                    });
                }
                if let Expr::Name(receiver) = attr.value.as_ref() {
                    let receiver = receiver.id.as_str();
                    let name = if receiver == "op" {
                        Some(attr.attr.as_str().to_owned())
                    } else if self.batch_aliases.iter().any(|a| a == receiver) {
                        Some(format!("batch_op.{}", attr.attr.as_str()))
                    } else {
                        None
                    };
                    if let Some(name) = name {
                        self.ops.push(OpCall {
                            name,
                            line: self.lines.line_of(call.start().to_usize()),
                            end_line: self.lines.line_of(call.end().to_usize().saturating_sub(1)),
                            args: positional(&call.arguments, self.source),
                            kwargs: keywords(&call.arguments, self.source),
                            autocommit: self.autocommit_depth > 0,
                        });
                    }
                }
            }
        }
        with_stack(|| visitor::walk_expr(self, expr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_docstring_imports_and_ops() {
        let src = "\"\"\"add t\n\nRevision ID: x\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\nfrom pkg import cli as c\n\
revision: str = 'ab12'\ndown_revision = (u\"a\" 'b', \"c\")\nN = -3\n\n\ndef upgrade():\n    op.add_column('t', sa.Column('c', sa.Integer(), nullable=False))\n    \
with op.batch_alter_table('t') as b:\n        b.drop_column('c')\n\n\ndef downgrade():\n    pass\n";
        let m = parse(src).unwrap();
        assert_eq!(m.docstring.as_deref(), Some("add t\n\nRevision ID: x\n"));
        assert_eq!(m.assignments[0].value, Value::Str("ab12".into()));
        assert_eq!(
            m.assignments[1].value,
            Value::Tuple(vec![Value::Str("ab".into()), Value::Str("c".into())])
        );
        assert_eq!(m.assignments[2].value, Value::Int(-3));
        assert!(m.imports.contains(&Import {
            local: "c".into(),
            module: "pkg".into(),
            name: Some("cli".into())
        }));
        let up = &m.functions[0];
        assert_eq!(
            (up.name.as_str(), up.def_line, up.end_line),
            ("upgrade", 13, 16)
        );
        assert!(!up.is_empty);
        assert_eq!(up.ops[0].name, "add_column");
        assert_eq!(up.ops[0].args[0], Value::Str("t".into()));
        assert!(
            matches!(&up.ops[0].args[1], Value::Call { func, kwargs, .. }
            if func == "sa.Column" && kwargs[0] == ("nullable".to_string(), Value::Bool(false)))
        );
        assert_eq!(up.ops[1].name, "batch_alter_table");
        assert_eq!(up.ops[2].name, "batch_op.drop_column");
        assert_eq!(up.ops[2].line, 16);
        assert!(m.functions[1].is_empty);
    }

    #[test]
    fn autocommit_blocks_call_spans_and_tool_comments() {
        let src = "# alembic-tui: allow drop-index -- whole file\n\
def upgrade():\n    op.execute('SELECT 1')  # alembic-tui: allow truncate\n    \
with op.get_context().autocommit_block():\n        op.create_index(\n            'ix', 't', ['a'],\n        )\n    \
op.execute('# alembic-tui: not a comment')\n";
        let m = parse(src).unwrap();
        let ops = &m.functions[0].ops;
        let execute = &ops[0];
        assert!(!execute.autocommit);
        let index = ops.iter().find(|o| o.name == "create_index").unwrap();
        assert!(index.autocommit);
        assert_eq!((index.line, index.end_line), (5, 7));
        assert!(!ops.last().unwrap().autocommit, "the block has ended");
        assert_eq!(
            m.tool_comments,
            [
                ToolComment {
                    line: 1,
                    text: "# alembic-tui: allow drop-index -- whole file".into(),
                    own_line: true
                },
                ToolComment {
                    line: 3,
                    text: "# alembic-tui: allow truncate".into(),
                    own_line: false
                },
            ]
        );
    }

    #[test]
    fn syntax_errors_carry_their_line() {
        let err = parse("revision = 'a'\n\ndef upgrade(:\n    pass\n").unwrap_err();
        assert_eq!(err.line, 3);
    }
}
