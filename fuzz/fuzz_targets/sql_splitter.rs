//! Any text as SQL: split into statements (each a slice of the input) and classified by the
//! review rules; never a panic, hang or stack overflow.
#![no_main]

use std::collections::HashSet;

use alembic_tui::analysis::sql_rules::analyze;
use alembic_tui::analysis::sql_split::split;
use alembic_tui::analysis::SqlContext;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(statements) = split(text) {
        for statement in &statements {
            assert!(text.contains(statement.text.as_str()));
        }
    }
    let created = HashSet::new();
    let ctx = SqlContext {
        pg_version: 15,
        in_transaction: true,
        created_tables: &created,
    };
    let _ = analyze(text, &ctx);
});
