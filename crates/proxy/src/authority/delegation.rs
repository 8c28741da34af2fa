//! The trusted subject-token issuers (`delegation:`) and their keys, and a
//! subject token read into what the exchange decision needs.
//!
//! An issuer's key set is read from its file at start and fetched from its
//! URL on first need; when a subject token names a key the set lacks, the set
//! is read again, at most once per `jwks_refresh` (30 s unless configured)
//! per issuer, so a caller inventing key ids cannot make the gateway hammer
//! the issuer. A set older than `jwks_max_age` (10 minutes unless
//! configured) is read again before the next token is judged with it, so a
//! key the issuer withdrew stops being trusted. The fetch is
//! the gateway's own (`jwks.rs`), never directed by anything the caller sent.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use portcullis_config::{DelegationSettings, JwksSource, SubjectIssuer};
use portcullis_token::TokenError;
use portcullis_token::oauth::{OAuthError, OAuthErrorCode, SubjectView};
use portcullis_token::subject::{IssuerKeys, SubjectRules, unverified_issuer, verify_subject};

use super::Authority;
use super::principal::delegation_of;
use super::token_endpoint::TokenIssued;
use portcullis_policy::Delegation;

/// The configured issuers, each with its keys.
#[derive(Debug)]
pub(crate) struct Issuers {
    pub(crate) settings: DelegationSettings,
    keys: Vec<IssuerKeysState>,
}

#[derive(Debug, Default)]
struct IssuerKeysState {
    keys: RwLock<Option<Arc<IssuerKeys>>>,
    /// When the set was last read or tried.
    read_at: Mutex<Option<Instant>>,
}

impl Issuers {
    /// The issuers, with each file's keys read now (a URL's on first need).
    pub(crate) fn new(settings: &DelegationSettings) -> Self {
        let keys = settings
            .issuers
            .iter()
            .map(|issuer| {
                let state = IssuerKeysState::default();
                if let JwksSource::File(path) = &issuer.jwks {
                    match portcullis_config::read_jwks_file(path) {
                        Ok(keys) => {
                            state.store(keys);
                            if let Ok(mut at) = state.read_at.lock() {
                                *at = Some(Instant::now());
                            }
                        }
                        Err(e) => {
                            tracing::warn!(issuer = %issuer.issuer, error = %e, "key set not read")
                        }
                    }
                }
                state
            })
            .collect();
        Self {
            settings: settings.clone(),
            keys,
        }
    }

    /// Whether issuer `index`'s key set should be read again before a token
    /// naming `kid` is judged: never read, without that key, or older than
    /// its `jwks_max_age`; and it may be read again now.
    pub(crate) fn needs_keys(&self, index: usize, kid: Option<&str>) -> bool {
        let (Some(issuer), Some(state)) = (self.settings.issuers.get(index), self.keys.get(index))
        else {
            return false;
        };
        let lacking = match (state.current(), kid) {
            (None, _) => true,
            (Some(keys), Some(kid)) => !keys.has_kid(kid),
            (Some(_), None) => false,
        };
        let old = state
            .read_at
            .lock()
            .is_ok_and(|at| at.is_some_and(|at| at.elapsed() >= issuer.jwks_max_age));
        (lacking || old) && self.may_refresh(index)
    }

    /// Whether the key set of issuer `index` may be read again now.
    fn may_refresh(&self, index: usize) -> bool {
        let (Some(issuer), Some(state)) = (self.settings.issuers.get(index), self.keys.get(index))
        else {
            return false;
        };
        state
            .read_at
            .lock()
            .map(|at| at.is_none_or(|at| at.elapsed() >= issuer.jwks_refresh))
            .unwrap_or(false)
    }

    /// Reads issuer `index`'s key set again (its file, or its URL), unless
    /// it was read within its `jwks_refresh`. A failure keeps the old set.
    pub(crate) async fn refresh(&self, index: usize) {
        let (Some(issuer), Some(state)) = (self.settings.issuers.get(index), self.keys.get(index))
        else {
            return;
        };
        {
            let Ok(mut at) = state.read_at.lock() else {
                return;
            };
            if at.is_some_and(|at| at.elapsed() < issuer.jwks_refresh) {
                return;
            }
            *at = Some(Instant::now());
        }
        let read = match &issuer.jwks {
            JwksSource::File(path) => portcullis_config::read_jwks_file(path),
            JwksSource::Url(url) => crate::jwks::fetch(url)
                .await
                .and_then(|bytes| portcullis_config::jwks_from_bytes(&bytes)),
        };
        match read {
            Ok(keys) => {
                tracing::info!(issuer = %issuer.issuer, keys = keys.len(), "issuer key set read");
                state.store(keys);
            }
            Err(e) => {
                tracing::warn!(issuer = %issuer.issuer, error = %e, "issuer key set not read; keeping the last one")
            }
        }
    }
}

impl IssuerKeysState {
    fn store(&self, keys: IssuerKeys) {
        if let Ok(mut slot) = self.keys.write() {
            *slot = Some(Arc::new(keys));
        }
    }

    fn current(&self) -> Option<Arc<IssuerKeys>> {
        self.keys.read().ok().and_then(|k| k.clone())
    }
}

