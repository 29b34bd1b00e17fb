//! Any text as alembic.ini: read, every key of every section interpolated, the project options
//! resolved; never a panic or a hang.
#![no_main]

use std::path::Path;

use alembic_tui::project::ini::Ini;
use libfuzzer_sys::fuzz_target;

const KEYS: &[&str] = &[
    "script_location",
    "version_locations",
    "path_separator",
    "version_path_separator",
    "prepend_sys_path",
    "file_template",
    "truncate_slug_length",
    "sqlalchemy.url",
    "recursive_version_locations",
    "here",
    "a",
    "b",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ini) = Ini::parse(Path::new("/fuzz/alembic.ini"), text) else {
        return;
    };
    for section in ["alembic", "DEFAULT", "x"] {
        if ini.has_section(section) {
            for key in KEYS {
                let _ = ini.get(section, key);
            }
        }
    }
});
