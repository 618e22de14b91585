//! What the process-level benches share: starting a `switchboard` process and waiting for it to
//! listen, killing it when done, and reading its memory from `/proc`.
#![allow(dead_code)] // each bench uses its own part

pub mod nginx;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The binary cargo built.
const BUILT: &str = env!("CARGO_BIN_EXE_switchboard");

/// The binary under test: `SWITCHBOARD_BIN` when set (a copy, so that a long run is not
/// disturbed by rebuilds, or another build to compare), else the one cargo built.
pub fn bin() -> String {
    std::env::var("SWITCHBOARD_BIN").unwrap_or_else(|_| BUILT.to_string())
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

/// Start `switchboard ARGS` (with `config` written to a fresh file, when given) logging at
/// `log`, and wait for its "listening on http://.../mcp" line (stdout or stderr).
pub fn spawn_listening(args: &[&str], config: Option<&str>, log: &str) -> (Proc, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("sb-bench-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(bin());
    cmd.args(args);
    if let Some(c) = config {
        let path = dir.join("switchboard.toml");
        std::fs::write(&path, c).unwrap();
        cmd.arg("--config").arg(path);
    }
    let mut child = cmd
        .env("SWITCHBOARD_LOG", log)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary runs");
    let (tx, rx) = std::sync::mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(i) = line.find("listening on http://") {
                    let url = line[i + "listening on ".len()..].split_whitespace().next();
                    let _ = tx.send(url.unwrap_or("").to_string());
                }
            }
        });
    }
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the process starts listening");
    (Proc(child), url)
}

/// A `/proc/PID/status` field in KB (`VmRSS:`, `VmHWM:`), 0 when unreadable.
pub fn status_kb(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resident memory in KB.
pub fn rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmRSS:")
}

/// The `q` quantile (0..=1) of sorted samples.
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> T {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}
