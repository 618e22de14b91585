//! Upstream MCP servers: connections over every transport (stdio child actor, streamable HTTP,
//! legacy SSE), the handshake, the supervisor that keeps a shared connection alive, and the
//! connector: the innermost service of each upstream's layer stack.

mod connection;
mod connector;
pub mod events;
mod framing;
#[cfg(test)]
mod fuzz_tests;
mod handshake;
mod http;
mod life;
mod lists;
mod peer;
mod process;
mod sse;
mod stderr;
mod stdio;
mod supervisor;

pub use connection::{Connection, OpenOptions};
pub use connector::{Connect, Connector, Fixed, Target};
pub use events::{Event, Events};
pub use handshake::{InitInfo, Offers};
pub use lists::{Item, ListKind, Lists};
pub use peer::Peer;
pub use process::Children;
pub use stderr::Tail;
pub use supervisor::{State, Upstream};

/// One HTTP client for every network upstream (pooled, kept-alive connections).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(90))
        .tcp_nodelay(true)
        .build()
        .expect("a default HTTP client builds")
}
