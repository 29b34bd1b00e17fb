//! The read pool: connections for the reads before a plan (the version table and the server's
//! version, `engine::state`), configured like every other connection of ours (TLS per
//! `sslmode`, read-only profiles, application_name). The executor never takes a pooled
//! connection: it needs its own session for the advisory lock, notices and cancel; the console's
//! poller and the schema checks keep single connections of their own.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use crate::config::{redact, ResolvedUrl};
use crate::db::{describe, ConnectOptions, DbError};

/// A pool of up to `max_size` connections to `url`. Connections open lazily, on first use.
pub fn read_pool(
    url: &ResolvedUrl,
    options: ConnectOptions,
    max_size: usize,
) -> Result<Pool, DbError> {
    let target = redact(&url.url);
    let config_error = |message: String| DbError::Config {
        target: target.clone(),
        message,
    };
    let (config, tls) = crate::db::driver_config(url, options)?;
    let manager_config = ManagerConfig {
        // A cheap check that the connection still answers before it is handed out.
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = match tls {
        Some(tls) => Manager::from_config(
            config,
            tokio_postgres_rustls::MakeRustlsConnect::new(tls),
            manager_config,
        ),
        None => Manager::from_config(config, tokio_postgres::NoTls, manager_config),
    };
    Pool::builder(manager)
        .max_size(max_size)
        .build()
        .map_err(|e| config_error(format!("building the connection pool: {e}")))
}

/// Takes a connection from the pool, with the server's words when it cannot connect.
pub async fn get(pool: &Pool, url: &ResolvedUrl) -> Result<deadpool_postgres::Object, DbError> {
    pool.get().await.map_err(|e| DbError::Connect {
        target: redact(&url.url),
        message: match &e {
            deadpool_postgres::PoolError::Backend(pg) => describe(pg, &url.url),
            other => other.to_string(),
        },
    })
}
