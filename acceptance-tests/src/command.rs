//! Running one Terraform command with a controlled environment, a timeout, and captured output.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How many trailing lines of stdout and stderr an error message shows.
const TAIL_LINES: usize = 40;

/// Variables passed through from the caller's environment: the search path, the temp dir, and the
/// switches that make Terraform and the provider log (useful when a test fails).
const PASSTHROUGH: &[&str] =
    &["PATH", "TMPDIR", "TF_LOG", "TF_LOG_CORE", "TF_LOG_PROVIDER", "TF_LOG_PATH", "RUST_BACKTRACE"];

/// The environment every command starts from: nothing of the user's Terraform or cloud setup
/// (`~/.terraformrc`, plugin caches, credentials), `HOME` pointing at a private directory.
pub fn base_env(home: &Path, cli_config: &Path) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for name in PASSTHROUGH {
        if let Ok(value) = std::env::var(name) {
            env.insert(name.to_string(), value);
        }
    }
    env.entry("PATH".into()).or_insert_with(|| "/usr/local/bin:/usr/bin:/bin".into());
    env.insert("HOME".into(), home.display().to_string());
    env.insert("TF_CLI_CONFIG_FILE".into(), cli_config.display().to_string());
    env.insert("TF_IN_AUTOMATION".into(), "1".into());
    env.insert("TF_INPUT".into(), "0".into());
    env.insert("CHECKPOINT_DISABLE".into(), "1".into());
    env
}

/// What a finished command printed and how it exited.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    /// The arguments after `terraform`.
    pub args: Vec<String>,
    /// Exit code (a command killed by a signal reports `128 + signal`).
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
    /// The working directory it ran in.
    pub dir: PathBuf,
}

impl CmdOutput {
    /// Fails (with the command, exit code and output tails) unless the exit code is one of `ok`.
    pub fn expect(self, ok: &[i32]) -> Result<CmdOutput> {
        if ok.contains(&self.exit_code) {
            return Ok(self);
        }
        let problem = format!("exited with {} (expected {ok:?})", self.exit_code);
        Err(CommandError::new(&self, problem).into())
    }

    /// stdout and stderr together, for searching.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// `terraform <args>`, quoted where needed, for messages.
    pub fn command_line(&self) -> String {
        command_line(&self.args)
    }
}

/// A command that did not end as expected.
#[derive(Debug, thiserror::Error)]
#[error("`{command}` in {dir} {problem}\n--- stdout (last {TAIL_LINES} lines) ---\n{stdout_tail}\n--- stderr (last {TAIL_LINES} lines) ---\n{stderr_tail}")]
pub struct CommandError {
    pub command: String,
    pub dir: String,
    pub problem: String,
    pub exit_code: Option<i32>,
    pub stdout_tail: String,
    pub stderr_tail: String,
}

impl CommandError {
    /// An error describing `output` with `problem` (e.g. "exited with 1").
    pub fn new(output: &CmdOutput, problem: impl Into<String>) -> Self {
        CommandError {
            command: output.command_line(),
            dir: output.dir.display().to_string(),
            problem: problem.into(),
            exit_code: Some(output.exit_code),
            stdout_tail: tail(&output.stdout, TAIL_LINES),
            stderr_tail: tail(&output.stderr, TAIL_LINES),
        }
    }
}

/// Runs `terraform` commands in one working directory.
#[derive(Debug, Clone)]
pub struct Runner {
    pub terraform: PathBuf,
    pub dir: PathBuf,
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
    /// Prefix for the progress lines written to stderr (the test's name).
    pub label: String,
}

impl Runner {
    /// Runs `terraform <args>` to completion; any exit code is a success here.
    pub fn run(&self, args: &[String]) -> Result<CmdOutput> {
        let started = Instant::now();
        let mut child = Command::new(&self.terraform)
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {} {}", self.terraform.display(), command_line(args)))?;
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = wait_with_timeout(&mut child, self.timeout);
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        let output = CmdOutput {
            args: args.to_vec(),
            exit_code: 0,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            duration: started.elapsed(),
            dir: self.dir.clone(),
        };
        let exit_code = match status? {
            Some(code) => code,
            None => {
                let problem = format!("did not finish within {:?} and was stopped", self.timeout);
                return Err(CommandError::new(&output, problem).into());
            }
        };
        let output = CmdOutput { exit_code, ..output };
        eprintln!("[{}] {} -> exit {} in {:.2?}", self.label, output.command_line(), exit_code, output.duration);
        Ok(output)
    }

