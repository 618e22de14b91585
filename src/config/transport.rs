//! How an upstream is reached: a child process on stdio, or a network endpoint (streamable
//! HTTP, legacy SSE), as parsed from a server's entry.

use super::{entry, Template};
use reqwest::header::{HeaderName, HeaderValue};
use std::path::PathBuf;
use url::Url;

/// How an upstream is reached.
#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    /// A child process speaking JSON-RPC lines on stdin/stdout.
    Stdio(Launch),
    /// Streamable HTTP (2025-03-26 and later).
    StreamableHttp(HttpTarget),
    /// The legacy HTTP+SSE transport (2024-11-05).
    Sse(HttpTarget),
}

impl Transport {
    /// A short name for logs and listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Transport::Stdio(_) => "stdio",
            Transport::StreamableHttp(_) => "http",
            Transport::Sse(_) => "sse",
        }
    }

    /// The same name for a transport kind as written.
    pub(super) fn name_of(kind: entry::TransportKind) -> &'static str {
        match kind {
            entry::TransportKind::Stdio => "stdio",
            entry::TransportKind::Http => "http",
            entry::TransportKind::Sse => "sse",
        }
    }
}

/// A network upstream: URL and headers (header values are marked sensitive and never logged).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTarget {
    /// Endpoint URL.
    pub url: Url,
    /// Headers sent with every request.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Headers made per call from the caller's identity (`${auth.sub}`, `${auth.email}`...).
    pub caller_headers: Vec<(HeaderName, Template)>,
}

/// A process to start.
#[derive(Clone, PartialEq)]
pub struct Launch {
    /// Program (looked up in `PATH` when it has no slash).
    pub program: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Whether it gets the gateway's whole environment (else a clean base plus `env`).
    pub inherit_env: bool,
}

impl std::fmt::Debug for Launch {
    // Environment values often hold secrets: show names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Launch")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &names)
            .field("cwd", &self.cwd)
            .field("inherit_env", &self.inherit_env)
            .finish()
    }
}

impl Launch {
    /// The command line, for listings.
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
