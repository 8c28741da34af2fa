//! The token service's pure core: the gateway's Ed25519 signing keys and
//! their JWK Set, issuing and verifying RFC 9068 access tokens, client
//! secrets and API keys (generated, hashed, checked in constant time), and
//! RFC 7523 `private_key_jwt` client assertions, the token endpoint's request
//! parsing and grant decision, the credential a request presents and the
//! challenge to answer with, and the discovery documents; subject tokens
//! from trusted issuers and the RFC 8693 exchange decision (delegation).
//!
//! Pure: no sockets, files, tokio or storage, and no clock reads: every
//! time-based decision takes `now: UnixTime`. Randomness comes only from
//! aws-lc's system CSPRNG. Revocation, replay memory and identity state
//! live in the store and are the caller's to check.
//!
//! Verification pins the algorithm: EdDSA for our access tokens, the
//! registered key's own algorithm for client assertions. A header's `alg`
//! is compared, never obeyed, and keys never come from the token itself.

mod access;
mod assertion;
mod client;
mod error;
mod jws;
mod keys;
pub mod metadata;
pub mod oauth;
mod presented;
mod random;
mod sealing;
pub mod subject;
#[cfg(test)]
mod testing;
mod validity;

pub use access::{
    ACCESS_TOKEN_TYP, AccessClaims, Actor, MAX_CHAIN, MAX_LEEWAY_SECS, Person, Verifier, issue,
    new_jti, unverified_acting,
};
pub use assertion::{
    ASSERTION_LEEWAY_SECS, AssertionClaims, ClientKey, ClientKeyAlgorithm, MAX_JTI_LEN,
    unverified_client_id, verify_assertion,
};
pub use client::{ApiKey, ClientSecret, SecretHash, hash_secret, same_token, verify_secret};
pub use error::{Claim, TokenError};
pub use jws::MAX_TOKEN_LEN;
pub use keys::{KeySet, MAX_KID_LEN, SigningKey};
pub use presented::{
    API_KEY_HEADER, ChallengeError, Presented, PresentedError, challenge, presented,
};
pub use random::hex_id;
pub use sealing::SealingKey;
