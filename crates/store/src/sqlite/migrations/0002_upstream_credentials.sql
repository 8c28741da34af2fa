-- Migration 2: per-identity upstream credentials, sealed (AES-256-GCM) by the
-- gateway with a key it is given; the store never sees the plaintext. The
-- identity and API are the sealing's associated data, so a row copied to
-- another identity does not open.

CREATE TABLE upstream_credentials (
    identity    TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    api         TEXT NOT NULL,
    nonce       BLOB NOT NULL CHECK (length(nonce) = 12),
    sealed      BLOB NOT NULL,
    created     INTEGER NOT NULL,
    PRIMARY KEY (identity, api)
) STRICT;
