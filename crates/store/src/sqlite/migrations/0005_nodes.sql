-- Migration 5: the fleet register. One row per node id, renewed at each
-- heartbeat; `instance` tells a restart from a second process with the
-- same id. Times are Unix milliseconds by this host's clock.
CREATE TABLE nodes (
    id            TEXT PRIMARY KEY,
    instance      TEXT NOT NULL,
    version       TEXT NOT NULL,
    config_digest TEXT NOT NULL,
    address       TEXT NOT NULL,
    started_ms    INTEGER NOT NULL,
    heartbeat_ms  INTEGER NOT NULL
) STRICT;
