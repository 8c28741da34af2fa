//! Which tools one caller is shown: those it could be permitted to call.
//!
//! A tool is listed when all of these hold, in the order the pipeline
//! checks them on a call: the caller's credential is for the tool's API (a
//! token's audience), its scopes meet one of the operation's security
//! requirements, and Cedar does not deny every request of this identity to
//! the operation ([`PolicyStore::reach`], partial evaluation with the
//! request unknown). A tool that is listed may still be refused for one
//! argument value (a tenant rule, business hours); a tool that is never
//! permitted is never listed. Any error listing a tool leaves it out.
//!
//! `tools/list`, `portcullis check` and `portcullis explain` all call
//! [`visible`], so they cannot disagree.

use portcullis_contract::Operation;
use portcullis_core::Identity;
use portcullis_policy::{PolicyStore, Reach};

use crate::tools::{Tool, ToolSet};

/// Who is asking, as the credential presents them.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub identity: &'a Identity,
    /// The scopes the credential carries (an identity's own, for `check`).
    pub scopes: &'a [String],
    /// The API the token is for; `None` for a credential that opens every
    /// API (an API key).
    pub audience: Option<&'a str>,
}

/// One listed tool, with how far the policy reaches it.
#[derive(Debug, Clone, Copy)]
pub struct Listed<'t> {
    pub tool: &'t Tool,
    pub reach: Reach,
}

/// The tools of `tools` the viewer may call some way, in the set's order.
/// `operation` finds a tool's operation in the contracts it came from.
pub fn visible<'t, 'c>(
    tools: &'t ToolSet,
    operation: impl Fn(&str, &str) -> Option<&'c Operation>,
    policies: &PolicyStore,
    viewer: &Viewer<'_>,
) -> Vec<Listed<'t>> {
    tools
        .tools
        .iter()
        .filter(|tool| viewer.audience.is_none_or(|aud| aud == tool.api))
        .filter(|tool| {
            operation(&tool.api, &tool.operation)
                .is_some_and(|op| op.check_scopes(viewer.scopes).is_ok())
        })
        .filter_map(|tool| {
            let reach = policies
                .reach(viewer.identity, &tool.api, &tool.operation)
                .ok()?;
            reach.is_reachable().then_some(Listed { tool, reach })
        })
        .collect()
}

/// What `tools/list` shows each identity of an inventory (with every scope
/// it is granted, on every API: an API key's view), and the operations
/// left out: `portcullis check`'s report of the MCP face.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub tools: usize,
    pub excluded: Vec<crate::Excluded>,
    /// Identity id → its tools, each with how far the policy reaches it.
    pub identities: Vec<(String, Vec<(String, Reach)>)>,
}

/// The [`Catalogue`] of `tools` for `identities`.
pub fn catalogue<'c>(
    tools: &ToolSet,
    operation: impl Fn(&str, &str) -> Option<&'c Operation> + Copy,
    policies: &PolicyStore,
    identities: &[Identity],
) -> Catalogue {
    let identities = identities
        .iter()
        .map(|identity| {
            let viewer = Viewer {
                identity,
                scopes: &identity.scopes,
                audience: None,
            };
            let listed = visible(tools, operation, policies, &viewer)
                .into_iter()
                .map(|l| (l.tool.name.clone(), l.reach))
                .collect();
            (identity.id.clone(), listed)
        })
        .collect();
    Catalogue {
        tools: tools.tools.len(),
        excluded: tools.excluded.clone(),
        identities,
    }
}

impl Catalogue {
    /// The terminal form.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!(
            "\nmcp tools ({} offered at /mcp; what tools/list shows each identity with all its scopes,\n           * permitted for some requests only):\n",
            self.tools
        );
        for (identity, tools) in &self.identities {
            let names: Vec<String> = tools
                .iter()
                .map(|(name, reach)| match reach {
                    Reach::Sometimes => format!("{name}*"),
                    _ => name.clone(),
                })
                .collect();
            let shown = if names.is_empty() {
                "(none)".to_owned()
            } else {
                names.join(", ")
            };
            let _ = writeln!(out, "  {identity}: {shown}");
        }
        for e in &self.excluded {
            let _ = writeln!(out, "  not a tool: {}:{}: {}", e.api, e.operation, e.reason);
        }
        out
    }

    /// The JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "offered": self.tools,
            "excluded": self.excluded.iter().map(|e| serde_json::json!({
                "api": e.api, "operation": e.operation, "reason": e.reason,
            })).collect::<Vec<_>>(),
            "identities": self.identities.iter().map(|(id, tools)| serde_json::json!({
                "identity": id,
                "tools": tools.iter().map(|(name, reach)| serde_json::json!({
                    "name": name,
                    "always": *reach == Reach::Always,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}
