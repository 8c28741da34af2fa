//! The admin listener: `/admin/v1/...` over the gateway's identities,
//! credentials, tokens and signing keys, on its own address.
//!
//! Every request, on every path, first needs a credential the gateway's
//! [`Authority`](portcullis_proxy::authority::Authority) accepts (a bearer
//! token from the token service, or an API key) of an active identity that
//! holds [`ADMIN_SCOPE`]; only then is the path looked at. Every refusal is
//! the same RFC 9457 `application/problem+json` body the gateway sends,
//! including the ones the router itself produces (unknown path, wrong
//! method).
//!
//! This crate must never be mounted on the gateway listener (it exposes no
//! router, only [`AdminServer`], which binds its own address), never put
//! secret material anywhere but the one response that creates it, and never
//! decide anything about identities itself: the authority does, and this
//! crate only moves requests to it.
//!
//! # Routes
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /admin/v1/identities` | | 200, every identity, sorted by id |
//! | `POST /admin/v1/identities` | `id, kind, owner, environment, tags?, scopes, expires?` | 201 |
//! | `GET /admin/v1/identities/{id}` | | 200, the identity and its credentials (no secret material) |
//! | `POST /admin/v1/identities/{id}/state` | `state, reason?` | 200; recorded in the ledger with the admin and the reason |
//! | `POST /admin/v1/identities/{id}/credentials` | `kind, ttl_secs, label?` or `kind: private-key-jwt, jwk, expires` | 201, a secret shown this once |
//! | `POST /admin/v1/credentials/{credential_id}/rotate` | `overlap_secs` | 201, the new secret shown this once |
//! | `POST /admin/v1/credentials/{credential_id}/revoke` | | 204 |
//! | `POST /admin/v1/tokens/revoke` | `jti, expires` | 204 |
//! | `POST /admin/v1/keys/rotate` | | 200, the new `kid` |
//! | `GET /admin/v1/decisions` | query: filters, `limit`, `before` | 200, ledger records newest first |
//! | `GET /admin/v1/posture` | query: `format` (json, text, html, sarif), `days`, `rotation_days`, `environment` | 200, the posture report (OWASP NHI Top 10) |
//! | `GET /admin/v1/fleet` | | 200, the nodes sharing the store: alive or gone, configuration drift |
//! | `GET /admin/v1/alerts` | query: `identity`, `detector`, `action`, `since`, `until`, `limit`, `before` | 200, the watch's alerts newest first |
//!
//! A credential id contains a `/` (`bot/client-secret-abc`), so it is sent
//! percent-encoded in the path (`bot%2Fclient-secret-abc`) and decoded here;
//! an unencoded `/` names no route.
//!
//! # Bootstrap
//!
//! See [`bootstrap`]: on first start the binary passes the secret from
//! [`BOOTSTRAP_ENV`], which becomes a client secret of the
//! [`BOOTSTRAP_IDENTITY`] identity.

mod authenticate;
mod bootstrap;
mod console;
mod envelope;
mod extract;
mod refusal;
mod routes;
mod server;
mod view;

pub use authenticate::ADMIN_SCOPE;
pub use bootstrap::{BOOTSTRAP_ENV, BOOTSTRAP_IDENTITY, MIN_BOOTSTRAP_SECRET_LEN, bootstrap};
pub use server::AdminServer;
