//! The Cedar schema generated from the contracts, per PRODUCT.md's "Cedar
//! mapping": `Identity` principals, `Api` resources, one action per contract
//! operation grouped under `<api>:read` / `<api>:write`, and each action's
//! context typed from that operation's parameters.
//!
//! The schema is written twice from one description: as Cedar's human
//! schema text (what `portcullis schema` prints) and as Cedar's JSON schema
//! (what Cedar is given, since parsing the text back cost a fifth of start
//! time at 10,000 operations); a test checks that the two say the same.
//! Nothing here reads files.
//!
//! Parameter typing: an integer is a `Long`, a boolean a `Bool`; a string or
//! enum is a `String`, and so is a `number` (Cedar has no floating point and
//! its `decimal` keeps only four places, so the number's JSON text is used: a
//! policy compares it as text). A parameter that may be one of several types
//! is a `String` too. Arrays are `Set`s of their item type. Path parameters
//! are required attributes of `params`; query parameters are attributes of
//! `query`, optional unless the contract requires them (policies test
//! optional ones with `has`). Header parameters are not in the context.
//!
//! Delegation (RFC 8693 token exchange): every action's context also has
//! `on_behalf_of`, a `Person` entity present only when the token acts for
//! someone (`id`, `issuer`, and each claim the configuration maps, all
//! optional), and `chain`, the identities acting (`ids`) and how many
//! (`length`, 0 without delegation).

mod json;
mod text;
mod validation;

pub(crate) use validation::named_actions;

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::EntityTypeName;

use portcullis_contract::{Contract, Operation, Param, ParamIn, ParamShape, Scalar};

use crate::error::PolicyError;

/// Cedar's view of one scalar parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Elem {
    Long,
    Bool,
    String,
}

impl Elem {
    fn of(kinds: &[Scalar]) -> Self {
        if kinds.is_empty() {
            Elem::String
        } else if kinds.iter().all(|k| *k == Scalar::Integer) {
            Elem::Long
        } else if kinds.iter().all(|k| *k == Scalar::Boolean) {
            Elem::Bool
        } else {
            Elem::String
        }
    }

    fn cedar(self) -> &'static str {
        match self {
            Elem::Long => "Long",
            Elem::Bool => "Bool",
            Elem::String => "String",
        }
    }

    /// The same type as Cedar's JSON schema names it.
    fn cedar_json(self) -> &'static str {
        match self {
            Elem::Long => "Long",
            Elem::Bool => "Boolean",
            Elem::String => "String",
        }
    }
}

/// The context attributes every action has beside `params` and `query`:
/// (name, element type, a `Set` of it, required). The text and the JSON
/// writer both read this, so the two schemas cannot list different ones.
// INVARIANT: `authorize::context` builds exactly these attributes.
pub(crate) const CONTEXT: [(&str, Elem, bool, bool); 5] = [
    ("scopes", Elem::String, true, true),
    ("ip", Elem::String, false, true),
    ("time", Elem::Long, false, true),
    ("hour", Elem::Long, false, true),
    ("weekday", Elem::Long, false, true),
];

/// The type of a subject-token claim the configuration maps onto `Person`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaimType {
    String,
    Long,
    Bool,
    /// A set of strings (a JSON array of strings; a lone string is a set of one).
    StringSet,
}

impl ClaimType {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "string" => Some(Self::String),
            "long" => Some(Self::Long),
            "bool" => Some(Self::Bool),
            "set" => Some(Self::StringSet),
            _ => None,
        }
    }

    /// A value of this type for sampling requests (`check`'s matrix,
    /// `verify`'s delegation checks): strings, and sets of them, `string`;
    /// 1; `true`.
    pub fn sample(self, string: &str) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Self::String => Value::String(string.to_owned()),
            Self::StringSet => Value::Array(vec![Value::String(string.to_owned())]),
            Self::Long => Value::from(1),
            Self::Bool => Value::Bool(true),
        }
    }

    fn elem(self) -> (Elem, bool) {
        match self {
            Self::String => (Elem::String, false),
            Self::Long => (Elem::Long, false),
            Self::Bool => (Elem::Bool, false),
            Self::StringSet => (Elem::String, true),
        }
    }
}

/// One mapped claim: an optional attribute of `Person`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonAttr {
    pub name: String,
    pub ty: ClaimType,
}

/// `Person`'s attributes as (name, element type, a set, required): `id`
/// and `issuer`, then the mapped claims.
pub(crate) fn person_attrs(mapped: &[PersonAttr]) -> Vec<AttrDef> {
    let fixed = [("id", Elem::String), ("issuer", Elem::String)];
    let mut out: Vec<AttrDef> = fixed
        .into_iter()
        .map(|(name, elem)| AttrDef {
            name: name.to_owned(),
            elem,
            set: false,
            required: true,
        })
        .collect();
    out.extend(mapped.iter().map(|a| {
        let (elem, set) = a.ty.elem();
        AttrDef {
            name: a.name.clone(),
            elem,
            set,
            required: false,
        }
    }));
    out
}

/// `elem`, or a `Set` of it, in the schema text.
fn cedar_type(elem: Elem, set: bool) -> String {
    if set {
        format!("Set<{}>", elem.cedar())
    } else {
        elem.cedar().to_owned()
    }
}

/// One attribute of the `params` or `query` record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AttrDef {
    pub(crate) name: String,
    pub(crate) elem: Elem,
    /// An array parameter: a `Set` of `elem`.
    pub(crate) set: bool,
    pub(crate) required: bool,
}

impl AttrDef {
    fn of(param: &Param) -> Self {
        let (elem, set) = match &param.shape {
            ParamShape::Scalar(kinds) => (Elem::of(kinds), false),
            ParamShape::Array { items, .. } => (Elem::of(items), true),
        };
        Self {
            name: param.name.clone(),
            elem,
            set,
            required: param.required,
        }
    }

