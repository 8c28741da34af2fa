//! The first admin: on a start where no identity holds [`ADMIN_SCOPE`], a
//! secret the operator supplies (the binary reads [`BOOTSTRAP_ENV`])
//! becomes a one-day client secret of a new [`BOOTSTRAP_IDENTITY`]
//! identity.
//!
//! The operator exchanges it for a token on the gateway listener:
//!
//! ```text
//! curl -u portcullis-admin:$PORTCULLIS_BOOTSTRAP_SECRET \
//!      -d grant_type=client_credentials -d scope=portcullis:admin \
//!      -d resource=<an API name, if the gateway has more than one> \
//!      http://GATEWAY/oauth/token
//! ```
//!
//! then calls the admin listener with it, creates the admin identities and
//! credentials it really wants (`POST /admin/v1/identities`, then
//! `.../credentials`), rotates or revokes the bootstrap credential, and
//! unsets the variable. The secret is stored only as its hash and never
//! logged.
//!
//! Bootstrap never changes anything once an admin exists (in any state), so
//! a variable left set cannot re-open the door; and it never touches an
//! existing `portcullis-admin` identity.

use portcullis_core::{Identity, IdentityKind, IdentityState, UnixTime};
use portcullis_proxy::authority::{Authority, ManageError};
use portcullis_store::{Credential, CredentialKind};
use portcullis_token::{hash_secret, new_jti};

use crate::ADMIN_SCOPE;

/// The environment variable the binary reads the bootstrap secret from.
pub const BOOTSTRAP_ENV: &str = "PORTCULLIS_BOOTSTRAP_SECRET";

/// The identity bootstrap creates.
pub const BOOTSTRAP_IDENTITY: &str = "portcullis-admin";

/// The shortest bootstrap secret accepted.
pub const MIN_BOOTSTRAP_SECRET_LEN: usize = 32;

/// How long the bootstrap secret stays usable: long enough to set up real
/// admin credentials, short enough not to become one.
const BOOTSTRAP_TTL: UnixTime = 24 * 60 * 60;

/// Creates the first admin from `secret` if no identity holds
/// [`ADMIN_SCOPE`]; returns the identity id when it did.
///
/// `None` (no secret given) or an existing admin is `Ok(None)`. A secret
/// shorter than [`MIN_BOOTSTRAP_SECRET_LEN`] or with characters outside
/// printable ASCII (no spaces) is refused, as is an existing
/// `portcullis-admin` identity without the scope.
pub fn bootstrap(
    authority: &Authority,
    secret: Option<&str>,
) -> Result<Option<String>, ManageError> {
    let Some(secret) = secret else {
        return Ok(None);
    };
    let identities = authority.store().list_identities()?;
    if identities
        .iter()
        .any(|i| i.scopes.iter().any(|s| s == ADMIN_SCOPE))
    {
        tracing::info!(
            "an admin identity exists: the bootstrap secret is ignored and can be unset"
        );
        return Ok(None);
    }
    if secret.chars().count() < MIN_BOOTSTRAP_SECRET_LEN {
        return Err(ManageError::Invalid(format!(
            "the bootstrap secret must be at least {MIN_BOOTSTRAP_SECRET_LEN} characters"
        )));
    }
    if !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ManageError::Invalid(
            "the bootstrap secret must be printable ASCII without spaces".into(),
        ));
    }
    if identities.iter().any(|i| i.id == BOOTSTRAP_IDENTITY) {
        return Err(ManageError::Invalid(format!(
            "identity `{BOOTSTRAP_IDENTITY}` exists without `{ADMIN_SCOPE}`; bootstrap will not change it"
        )));
    }
    let now = authority.now();
    authority.put_identity(&Identity {
        id: BOOTSTRAP_IDENTITY.to_owned(),
        kind: IdentityKind::Service,
        owner: "bootstrap".to_owned(),
        environment: "admin".to_owned(),
        tags: Vec::new(),
        scopes: vec![ADMIN_SCOPE.to_owned()],
        state: IdentityState::Active,
        created: now,
        expires: None,
        last_used: None,
    })?;
    let suffix: String = new_jti()?
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(10)
        .collect();
    let credential_id = format!("{BOOTSTRAP_IDENTITY}/client-secret-bootstrap-{suffix}");
    authority.store().insert_credential(&Credential {
        id: credential_id.clone(),
        identity: BOOTSTRAP_IDENTITY.to_owned(),
        kind: CredentialKind::ClientSecret,
        secret_hash: Some(hash_secret(secret)),
        public_jwk: None,
        created: now,
        expires: now.saturating_add(BOOTSTRAP_TTL),
        revoked: None,
        label: Some("bootstrap: exchange for a token, then rotate".to_owned()),
    })?;
    authority.reload()?;
    tracing::warn!(
        identity = BOOTSTRAP_IDENTITY,
        credential = %credential_id,
        "bootstrap admin created from the bootstrap secret: exchange it for a token at POST /oauth/token, create real admin credentials, revoke this one"
    );
    Ok(Some(BOOTSTRAP_IDENTITY.to_owned()))
}
