//! Secrets out of anything that is shown, logged or stored: database URLs (the password in the
//! userinfo and every `password=`-like option, repeated or %-encoded), libpq `key=value`
//! conninfo strings (quoted values too), and free text that may echo them (driver errors,
//! alembic's output). Passwords become `***`.

use crate::dburl;

const MASK: &str = "***";

/// Option names whose values are secrets (compared lower-cased, after %-decoding): libpq's
/// `password` and `sslpassword`, `PGPASSWORD`-style environment spellings, and lookalikes.
fn is_secret_key(key: &str) -> bool {
    let key = dburl::percent_decode(key).to_ascii_lowercase();
    let key = key.trim();
    key.contains("password") || key.contains("passwd") || key == "pwd" || key.ends_with("secret")
}

/// A URL (or a conninfo string) with every secret replaced by `***`.
pub fn url(text: &str) -> String {
    match dburl::split(text.trim_start()) {
        Some(parts) => {
            let mut out = format!("{}://", parts.scheme);
            if let Some(info) = parts.userinfo {
                match info.split_once(':') {
                    Some((user, _)) => out.push_str(&format!("{user}:{MASK}@")),
                    None => out.push_str(&format!("{info}@")),
                }
            }
            out.push_str(parts.location);
            if let Some(query) = parts.query {
                out.push('?');
                let pairs: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((key, _)) if is_secret_key(key) => format!("{key}={MASK}"),
                        _ => pair.to_owned(),
                    })
                    .collect();
                out.push_str(&pairs.join("&"));
            }
            out
        }
        None => assignments(text),
    }
}

/// Every `key = value` in `text` whose key names a secret, value masked: conninfo strings
/// (`host=h password='a b'`), `PGPASSWORD=x`, and such text inside longer messages. A value
/// runs to blank space (or `&`, `;`, `,` after an unquoted value), or to its closing quote.
pub fn assignments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'=' {
            i += 1;
            continue;
        }
        // The key: the word before `=` (blank space between allowed, as libpq allows it).
        let key_end = text[..i].trim_end().len();
        let key_start = after_last(&text[..key_end], |c| {
            !(c.is_alphanumeric() || c == '_' || c == '%')
        });
        let key = &text[key_start..key_end];
        let mut value_start = i + 1;
        while value_start < bytes.len() && bytes[value_start].is_ascii_whitespace() {
            value_start += 1;
        }
        if key.is_empty() || !is_secret_key(key) || value_start >= bytes.len() {
            i += 1;
            continue;
        }
        let value_end = value_end(text, value_start);
        out.push_str(&text[copied..value_start]);
        out.push_str(MASK);
        copied = value_end;
        i = value_end.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// The byte offset just after the last character of `text` matching `stop` (0 when none does);
/// a character may be several bytes long.
fn after_last(text: &str, stop: impl Fn(char) -> bool) -> usize {
    text.char_indices()
        .rev()
        .find(|&(_, c)| stop(c))
        .map_or(0, |(at, c)| at + c.len_utf8())
}

/// Where a value starting at `start` ends: after its closing quote (backslash escapes, as
/// libpq reads them; an unclosed quote runs to the end), else at blank space or a separator.
fn value_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    if let Some(&quote @ (b'\'' | b'"')) = bytes.get(start) {
        let mut j = start + 1;
        while j < bytes.len() {
            match bytes[j] {
                b'\\' => j += 2,
                b if b == quote => return j + 1,
                _ => j += 1,
            }
        }
        return bytes.len();
    }
    text[start..]
        .find(|c: char| c.is_whitespace() || matches!(c, '&' | ';' | ',' | ')' | ']'))
        .map_or(text.len(), |e| start + e)
}

