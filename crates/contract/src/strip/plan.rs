//! Compiles a bundled schema into a strip [`Plan`] at load.
//!
//! A position in a response is described by the ordered list of schemas that
//! apply to it. The walker used to gather that list's branches (`$ref`,
//! `allOf`, `anyOf`, `oneOf`, `then`, `else`) and look up every property in
//! the raw schema JSON per response; here that is done once per distinct list
//! and the answer is stored as plan nodes. Lists are memoised by identity, so
//! a recursive schema (`$ref` cycle) becomes a cycle of node indices.
//!
//! Bounded: a schema that would need more than [`MAX_NODES`] positions, or
//! more than [`MAX_PATTERN_BITS`] `patternProperties` deciding one key, gets
//! the conservative answer there (strip everything at that position, or treat
//! the key as undeclared): it removes more, never less. No contract seen so
//! far comes near either bound.

use std::collections::HashMap;

use regex_automata::meta::Regex;
use serde_json::Value;

use super::{Fields, Items, Node, NodeId, Outcome, Plan, STRIP_ALL, Slot};
use crate::schema::Schema;

/// How many distinct positions one schema may compile to.
const MAX_NODES: usize = 4096;

/// How many `patternProperties` may decide one key before the outcomes for
/// their combinations stop being tabulated (2^bits entries per key).
const MAX_PATTERN_BITS: usize = 6;

/// How deep the expansion follows composition at one position (cycle guard).
const MAX_EXPANSION: usize = 64;

/// Builds the plan for `schema`'s root.
pub(super) fn compile(schema: &Schema) -> Plan {
    let mut builder = Builder {
        schema,
        memo: HashMap::new(),
        nodes: vec![Node::strip_all()],
        pending: Vec::new(),
    };
    let root = builder.node_for(vec![schema.bundled()]);
    while let Some((id, at)) = builder.pending.pop() {
        let node = builder.build(at);
        if let Some(slot) = builder.nodes.get_mut(id as usize) {
            *slot = node;
        }
    }
    let mut nodes = builder.nodes;
    mark_inert(&mut nodes);
    Plan {
        nodes,
        root,
        fallback: Node::strip_all(),
    }
}

struct Builder<'s> {
    schema: &'s Schema,
    /// Ordered schema lists (by address in the bundled document) to nodes.
    memo: HashMap<Vec<*const Value>, NodeId>,
    nodes: Vec<Node>,
    pending: Vec<(NodeId, Vec<&'s Value>)>,
}

/// One `patternProperties` entry of a branch at a position.
struct Pattern<'s> {
    branch: usize,
    regex: Option<&'s Regex>,
}

impl<'s> Builder<'s> {
    /// The node for the position `at` describes, compiled later if new.
    fn node_for(&mut self, at: Vec<&'s Value>) -> NodeId {
        let key: Vec<*const Value> = at.iter().map(|v| std::ptr::from_ref(*v)).collect();
        if let Some(id) = self.memo.get(&key) {
            return *id;
        }
        let Ok(id) = NodeId::try_from(self.nodes.len()) else {
            return STRIP_ALL;
        };
        if self.nodes.len() >= MAX_NODES {
            return STRIP_ALL;
        }
        // A placeholder until `build` runs; registered first so a cycle
        // back to this position finds it.
        self.nodes.push(Node::strip_all());
        self.memo.insert(key, id);
        self.pending.push((id, at));
        id
    }

    fn build(&mut self, at: Vec<&'s Value>) -> Node {
        let branches = expand(self.schema, at);
        let object = if branches.iter().any(|b| declares_keys(b)) {
            Some(self.fields(&branches))
        } else {
            None
        };
        let items = self.items(&branches);
        Node {
            object,
            items,
            inert: false,
        }
    }

