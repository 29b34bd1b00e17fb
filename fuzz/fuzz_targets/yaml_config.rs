//! Any text as an alembic-tui.yaml: parsed, layered over a user file, every profile turned into
//! settings and the lint options read; never a panic or a hang.
#![no_main]

use std::path::Path;

use alembic_tui::config::{parse_config, Layers, Settings};
use libfuzzer_sys::fuzz_target;

const USER: &str = "profiles:\n  prod:\n    read_only: true\n    lock_timeout: 2s\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = parse_config(Path::new("alembic-tui.yaml"), text) else {
        return;
    };
    let Ok(user) = parse_config(Path::new("config.yaml"), USER) else {
        return;
    };
    let names: Vec<String> = file.profiles.keys().cloned().collect();
    let layers = Layers {
        files: vec![("config.yaml".into(), user), ("alembic-tui.yaml".into(), file)],
        project_from: Some(1),
    };
    let _ = layers.lint_options();
    for name in names.iter().map(String::as_str).chain(["prod"]) {
        if let Ok((Some((name, profile)), _)) = layers.profile_with_warnings(Some(name)) {
            if let Ok(settings) = Settings::from_profile(Some(&name), &profile, "fuzz") {
                // The project file may never loosen what the user's file says.
                if name == "prod" {
                    assert!(settings.read_only);
                    assert!(settings.lock_timeout <= std::time::Duration::from_secs(2));
                    assert!(!settings.lock_timeout.is_zero());
                }
            }
        }
    }
});
