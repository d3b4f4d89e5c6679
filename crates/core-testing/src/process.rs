//! The one constructor of child processes: explicit argv (never a shell), a working directory under
//! an allowed root, a reduced environment, its own process group killed as a whole on timeout or
//! drop, captured output with a size cap (the tail is kept), and line streaming for progress.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use crate::{AllowedRoots, TestingError};

/// Variables passed through from pipette's own environment (when set); everything else is dropped.
pub const SAFE_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "TZ",
    "TMPDIR",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "CARGO_TARGET_DIR",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "PYTHONPATH",
    "PYENV_ROOT",
    "PYENV_VERSION",
];

/// Set on every child so tools print plain, unbuffered text.
const FIXED_ENV: &[(&str, &str)] =
    &[("NO_COLOR", "1"), ("CARGO_TERM_COLOR", "never"), ("PY_COLORS", "0"), ("PYTHONUNBUFFERED", "1")];

/// Default cap on the captured tail of each stream.
pub const DEFAULT_OUTPUT_CAP: usize = 1024 * 1024;
/// Longest line handed to the line callback; the rest of a longer line is dropped.
const MAX_LINE: usize = 1024 * 1024;
/// How long to keep reading pipes after the main process exited (and its group was killed).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// The description of one child process; [`ChildSpec::run`] starts it.
#[derive(Debug, Clone)]
pub struct ChildSpec {
    program: String,
    args: Vec<String>,
    cwd: PathBuf,
    env: BTreeMap<String, String>,
    timeout: Duration,
    output_cap: usize,
}

/// Output captured from a stream, keeping the tail when it is larger than the cap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The kept text (lossy UTF-8).
    pub text: String,
    /// How many bytes were dropped from the front.
    pub truncated_bytes: u64,
}

/// What a finished (or killed) child left behind.
#[derive(Debug, Clone)]
pub struct ChildOutput {
    /// The program and its arguments, as run.
    pub argv: Vec<String>,
    /// The exit code, when the process exited normally.
    pub exit_code: Option<i32>,
    /// The signal that ended the process, if any.
    pub signal: Option<i32>,
    /// Whether the wall-clock timeout fired (the process group was killed).
    pub timed_out: bool,
    /// Wall-clock time from spawn to exit.
    pub duration: Duration,
    /// Standard output.
    pub stdout: Captured,
    /// Standard error.
    pub stderr: Captured,
    /// Both streams interleaved in arrival order.
    pub combined: Captured,
}

impl ChildSpec {
    /// A child running `program` (a bare name looked up on the child's `PATH`, or an absolute
    /// path) in `cwd`, which must resolve under one of `roots`.
    pub fn new(program: impl Into<String>, cwd: &Path, roots: &AllowedRoots) -> Result<Self, TestingError> {
        let program = program.into();
        if program.is_empty() || program.contains('\0') {
            return Err(TestingError::invalid("program", "the program name is empty or contains NUL"));
        }
        if program.contains('/') && !Path::new(&program).is_absolute() {
            return Err(TestingError::invalid(
                "program",
                format!("`{program}` must be a bare name found on PATH or an absolute path"),
            ));
        }
        let cwd = roots.resolve("path", cwd)?;
        if !cwd.is_dir() {
            return Err(TestingError::invalid("path", format!("{} is not a directory", cwd.display())));
        }
        Ok(Self {
            program,
            args: Vec::new(),
            cwd,
            env: BTreeMap::new(),
            timeout: Duration::from_secs(600),
            output_cap: DEFAULT_OUTPUT_CAP,
        })
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable on top of the safe set (validated when the child starts).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Sets environment variables on top of the safe set (validated when the child starts).
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env.extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// The wall-clock limit; when it passes, the whole process group is killed.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The cap, in bytes, on the captured tail of each stream.
    pub fn output_cap(mut self, bytes: usize) -> Self {
        self.output_cap = bytes.max(1024);
        self
    }

    /// The canonical working directory.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The program and its arguments.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone()).chain(self.args.iter().cloned()).collect()
    }

