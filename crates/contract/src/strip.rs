//! Finds, and optionally removes, object properties a response schema does
//! not declare, recursively.
//!
//! At each position the schema's branches (`$ref`, `allOf`, `anyOf`, `oneOf`,
//! `if`/`then`/`else`) are gathered; a property is declared if any branch
//! names it, matches it by `patternProperties`, or admits extra properties
//! (`additionalProperties` not false). An object position no branch says
//! anything about is left alone: there is nothing declared to compare with.
//!
//! All of that is worked out once per schema at load ([`plan`]); per
//! response the walk only looks each key up in its position's name table.
//! Nothing here hashes with SipHash or allocates unless a property is found.

use std::collections::HashMap;

use regex_automata::meta::Regex;
use serde_json::Value;

use crate::document::escape_token;
use crate::schema::Schema;

mod plan;

/// Index of a node in [`Plan::nodes`].
type NodeId = u32;

/// Property names to their slot: foldhash, not SipHash (the names are the
/// contract's, fixed at load; an upstream only chooses what to look up).
type NameMap = HashMap<Box<str>, usize, foldhash::fast::RandomState>;

/// The node that strips every property below it, used where a schema is
/// too complex to compile (see [`plan`]).
const STRIP_ALL: NodeId = 0;

/// A schema's strip plan: one node per distinct position.
#[derive(Debug)]
pub struct Plan {
    nodes: Vec<Node>,
    root: NodeId,
    /// Stands in for a missing node; never reached while ids stay in range.
    fallback: Node,
}

#[derive(Debug)]
struct Node {
    /// `None`: no branch here says anything about properties, so an object
    /// at this position is left alone (and not walked).
    object: Option<Fields>,
    items: Items,
    /// Nothing at or below this position can be stripped.
    inert: bool,
}

#[derive(Debug)]
struct Fields {
    names: NameMap,
    /// One per name, then one for every other key.
    slots: Vec<Slot>,
    /// The position's `patternProperties`, in branch order (`None`: did not
    /// compile, never matches).
    patterns: Vec<Option<Regex>>,
}

/// How a key is decided: `outcomes[mask]`, where bit `b` of `mask` says
/// whether `patterns[relevant[b]]` matches the key.
#[derive(Debug)]
struct Slot {
    relevant: Vec<usize>,
    outcomes: Vec<Outcome>,
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Undeclared,
    Walk(NodeId),
}

/// Array items: `prefix[i]` for item `i`, `rest` after the prefix.
#[derive(Debug)]
struct Items {
    prefix: Vec<NodeId>,
    rest: NodeId,
}

impl Node {
    fn strip_all() -> Self {
        Node {
            object: Some(Fields {
                names: NameMap::default(),
                slots: vec![Slot {
                    relevant: Vec::new(),
                    outcomes: vec![Outcome::Undeclared],
                }],
                patterns: Vec::new(),
            }),
            items: Items {
                prefix: Vec::new(),
                rest: STRIP_ALL,
            },
            inert: false,
        }
    }
}

impl Plan {
    /// A plan that strips everything: a placeholder while a schema's own
    /// plan is compiled.
    pub(crate) fn empty() -> Self {
        Plan {
            nodes: Vec::new(),
            root: STRIP_ALL,
            fallback: Node::strip_all(),
        }
    }

    /// Compiles the plan for a schema (at load).
    pub fn compile(schema: &Schema) -> Self {
        plan::compile(schema)
    }

    fn node(&self, id: NodeId) -> &Node {
        // INVARIANT: every id in a plan indexes its nodes (built that way in
        // `plan`); should that break, stripping everything is the safe side.
        self.nodes.get(id as usize).unwrap_or(&self.fallback)
    }
}

/// Walks `value` against `schema` and returns the pointers of the
/// properties it does not declare, leaving `value` as it is (or, with
/// `remove`, without them).
pub fn undeclared(schema: &Schema, value: &mut Value, remove: bool) -> Vec<String> {
    let plan = schema.plan();
    let mut found = Found {
        pointers: Some(Vec::new()),
        count: 0,
        remove,
    };
    walk(plan, plan.root, value, None, &mut found);
    found.pointers.unwrap_or_default()
}

