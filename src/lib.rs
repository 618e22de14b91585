//! switchboard: one MCP endpoint over many MCP servers.
pub mod config;
pub mod jsonrpc;