    /// The environment the child will get: the safe set from pipette's own environment, fixed
    /// plain-output settings, then the explicit variables (which win).
    pub fn environment(&self) -> Result<BTreeMap<String, String>, TestingError> {
        let mut env = BTreeMap::new();
        for key in SAFE_ENV {
            if let Ok(value) = std::env::var(key) {
                env.insert((*key).to_string(), value);
            }
        }
        for (key, value) in FIXED_ENV {
            env.insert((*key).to_string(), (*value).to_string());
        }
        for (key, value) in &self.env {
            validate_env(key, value)?;
            env.insert(key.clone(), value.clone());
        }
        Ok(env)
    }

    /// Runs the child to completion (or timeout), handing each output line to `on_line` as it
    /// arrives. Dropping the returned future kills the whole process group.
    pub async fn run(
        self,
        on_line: &mut (dyn FnMut(Stream, &str) + Send),
    ) -> Result<ChildOutput, TestingError> {
        let env = self.environment()?;
        let argv = self.argv();
        let started = Instant::now();
        let mut child = self.spawn(&env)?;
        let mut group = GroupGuard::new(child.id());
        metrics::counter!("pipette_testing_children_total", "program" => program_label(&self.program))
            .increment(1);
        tracing::debug!(argv = ?argv, cwd = %self.cwd.display(), "started child");

        let (tx, mut rx) = mpsc::channel::<(Stream, String)>(1024);
        let mut readers = tokio::task::JoinSet::new();
        if let Some(stdout) = child.stdout.take() {
            readers.spawn(read_lines(stdout, Stream::Stdout, tx.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.spawn(read_lines(stderr, Stream::Stderr, tx.clone()));
        }
        drop(tx);

        let mut stdout = Tail::new(self.output_cap);
        let mut stderr = Tail::new(self.output_cap);
        let mut combined = Tail::new(self.output_cap);
        let mut status = None;
        let mut timed_out = false;
        let mut pipes_open = true;
        let deadline = tokio::time::sleep(self.timeout);
        tokio::pin!(deadline);
        let drain = tokio::time::sleep(Duration::MAX);
        tokio::pin!(drain);

        while pipes_open || status.is_none() {
            tokio::select! {
                line = rx.recv(), if pipes_open => match line {
                    Some((stream, line)) => {
                        match stream {
                            Stream::Stdout => stdout.push_line(&line),
                            Stream::Stderr => stderr.push_line(&line),
                        }
                        combined.push_line(&line);
                        on_line(stream, &line);
                    }
                    None => pipes_open = false,
                },
                exit = child.wait(), if status.is_none() => {
                    let exit = exit.map_err(|e| TestingError::io("waiting for a child process", e))?;
                    status = Some(exit);
                    // Whatever the main process left behind in its group goes with it, so pipes
                    // held open by stragglers reach EOF.
                    group.kill();
                    group.disarm();
                    drain.as_mut().reset(tokio::time::Instant::now() + DRAIN_GRACE);
                }
                () = &mut deadline, if !timed_out && status.is_none() => {
                    timed_out = true;
                    tracing::warn!(argv = ?argv, timeout = ?self.timeout, "child timed out; killing its process group");
                    metrics::counter!("pipette_testing_timeouts_total").increment(1);
                    group.kill();
                }
                () = &mut drain, if status.is_some() && pipes_open => {
                    tracing::warn!(argv = ?argv, "output pipes still open after exit; giving up on them");
                    pipes_open = false;
                }
            }
        }
        readers.abort_all();

        let duration = started.elapsed();
        metrics::histogram!("pipette_testing_child_seconds").record(duration.as_secs_f64());
        let (exit_code, signal) = status.map_or((None, None), |s| {
            use std::os::unix::process::ExitStatusExt;
            (s.code(), s.signal())
        });
        Ok(ChildOutput {
            argv,
            exit_code,
            signal,
            timed_out,
            duration,
            stdout: stdout.finish(),
            stderr: stderr.finish(),
            combined: combined.finish(),
        })
    }

    #[allow(
        clippy::disallowed_methods,
        reason = "the one constructor of child processes: allowed roots, clean env, process group, kill-on-drop"
    )]
    fn spawn(&self, env: &BTreeMap<String, String>) -> Result<tokio::process::Child, TestingError> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(&self.cwd)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        command.spawn().map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                TestingError::ToolNotFound {
                    program: self.program.clone(),
                    hint: install_hint(&self.program),
                }
            } else {
                TestingError::io(format!("starting `{}`", self.program), err)
            }
        })
    }
}