    /// Runs `terraform <args>` and requires one of `ok_codes`.
    pub fn run_expecting(&self, args: &[String], ok_codes: &[i32]) -> Result<CmdOutput> {
        self.run(args)?.expect(ok_codes)
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

/// Waits for the child; `Ok(None)` when it had to be stopped. On timeout Terraform first gets
/// SIGINT (it then stops its providers and exits), and SIGKILL ten seconds later.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Result<Option<i32>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(exit_code(status)));
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }
    let grace = Instant::now() + Duration::from_secs(10);
    while Instant::now() < grace {
        if child.try_wait()?.is_some() {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(None)
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// `terraform a b 'c d'`.
pub fn command_line(args: &[String]) -> String {
    let mut out = String::from("terraform");
    for arg in args {
        out.push(' ');
        if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_=./:,@[]\"".contains(c)) {
            out.push_str(arg);
        } else {
            out.push('\'');
            out.push_str(&arg.replace('\'', r"'\''"));
            out.push('\'');
        }
    }
    out
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let start = lines.len().saturating_sub(n);
    let mut out = lines[start..].join("\n");
    if start > 0 {
        out = format!("[... {start} lines before ...]\n{out}");
    }
    out
}

/// Terraform's human output with the diagnostic box drawing removed and all whitespace runs
/// collapsed to one space, so that a message wrapped across lines matches a one-line needle.
pub fn normalize_output(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.trim_start();
        let line = line.strip_prefix(['│', '╷', '╵']).unwrap_or(line);
        for word in line.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_wrapped_diagnostics() {
        let stderr = "╷\n│ Error: Invalid region\n│ \n│   with data.hybrid_datapath_image.x,\n│   on main.tf line 1:\n│ The region \"mars-1\" is not known; known\n│ regions: cn-hangzhou, cn-beijing.\n╵\n";
        let n = normalize_output(stderr);
        assert!(n.contains("Error: Invalid region with data.hybrid_datapath_image.x, on main.tf line 1:"), "{n}");
        assert!(n.contains("not known; known regions: cn-hangzhou"), "{n}");
        assert_eq!(normalize_output("  a \n\n b  c"), "a b c");
    }

    #[test]
    fn tail_keeps_the_last_lines_and_says_what_was_cut() {
        let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        let t = tail(&text, 3);
        assert_eq!(t, "[... 47 lines before ...]\nline 48\nline 49\nline 50");
        assert_eq!(tail("a\nb\n", 5), "a\nb");
    }

    #[test]
    fn command_line_quotes_what_a_shell_would_split() {
        let args: Vec<String> = ["import", "hybrid_x.y", "a b", "it's"].iter().map(|s| s.to_string()).collect();
        assert_eq!(command_line(&args), r"terraform import hybrid_x.y 'a b' 'it'\''s'");
    }

    #[test]
    fn base_env_isolates_home_and_config() {
        let env = base_env(Path::new("/t/home"), Path::new("/t/cli.tfrc"));
        assert_eq!(env["HOME"], "/t/home");
        assert_eq!(env["TF_CLI_CONFIG_FILE"], "/t/cli.tfrc");
        assert_eq!(env["TF_IN_AUTOMATION"], "1");
        assert_eq!(env["CHECKPOINT_DISABLE"], "1");
        assert!(env.contains_key("PATH"));
        assert!(!env.contains_key("TF_PLUGIN_CACHE_DIR"));
        assert!(!env.keys().any(|k| k.starts_with("ALIBABA_CLOUD") || k == "KUBECONFIG"));
    }

    #[test]
    fn runner_captures_output_exit_code_and_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fake-terraform");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"out $1\"\necho \"err $HOME\" >&2\n[ \"$1\" = sleep ] && exec sleep 30\nexit 3\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let runner = Runner {
            terraform: script,
            dir: dir.path().to_path_buf(),
            env: base_env(Path::new("/nowhere"), Path::new("/dev/null")),
            // Generous: a loaded CI machine must not turn the normal runs into timeouts.
            timeout: Duration::from_secs(60),
            label: "unit".into(),
        };
        let out = runner.run(&["plan".to_string()]).unwrap();
        assert_eq!(out.exit_code, 3);
        assert_eq!(out.stdout, "out plan\n");
        assert_eq!(out.stderr, "err /nowhere\n");

        let err = runner.run_expecting(&["plan".to_string()], &[0, 2]).unwrap_err().to_string();
        assert!(
            err.contains("`terraform plan`")
                && err.contains("exited with 3 (expected [0, 2])")
                && err.contains("err /nowhere"),
            "{err}"
        );

        let impatient = Runner { timeout: Duration::from_millis(300), ..runner };
        let started = Instant::now();
        let err = impatient.run(&["sleep".to_string()]).unwrap_err().to_string();
        assert!(err.contains("did not finish"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5), "SIGINT should stop sh at once");
    }
}
