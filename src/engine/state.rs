//! What one connection tells about the target before a plan: the version table's rows and the
//! server's major version (version-dependent review verdicts use the connected server's).

use crate::config::{ResolvedUrl, Settings};
use crate::db::{self, version_table::VersionTable};
use crate::engine::EngineError;

/// The database as a plan starts from it.
#[derive(Debug, Clone)]
pub struct DatabaseState {
    pub rows: Vec<String>,
    /// None when the server will not say: the configured `pg_version` stays in force.
    pub major: Option<u32>,
}

/// Reads the version table's rows and `server_version_num` over one connection.
pub fn read(settings: &Settings, url: &ResolvedUrl) -> Result<DatabaseState, EngineError> {
    let table = VersionTable::of(settings);
    crate::engine::runtime()?.block_on(async {
        let pool = db::pool::read_pool(
            url,
            db::ConnectOptions {
                read_only: settings.read_only,
            },
            1,
        )?;
        let client = db::pool::get(&pool, url).await?;
        let rows = table.read(&client, &url.url).await?;
        let major = server_major(&client).await;
        Ok(DatabaseState { rows, major })
    })
}

/// The server's major version (150004 → 15), or None when it will not say.
pub async fn server_major(client: &tokio_postgres::Client) -> Option<u32> {
    let row = client
        .query_one("SHOW server_version_num", &[])
        .await
        .ok()?;
    let n = row
        .try_get::<_, String>(0)
        .ok()?
        .trim()
        .parse::<u32>()
        .ok()?;
    Some(n / 10_000)
}
