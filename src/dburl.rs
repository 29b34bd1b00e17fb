//! Where the credentials, location and query of a database URL are, read the way its two
//! consumers read it: tokio-postgres (credentials run to the first `@`, so a password may hold
//! `/`, `?` or `:`) and SQLAlchemy (`user:password@`, the user without `:` or `/`). Everything
//! that cuts a URL apart (normalising, TLS options, shadow databases, redaction) uses this one
//! reading, so a password can never be taken for a host, a path or an option.

/// A `scheme://…` URL cut into its parts; the parts are slices of the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Before `://` (`postgresql`, `postgresql+psycopg`, …).
    pub scheme: &'a str,
    /// Between `://` and the `@` that ends the credentials; None when there are none.
    pub userinfo: Option<&'a str>,
    /// Hosts, ports and the path (database), up to the query.
    pub location: &'a str,
    /// After the `?` that starts the options, when there is one.
    pub query: Option<&'a str>,
}

impl<'a> UrlParts<'a> {
    /// The user as written (still %-encoded), when the URL names one.
    pub fn user(&self) -> Option<&'a str> {
        self.userinfo
            .map(|info| info.split_once(':').map_or(info, |(user, _)| user))
    }

    /// The password as written (still %-encoded), when the userinfo holds one.
    pub fn password(&self) -> Option<&'a str> {
        self.userinfo
            .and_then(|info| info.split_once(':'))
            .map(|(_, password)| password)
    }

    /// Host list and ports: the location before its path.
    pub fn authority(&self) -> &'a str {
        self.location.split('/').next().unwrap_or_default()
    }

    /// The query's `key=value` pairs as written, empty ones left out.
    pub fn options(&self) -> impl Iterator<Item = &'a str> {
        self.query
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
    }
}

/// Cuts `url` into its parts; None when it is not of the form `scheme://…`.
pub fn split(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let (userinfo, after) = match userinfo_end(rest) {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let (location, query) = match after.split_once('?') {
        Some((location, query)) => (location, Some(query)),
        None => (after, None),
    };
    Some(UrlParts {
        scheme,
        userinfo,
        location,
        query,
    })
}

/// The byte offset (in the text after `://`) of the `@` ending the credentials.
fn userinfo_end(rest: &str) -> Option<usize> {
    let first_at = rest.find('@')?;
    let candidate = &rest[..first_at];
    // SQLAlchemy's user is `[^:/]*`: an `@` after a `/` or `?` in the user part belongs to the
    // path or the options (`/db?application_name=a@b`), not to credentials.
    let user = candidate.split_once(':').map_or(candidate, |(u, _)| u);
    if user.contains(['/', '?', '#']) {
        return None;
    }
    // A raw `@` in a password (`u:p@ss@host`) is what the writer meant, whatever the driver
    // makes of it: the credentials run to the last `@` before the location's first `/` or `?`.
    let mut end = first_at;
    loop {
        let tail = &rest[end + 1..];
        let segment = &tail[..tail.find(['/', '?', '#']).unwrap_or(tail.len())];
        match segment.rfind('@') {
            Some(at) => end += 1 + at,
            None => return Some(end),
        }
    }
}

/// `%XX` escapes decoded (invalid escapes kept as written; invalid UTF-8 replaced).
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (Option<&str>, Option<&str>, &str, Option<&str>) {
        let p = split(url).unwrap();
        (p.user(), p.password(), p.location, p.query)
    }

    #[test]
    fn plain_urls() {
        assert_eq!(
            parts("postgresql://u:pw@h:5432/db?sslmode=require"),
            (Some("u"), Some("pw"), "h:5432/db", Some("sslmode=require"))
        );
        assert_eq!(parts("postgresql://h/db"), (None, None, "h/db", None));
        assert_eq!(
            parts("postgresql://u@h/db"),
            (Some("u"), None, "h/db", None)
        );
        assert!(split("not a url").is_none());
        assert!(split("://x").is_none());
    }

    #[test]
    fn passwords_with_slashes_question_marks_colons_and_ats() {
        assert_eq!(
            parts("postgresql://u:pa/ss@h/db"),
            (Some("u"), Some("pa/ss"), "h/db", None)
        );
        assert_eq!(
            parts("postgresql://u:a?b:c@h/db?x=1"),
            (Some("u"), Some("a?b:c"), "h/db", Some("x=1"))
        );
        assert_eq!(
            parts("postgresql://u:p@ss@h/db"),
            (Some("u"), Some("p@ss"), "h/db", None)
        );
        assert_eq!(
            parts("postgresql://u:s3/cr@t%2Fx@h/db"),
            (Some("u"), Some("s3/cr@t%2Fx"), "h/db", None)
        );
    }

    #[test]
    fn an_at_in_the_options_is_not_a_credential() {
        assert_eq!(
            parts("postgresql://h/db?application_name=a@b"),
            (None, None, "h/db", Some("application_name=a@b"))
        );
    }
}
