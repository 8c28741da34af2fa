//! Security requirements (document-wide or per operation): which OAuth
//! scopes an operation needs, read for the `scopes` stage.

use serde_json::Value;

use crate::document::Loc;
use crate::error::LoadError;
use crate::model::SecurityRequirement;

/// The requirements of a `security` array; an empty one means none needed.
pub(super) fn security(
    at: &Loc,
    value: &Value,
    errors: &mut Vec<LoadError>,
) -> Vec<SecurityRequirement> {
    let Some(list) = value.as_array() else {
        errors.push(at.error("`security` must be an array of requirement objects"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, req) in list.iter().enumerate() {
        let Some(req) = req.as_object() else {
            errors.push(
                at.child(&i.to_string())
                    .error("a security requirement must be an object"),
            );
            continue;
        };
        let mut requirement = Vec::new();
        for (scheme, scopes) in req {
            let scopes: Option<Vec<String>> = scopes.as_array().map(|s| {
                s.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            });
            match scopes {
                Some(s) => requirement.push((scheme.clone(), s)),
                None => errors.push(
                    at.child(&i.to_string())
                        .child(scheme)
                        .error("scopes must be an array of strings"),
                ),
            }
        }
        out.push(requirement);
    }
    out
}
