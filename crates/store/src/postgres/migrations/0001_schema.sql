-- Migration 1 of the PostgreSQL store: the same data as the SQLite store's
-- migrations 1 to 4 (identities, credentials, signing keys, revoked tokens,
-- seen client assertions, sealed upstream credentials, the audit key, and
-- the state-change outbox). Times are Unix seconds, UTC.
--
-- Enum columns (kind, state) carry no CHECK constraint on purpose, as in
-- SQLite: a later migration may add a spelling, and the store reports an
-- unknown one as a corrupt row when it reads it.

CREATE TABLE identities (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    owner         TEXT NOT NULL,
    environment   TEXT NOT NULL,
    tags          TEXT NOT NULL,      -- JSON array of strings
    scopes        TEXT NOT NULL,      -- JSON array of strings
    state         TEXT NOT NULL,
    state_changed BIGINT,
    created       BIGINT NOT NULL,
    expires       BIGINT,
    last_used     BIGINT
);

CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    identity    TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    secret_hash BYTEA UNIQUE CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    public_jwk  TEXT,                 -- JSON object
    created     BIGINT NOT NULL,
    expires     BIGINT NOT NULL,
    revoked     BIGINT,
    label       TEXT
);

CREATE INDEX credentials_by_identity ON credentials (identity);

CREATE TABLE signing_keys (
    kid     TEXT PRIMARY KEY,
    created BIGINT NOT NULL,
    retired BIGINT,
    pkcs8   BYTEA NOT NULL
);

CREATE TABLE revoked_tokens (
    jti     TEXT PRIMARY KEY,
    expires BIGINT NOT NULL
);

CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires);

CREATE TABLE seen_assertions (
    client_id TEXT NOT NULL,
    jti       TEXT NOT NULL,
    expires   BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);

CREATE INDEX seen_assertions_by_expiry ON seen_assertions (expires);

CREATE TABLE upstream_credentials (
    identity TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    api      TEXT NOT NULL,
    nonce    BYTEA NOT NULL CHECK (length(nonce) = 12),
    sealed   BYTEA NOT NULL,
    created  BIGINT NOT NULL,
    PRIMARY KEY (identity, api)
);

CREATE TABLE audit_keys (
    kid     TEXT PRIMARY KEY,
    created BIGINT NOT NULL,
    pkcs8   BYTEA NOT NULL
);

CREATE TABLE state_changes (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time       BIGINT NOT NULL,
    identity   TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    reason     TEXT,
    recorded   BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX state_changes_pending ON state_changes (recorded, seq);
