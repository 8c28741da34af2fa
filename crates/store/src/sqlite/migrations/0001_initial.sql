-- Migration 1: the identity inventory, credentials, signing keys, revoked
-- tokens and seen client assertions. Times are Unix seconds, UTC.
--
-- Enum columns (kind, state) carry no CHECK constraint on purpose: a later
-- migration may add a spelling without rebuilding the table, and the store
-- reports an unknown spelling as a corrupt row when it reads one.

CREATE TABLE identities (
    id            TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    owner         TEXT NOT NULL,
    environment   TEXT NOT NULL,
    tags          TEXT NOT NULL,      -- JSON array of strings
    scopes        TEXT NOT NULL,      -- JSON array of strings
    state         TEXT NOT NULL,
    state_changed INTEGER,            -- last set_identity_state
    created       INTEGER NOT NULL,
    expires       INTEGER,
    last_used     INTEGER
) STRICT;

CREATE TABLE credentials (
    id          TEXT PRIMARY KEY NOT NULL,
    identity    TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    secret_hash BLOB UNIQUE CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    public_jwk  TEXT,                 -- JSON object
    created     INTEGER NOT NULL,
    expires     INTEGER NOT NULL,
    revoked     INTEGER,
    label       TEXT
) STRICT;

CREATE INDEX credentials_by_identity ON credentials (identity);

CREATE TABLE signing_keys (
    kid     TEXT PRIMARY KEY NOT NULL,
    created INTEGER NOT NULL,
    retired INTEGER,
    pkcs8   BLOB NOT NULL
) STRICT;

CREATE TABLE revoked_tokens (
    jti     TEXT PRIMARY KEY NOT NULL,
    expires INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires);

CREATE TABLE seen_assertions (
    client_id TEXT NOT NULL,
    jti       TEXT NOT NULL,
    expires   INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
) STRICT, WITHOUT ROWID;

CREATE INDEX seen_assertions_by_expiry ON seen_assertions (expires);
