-- Migration 3: every change that moves the store's version is also
-- announced on the `portcullis_store` channel, so every node's listener
-- learns of it at once (LISTEN/NOTIFY) instead of asking on each request.
-- Notifications are sent at commit, and one per transaction at most for
-- the same payload.

CREATE OR REPLACE FUNCTION portcullis_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('store_version');
    PERFORM pg_notify('portcullis_store', '');
    RETURN NULL;
END $$;
