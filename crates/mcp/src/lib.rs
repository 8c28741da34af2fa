//! The MCP face of the gateway: every contract operation offered to agents
//! as an MCP tool, under the same pipeline as the HTTP path.
//!
//! This crate is pure (no sockets, runtime or files; ARCHITECTURE.md's
//! layering test holds it to that): it turns compiled contracts into tool
//! definitions ([`tools`]). The `/mcp` endpoint, sessions and `tools/call`
//! are the data plane's and call the same stages the HTTP path does; they
//! are never a second copy of a stage.

pub mod tools;

pub use tools::{Annotations, Excluded, Tool, ToolSet, tool_name};
