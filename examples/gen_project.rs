//! Writes a generated Alembic project for benchmarks and demos:
//! `cargo run --release --example gen_project -- N DIR`.

#[path = "../tests/common/gen.rs"]
mod gen;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(dir)) = (
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
        args.get(2),
    ) else {
        eprintln!("usage: gen_project N DIR");
        return std::process::ExitCode::from(2);
    };
    if let Err(err) = gen::write_project(std::path::Path::new(dir), &gen::big_project(n)) {
        eprintln!("error: writing {dir}: {err}");
        return std::process::ExitCode::from(2);
    }
    std::process::ExitCode::SUCCESS
}