    pub(crate) fn cedar_type(&self) -> String {
        cedar_type(self.elem, self.set)
    }
}

/// One generated action: a contract operation.
#[derive(Debug, Clone)]
pub(crate) struct ActionDef {
    pub(crate) api: String,
    pub(crate) operation: String,
    /// `<api>:<operationId>`, the Cedar action id.
    pub(crate) id: String,
    /// `<api>:read` or `<api>:write`.
    pub(crate) group: String,
    /// `GET /orders/{id}`, for the schema text's comment.
    pub(crate) route: String,
    pub(crate) params: Vec<AttrDef>,
    pub(crate) query: Vec<AttrDef>,
}

impl ActionDef {
    fn of(api: &str, op: &Operation) -> Self {
        let group = if op.method.is_write() {
            "write"
        } else {
            "read"
        };
        Self {
            api: api.to_owned(),
            operation: op.id.clone(),
            id: action_id(api, &op.id),
            group: action_id(api, group),
            route: format!("{} {}", op.method.as_str(), op.path),
            params: op.params_in(ParamIn::Path).map(AttrDef::of).collect(),
            query: op.params_in(ParamIn::Query).map(AttrDef::of).collect(),
        }
    }
}

/// The Cedar action id of an operation or group of an API.
pub(crate) fn action_id(api: &str, name: &str) -> String {
    format!("{api}:{name}")
}

/// The schema generated from every API's contract, with its text.
#[derive(Debug, Clone)]
pub struct PolicySchema {
    /// The whole schema as Cedar holds it, built on first use: the gateway
    /// never needs it (policies are validated against a reduced one, see
    /// `validation.rs`, and requests are typed by the contract), and at
    /// 10,000 operations it was a fifth of start time and the larger part
    /// of the memory left after it.
    cedar: OnceLock<Result<cedar_policy::Schema, PolicyError>>,
    text: String,
    apis: Vec<String>,
    actions: Vec<ActionDef>,
    /// The claims mapped onto `Person`.
    person: Vec<PersonAttr>,
    types: Types,
}

/// The entity type names the mapping uses, parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Types {
    pub(crate) identity: EntityTypeName,
    pub(crate) person: EntityTypeName,
    pub(crate) api: EntityTypeName,
    pub(crate) action: EntityTypeName,
}

impl Types {
    fn new() -> Result<Self, PolicyError> {
        let name =
            |n: &str| EntityTypeName::from_str(n).map_err(|e| PolicyError::Schema(e.to_string()));
        Ok(Self {
            identity: name("Identity")?,
            person: name("Person")?,
            api: name("Api")?,
            action: name("Action")?,
        })
    }
}

impl PolicySchema {
    /// The whole schema as Cedar reads it, built on first use.
    ///
    /// # Errors
    /// Cedar refuses it (a generator defect).
    pub fn cedar(&self) -> Result<&cedar_policy::Schema, PolicyError> {
        self.cedar
            .get_or_init(|| {
                let json = json::render(&self.apis, &self.person, &self.actions);
                cedar_policy::Schema::from_json_value(json)
                    .map_err(|e| PolicyError::Schema(e.to_string()))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The human-readable Cedar schema text (the same schema as [`Self::cedar`]).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// API names, in the order given.
    pub fn apis(&self) -> impl Iterator<Item = &str> {
        self.apis.iter().map(String::as_str)
    }

    /// Every operation's action id (`<api>:<operationId>`), in contract order.
    pub fn action_ids(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| a.id.as_str())
    }

    pub(crate) fn actions(&self) -> &[ActionDef] {
        &self.actions
    }

    pub(crate) fn types(&self) -> &Types {
        &self.types
    }

    /// The claims mapped onto `Person`.
    pub fn person(&self) -> &[PersonAttr] {
        &self.person
    }
}

/// Generates the Cedar schema for `apis` (API name, its contract).
///
/// # Errors
/// Two APIs with one name, or two operations mapping to one action. (Cedar
/// reads the schema when policies are validated against it.)
pub fn generate_schema(apis: &[(&str, &Contract)]) -> Result<PolicySchema, PolicyError> {
    generate_schema_with(apis, &[])
}

/// [`generate_schema`] with the claims delegation maps onto `Person`.
///
/// # Errors
/// As [`generate_schema`]; also a mapped claim named `id` or `issuer`, or
/// named twice.
pub fn generate_schema_with(
    apis: &[(&str, &Contract)],
    person: &[PersonAttr],
) -> Result<PolicySchema, PolicyError> {
    let mut seen: HashSet<&str> = HashSet::from(["id", "issuer"]);
    if let Some(a) = person.iter().find(|a| !seen.insert(&a.name)) {
        return Err(PolicyError::Schema(format!(
            "`Person` cannot have a second attribute `{}`",
            a.name
        )));
    }
    let mut names = HashSet::new();
    let mut ids = HashSet::new();
    let mut actions = Vec::new();
    for (api, contract) in apis {
        if !names.insert(*api) {
            return Err(PolicyError::DuplicateApi((*api).to_owned()));
        }
        for op in contract.operations() {
            let action = ActionDef::of(api, op);
            if !ids.insert(action.id.clone()) {
                return Err(PolicyError::DuplicateAction(action.id));
            }
            actions.push(action);
        }
    }
    let apis: Vec<String> = apis.iter().map(|(name, _)| (*name).to_owned()).collect();
    let text = text::render(&apis, person, &actions);
    Ok(PolicySchema {
        cedar: OnceLock::new(),
        text,
        apis,
        actions,
        person: person.to_vec(),
        types: Types::new()?,
    })
}

#[cfg(test)]
mod tests;
