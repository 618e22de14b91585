//! switchboard: one MCP endpoint over many MCP servers.
#![deny(unsafe_code)]
pub mod config;
pub mod jsonrpc;
pub mod upstream;
