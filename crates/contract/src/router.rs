//! Method and path against the contract's path templates.
//!
//! Literal segments win over templated ones (`/orders/summary` before
//! `/orders/{id}`), case is significant and a trailing slash is part of the
//! path, exactly as the contract writes it. The path given to [`Router::find`]
//! must already have passed the canonical check: matching never decodes.

use crate::canonical::check_path;
use crate::document::Loc;
use crate::error::LoadError;
use crate::model::{Method, Operation};

/// The route table of one contract.
#[derive(Debug)]
pub struct Router {
    tree: matchit::Router<usize>,
    entries: Vec<PathEntry>,
}

#[derive(Debug)]
struct PathEntry {
    /// (method, operation index), sorted by method.
    methods: Vec<(Method, usize)>,
    /// The `Allow` header value for this path.
    allow: String,
}

/// The result of matching a request line.
#[derive(Debug)]
pub enum RouteMatch<'c, 'p> {
    /// The operation (by index) and the raw, still percent-encoded, path parameters.
    Found {
        operation: usize,
        params: Vec<(&'c str, &'p str)>,
    },
    /// The path is declared, the method is not.
    MethodNotAllowed {
        allow: &'c str,
    },
    NotFound,
}

impl Router {
    /// Builds the table; template problems are reported against `paths_at`.
    pub fn build(operations: &[Operation], paths_at: &Loc, errors: &mut Vec<LoadError>) -> Self {
        let mut router = Self {
            tree: matchit::Router::new(),
            entries: Vec::new(),
        };
        let mut templates: Vec<&str> = operations.iter().map(|o| o.path.as_str()).collect();
        templates.sort_unstable();
        templates.dedup();
        for template in templates {
            let at = paths_at.child(template);
            if let Err(message) = check_template(template) {
                errors.push(at.error(message));
                continue;
            }
            let mut methods: Vec<(Method, usize)> = operations
                .iter()
                .enumerate()
                .filter(|(_, o)| o.path == template)
                .map(|(i, o)| (o.method, i))
                .collect();
            methods.sort_unstable();
            let allow = methods
                .iter()
                .map(|(m, _)| m.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let index = router.entries.len();
            match router.tree.insert(template, index) {
                Ok(()) => router.entries.push(PathEntry { methods, allow }),
                Err(e) => errors.push(at.error(format!("path template conflicts: {e}"))),
            }
        }
        router
    }

    /// Matches a canonical path (relative to the API's mount) and method.
    pub fn find<'c, 'p>(&'c self, method: &str, path: &'p str) -> RouteMatch<'c, 'p> {
        let Ok(found) = self.tree.at(path) else {
            return RouteMatch::NotFound;
        };
        let Some(entry) = self.entries.get(*found.value) else {
            return RouteMatch::NotFound;
        };
        let params: Vec<(&'c str, &'p str)> = found.params.iter().collect();
        // An empty segment can never be a value: `/orders/` is not `/orders/{id}`.
        if params.iter().any(|(_, v)| v.is_empty()) {
            return RouteMatch::NotFound;
        }
        let operation = Method::from_wire(method)
            .and_then(|m| entry.methods.iter().find(|(em, _)| *em == m))
            .map(|(_, i)| *i);
        match operation {
            Some(operation) => RouteMatch::Found { operation, params },
            None => RouteMatch::MethodNotAllowed {
                allow: &entry.allow,
            },
        }
    }
}

/// A template is canonical once its parameters are filled in, and each
/// templated segment is exactly one `{name}`.
fn check_template(template: &str) -> Result<(), String> {
    let mut filled = String::with_capacity(template.len());
    for (i, segment) in template.split('/').enumerate() {
        if i > 0 {
            filled.push('/');
        }
        if segment.contains(['{', '}']) {
            let name = segment
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .filter(|n| {
                    !n.is_empty()
                        && n.chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                });
            if name.is_none() {
                return Err(format!(
                    "segment `{segment}`: a templated segment must be exactly one `{{name}}`"
                ));
            }
            filled.push('p');
        } else {
            filled.push_str(segment);
        }
    }
    check_path(filled.as_bytes())
        .map_err(|e| format!("path template is not canonical, so no request could match it ({e})"))
}

#[cfg(test)]
mod tests;
