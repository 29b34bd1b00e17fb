//! Type identity: one key per PostgreSQL column type, whether it is written as a SQLAlchemy
//! generic (`sa.String(length=50)`, what autogenerate puts in `upgrade()` from the model), as the
//! reflected dialect type (`sa.VARCHAR(length=50)`, what it puts in `downgrade()` from the
//! database) or as SQL (`character varying(50)`, what a rendered step says). Two spellings with
//! the same key make the same column.

use crate::project::ops::Value;

/// The key of a type written as a Python expression, with a display form for messages
/// (`VARCHAR(50)`, `TIMESTAMP WITH TIME ZONE`, `ENUM level`).
pub fn python_type_key(value: &Value) -> String {
    let (func, args, kwargs): (&str, &[Value], &[(String, Value)]) = match value {
        Value::Call { func, args, kwargs } => (func, args, kwargs),
        // `sa.Text` passed as a class.
        Value::Expr(text) => (text.as_str(), &[], &[]),
        _ => return String::new(),
    };
    let base = func.rsplit('.').next().unwrap_or(func).to_ascii_uppercase();
    let kw = |name: &str| kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let arg = |index: usize, name: &str| args.get(index).or_else(|| kw(name));
    let int = |v: Option<&Value>| match v {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    };
    let flag = |name: &str| matches!(kw(name), Some(Value::Bool(true)));
    let with_length = |name: &str, length: Option<i64>| match length {
        Some(n) => format!("{name}({n})"),
        None => name.to_owned(),
    };
    match base.as_str() {
        "STRING" | "VARCHAR" | "UNICODE" | "NVARCHAR" => {
            with_length("VARCHAR", int(arg(0, "length")))
        }
        "CHAR" | "NCHAR" => format!("CHAR({})", int(arg(0, "length")).unwrap_or(1)),
        "TEXT" | "UNICODETEXT" => "TEXT".to_owned(),
        "INTEGER" | "INT" => "INTEGER".to_owned(),
        "BIGINTEGER" | "BIGINT" => "BIGINT".to_owned(),
        "SMALLINTEGER" | "SMALLINT" => "SMALLINT".to_owned(),
        "BOOLEAN" => "BOOLEAN".to_owned(),
        "DATETIME" | "TIMESTAMP" => {
            if flag("timezone") {
                "TIMESTAMP WITH TIME ZONE".to_owned()
            } else {
                "TIMESTAMP".to_owned()
            }
        }
        "TIME" => {
            if flag("timezone") {
                "TIME WITH TIME ZONE".to_owned()
            } else {
                "TIME".to_owned()
            }
        }
        "DATE" => "DATE".to_owned(),
        "INTERVAL" => "INTERVAL".to_owned(),
        "NUMERIC" | "DECIMAL" => match (int(arg(0, "precision")), int(arg(1, "scale"))) {
            (Some(p), Some(s)) => format!("NUMERIC({p}, {s})"),
            (Some(p), None) => format!("NUMERIC({p}, 0)"),
            _ => "NUMERIC".to_owned(),
        },
        // PostgreSQL stores float(1..24) as real and everything else as double precision;
        // SQLAlchemy's Float() without a precision renders FLOAT, i.e. double precision.
        "FLOAT" => match int(arg(0, "precision")) {
            Some(p) if p <= 24 => "REAL".to_owned(),
            _ => "DOUBLE PRECISION".to_owned(),
        },
        "REAL" => "REAL".to_owned(),
        "DOUBLE" | "DOUBLE_PRECISION" => "DOUBLE PRECISION".to_owned(),
        "JSON" => "JSON".to_owned(),
        "JSONB" => "JSONB".to_owned(),
        "UUID" => "UUID".to_owned(),
        "LARGEBINARY" | "BYTEA" => "BYTEA".to_owned(),
        "ARRAY" => format!(
            "{}[]",
            arg(0, "item_type").map(python_type_key).unwrap_or_default()
        ),
        "ENUM" => match kw("name") {
            Some(Value::Str(name)) => format!("ENUM {name}"),
            // An enum without a name is a VARCHAR with a check on non-native backends; on
            // PostgreSQL alembic refuses it, so any unnamed one is as good as another.
            _ => "ENUM".to_owned(),
        },
        _ => {
            let mut key = base.replace('_', " ");
            if let Some(n) = int(arg(0, "length")) {
                key.push_str(&format!("({n})"));
            }
            key
        }
    }
}

