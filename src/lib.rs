//! switchboard: one MCP endpoint over many MCP servers.
//!
//! # Layout
//! Modules follow a request from the client to an upstream server and back:
//!
//! - [`downstream`]: the faces clients reach (streamable HTTP at `/mcp`), with Origin/Host/Accept
//!   checks and the HTTP status of every rejection.
//! - [`session`]: one downstream session: negotiated version, client capabilities, its stream.
//! - [`gateway`]: the core shared by every face: the methods it answers and the catalog it keeps.
//! - [`catalog`]: the merged tool catalog, exposed names, and the lookup back to (server, tool).
//! - [`layers`]: the tower layers around each upstream (circuit breaker), one folder each.
//! - [`upstream`]: the connectors (stdio child actor, streamable HTTP, legacy SSE), the handshake,
//!   and the pool of configured servers.
//! - [`router`]: prompt routing: rules and catalog words compiled into one automaton and one
//!   regex set; `/analyze` and `/route` explain and act on its decisions.
//! - [`jsonrpc`]: envelopes parsed just enough to route, payloads kept as raw JSON.
//! - [`config`]: every supported file format parsed into runtime types.
//! - [`admin`]: `/health`, `/ready`, `/servers`, `/metrics`, `/analyze`, `/route`, beside the faces;
//!   [`observe`]: the metrics they report.
//! - [`cli`], [`demo`] and [`fixture`]: the command line, the built-in demo server, and the
//!   minimal server tests and benchmarks run against.
#![deny(unsafe_code)]
pub mod admin;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod demo;
pub mod downstream;
pub mod fixture;
pub mod gateway;
pub mod jsonrpc;
pub mod layers;
pub mod observe;
pub mod router;
pub mod session;
pub mod upstream;
