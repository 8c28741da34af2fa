-- Migration 5: the audit ledger of a fleet. Every node writes its own hash
-- chain (`node`, `seq`), so no node ever waits on another's lock to record
-- a request; readers see every chain, in time order across nodes (`id`
-- breaks ties in the order rows arrived). Records are stored as their
-- canonical text with its hash; the indexed columns are copies that reading
-- checks against the text. No version trigger: a record is not a change any
-- node must reload for.
CREATE TABLE ledger_records (
    id        BIGSERIAL UNIQUE NOT NULL,
    node      TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    time_ms   BIGINT NOT NULL,
    identity  TEXT,
    api       TEXT,
    operation TEXT,
    decision  TEXT NOT NULL,
    code      TEXT,
    person    TEXT,
    body      TEXT NOT NULL,
    hash      BYTEA NOT NULL,
    PRIMARY KEY (node, seq)
);
CREATE INDEX ledger_records_time ON ledger_records (time_ms, id);
CREATE INDEX ledger_records_identity ON ledger_records (identity, time_ms);
CREATE INDEX ledger_records_person ON ledger_records (person, time_ms);

-- Each node's signed checkpoints over its own chain.
CREATE TABLE ledger_checkpoints (
    node      TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL,
    time_ms   BIGINT NOT NULL,
    kid       TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (node, seq)
);

-- Where a node's chain starts once pruned (genesis when absent).
CREATE TABLE ledger_anchors (
    node TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- The public keys that sign checkpoints, for verification without the store.
CREATE TABLE ledger_keys (
    kid TEXT PRIMARY KEY,
    jwk TEXT NOT NULL
);