fn program_label(program: &str) -> String {
    Path::new(program).file_name().map_or_else(|| program.to_string(), |n| n.to_string_lossy().into_owned())
}

fn install_hint(program: &str) -> String {
    match program_label(program).as_str() {
        "cargo" => "install Rust with rustup (https://rustup.rs)".into(),
        "ruff" => "install it with `pip install ruff`".into(),
        p if p.starts_with("python") => "install Python 3 or set PIPETTE_PYTHON".into(),
        p => format!("install `{p}` and make sure it is on PATH"),
    }
}

pub(crate) fn validate_env(key: &str, value: &str) -> Result<(), TestingError> {
    let valid_name = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        return Err(TestingError::invalid(
            "env",
            format!("`{key}` is not a valid variable name (letters, digits and `_`)"),
        ));
    }
    if key.starts_with("LD_") || key.starts_with("DYLD_") {
        return Err(TestingError::invalid(
            "env",
            format!("`{key}` changes how programs are loaded and is not allowed"),
        ));
    }
    if value.contains('\0') {
        return Err(TestingError::invalid("env", format!("the value of `{key}` contains NUL")));
    }
    Ok(())
}

/// Kills the child's process group when dropped (cancellation) or asked (timeout, exit).
struct GroupGuard {
    pgid: Option<Pid>,
}

impl GroupGuard {
    fn new(pid: Option<u32>) -> Self {
        let pgid = pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 0).map(Pid::from_raw);
        Self { pgid }
    }

    fn kill(&self) {
        if let Some(pgid) = self.pgid {
            match killpg(pgid, Signal::SIGKILL) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(err) => tracing::warn!(pgid = pgid.as_raw(), %err, "killpg failed"),
            }
        }
    }

    /// After the group leader was reaped its id may be reused: never signal it again.
    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads a pipe into lines (lossy UTF-8, `\r` trimmed, over-long lines cut) until EOF.
async fn read_lines(mut pipe: impl AsyncRead + Unpin, stream: Stream, tx: mpsc::Sender<(Stream, String)>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    let mut overflow = false;
    loop {
        let n = match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        while let Some(pos) = chunk.iter().position(|b| *b == b'\n') {
            if !overflow {
                let room = MAX_LINE.saturating_sub(line.len());
                line.extend_from_slice(&chunk[..pos.min(room)]);
            }
            if tx.send((stream, finish_line(&mut line))).await.is_err() {
                return;
            }
            overflow = false;
            chunk = &chunk[pos + 1..];
        }
        if !overflow {
            let room = MAX_LINE.saturating_sub(line.len());
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            overflow = line.len() >= MAX_LINE;
        }
    }
    if !line.is_empty() {
        let _ = tx.send((stream, finish_line(&mut line))).await;
    }
}

fn finish_line(line: &mut Vec<u8>) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let text = String::from_utf8_lossy(line).into_owned();
    line.clear();
    text
}

/// A text buffer that keeps only the last `cap` bytes (at a character boundary).
struct Tail {
    buf: String,
    cap: usize,
    dropped: u64,
}

impl Tail {
    fn new(cap: usize) -> Self {
        Self { buf: String::new(), cap, dropped: 0 }
    }