/// Removes the properties `schema` does not declare from `value` and says
/// how many went: `undeclared` without building a pointer for each (the
/// response path only counts them).
pub fn strip(schema: &Schema, value: &mut Value) -> usize {
    let plan = schema.plan();
    let mut found = Found {
        pointers: None,
        count: 0,
        remove: true,
    };
    walk(plan, plan.root, value, None, &mut found);
    found.count
}

/// What the walk reports and does with an undeclared property.
struct Found {
    /// Their pointers, when asked for.
    pointers: Option<Vec<String>>,
    count: usize,
    remove: bool,
}

/// A step of the path to the current position, kept on the stack so the
/// walk allocates only when it has something to report.
struct Path<'p> {
    parent: Option<&'p Path<'p>>,
    step: Step<'p>,
}

enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

fn walk(plan: &Plan, id: NodeId, value: &mut Value, path: Option<&Path<'_>>, found: &mut Found) {
    let node = plan.node(id);
    if node.inert {
        return;
    }
    match value {
        Value::Object(map) => {
            let Some(fields) = &node.object else {
                return;
            };
            let mut gone: Vec<String> = Vec::new();
            for (key, child) in map.iter_mut() {
                let here = Path {
                    parent: path,
                    step: Step::Key(key),
                };
                match fields.decide(key) {
                    Outcome::Walk(next) if nested(child) => {
                        walk(plan, next, child, Some(&here), found)
                    }
                    Outcome::Walk(_) => {}
                    Outcome::Undeclared => {
                        found.count += 1;
                        if let Some(pointers) = &mut found.pointers {
                            pointers.push(pointer(&here));
                        }
                        if found.remove {
                            gone.push(key.clone());
                        }
                    }
                }
            }
            // One by one in document order, as the map's own `remove` does
            // (it moves the last member into the hole).
            for key in gone {
                map.remove(&key);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate().filter(|(_, v)| nested(v)) {
                let next = node.items.prefix.get(i).copied().unwrap_or(node.items.rest);
                let here = Path {
                    parent: path,
                    step: Step::Index(i),
                };
                walk(plan, next, item, Some(&here), found);
            }
        }
        _ => {}
    }
}

/// Only objects and arrays hold properties to find.
fn nested(value: &Value) -> bool {
    matches!(value, Value::Object(_) | Value::Array(_))
}

impl Fields {
    fn decide(&self, key: &str) -> Outcome {
        let slot = self
            .names
            .get(key)
            .copied()
            .unwrap_or(self.slots.len().saturating_sub(1));
        let Some(slot) = self.slots.get(slot) else {
            return Outcome::Undeclared;
        };
        let mut mask = 0usize;
        for (bit, p) in slot.relevant.iter().enumerate() {
            let hit = self
                .patterns
                .get(*p)
                .and_then(Option::as_ref)
                .is_some_and(|re| re.is_match(key));
            if hit {
                // Beyond the tabulated bits no outcome exists: undeclared.
                mask |= u32::try_from(bit)
                    .ok()
                    .and_then(|b| 1usize.checked_shl(b))
                    .unwrap_or(usize::MAX);
            }
        }
        slot.outcomes
            .get(mask)
            .copied()
            .unwrap_or(Outcome::Undeclared)
    }
}

/// The JSON pointer of `path`, built only when something is reported.
fn pointer(path: &Path<'_>) -> String {
    let mut steps = Vec::new();
    let mut at = Some(path);
    while let Some(p) = at {
        steps.push(&p.step);
        at = p.parent;
    }
    let mut out = String::new();
    for step in steps.iter().rev() {
        out.push('/');
        match step {
            Step::Key(k) => out.push_str(&escape_token(k)),
            Step::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests;
