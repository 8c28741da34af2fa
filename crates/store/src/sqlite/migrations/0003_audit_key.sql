-- Migration 3: the audit ledger's signing key (Ed25519, PKCS#8). It lives in
-- this store, never in the ledger file: whoever can edit the ledger must not
-- be able to re-sign its checkpoints. One active key; the table allows more
-- so a rotation can keep the old one for verifying old checkpoints.

CREATE TABLE audit_keys (
    kid     TEXT PRIMARY KEY NOT NULL,
    created INTEGER NOT NULL,
    pkcs8   BLOB NOT NULL
) STRICT;