/// The key of a type written as SQL (`varchar(50)`, `character varying(50)`, `timestamptz`,
/// `int4[]`), the same as [`python_type_key`] gives for its SQLAlchemy spellings.
pub fn sql_type_key(sql: &str) -> String {
    let text = sql.trim().to_ascii_lowercase();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(item) = text.strip_suffix("[]") {
        return format!("{}[]", sql_type_key(item));
    }
    let (name, params) = match text.find('(') {
        Some(at) => {
            let close = text.rfind(')').unwrap_or(text.len());
            let rest = text.get(close + 1..).unwrap_or_default().trim().to_owned();
            let name = format!("{} {rest}", text[..at].trim());
            (
                name.trim().to_owned(),
                text.get(at + 1..close).unwrap_or_default().to_owned(),
            )
        }
        None => (text.clone(), String::new()),
    };
    let nums: Vec<i64> = params
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    match name.as_str() {
        "varchar" | "character varying" => match nums.first() {
            Some(n) => format!("VARCHAR({n})"),
            None => "VARCHAR".to_owned(),
        },
        "char" | "character" | "bpchar" => format!("CHAR({})", nums.first().unwrap_or(&1)),
        "text" => "TEXT".to_owned(),
        "int" | "integer" | "int4" | "serial" | "serial4" => "INTEGER".to_owned(),
        "bigint" | "int8" | "bigserial" | "serial8" => "BIGINT".to_owned(),
        "smallint" | "int2" | "smallserial" | "serial2" => "SMALLINT".to_owned(),
        "bool" | "boolean" => "BOOLEAN".to_owned(),
        "timestamp" | "timestamp without time zone" => "TIMESTAMP".to_owned(),
        "timestamptz" | "timestamp with time zone" => "TIMESTAMP WITH TIME ZONE".to_owned(),
        "time" | "time without time zone" => "TIME".to_owned(),
        "timetz" | "time with time zone" => "TIME WITH TIME ZONE".to_owned(),
        "numeric" | "decimal" => match (nums.first(), nums.get(1)) {
            (Some(p), Some(s)) => format!("NUMERIC({p}, {s})"),
            (Some(p), None) => format!("NUMERIC({p}, 0)"),
            _ => "NUMERIC".to_owned(),
        },
        "real" | "float4" => "REAL".to_owned(),
        "float" => match nums.first() {
            Some(p) if *p <= 24 => "REAL".to_owned(),
            _ => "DOUBLE PRECISION".to_owned(),
        },
        "double precision" | "float8" => "DOUBLE PRECISION".to_owned(),
        other => other.to_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(func: &str, args: Vec<Value>, kwargs: Vec<(&str, Value)>) -> Value {
        Value::Call {
            func: func.to_owned(),
            args,
            kwargs: kwargs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    #[test]
    fn generic_and_reflected_spellings_share_a_key() {
        let pairs = [
            (
                call("sa.String", vec![], vec![("length", Value::Int(50))]),
                call("sa.VARCHAR", vec![], vec![("length", Value::Int(50))]),
            ),
            (
                call("sa.DateTime", vec![], vec![("timezone", Value::Bool(true))]),
                call(
                    "postgresql.TIMESTAMP",
                    vec![],
                    vec![("timezone", Value::Bool(true))],
                ),
            ),
            (
                call("sa.Float", vec![], vec![]),
                call(
                    "sa.DOUBLE_PRECISION",
                    vec![],
                    vec![("precision", Value::Int(53))],
                ),
            ),
            (
                call(
                    "postgresql.ARRAY",
                    vec![call("sa.Integer", vec![], vec![])],
                    vec![],
                ),
                call(
                    "postgresql.ARRAY",
                    vec![call("sa.INTEGER", vec![], vec![])],
                    vec![],
                ),
            ),
        ];
        for (a, b) in pairs {
            assert_eq!(python_type_key(&a), python_type_key(&b), "{a:?} vs {b:?}");
        }
        assert_ne!(
            python_type_key(&call("sa.DateTime", vec![], vec![])),
            python_type_key(&call(
                "sa.DateTime",
                vec![],
                vec![("timezone", Value::Bool(true))]
            ))
        );
    }

    #[test]
    fn sql_spellings_share_the_python_key() {
        assert_eq!(sql_type_key("character varying(50)"), "VARCHAR(50)");
        assert_eq!(sql_type_key("timestamptz"), "TIMESTAMP WITH TIME ZONE");
        assert_eq!(sql_type_key("NUMERIC(10,2)"), "NUMERIC(10, 2)");
        assert_eq!(sql_type_key("int4[]"), "INTEGER[]");
        assert_eq!(sql_type_key("FLOAT"), "DOUBLE PRECISION");
    }
}
