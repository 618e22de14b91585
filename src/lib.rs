//! switchboard: one MCP endpoint over many MCP servers.
//!
//! # Layout
//! Modules follow a request from the client to an upstream server and back; each imports only
//! modules below it in this list (`tests/architecture.rs` checks it):
//!
//! - [`cli`]: the command line; [`demo`] and [`fixture`]: the built-in demo server and the
//!   minimal server tests and benchmarks run against.
//! - [`server`]: the assembly: faces and admin endpoints on one HTTP application.
//! - [`admin`]: `/health`, `/ready`, `/servers`, `/metrics`, and `/analyze` + `/route`.
//! - [`downstream`]: the faces clients reach: streamable HTTP at `/mcp` (both generations; the
//!   stateless 2026-07-28 parts in `stateless/`), legacy SSE, stdio; their checks and replies.
//! - [`session`]: sessions: the ids clients name, their registry and expiry, and delivery of the
//!   gateway's notices.
//! - [`gateway`]: the core every face shares: a client's messages by method, names resolved to
//!   upstreams, requests forwarded through each upstream's layer stack, and the relay back.
//! - [`router`]: prompt routing: rules and catalog words compiled into one automaton and gated
//!   regex patterns; the scores `/analyze` explains.
//! - [`catalog`]: the merged tools, prompts and resources under exposed names, and the lookup back.
//! - [`layers`]: the tower layers around each upstream, one folder each.
//! - [`upstream`]: connections (stdio child actor, streamable HTTP, legacy SSE), the handshake,
//!   the supervisor, and the connector (the innermost service of a stack).
//! - [`call`]: what layers and upstream share: the call, its deadline, the reply, the caller, and
//!   the one classification of every failure.
//! - [`cluster`]: replicas sharing state through Redis (`[cluster]`): the store, its health, the
//!   shared rate-limit check.
//! - Leaves: [`config`] (every file format, parsed into runtime types), [`protocol`] (the
//!   revisions spoken), [`jsonrpc`] (envelopes read just enough to route), [`observe`] (metrics).
#![deny(unsafe_code)]
pub mod admin;
pub mod auth;
pub mod call;
pub mod catalog;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod downstream;
pub mod fixture;
pub mod gateway;
pub mod jsonrpc;
pub mod layers;
pub mod observe;
pub mod pins;
pub mod policy;
pub mod protocol;
pub mod router;
pub mod server;
pub mod session;
pub mod upstream;
