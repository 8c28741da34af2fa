//! The MCP face of the gateway: every contract operation offered to agents
//! as an MCP tool, under the same pipeline as the HTTP path.
//!
//! This crate is pure (no sockets, runtime or files; ARCHITECTURE.md's
//! layering test holds it to that): contracts become tool definitions
//! ([`tools`]), a caller is shown the tools it could be permitted
//! ([`listing`]), a call's arguments become the HTTP request the contract
//! describes ([`arguments`]), JSON-RPC messages are read and written
//! ([`jsonrpc`]) and the MCP methods answered ([`protocol`]). The `/mcp`
//! endpoint, its sessions and the running of a call are the data plane's,
//! which calls the same stages the HTTP path does: never a second copy of a
//! stage.

pub mod arguments;
pub mod jsonrpc;
pub mod listing;
pub mod protocol;
pub mod tools;

pub use arguments::{HttpCall, to_http};
pub use listing::{Catalogue, Listed, Viewer, catalogue, visible};
pub use tools::{Annotations, Excluded, Tool, ToolSet, tool_name};
