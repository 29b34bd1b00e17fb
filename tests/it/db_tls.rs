//! TLS against a server with a certificate from a test CA, accepting only TLS (`hostssl`):
//! `require` encrypts without checking, `verify-ca` checks the chain, `verify-full` also the name.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::pg;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for the name `localhost` only (no IP address in it).
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=alembic-tui test CA",
            "-days",
            "2",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
}

fn current(url: &str) -> (i32, String) {
    let ini = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/alembic.ini");
    let out = common::bin()
        .arg("-c")
        .arg(ini)
        .args(["--url", url, "current"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sslmodes_behave_as_libpq_documents() {
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path());
    let cluster = pg::start_tls_cluster(pg::TlsFiles {
        cert: certs.path().join("server.crt"),
        key: certs.path().join("server.key"),
    });
    let port = cluster.port();
    let ca = certs.path().join("ca.crt");
    let url = |host: &str, mode: &str| {
        format!(
            "postgresql://postgres@{host}:{port}/postgres?sslmode={mode}&sslrootcert={}",
            ca.display()
        )
    };

    // The server accepts TLS only: a plain connection is refused by pg_hba.
    let (code, stderr) = current(&url("127.0.0.1", "disable"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no encryption") || stderr.contains("pg_hba"),
        "{stderr}"
    );

    // require: encrypted, the certificate is not checked.
    let (code, stderr) = current(&format!(
        "postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=require"
    ));
    assert_eq!(code, 0, "require: {stderr}");

    // verify-ca: the chain leads to our CA; the address is not a name in the certificate.
    let (code, stderr) = current(&url("127.0.0.1", "verify-ca"));
    assert_eq!(code, 0, "verify-ca: {stderr}");

    // verify-full: the same address fails the name check; the certificate's name passes.
    let (code, stderr) = current(&url("127.0.0.1", "verify-full"));
    assert_eq!(code, 2, "verify-full must check the host name: {stderr}");
    let (code, stderr) = current(&url("localhost", "verify-full"));
    assert_eq!(code, 0, "verify-full with the certificate's name: {stderr}");

    // verify-full against the system's roots: our test CA is not among them.
    let (code, stderr) = current(&format!(
        "postgresql://postgres@localhost:{port}/postgres?sslmode=verify-full"
    ));
    assert_eq!(code, 2, "an unknown CA must fail verify-full: {stderr}");
}
