//! Running the profile's alembic command for this project: where alembic itself would run (the
//! current directory with `-c`, else where the config was found), with what (`-c`/`-n`, the
//! target URL in `DATABASE_URL`, the profile's `alembic_env`).

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::config::{ResolvedUrl, Settings};
use crate::engine::EngineError;
use crate::workspace::Workspace;

/// How to run the profile's alembic command for this project: where alembic would run, with
/// `-c`/`-n` as the CLI was given them and the target's URL in `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct AlembicCommand {
    /// The directory alembic runs in (relative paths in its config resolve against it).
    ini_dir: PathBuf,
    /// The `-c` arguments (an ini, and/or a pyproject.toml).
    config_args: Vec<PathBuf>,
    section: String,
    command: Vec<String>,
    database_url: String,
    env: Vec<(String, String)>,
}

impl AlembicCommand {
    pub fn new(ws: &Workspace, settings: &Settings, url: &ResolvedUrl) -> AlembicCommand {
        let config = &ws.project.config;
        AlembicCommand {
            ini_dir: config.alembic_dir().to_path_buf(),
            config_args: config.alembic_config_args().to_vec(),
            section: config.section.clone(),
            command: settings.alembic.clone(),
            database_url: url.url.clone(),
            env: settings
                .alembic_env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// The command line for `args`.
    pub fn command(&self, args: &[String]) -> Command {
        let (program, rest) = match self.command.split_first() {
            Some((p, rest)) => (p.clone(), rest.to_vec()),
            None => ("alembic".to_owned(), Vec::new()),
        };
        let mut cmd = Command::new(program);
        cmd.args(rest);
        for config in &self.config_args {
            cmd.arg("-c").arg(config);
        }
        if self.section != "alembic" {
            cmd.arg("-n").arg(&self.section);
        }
        cmd.args(args)
            .current_dir(&self.ini_dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("DATABASE_URL", &self.database_url)
            .stdin(Stdio::null());
        dies_with_us(&mut cmd);
        cmd
    }

    /// Runs `args` to completion, capturing its output.
    pub fn output(&self, args: &[String]) -> Result<std::process::Output, EngineError> {
        self.command(args)
            .output()
            .map_err(|source| EngineError::AlembicCommand {
                command: self.text(),
                dir: self.ini_dir.display().to_string(),
                source,
            })
    }

    /// What the command's output depends on besides the project's files: the command line and
    /// the environment the profile passes (an env.py may read it).
    pub fn inputs(&self) -> (&[String], &[(String, String)]) {
        (&self.command, &self.env)
    }

    /// `text` without the target URL's password, wherever alembic or env.py printed it.
    pub fn scrub(&self, text: &str) -> String {
        crate::redact::text(text, &self.database_url)
    }

    /// The command as the user configured it, for messages.
    pub fn text(&self) -> String {
        self.command.join(" ")
    }

    /// The versions of alembic, SQLAlchemy and Python this command runs, as one line: rendered
    /// SQL depends on them, so the render cache is keyed by them (a `pip install -U sqlalchemy`
    /// must not leave the old renderings shown and run). Asked through Python's package
    /// metadata with the interpreter that runs alembic (before `-m alembic`, or a console
    /// script's `#!` line): a start of Python that imports neither alembic nor SQLAlchemy.
    /// Otherwise `alembic --version`, which names alembic's version only.
    pub fn toolchain(&self) -> String {
        const PROBE: &str = "import importlib.metadata as m, sys\n\
            def v(d):\n    try:\n        return m.version(d)\n    except Exception:\n        return '-'\n\
            print('alembic', v('alembic'), 'sqlalchemy', v('SQLAlchemy'), 'python', sys.version.split()[0])";
        if let Some(python) = self.interpreter() {
            let mut cmd = Command::new(&python[0]);
            cmd.args(&python[1..])
                .args(["-c", PROBE])
                .current_dir(&self.ini_dir)
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null());
            dies_with_us(&mut cmd);
            if let Ok(out) = cmd.output() {
                if out.status.success() {
                    return String::from_utf8_lossy(&out.stdout).trim().to_owned();
                }
            }
        }
        match check(self) {
            Ok(version) => version,
            Err(e) => format!("unknown: {e}"),
        }
    }

    /// The interpreter (with its leading arguments) that runs alembic: the words before
    /// `-m alembic`, or the `#!` line of an `alembic` script given by path or found on PATH.
    fn interpreter(&self) -> Option<Vec<String>> {
        if let Some(at) = self
            .command
            .windows(2)
            .position(|w| w[0] == "-m" && w[1] == "alembic")
        {
            return (at > 0).then(|| self.command[..at].to_vec());
        }
        let [program] = self.command.as_slice() else {
            return None;
        };
        let path = if program.contains('/') {
            self.ini_dir.join(program)
        } else {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|d| d.join(program))
                .find(|p| p.is_file())?
        };
        let mut first = String::new();
        let file = std::fs::File::open(path).ok()?;
        std::io::BufRead::read_line(&mut std::io::BufReader::new(file).take(4096), &mut first)
            .ok()?;
        let shebang = first.strip_prefix("#!")?.trim();
        let words: Vec<String> = shebang.split_whitespace().map(str::to_owned).collect();
        words
            .first()
            .is_some_and(|w| w.contains("python"))
            .then_some(words)
    }
}

/// The child cannot outlive us: it leads a process group of its own (so a cancel can stop
/// whatever `uv run` or a shell started under it, and the terminal's Ctrl-C reaches only us, who
/// decide), and on Linux the kernel kills it when we die — a `kill -9` of alembic-tui must not
/// leave an alembic running a step nobody watches, whose connection would commit.
fn dies_with_us(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec only async-signal-safe calls are made (prctl, getppid,
        // _exit), and nothing is allocated.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // We died between fork and prctl: no signal will come, so go now.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
}

/// Kills the process group `leader` leads (the alembic command and anything it started).
pub fn kill_group(leader: u32) {
    if let Ok(pid) = libc::pid_t::try_from(leader) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is touched.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Runs a command that writes a revision file (`revision -m …`, `merge -m … heads`) and returns
/// the file alembic says it generated, or alembic's own words when it did not.
pub fn generate(alembic: &AlembicCommand, args: &[String]) -> Result<PathBuf, String> {
    let out = alembic.output(args).map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(format!(
            "`{} {}` failed ({}): {}",
            alembic.text(),
            args.join(" "),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    // alembic says `  Generating /path/versions/abc_msg.py ...  done`.
    stdout
        .lines()
        .chain(stderr.lines())
        .find_map(|line| {
            let rest = line.trim().strip_prefix("Generating ")?;
            let path = rest.split(" ...").next()?.trim();
            Some(alembic.ini_dir.join(path))
        })
        .ok_or_else(|| format!("alembic did not say which file it wrote: {}", stdout.trim()))
}

/// Runs `alembic --version` through the profile's command: the version line, or what failed,
/// naming the command and the setting that changes it.
pub fn check(alembic: &AlembicCommand) -> Result<String, String> {
    let out = alembic
        .output(&["--version".to_owned()])
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(text)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = alembic.scrub(stderr.lines().last().unwrap_or("").trim());
        Err(format!(
            "`{} --version` failed ({}): {last}; set `alembic:` in the profile",
            alembic.text(),
            out.status
        ))
    }
}
