//! How identities and credentials look in admin responses.
//!
//! A credential's view has no secret material: no hash, no secret, and not
//! the registered public key either (listings say what exists, not how to
//! use it). A new secret appears only in the response that creates it,
//! built by its handler, never here.

use portcullis_core::{Identity, UnixTime};
use portcullis_store::Credential;
use serde_json::{Value, json};

pub(crate) fn identity(identity: &Identity) -> Value {
    json!({
        "id": identity.id,
        "kind": identity.kind.as_str(),
        "owner": identity.owner,
        "environment": identity.environment,
        "tags": identity.tags,
        "scopes": identity.scopes,
        "state": identity.state.as_str(),
        "created": identity.created,
        "expires": identity.expires,
        "last_used": identity.last_used,
    })
}

pub(crate) fn credential(credential: &Credential, now: UnixTime) -> Value {
    json!({
        "id": credential.id,
        "kind": credential.kind.as_str(),
        "created": credential.created,
        "expires": credential.expires,
        "revoked": credential.revoked,
        "label": credential.label,
        "usable": credential.is_usable(now),
    })
}

#[cfg(test)]
mod tests {
    use portcullis_store::CredentialKind;

    use super::*;

    #[test]
    fn a_credential_view_carries_no_secret_material() {
        let c = Credential {
            id: "bot/api-key-abc".into(),
            identity: "bot".into(),
            kind: CredentialKind::ApiKey,
            secret_hash: Some([7; 32]),
            public_jwk: Some(json!({"kty": "OKP", "x": "public-x"})),
            created: 1,
            expires: 10,
            revoked: None,
            label: Some("ci".into()),
        };
        let v = credential(&c, 5);
        // Sorted: key order depends on serde_json's `preserve_order`, which
        // another crate in the build may switch on.
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "created", "expires", "id", "kind", "label", "revoked", "usable"
            ]
        );
        assert_eq!(v["usable"], true);
        assert!(!v.to_string().contains("public-x"));
    }
}
