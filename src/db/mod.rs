//! The database edge: connections (TLS per `sslmode`, read-only profiles, our application name)
//! and the version table. Errors never carry a password.

pub mod diff;
pub mod exclude;
pub mod introspect;
pub mod locks;
pub mod pool;
pub mod shadow;
pub mod tls;
pub mod version_table;

use tokio_postgres::Client;

use crate::config::{redact, ResolvedUrl};

/// A database problem, with the target's redacted URL.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{target}: {message}")]
    Config { target: String, message: String },
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    #[error("{target}: {message}")]
    Query { target: String, message: String },
}

/// What a connection is for: read-only profiles refuse writes at the server.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectOptions {
    pub read_only: bool,
}

/// The server's own words for an error: SQLSTATE, message, detail and hint when it sent them.
pub fn describe(err: &tokio_postgres::Error, url: &str) -> String {
    let text = match err.as_db_error() {
        Some(db) => {
            let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(&format!("; detail: {detail}"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            text
        }
        None => {
            // The driver's top-level text ("error connecting to server") hides the cause.
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        }
    };
    // The driver may echo parts of the connection string; make sure no password survives.
    scrub(&text, url)
}

/// Removes the URL's password from a text, in every spelling (see `redact::Secrets`).
fn scrub(text: &str, url: &str) -> String {
    crate::redact::text(text, url)
}

/// A NOTICE, WARNING or INFO message the server sent on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub severity: String,
    pub message: String,
}

/// An open connection with what the executor needs beside the client: the server's notices and
/// a way to cancel the running statement.
pub struct Session {
    pub client: Client,
    pub notices: tokio::sync::mpsc::UnboundedReceiver<Notice>,
    cancel: tokio_postgres::CancelToken,
    tls: Option<rustls::ClientConfig>,
    target: String,
}

impl Session {
    /// Asks the server to cancel whatever this session is running (a no-op when idle).
    pub async fn cancel_running(&self) -> Result<(), DbError> {
        let result = match &self.tls {
            Some(tls) => {
                self.cancel
                    .cancel_query(tokio_postgres_rustls::MakeRustlsConnect::new(tls.clone()))
                    .await
            }
            None => self.cancel.cancel_query(tokio_postgres::NoTls).await,
        };
        result.map_err(|e| DbError::Connect {
            target: self.target.clone(),
            message: format!("cancelling the running statement: {e}"),
        })
    }
}

/// Drives a connection until it closes, forwarding notices (they are also logged nowhere else:
/// the caller decides where they show).
fn drive<S, T>(
    mut connection: tokio_postgres::Connection<S, T>,
    notices: tokio::sync::mpsc::UnboundedSender<Notice>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        use futures::StreamExt;
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notice(n)) => {
                    let _ = notices.send(Notice {
                        severity: n.severity().to_owned(),
                        message: n.message().to_owned(),
                    });
                }
                Ok(_) => {}
                // The client sees the broken connection on its next request.
                Err(_) => break,
            }
        }
    });
}

/// Opens one connection and drives it on the current tokio runtime.
pub async fn connect(url: &ResolvedUrl, options: ConnectOptions) -> Result<Client, DbError> {
    Ok(open(url, options).await?.client)
}

/// The driver's configuration for `url` (TLS options split out, our application name, the
/// read-only option) and the TLS client config when the URL asks for TLS.
pub(crate) fn driver_config(
    url: &ResolvedUrl,
    options: ConnectOptions,
) -> Result<(tokio_postgres::Config, Option<rustls::ClientConfig>), DbError> {
    let target = redact(&url.url);
    let config_error = |message: String| DbError::Config {
        target: target.clone(),
        message,
    };
    let tls_options = tls::split_tls_options(&url.url).map_err(config_error)?;
    let mut config: tokio_postgres::Config = tls_options
        .url
        .parse()
        .map_err(|e: tokio_postgres::Error| config_error(scrub(&e.to_string(), &url.url)))?;
    config.application_name(locks::APPLICATION);
    if options.read_only {
        config.options("-c default_transaction_read_only=on");
    }
    let tls = tls::client_config(&tls_options).map_err(config_error)?;
    Ok((config, tls))
}

/// Opens one connection with its notices and cancel handle (the executor's dedicated session).
pub async fn open(url: &ResolvedUrl, options: ConnectOptions) -> Result<Session, DbError> {
    let target = redact(&url.url);
    let (config, tls) = driver_config(url, options)?;
    let connect_error = |e: tokio_postgres::Error| DbError::Connect {
        target: target.clone(),
        message: describe(&e, &url.url),
    };
    let (tx, notices) = tokio::sync::mpsc::unbounded_channel();
    let client = match &tls {
        Some(tls) => {
            let (client, connection) = config
                .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls.clone()))
                .await
                .map_err(connect_error)?;
            drive(connection, tx);
            client
        }
        None => {
            let (client, connection) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(connect_error)?;
            drive(connection, tx);
            client
        }
    };
    Ok(Session {
        cancel: client.cancel_token(),
        client,
        notices,
        tls,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_scrubbed_from_driver_messages() {
        assert_eq!(
            scrub(
                "password authentication failed: s3cret",
                "postgresql://u:s3cret@h/db"
            ),
            "password authentication failed: ***"
        );
        assert_eq!(scrub("plain", "postgresql://u@h/db"), "plain");
    }
}
