//! Any text as a revision file: parsed and summarised, never a panic, hang or stack overflow.
#![no_main]

use std::path::Path;

use alembic_tui::project::names::ModuleFinder;
use alembic_tui::project::revision;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let finder = ModuleFinder::new(Vec::new());
    let _ = revision::from_source(Path::new("versions/fuzz.py"), text, &finder);
});
