//! What the `delegation:` section configures: the issuers whose tokens name
//! the people agents act for (RFC 8693 subject tokens), which identities may
//! act for them, and the bounds on every exchanged token.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use portcullis_policy::{ClaimType, PersonAttr};
use portcullis_token::subject::{IssuerKeys, SubjectAlgorithm};

/// The `delegation:` section; `None` in [`crate::Config`] when absent (no
/// token exchange at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationSettings {
    pub issuers: Vec<SubjectIssuer>,
    /// The identities that may exchange a token to act for someone; any
    /// other gets `unauthorized_client`.
    pub actors: Vec<String>,
    /// The longest act chain an exchanged token may carry.
    pub max_chain: usize,
    /// The longest life of an exchanged token (also never past the subject
    /// token's, nor `tokens.max_ttl`).
    pub max_ttl: Duration,
}

impl DelegationSettings {
    /// Every claim mapped onto `Person`, across issuers (each name has one
    /// type: the configuration refuses two).
    pub fn person_attrs(&self) -> Vec<PersonAttr> {
        let mut out: Vec<PersonAttr> = Vec::new();
        for claim in self.issuers.iter().flat_map(|i| &i.claims) {
            if !out.iter().any(|a| a.name == claim.name) {
                out.push(PersonAttr {
                    name: claim.name.clone(),
                    ty: claim.ty,
                });
            }
        }
        out
    }

    pub fn issuer(&self, iss: &str) -> Option<&SubjectIssuer> {
        self.issuers.iter().find(|i| i.issuer == iss)
    }
}

/// One trusted issuer of subject tokens (the people's identity provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectIssuer {
    /// Its `iss`, exactly.
    pub issuer: String,
    /// Where its JWK Set is.
    pub jwks: JwksSource,
    /// The least time between two reads of the set: a token naming a key
    /// the set lacks has it read again only this long after the last read.
    pub jwks_refresh: Duration,
    /// The longest a set is used before it is read again, so a key the
    /// issuer withdrew (rotated out, or compromised) stops being trusted.
    pub jwks_max_age: Duration,
    /// The `aud` its tokens must carry to be exchanged here.
    pub audience: String,
    /// The only algorithms its tokens may be signed with.
    pub algorithms: Vec<SubjectAlgorithm>,
    /// Claims shown to policies as attributes of `Person`.
    pub claims: Vec<MappedClaim>,
    /// How its tokens say which scopes they allow.
    pub scopes: ScopeMapping,
}

/// Where an issuer's keys are read from. A URL is fetched by the gateway
/// (never by a caller), at start and again when a token names a key the set
/// lacks, at most once per refresh interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    File(PathBuf),
    Url(String),
}

/// One claim mapped onto `Person`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedClaim {
    /// The attribute name policies use (`context.on_behalf_of.<name>`).
    pub name: String,
    /// The claim read from the subject token.
    pub claim: String,
    pub ty: ClaimType,
}

/// Which claim of a subject token lists what it allows, and how its values
/// become scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeMapping {
    /// A space-separated string or an array of strings (`scope` by default).
    pub claim: String,
    /// When set, each value of the claim (a role, say) stands for these
    /// scopes, and a value not listed allows nothing; when not, the values
    /// are the scopes.
    pub map: Option<BTreeMap<String, Vec<String>>>,
}

impl ScopeMapping {
    /// The scopes a subject token's claims allow.
    pub fn allowed(&self, claims: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
        use serde_json::Value;
        let values: Vec<&str> = match claims.get(&self.claim) {
            Some(Value::String(s)) => s.split(' ').filter(|v| !v.is_empty()).collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut out: Vec<String> = Vec::new();
        for value in values {
            let scopes = match &self.map {
                Some(map) => map.get(value).cloned().unwrap_or_default(),
                None => vec![value.to_owned()],
            };
            for scope in scopes {
                if portcullis_core::valid_scope(&scope) && !out.contains(&scope) {
                    out.push(scope);
                }
            }
        }
        out
    }
}

impl MappedClaim {
    /// The claim's value from a subject token, if it fits the type (a lone
    /// string counts as a set of one).
    pub fn read(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<serde_json::Value> {
        use serde_json::Value;
        let value = claims.get(&self.claim)?;
        let fits = match (self.ty, value) {
            (ClaimType::String, Value::String(_)) | (ClaimType::Bool, Value::Bool(_)) => true,
            (ClaimType::Long, Value::Number(n)) => n.is_i64(),
            (ClaimType::StringSet, Value::String(s)) => {
                return Some(Value::Array(vec![Value::String(s.clone())]));
            }
            (ClaimType::StringSet, Value::Array(items)) => items.iter().all(Value::is_string),
            _ => false,
        };
        fits.then(|| value.clone())
    }
}

/// `jwks_refresh` when not given.
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(30);

/// `jwks_max_age` when not given.
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(600);

/// The most bytes of a JWK Set document read.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Reads an issuer's JWK Set file: what `check` validates and the gateway
/// reads again when a token names a key the set lacks.
///
/// # Errors
/// The file cannot be read, is too large, or is not a usable JWK Set.
pub fn read_jwks_file(path: &std::path::Path) -> Result<IssuerKeys, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    jwks_from_bytes(&bytes)
}

/// A JWK Set document's keys; at least one must be usable.
///
/// # Errors
/// Too large, not a JWK Set, private key material, or no usable key.
pub fn jwks_from_bytes(bytes: &[u8]) -> Result<IssuerKeys, String> {
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(format!("a JWK Set over {MAX_JWKS_BYTES} bytes"));
    }
    let keys = IssuerKeys::from_jwks(bytes).map_err(|e| match e {
        portcullis_token::TokenError::PrivateKeyMaterial => {
            "a key in it holds private key material; publish only public keys".to_owned()
        }
        _ => "not a JWK Set (`{\"keys\": [...]}`)".to_owned(),
    })?;
    if keys.is_empty() {
        return Err(
            "no signature key in it that Portcullis can verify with (RSA of 2048 bits \
                    or more, EC P-256 or P-384, Ed25519)"
                .to_owned(),
        );
    }
    Ok(keys)
}
