-- Every identity state change made through the store (CLI, admin API, the
-- watch), with who made it and why, until the gateway has written it to the
-- audit ledger (`recorded` = 1). An outbox: the CLI cannot write the ledger
-- a running gateway owns, so it leaves the event here for it.
CREATE TABLE state_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    identity TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    reason TEXT,
    recorded INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX state_changes_pending ON state_changes (recorded, seq);
