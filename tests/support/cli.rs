//! Running the real `kiosk` binary from tests: its exit code, JSON on stdout, one-line errors on
//! stderr, and long-running commands (`kiosk sim …`) read line by line with a time limit.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// The `kiosk` binary built for these tests.
pub fn kiosk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiosk"))
}

/// Expects success and returns the JSON the command printed.
pub fn json_output(out: &Output) -> serde_json::Value {
    json_with_code(out, 0)
}

/// Expects exit code `code` and JSON on stdout; returns the JSON.
pub fn json_with_code(out: &Output, code: i32) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Expects exit code 2 with a one-line error on stderr; returns that line.
pub fn one_line_error(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "one line expected, got: {err}");
    err
}

/// A `kiosk` process that keeps running (a simulator): its stdout arrives line by line, and
/// it is killed when dropped.
pub struct RunningKiosk {
    child: Child,
    lines: Receiver<String>,
}

impl RunningKiosk {
    /// Starts `kiosk ARGS…` with stdout piped (stderr discarded).
    pub fn spawn<I, S>(args: I) -> RunningKiosk
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut child = kiosk()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kiosk");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        RunningKiosk { child, lines }
    }

    /// The next line it prints, waiting up to `limit`; panics when none comes (or it exited).
    pub fn next_line(&mut self, limit: Duration) -> String {
        match self.lines.recv_timeout(limit) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("no output from kiosk within {limit:?}"),
            Err(RecvTimeoutError::Disconnected) => {
                panic!("kiosk exited: {:?}", self.child.try_wait())
            }
        }
    }

    /// Reads lines until one satisfies `wanted`, for up to `limit`; returns it.
    pub fn line_matching(&mut self, limit: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(line) => seen.push(line),
                Err(e) => panic!("no matching line within {limit:?} ({e:?}); saw {seen:?}"),
            }
        }
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for RunningKiosk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