    fn push_line(&mut self, line: &str) {
        self.buf.push_str(line);
        self.buf.push('\n');
        if self.buf.len() > self.cap.saturating_mul(2) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        if self.buf.len() <= self.cap {
            return;
        }
        let mut cut = self.buf.len() - self.cap;
        while !self.buf.is_char_boundary(cut) {
            cut += 1;
        }
        self.dropped += cut as u64;
        self.buf.drain(..cut);
    }

    fn finish(mut self) -> Captured {
        self.trim();
        Captured { text: self.buf, truncated_bytes: self.dropped }
    }
}

/// Keeps the last `max` bytes of `text` (at a character boundary), marking the cut.
pub(crate) fn tail_of(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = text.len() - max;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!("[... {cut} bytes cut ...]\n{}", &text[cut..])
}

/// Looks `name` up on a `PATH`-style list; returns the first executable file.
pub(crate) fn find_on_path(name: &str, path_var: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path_var = path_var.map(str::to_string).or_else(|| std::env::var("PATH").ok())?;
    path_var.split(':').filter(|d| !d.is_empty()).map(|dir| Path::new(dir).join(name)).find(|candidate| {
        candidate.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots_for(dir: &Path) -> AllowedRoots {
        AllowedRoots::new([dir]).expect("roots")
    }

    async fn run(spec: ChildSpec) -> (ChildOutput, Vec<(Stream, String)>) {
        let mut lines = Vec::new();
        let out = spec.run(&mut |s, l| lines.push((s, l.to_string()))).await.expect("run");
        (out, lines)
    }

    #[tokio::test]
    async fn runs_argv_without_a_shell_and_captures_both_streams() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = ChildSpec::new("sh", dir.path(), &roots_for(dir.path())).expect("spec").args([
            "-c",
            "echo out; echo err >&2; echo \"$1\"",
            "sh",
            "a b;$(x)",
        ]);
        let (out, lines) = run(spec).await;
        assert_eq!(out.exit_code, Some(0));
        assert!(!out.timed_out);
        assert_eq!(out.stdout.text, "out\na b;$(x)\n");
        assert_eq!(out.stderr.text, "err\n");
        assert_eq!(lines.len(), 3);
        assert!(lines.contains(&(Stream::Stderr, "err".to_string())));
    }

    #[tokio::test]
    async fn the_environment_is_reduced_to_the_safe_set_plus_explicit_vars() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = ChildSpec::new("env", dir.path(), &roots_for(dir.path()))
            .expect("spec")
            .env("PIPETTE_EXPLICIT", "yes");
        let (out, _) = run(spec).await;
        let keys: Vec<&str> =
            out.stdout.text.lines().filter_map(|l| l.split_once('=').map(|(k, _)| k)).collect();
        assert!(keys.contains(&"PIPETTE_EXPLICIT"), "{keys:?}");
        assert!(keys.contains(&"NO_COLOR"), "{keys:?}");
        for key in keys {
            assert!(
                SAFE_ENV.contains(&key)
                    || FIXED_ENV.iter().any(|(k, _)| *k == key)
                    || key == "PIPETTE_EXPLICIT"
                    // set by the OS or the dynamic loader, not inherited
                    || key == "PWD"
                    || key == "SHLVL"
                    || key == "_",
                "unexpected variable {key}"
            );
        }
    }

    #[tokio::test]
    async fn loader_variables_and_bad_names_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let roots = roots_for(dir.path());
        for (key, value) in [("LD_PRELOAD", "/x.so"), ("A=B", "1"), ("", "1"), ("OK", "a\0b")] {
            let spec = ChildSpec::new("true", dir.path(), &roots).expect("spec").env(key, value);
            let err = spec.run(&mut |_, _| {}).await.expect_err("refused");
            assert_eq!(err.kind(), "invalid_argument", "{key}: {err}");
        }
    }

    #[tokio::test]
    async fn output_is_capped_keeping_the_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = ChildSpec::new("sh", dir.path(), &roots_for(dir.path()))
            .expect("spec")
            .args(["-c", "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done"])
            .output_cap(2048);
        let (out, lines) = run(spec).await;
        assert_eq!(lines.len(), 2000, "every line still streams");
        assert!(out.stdout.text.len() <= 2048);
        assert!(out.stdout.truncated_bytes > 0);
        assert!(out.stdout.text.ends_with("line-1999\n"));
    }

    #[tokio::test]
    async fn a_missing_program_is_reported_as_not_installed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec =
            ChildSpec::new("pipette-no-such-program", dir.path(), &roots_for(dir.path())).expect("spec");
        let err = spec.run(&mut |_, _| {}).await.expect_err("missing");
        assert!(matches!(err, TestingError::ToolNotFound { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn relative_program_paths_and_outside_dirs_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let other = tempfile::tempdir().expect("tempdir");
        let roots = roots_for(dir.path());
        let err = ChildSpec::new("./x", dir.path(), &roots).expect_err("relative");
        assert_eq!(err.kind(), "invalid_argument");
        let err = ChildSpec::new("true", other.path(), &roots).expect_err("outside");
        assert!(matches!(err, TestingError::InvalidArgument { name: "path", .. }));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        // The shell starts a background grandchild, prints its pid and waits forever.
        let spec = ChildSpec::new("sh", dir.path(), &roots_for(dir.path()))
            .expect("spec")
            .args(["-c", "sleep 300 & echo $!; wait"])
            .timeout(Duration::from_millis(500));
        let (out, lines) = run(spec).await;
        assert!(out.timed_out);
        assert_eq!(out.signal, Some(9));
        let pid: i32 = lines[0].1.trim().parse().expect("pid");
        assert!(wait_gone(pid).await, "grandchild {pid} survived the timeout");
    }

    #[tokio::test]
    async fn dropping_the_future_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("pid");
        let spec = ChildSpec::new("sh", dir.path(), &roots_for(dir.path()))
            .expect("spec")
            .args(["-c", "sleep 300 & echo $! > pid; wait"]);
        let mut ignore = |_: Stream, _: &str| {};
        let run = spec.run(&mut ignore);
        let _ = tokio::time::timeout(Duration::from_millis(500), run).await;
        let pid: i32 = std::fs::read_to_string(&pid_file).expect("pid file").trim().parse().expect("pid");
        assert!(wait_gone(pid).await, "grandchild {pid} survived the drop");
    }

    #[tokio::test]
    async fn stragglers_holding_the_pipe_do_not_hang_the_run() {
        let dir = tempfile::tempdir().expect("tempdir");
        // The main process exits at once; its background child keeps stdout open.
        let spec = ChildSpec::new("sh", dir.path(), &roots_for(dir.path()))
            .expect("spec")
            .args(["-c", "sleep 300 & echo $!; exit 3"]);
        let started = Instant::now();
        let (out, lines) = run(spec).await;
        assert_eq!(out.exit_code, Some(3));
        assert!(!out.timed_out);
        assert!(started.elapsed() < Duration::from_secs(60));
        let pid: i32 = lines[0].1.trim().parse().expect("pid");
        assert!(wait_gone(pid).await, "straggler {pid} survived");
    }

    /// Whether `pid` is gone (or a zombie waiting for a reaper) within a few seconds.
    pub(crate) async fn wait_gone(pid: i32) -> bool {
        for _ in 0..100 {
            match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Err(_) => return true,
                Ok(stat) => {
                    let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
                    if matches!(state, Some('Z' | 'X')) {
                        return true;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    #[test]
    fn tail_of_keeps_the_end_at_a_char_boundary() {
        let text = "ééééé";
        let tail = tail_of(text, 3);
        assert!(tail.ends_with('é'));
        assert!(tail.starts_with("[... "));
        assert_eq!(tail_of("short", 10), "short");
    }
}
