//! alembic-tui: parse the command line, run, and map the outcome to an exit code in one place.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use alembic_tui::cli::commands::Outcome;
use alembic_tui::cli::{self, Args};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes: 0 success, 1 for "found something" answers (`status --check` with pending steps;
/// later drift and lint), 2 for any error (bad input, unknown revision, alembic would refuse).
const EXIT_ATTENTION: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(err) => {
            eprintln!("error: cannot read the current directory: {err}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match &args.command {
        None => return console(&args, &cwd),
        Some(cli::Command::Demo) => {
            return report(alembic_tui::demo::run(&args, &cwd));
        }
        Some(_) => {}
    }
    let stdout = std::io::stdout();
    // Text for people goes through TerminalText (control characters from files escaped);
    // JSON is written exactly as serialised.
    let mut out: Box<dyn Write> = if args.json || emits_json(&args) {
        Box::new(std::io::BufWriter::new(stdout.lock()))
    } else {
        Box::new(cli::terminal::TerminalText::new(std::io::BufWriter::new(
            stdout.lock(),
        )))
    };
    let mut err = cli::terminal::TerminalText::new(std::io::stderr());
    let result = cli::commands::run(&args, &cwd, &mut out, &mut err).and_then(|outcome| {
        out.flush()?;
        Ok(outcome)
    });
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Attention) => ExitCode::from(EXIT_ATTENTION),
        Err(error) => {
            // A closed pipe (`alembic-tui history | head`) is not a failure of ours.
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            // One line: the cause chain joined, so scripts can log it as is.
            let _ = writeln!(err, "error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Commands whose stdout is machine-readable though `--json` was not given.
fn emits_json(args: &Args) -> bool {
    matches!(
        &args.command,
        Some(cli::Command::Lint {
            format: cli::lint::LintFormat::Json,
            ..
        })
    )
}

/// The console on the project the CLI resolves.
fn console(args: &Args, cwd: &std::path::Path) -> ExitCode {
    report(alembic_tui::tui::Session::prepare(args, cwd).and_then(alembic_tui::tui::run))
}

/// Exit code and one line on stderr for the console and demo, which print nothing else.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