    fn fields(&mut self, branches: &[&'s Value]) -> Fields {
        let mut names: Vec<&'s str> = Vec::new();
        let mut patterns: Vec<Pattern<'s>> = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            if let Some(Value::Object(props)) = b.get("properties") {
                for name in props.keys() {
                    if !names.contains(&name.as_str()) {
                        names.push(name);
                    }
                }
            }
            if let Some(Value::Object(map)) = b.get("patternProperties") {
                patterns.extend(map.keys().map(|p| Pattern {
                    branch: i,
                    regex: self.schema.pattern(p),
                }));
            }
        }
        let mut lookup = super::NameMap::default();
        let mut slots = Vec::with_capacity(names.len() + 1);
        for (i, name) in names.iter().enumerate() {
            lookup.insert(Box::from(*name), i);
            slots.push(self.slot(branches, Some(*name), &patterns));
        }
        slots.push(self.slot(branches, None, &patterns));
        Fields {
            names: lookup,
            slots,
            patterns: patterns
                .iter()
                .map(|p| p.regex.cloned())
                .collect::<Vec<_>>(),
        }
    }

    /// The outcomes for a key named `name` (`None`: named by no branch) for
    /// every combination of the patterns that could decide it.
    fn slot(
        &mut self,
        branches: &[&'s Value],
        name: Option<&str>,
        patterns: &[Pattern<'s>],
    ) -> Slot {
        // A pattern decides nothing when its branch names the key (the
        // property wins) or when it did not compile (it never matches).
        let relevant: Vec<usize> = patterns
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                let named = branches
                    .get(p.branch)
                    .zip(name)
                    .is_some_and(|(b, n)| property(b, n).is_some());
                p.regex.is_some() && !named
            })
            .map(|(i, _)| i)
            .collect();
        let combinations = if relevant.len() <= MAX_PATTERN_BITS {
            1usize << relevant.len()
        } else {
            1
        };
        let mut outcomes = Vec::with_capacity(combinations);
        for mask in 0..combinations {
            let matched = |index: usize| {
                relevant
                    .iter()
                    .position(|r| *r == index)
                    .is_some_and(|bit| mask & (1 << bit) != 0)
            };
            outcomes.push(match children(branches, name, &matched) {
                Some(list) => Outcome::Walk(self.node_for(list)),
                None => Outcome::Undeclared,
            });
        }
        Slot { relevant, outcomes }
    }

    fn items(&mut self, branches: &[&'s Value]) -> Items {
        let longest = branches
            .iter()
            .filter_map(|b| b.get("prefixItems").and_then(Value::as_array))
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        let prefix = (0..longest)
            .map(|i| {
                let list = branches
                    .iter()
                    .filter_map(|b| {
                        b.get("prefixItems")
                            .and_then(|p| p.get(i))
                            .or_else(|| b.get("items"))
                    })
                    .collect();
                self.node_for(list)
            })
            .collect();
        let rest = branches.iter().filter_map(|b| b.get("items")).collect();
        Items {
            prefix,
            rest: self.node_for(rest),
        }
    }
}

/// Flattens references and composition into the plain branches at a position.
fn expand<'s>(schema: &'s Schema, mut pending: Vec<&'s Value>) -> Vec<&'s Value> {
    let mut out: Vec<&Value> = Vec::new();
    let mut steps = 0;
    while let Some(s) = pending.pop() {
        steps += 1;
        if steps > MAX_EXPANSION {
            break;
        }
        if out.iter().any(|o| std::ptr::eq(*o, s)) {
            continue;
        }
        if let Some(target) = s.get("$ref").map(|_| schema.resolve_local(s))
            && !std::ptr::eq(target, s)
        {
            pending.push(target);
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(list)) = s.get(key) {
                pending.extend(list.iter());
            }
        }
        for key in ["then", "else"] {
            if let Some(branch) = s.get(key) {
                pending.push(branch);
            }
        }
        out.push(s);
    }
    out
}

fn declares_keys(branch: &Value) -> bool {
    branch.get("properties").is_some()
        || branch.get("patternProperties").is_some()
        || branch.get("additionalProperties").is_some()
        || branch.get("unevaluatedProperties").is_some()
}

fn property<'s>(branch: &'s Value, name: &str) -> Option<&'s Value> {
    branch.get("properties").and_then(|p| p.get(name))
}

/// The schemas a property's value must follow, or `None` if it is
/// undeclared; `matched(i)` says whether the position's `i`th pattern (in
/// branch order) matches the key.
fn children<'s>(
    branches: &[&'s Value],
    name: Option<&str>,
    matched: &dyn Fn(usize) -> bool,
) -> Option<Vec<&'s Value>> {
    let mut children = Vec::new();
    let mut declared = false;
    let mut index = 0;
    for b in branches {
        let patterns = match b.get("patternProperties") {
            Some(Value::Object(patterns)) => Some(patterns),
            _ => None,
        };
        let first = index;
        index += patterns.map_or(0, |p| p.len());
        if let Some(p) = name.and_then(|n| property(b, n)) {
            children.push(p);
            declared = true;
            continue;
        }
        for (i, s) in patterns.into_iter().flat_map(|p| p.values()).enumerate() {
            if matched(first + i) {
                children.push(s);
                declared = true;
            }
        }
        for extra in ["additionalProperties", "unevaluatedProperties"] {
            match b.get(extra) {
                Some(Value::Bool(true)) => declared = true,
                Some(s @ Value::Object(_)) => {
                    children.push(s);
                    declared = true;
                }
                _ => {}
            }
        }
        if !declares_keys(b) && b.get("type").and_then(Value::as_str) == Some("object") {
            // A free-form object branch (no property list at all) admits anything.
            declared = true;
        }
    }
    declared.then_some(children)
}

/// Marks the nodes under which nothing can ever be stripped, so the walk
/// skips those subtrees. Starts from "all inert" and clears until stable,
/// which settles cycles.
fn mark_inert(nodes: &mut [Node]) {
    for node in nodes.iter_mut() {
        node.inert = node.object.is_none();
    }
    loop {
        let mut changed = false;
        for i in 0..nodes.len() {
            let Some(node) = nodes.get(i) else { break };
            if !node.inert {
                continue;
            }
            let live = |id: &NodeId| nodes.get(*id as usize).is_none_or(|n| !n.inert);
            if node.items.prefix.iter().any(live) || live(&node.items.rest) {
                if let Some(node) = nodes.get_mut(i) {
                    node.inert = false;
                }
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}
