//! A throwaway PostgreSQL server for `alembic-tui demo`: `initdb` into a directory, `postgres`
//! listening only on a unix socket there, stopped when this value is dropped — or, because a
//! small keeper shell stops it when its stdin closes, when our process dies in any way.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why the throwaway server could not be had, naming the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum TempServerError {
    #[error("no PostgreSQL server binaries (initdb, postgres) on PATH, in `pg_config --bindir` or /usr/lib/postgresql/*/bin: install the server (e.g. apt-get install postgresql) or set ALEMBIC_TUI_PG_BINDIR")]
    NoBinaries,
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// A step ran and failed; `output` is what it said.
    #[error("{what}: {output}")]
    Failed { what: String, output: String },
    #[error("creating database {name}: {message}")]
    CreateDatabase { name: String, message: String },
}

type Result<T> = std::result::Result<T, TempServerError>;

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TempServerError {
    let what = what.into();
    move |source| TempServerError::Io { what, source }
}

/// The port number names the socket file; nothing listens on TCP.
const PORT: u16 = 5432;

/// A running server and the directory it lives in.
pub struct TempServer {
    socket_dir: PathBuf,
    keeper: Option<Child>,
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: `ALEMBIC_TUI_PG_BINDIR`, then PATH,
/// then `pg_config --bindir`, then the newest `/usr/lib/postgresql/*/bin`.
pub fn find_bindir() -> Result<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("ALEMBIC_TUI_PG_BINDIR") {
        candidates.push(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(std::result::Result::ok)
                .filter_map(|e| {
                    let version = e.file_name().to_str()?.parse::<u32>().ok()?;
                    Some((version, e.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    versioned.sort_by_key(|v| std::cmp::Reverse(v.0));
    candidates.extend(versioned.into_iter().map(|(_, p)| p));
    candidates
        .into_iter()
        .find(|d| has_server(d))
        .ok_or(TempServerError::NoBinaries)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A shell running `script`; as the `postgres` user when we are root (the server refuses root).
fn shell(script: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }
}

/// A path quoted for `sh`.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

impl TempServer {
    /// Creates a cluster in `dir` (which must be empty or missing) and starts it.
    pub fn start(dir: &Path) -> Result<TempServer> {
        let bin = find_bindir()?;
        let root = is_root();
        let data = dir.join("data");
        let socket_dir = dir.join("socket");
        std::fs::create_dir_all(&socket_dir)
            .map_err(io(format!("creating {}", socket_dir.display())))?;
        if root {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir)
                .status()
                .map_err(io("running chown"))?;
            if !chown.success() {
                return Err(TempServerError::Failed {
                    what: format!("giving {} to the postgres user", dir.display()),
                    output: "running as root, the server must run as postgres: create that \
                             user, e.g. `useradd -r postgres`"
                        .to_owned(),
                });
            }
        }
        let log = dir.join("initdb.log");
        let init = shell(
            &format!(
                "{} -D {} -A trust -U postgres -E UTF8 --no-sync >{} 2>&1",
                quote(&bin.join("initdb")),
                quote(&data),
                quote(&log)
            ),
            root,
        )
        .status()
        .map_err(io("running initdb"))?;
        if !init.success() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(TempServerError::Failed {
                what: "initdb failed".to_owned(),
                output: text.trim().to_owned(),
            });
        }
        let server_log = dir.join("server.log");
        // The keeper waits for its stdin to close (we exit, or drop this, or are killed), then
        // stops postgres and removes the whole directory (it owns it), so nothing is left behind.
        // It ignores the hangup and interrupt that reach the whole process group when the
        // terminal closes or Ctrl-C is pressed: it must outlive us to clean up.
        let script = format!(
            "trap '' HUP INT TERM; {pg} -D {data} -k {sock} -p {PORT} -c listen_addresses='' -c fsync=off \
             >{log} 2>&1 & pid=$!; cat >/dev/null; kill -INT $pid; wait $pid; rm -rf {dir}",
            pg = quote(&bin.join("postgres")),
            data = quote(&data),
            sock = quote(&socket_dir),
            log = quote(&server_log),
            dir = quote(dir),
        );
        let keeper = shell(&script, root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("starting postgres"))?;
        let server = TempServer {
            socket_dir,
            keeper: Some(keeper),
        };
        let socket = server.socket_dir.join(format!(".s.PGSQL.{PORT}"));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !socket.exists() {
            if Instant::now() > deadline {
                let text = std::fs::read_to_string(&server_log).unwrap_or_default();
                return Err(TempServerError::Failed {
                    what: "postgres did not start within 60 s".to_owned(),
                    output: text.trim().to_owned(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// The URL of database `name` (the `postgres` superuser, trust authentication).
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgresql://postgres@/{name}?host={}&port={PORT}",
            self.socket_dir.display()
        )
    }

    /// Creates database `name`, retrying while the server finishes starting.
    pub fn create_database(&self, name: &str) -> Result<()> {
        let url = crate::config::ResolvedUrl {
            url: self.url("postgres"),
            source: crate::config::UrlSource::Flag,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(io("starting the async runtime"))?;
        let failed = |message: String| TempServerError::CreateDatabase {
            name: name.to_owned(),
            message,
        };
        runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(30);
            let client = loop {
                match crate::db::connect(&url, Default::default()).await {
                    Ok(c) => break c,
                    Err(err) if Instant::now() > deadline => return Err(failed(err.to_string())),
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            };
            let sql = format!(
                "CREATE DATABASE {}",
                crate::db::version_table::quote_ident(name)
            );
            client
                .batch_execute(&sql)
                .await
                .map_err(|e| failed(e.to_string()))?;
            Ok(())
        })
    }
}

impl Drop for TempServer {
    fn drop(&mut self) {
        if let Some(mut keeper) = self.keeper.take() {
            // Closing stdin tells the keeper to stop the server; wait so the socket is gone.
            if let Some(mut stdin) = keeper.stdin.take() {
                let _ = stdin.flush();
            }
            let _ = keeper.wait();
        }
    }
}
