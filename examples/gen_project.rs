//! Writes a generated Alembic project for benchmarks and demos:
//! `cargo run --release --example gen_project -- N DIR [--executable] [--url SQLALCHEMY_URL]`.
//! `--executable`: a history alembic can run against a database (no depends_on; see
//! `gen::executable_project`); `--url`: the ini's `sqlalchemy.url` for online runs.

#[path = "../tests/it/common/gen.rs"]
mod gen;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(dir)) = (
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
        args.get(2),
    ) else {
        eprintln!("usage: gen_project N DIR [--executable] [--url SQLALCHEMY_URL]");
        return std::process::ExitCode::from(2);
    };
    let executable = args.iter().any(|a| a == "--executable");
    let mut opts = gen::ProjectOpts::default();
    if let Some(i) = args.iter().position(|a| a == "--url") {
        match args.get(i + 1) {
            Some(url) => opts.url = url.clone(),
            None => {
                eprintln!("error: --url needs a value");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let revs = if executable {
        gen::executable_project(n)
    } else {
        gen::big_project(n)
    };
    if let Err(err) = gen::write_project_with(std::path::Path::new(dir), &revs, &opts) {
        eprintln!("error: writing {dir}: {err}");
        return std::process::ExitCode::from(2);
    }
    std::process::ExitCode::SUCCESS
}
