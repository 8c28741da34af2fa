-- Migration 2: one number that moves whenever what the gateway keeps in
-- memory changes (identities but their last use, credentials, signing
-- keys, revocations, upstream credentials), so every node notices another's
-- change before it trusts its copy (`ChangeStore::data_version`). Recording
-- a use (`last_used`) does not move it: that happens on every request. A
-- sequence, not a row: cheap per changed row, and no row every node
-- updates (a rolled-back change still moves it: one reload more, never one
-- less).

CREATE SEQUENCE store_version;

CREATE FUNCTION portcullis_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('store_version');
    RETURN NULL;
END $$;

CREATE TRIGGER identities_inserted_or_deleted AFTER INSERT OR DELETE ON identities
    FOR EACH ROW EXECUTE FUNCTION portcullis_bump_version();
CREATE TRIGGER identities_changed AFTER UPDATE ON identities FOR EACH ROW
    WHEN ((OLD.kind, OLD.owner, OLD.environment, OLD.tags, OLD.scopes, OLD.state, OLD.expires)
          IS DISTINCT FROM (NEW.kind, NEW.owner, NEW.environment, NEW.tags, NEW.scopes, NEW.state, NEW.expires))
    EXECUTE FUNCTION portcullis_bump_version();
CREATE TRIGGER identities_truncated AFTER TRUNCATE ON identities
    FOR EACH STATEMENT EXECUTE FUNCTION portcullis_bump_version();
CREATE TRIGGER credentials_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON credentials
    FOR EACH STATEMENT EXECUTE FUNCTION portcullis_bump_version();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION portcullis_bump_version();
CREATE TRIGGER revoked_tokens_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON revoked_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION portcullis_bump_version();
CREATE TRIGGER upstream_credentials_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON upstream_credentials
    FOR EACH STATEMENT EXECUTE FUNCTION portcullis_bump_version();