/// The secrets of one connection URL (or conninfo string), in every spelling a message may
/// echo them: as written and %-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    pub fn of(url: &str) -> Secrets {
        let mut values = Vec::new();
        let mut add = |raw: &str| {
            for v in [raw.to_owned(), dburl::percent_decode(raw)] {
                if !v.is_empty() && !values.contains(&v) {
                    values.push(v);
                }
            }
        };
        if let Some(parts) = dburl::split(url.trim()) {
            if let Some(password) = parts.password() {
                add(password);
                // The driver ends credentials at the first `@`: the rest of such a password
                // becomes its host, which connection errors print.
                if let Some((_, tail)) = password.split_once('@') {
                    add(tail);
                }
            }
            for pair in parts.options() {
                if let Some((key, value)) = pair.split_once('=') {
                    if is_secret_key(key) {
                        add(value);
                    }
                }
            }
        } else if let Ok(config) = url.trim().parse::<tokio_postgres::Config>() {
            // A conninfo string: the driver's own reading (quotes, escapes).
            if let Some(password) = config.get_password() {
                add(&String::from_utf8_lossy(password));
            }
        }
        // Longest first, so a password containing another one is masked whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Secrets { values }
    }

    /// The secret values, longest first.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// `text` with every known secret, and every `password=`-like assignment or URL
    /// credential in it, masked.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), MASK);
            }
        }
        text_urls(&assignments(&out))
    }
}

/// Masks the credentials of any `scheme://user:password@` that appears inside free text.
pub fn text_urls(text: &str) -> String {
    if !text.contains("://") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = after_last(&rest[..at], |c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .map_or(rest.len(), |e| at + e);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Free text that may mention `url` (driver errors, alembic's output), scrubbed of its secrets.
pub fn text(text: &str, url: &str) -> String {
    Secrets::of(url).scrub(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_passwords_of_every_shape() {
        for (raw, want) in [
            ("postgresql://u:s3cret@h/db", "postgresql://u:***@h/db"),
            ("postgresql://u:pa/ss@h/db", "postgresql://u:***@h/db"),
            ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
            (
                "postgresql://u:a:b?c@h:5/db?x=1",
                "postgresql://u:***@h:5/db?x=1",
            ),
            ("postgresql://u:s3/cr@t%2Fx@h/db", "postgresql://u:***@h/db"),
            (
                "postgresql+psycopg://u:%40%2F@h/db",
                "postgresql+psycopg://u:***@h/db",
            ),
            ("postgresql://u@h/db", "postgresql://u@h/db"),
        ] {
            assert_eq!(url(raw), want, "{raw}");
        }
    }

    #[test]
    fn every_password_option_is_masked() {
        assert_eq!(
            url("postgresql://u@h/db?password=a&sslmode=require&password=b&sslpassword=c"),
            "postgresql://u@h/db?password=***&sslmode=require&password=***&sslpassword=***"
        );
        assert_eq!(
            url("postgresql://u@h/db?pass%77ord=a"),
            "postgresql://u@h/db?pass%77ord=***"
        );
    }

    #[test]
    fn conninfo_strings_and_environment_style_text() {
        assert_eq!(
            url("host=h password='a b\\' c' dbname=d"),
            "host=h password=*** dbname=d"
        );
        assert_eq!(
            url("host=h password = x user=u"),
            "host=h password = *** user=u"
        );
        assert_eq!(
            assignments("env: PGPASSWORD=hunter2 PATH=/bin"),
            "env: PGPASSWORD=*** PATH=/bin"
        );
        assert_eq!(assignments("password='open"), "password=***");
    }

    #[test]
    fn multibyte_text_before_an_equals_sign_or_a_scheme() {
        // fuzz/artifacts/url_redactor/crash-915257aa…: a two-byte character before `=`.
        assert_eq!(assignments("\u{7fd}="), "\u{7fd}=");
        assert_eq!(url("\u{7fd}="), "\u{7fd}=");
        assert_eq!(text_urls("éx://u:pw@h"), "éx://u:***@h");
        assert_eq!(assignments("ü password=x"), "ü password=***");
    }

    #[test]
    fn text_loses_every_spelling_of_the_password() {
        let secrets = Secrets::of("postgresql://u:s3%2Fcr%40t@h/db?password=other");
        let text = "FATAL: password s3/cr@t or s3%2Fcr%40t or other; \
                    see postgresql://u:zz@h/db and password=zz";
        let got = secrets.scrub(text);
        for leak in ["s3/cr@t", "s3%2Fcr%40t", "other", "zz"] {
            assert!(!got.contains(leak), "{leak} in {got}");
        }
    }
}
