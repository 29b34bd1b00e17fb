//! A throwaway PostgreSQL for one test binary: `initdb` into a temp dir and `postgres` on a unix
//! socket there, run as the `postgres` user when the tests run as root (the server refuses root).
//! Each test gets its own database. `ALEMBIC_TUI_TEST_PG_URL` points the tests at an existing
//! server instead.
//!
//! The server must not outlive the test process, even when it panics or is killed: postgres is
//! started by a small shell that waits on a pipe from us and stops the server when the pipe
//! closes, which the kernel does when our process ends, however it ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Cluster {
    /// Base URL without a database name, e.g. `postgresql://postgres@/?host=/tmp/x&port=5432`.
    base: String,
    /// Removed by the keeper after the server stops (the static is never dropped).
    _dir: Option<PathBuf>,
    /// Holding stdin open keeps the server alive; dropping it (at exit) stops it.
    _keeper: Option<Mutex<Child>>,
}

/// The directory holding initdb/postgres: `ALEMBIC_TUI_PG_BINDIR`, PATH, `pg_config --bindir`,
/// or the newest `/usr/lib/postgresql/*/bin`.
fn bindir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ALEMBIC_TUI_PG_BINDIR") {
        return PathBuf::from(dir);
    }
    if let Ok(out) = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
    {
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !path.is_empty() {
            if let Ok(real) = std::fs::canonicalize(&path) {
                if let Some(parent) = real.parent() {
                    return parent.to_path_buf();
                }
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions
        .pop()
        .filter(|d| d.join("initdb").exists())
        .expect("no PostgreSQL server binaries (initdb): run scripts/test.sh, which installs them")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a shell script, as `postgres` when we are root.
fn shell(script: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("pick a free port")
}

/// A server certificate and key (PEM files) for a TLS-only cluster.
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn start() -> Cluster {
    if let Ok(url) = std::env::var("ALEMBIC_TUI_TEST_PG_URL") {
        return Cluster {
            base: url,
            _dir: None,
            _keeper: None,
        };
    }
    start_cluster(None)
}

/// A cluster of its own that accepts only TLS connections on 127.0.0.1 (`hostssl`), for TLS tests.
/// It stops when the returned value is dropped.
pub fn start_tls_cluster(tls: TlsFiles) -> Cluster {
    start_cluster(Some(tls))
}

fn start_cluster(tls: Option<TlsFiles>) -> Cluster {
    let bin = bindir();
    let dir = tempfile::Builder::new()
        .prefix("alembic-tui-pg-")
        .tempdir()
        .expect("temp dir");
    let data = dir.path().join("data");
    let sock = dir.path().join("sock");
    std::fs::create_dir_all(&sock).expect("socket dir");
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(
            status.success(),
            "chown of the test cluster dir to postgres failed"
        );
    }
    let q = |p: &Path| format!("'{}'", p.display());
    let init = shell(&format!(
        "{} -D {} -A trust -U postgres --no-sync -E UTF8 >{}/initdb.log 2>&1",
        q(&bin.join("initdb")),
        q(&data),
        q(dir.path())
    ))
    .status()
    .expect("run initdb");
    assert!(
        init.success(),
        "initdb failed; see {}/initdb.log",
        dir.path().display()
    );
    let port = free_port();
    let mut extra = String::from("-c listen_addresses=''");
    if let Some(tls) = &tls {
        // The server reads the key as its own user, and only if nobody else can.
        let cert = dir.path().join("server.crt");
        let key = dir.path().join("server.key");
        std::fs::copy(&tls.cert, &cert).expect("copy server cert");
        std::fs::copy(&tls.key, &key).expect("copy server key");
        let hba = "local all all trust\nhostssl all all 127.0.0.1/32 trust\n";
        std::fs::write(dir.path().join("pg_hba.conf"), hba).expect("write pg_hba.conf");
        let prep = shell(&format!(
            "chmod 600 {key} && cp {hba} {data}/pg_hba.conf",
            key = q(&key),
            hba = q(&dir.path().join("pg_hba.conf")),
            data = q(&data),
        ));
        if is_root() {
            let _ = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&cert)
                .arg(&key)
                .arg(dir.path().join("pg_hba.conf"))
                .status();
        }
        let mut prep = prep;
        assert!(
            prep.status().map(|s| s.success()).unwrap_or(false),
            "TLS setup failed"
        );
        extra = format!(
            "-c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            q(&cert),
            q(&key)
        );
    }
    // The keeper: start postgres, wait until our stdin closes, then stop it (fast shutdown).
    let script = format!(
        "{pg} -D {data} -k {sock} -p {port} {extra} -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off >{dir}/server.log 2>&1 & pid=$!; \
         cat >/dev/null; kill -INT $pid; wait $pid; rm -rf {dir}",
        pg = q(&bin.join("postgres")),
        data = q(&data),
        sock = q(&sock),
        dir = q(dir.path()),
    );
    let keeper = shell(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start postgres");
    let base = format!(
        "postgresql://postgres@/?host={}&port={port}&sslmode=disable",
        sock.display()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let socket_file = sock.join(format!(".s.PGSQL.{port}"));
    while !socket_file.exists() {
        assert!(
            Instant::now() < deadline,
            "postgres did not start; see {}/server.log",
            dir.path().display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let cluster = Cluster {
        base,
        _dir: Some(dir.keep()),
        _keeper: Some(Mutex::new(keeper)),
    };
    // Accepting connections can lag the socket file by a moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    while psql(&cluster.url("postgres"), "SELECT 1").is_err() {
        assert!(
            Instant::now() < deadline,
            "postgres does not accept connections"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    cluster
}

impl Cluster {
    /// The port the server listens on (TCP for TLS clusters, the socket name otherwise).
    pub fn port(&self) -> u16 {
        self.base
            .split("port=")
            .nth(1)
            .and_then(|p| p.split('&').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(5432)
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        match self.base.split_once("/?") {
            Some((head, query)) => format!("{head}/{name}?{query}"),
            None => format!("{}/{name}", self.base.trim_end_matches('/')),
        }
    }
}

/// The cluster shared by every test in this binary.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(start)
}

/// Runs SQL with the driver on a fresh connection; returns the first column of every row.
pub fn psql(url: &str, sql: &str) -> Result<Vec<Option<String>>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let messages = client.simple_query(sql).await.map_err(|e| {
            e.as_db_error()
                .map(|d| format!("{} ({})", d.message(), d.code().code()))
                .unwrap_or_else(|| e.to_string())
        })?;
        Ok(messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_owned)),
                _ => None,
            })
            .collect())
    })
}

/// A fresh, empty database for one test; returns its URL.
pub fn fresh_db(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let cluster = cluster();
    psql(
        &cluster.url("postgres"),
        &format!("CREATE DATABASE \"{name}\""),
    )
    .unwrap_or_else(|e| panic!("create database {name}: {e}"));
    cluster.url(&name)
}
