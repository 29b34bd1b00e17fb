//! Any text as a database URL or conninfo: cut apart, redacted and used to scrub itself; never
//! a panic, and no secret the redactor knows of survives its own scrubbing.
#![no_main]

use alembic_tui::{dburl, redact};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = dburl::split(text);
    let shown = redact::url(text);
    let secrets = redact::Secrets::of(text);
    let scrubbed = secrets.scrub(text);
    for secret in secrets.values() {
        // `***` itself is what a mask looks like: a secret made of `*` cannot be told apart.
        if !secret.contains('*') {
            assert!(!scrubbed.contains(secret.as_str()), "{secret:?} in {scrubbed:?}");
        }
    }
    if let Some(parts) = dburl::split(text) {
        if let (Some(user), Some(_)) = (parts.user(), parts.password()) {
            let masked = format!("{}://{user}:***@", parts.scheme);
            assert!(shown.starts_with(&masked), "{shown:?}");
        }
    }
    let _ = redact::text(text, text);
    let _ = alembic_tui::config::normalize_url(text);
});
