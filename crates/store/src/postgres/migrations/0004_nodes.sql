-- Migration 4: the fleet register. One row per node id, renewed at each
-- heartbeat by PostgreSQL's clock (the nodes' clocks never judge it);
-- `instance` tells a restart from a second process with the same id.
-- No version trigger: a heartbeat is not a change any node must reload for.
CREATE TABLE nodes (
    id            TEXT PRIMARY KEY,
    instance      TEXT NOT NULL,
    version       TEXT NOT NULL,
    config_digest TEXT NOT NULL,
    address       TEXT NOT NULL,
    started       TIMESTAMPTZ NOT NULL,
    heartbeat     TIMESTAMPTZ NOT NULL
);