fn refused(description: impl Into<String>) -> TokenIssued {
    TokenIssued::Refused(OAuthError::new(OAuthErrorCode::InvalidRequest, description))
}

/// What a subject token failed on, said without echoing it.
fn subject_failure(e: TokenError) -> TokenIssued {
    let why = match e {
        TokenError::Expired => "has expired".to_owned(),
        TokenError::NotYetValid => "is not valid yet".to_owned(),
        TokenError::WrongAudience => "is not for this gateway (`aud`)".to_owned(),
        TokenError::UnsupportedAlgorithm => {
            "is signed with an algorithm its issuer is not pinned to".to_owned()
        }
        TokenError::UnknownKey => "names a key its issuer does not publish".to_owned(),
        TokenError::BadSignature => "does not verify with its issuer's key".to_owned(),
        other => format!("was refused: {other}"),
    };
    refused(format!("the subject token {why}"))
}

impl Authority {
    /// Reads `token` as a subject token: one of this gateway's own, or one
    /// from a configured issuer (whose key set `exchange::stale_issuer` had
    /// read again first if it needed to be).
    pub(super) fn subject_view(
        &self,
        issuers: &Issuers,
        token: &str,
        now: i64,
    ) -> Result<SubjectView, TokenIssued> {
        let (iss, _) = unverified_issuer(token)
            .map_err(|_| refused("`subject_token` is not a signed JWT with an `iss`"))?;
        if iss == self.settings.issuer {
            return self.own_subject_view(token, now);
        }
        let (index, issuer): (usize, &SubjectIssuer) = issuers
            .settings
            .issuers
            .iter()
            .enumerate()
            .find(|(_, i)| i.issuer == iss)
            .ok_or_else(|| refused("the subject token's issuer is not trusted here"))?;
        let Some(keys) = issuers.keys.get(index).and_then(IssuerKeysState::current) else {
            // Never read: the gateway cannot judge the token, which is not
            // the caller's fault.
            tracing::error!(issuer = %iss, "no key set for a trusted issuer");
            return Err(TokenIssued::Unavailable);
        };
        let rules = SubjectRules {
            issuer: &issuer.issuer,
            audience: &issuer.audience,
            algorithms: &issuer.algorithms,
            leeway_secs: super::secs(self.settings.leeway),
        };
        let subject = verify_subject(token, rules, &keys, now).map_err(subject_failure)?;
        let sources: Vec<String> = subject
            .jti
            .iter()
            .map(|jti| person_token_id(&issuer.issuer, jti))
            .collect();
        self.not_revoked(sources.first())?;
        let claims = issuer
            .claims
            .iter()
            .filter_map(|c| c.read(&subject.claims).map(|v| (c.name.clone(), v)))
            .collect();
        Ok(SubjectView {
            allows: issuer.scopes.allowed(&subject.claims),
            person: subject.sub,
            issuer: subject.issuer,
            claims,
            exp: subject.exp,
            chain: Vec::new(),
            sources,
            may_act: subject.may_act,
            audience: None,
        })
    }

    /// One of this gateway's own tokens as a subject token: an identity's
    /// (delegating to a sub-agent) or an exchanged one (a further hop).
    fn own_subject_view(&self, token: &str, now: i64) -> Result<SubjectView, TokenIssued> {
        let claims = {
            let cache = self.read().map_err(|_| TokenIssued::Unavailable)?;
            let claims = self
                .verifier
                .verify(token, &cache.keys, now)
                .map_err(subject_failure)?;
            if cache.revokes(&claims) {
                return Err(refused("the subject token has been revoked"));
            }
            claims
        };
        let usable = self
            .usable_throughout(&claims, now)
            .map_err(|_| TokenIssued::Unavailable)?;
        if !usable {
            return Err(refused(
                "an identity the subject token was issued to or delegated through is not active",
            ));
        }
        // An identity's own token: the identity is whom the next one acts for.
        let delegation = delegation_of(&claims).unwrap_or_else(|| Delegation {
            person: claims.sub.clone(),
            issuer: self.settings.issuer.clone(),
            claims: serde_json::Map::new(),
            chain: Vec::new(),
        });
        let mut sources = claims.exchanged_from.clone();
        sources.push(claims.jti.clone());
        Ok(SubjectView {
            allows: claims.scopes().map(str::to_owned).collect(),
            person: delegation.person,
            issuer: delegation.issuer,
            claims: delegation.claims,
            exp: claims.exp,
            chain: delegation.chain,
            sources,
            may_act: None,
            audience: Some(claims.aud),
        })
    }

    /// Refuses a person's subject token revoked by its issuer and `jti`.
    fn not_revoked(&self, id: Option<&String>) -> Result<(), TokenIssued> {
        let cache = self.read().map_err(|_| TokenIssued::Unavailable)?;
        if id.is_some_and(|id| cache.revoked.contains(id)) {
            return Err(refused("the subject token has been revoked"));
        }
        Ok(())
    }
}

/// The revocation id of a person's subject token: its issuer and `jti`, so
/// two issuers' ids never meet, and never one of this gateway's own (whose
/// ids have no `#`).
pub fn person_token_id(issuer: &str, jti: &str) -> String {
    format!("{issuer}#{jti}")
}
