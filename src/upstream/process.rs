//! Child processes that never outlive the gateway, and see only the environment meant for them.
//!
//! Each child leads its own process group (so wrappers such as `npx` or `sh -c` are stopped with
//! everything they started) and gets a parent-death signal (so it dies even when the gateway is
//! killed with SIGKILL and has no chance to clean up). Its environment is a clean base (the
//! variables below: where programs and home are, the locale, proxies and certificates) plus what
//! its entry lists, unless the entry says `inherit_env = true`: the gateway's own environment
//! holds the secrets its configuration expands, which are none of a child's business.

use super::stderr::Tail;
use crate::config::Launch;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};

/// What every child process of one upstream shares: the variables the gateway gives all its
/// children, where the last lines of its stderr are kept, and the longest message it may write.
#[derive(Debug, Clone)]
pub struct Children {
    /// Added to every child's environment (the gateway's ancestry).
    pub env: Arc<[(String, String)]>,
    /// The upstream's stderr tail, across restarts.
    pub stderr: Arc<Tail>,
    /// Longest stdout line (`gateway.max_message_bytes`).
    pub max_message: usize,
}

/// How long a child gets after its stdin closes, and again after SIGTERM.
const GRACE: Duration = Duration::from_secs(2);

/// The variables a child gets from the gateway's environment (besides its entry's `env`).
pub const BASE_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "TMPDIR",
    "TEMP",
    "TMP",
    "TERM",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
];

/// Start `launch`; `pipes` gives it stdin/stdout pipes (stdio upstreams); `extra` is what every
/// child of this gateway gets (its ancestry, see the configuration's loop guard).
pub fn spawn(launch: &Launch, pipes: bool, extra: &[(String, String)]) -> std::io::Result<Child> {
    let mut cmd = Command::new(&launch.program);
    if !launch.inherit_env {
        cmd.env_clear();
        for name in BASE_ENV {
            if let Some(v) = std::env::var_os(name) {
                cmd.env(name, v);
            }
        }
    }
    cmd.args(&launch.args)
        .envs(extra.iter().map(|(k, v)| (k, v)))
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    if pipes {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    } else {
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
    }
    if let Some(dir) = &launch.cwd {
        cmd.current_dir(dir);
    }
    die_with_parent(&mut cmd);
    cmd.spawn()
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs between fork and exec and only makes the prctl(2) system call,
    // which is async-signal-safe; it touches no memory shared with the parent. The signal is
    // sent when the thread that spawned the child exits: children are spawned from tokio worker
    // threads, which live as long as the runtime, i.e. the gateway.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Some(Signal::SIGKILL)).map_err(std::io::Error::from)
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {
    // Elsewhere the process group and kill_on_drop cover graceful exits only.
}

/// Stop a child the polite way: its stdin must already be closed; then SIGTERM, then SIGKILL,
/// each to the whole process group. The group is killed at the end in any case, so nothing the
/// child started is left behind.
pub async fn stop(child: &mut Child, name: &str) {
    // The group id is the child's pid (process_group(0)); read it before `wait` reaps the child.
    let Some(pgid) = child.id().map(|p| Pid::from_raw(p as i32)) else {
        return;
    };
    if let Ok(Ok(status)) = tokio::time::timeout(GRACE, child.wait()).await {
        tracing::debug!(server = name, %status, "child exited after stdin closed");
    } else {
        let _ = killpg(pgid, Signal::SIGTERM);
        if let Ok(Ok(status)) = tokio::time::timeout(GRACE, child.wait()).await {
            tracing::debug!(server = name, %status, "child exited after SIGTERM");
        } else {
            tracing::warn!(server = name, "child ignored SIGTERM; sending SIGKILL");
        }
    }
    let _ = killpg(pgid, Signal::SIGKILL);
    let _ = child.wait().await;
}
