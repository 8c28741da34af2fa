//! RFC 7009 revocation and RFC 7662 introspection of the tokens this
//! gateway issued.

use portcullis_token::oauth::{parse_introspection_request, parse_revocation_request};
use serde_json::{Value, json};

use super::Authority;
use super::token_endpoint::TokenIssued;

impl Authority {
    /// Revokes a token the authenticated client holds. Per RFC 7009 an
    /// unknown, invalid or someone else's token is not an error: the answer
    /// is the same, and nothing is revoked.
    pub fn revoke(&self, body: &[u8], authorization: Option<&str>) -> Result<(), TokenIssued> {
        let request = parse_revocation_request(body, authorization)?;
        self.refresh().map_err(|_| TokenIssued::Unavailable)?;
        let now = self.clock.now();
        let client = self.authenticate_client(&request.client, now)?.id;
        let claims = {
            let cache = self.read().map_err(|_| TokenIssued::Unavailable)?;
            self.verifier.verify(&request.token, &cache.keys, now).ok()
        };
        // An exchanged token is revoked by the identity using it.
        if let Some(claims) = claims.filter(|c| c.acting() == client) {
            self.store
                .revoke_token(&claims.jti, claims.exp)
                .map_err(|_| TokenIssued::Unavailable)?;
            self.reload().map_err(|_| TokenIssued::Unavailable)?;
            tracing::info!(identity = %client, jti = %claims.jti, "token revoked");
        }
        Ok(())
    }

    /// Says whether a token is active now, for an admin caller (checked by
    /// the endpoint). Inactive covers invalid, expired, revoked and tokens
    /// whose identity may no longer act.
    pub fn introspect(&self, body: &[u8]) -> Result<Value, TokenIssued> {
        let token = parse_introspection_request(body)?;
        self.refresh().map_err(|_| TokenIssued::Unavailable)?;
        let now = self.clock.now();
        let claims = {
            let cache = self.read().map_err(|_| TokenIssued::Unavailable)?;
            self.verifier
                .verify(&token, &cache.keys, now)
                .ok()
                .filter(|c| !cache.revokes(c))
        };
        let active = match claims {
            Some(c) => self
                .usable_throughout(&c, now)
                .map_err(|_| TokenIssued::Unavailable)?
                .then_some(c),
            None => None,
        };
        Ok(match active {
            Some(c) => {
                let mut answer = json!({
                    "active": true,
                    "scope": c.scope,
                    "client_id": c.acting(),
                    "sub": c.sub,
                    "aud": c.aud,
                    "iss": c.iss,
                    "exp": c.exp,
                    "iat": c.iat,
                    "jti": c.jti,
                    "token_type": "Bearer",
                });
                // RFC 8693 section 4.1: who acts for `sub`.
                if let (Some(act), Value::Object(map)) = (&c.act, &mut answer) {
                    map.insert("act".to_owned(), json!(act));
                }
                answer
            }
            None => json!({ "active": false }),
        })
    }
}
