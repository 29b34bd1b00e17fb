//! `op.*` calls found in upgrade/downgrade bodies, with their arguments decoded where they are
//! literals and kept as source text where they are not.

/// A call such as `op.add_column("t", sa.Column("c", sa.Integer()))`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpCall {
    /// The attribute called on `op`: `add_column`, `execute`, `batch_alter_table`, …
    pub name: String,
    /// 1-based line of the call.
    pub line: usize,
    /// 1-based line where the call's closing parenthesis is.
    pub end_line: usize,
    pub args: Vec<Value>,
    pub kwargs: Vec<(String, Value)>,
    /// Inside `with op.get_context().autocommit_block():`, i.e. outside the transaction.
    pub autocommit: bool,
}

/// An argument value: literals decoded, calls kept structured, anything else as source text.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// A call like `sa.Column("id", sa.Integer(), nullable=False)`: the callee's dotted name.
    Call {
        func: String,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    },
    /// Anything else, as written in the file.
    Expr(String),
}
