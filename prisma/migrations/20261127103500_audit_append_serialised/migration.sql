-- Every insert into the audit trail takes the chain's advisory lock for the rest of its transaction, whoever
-- runs it. The gateway inserts an entry as seq = head + 1 chained to the head's hash, trusting the primary key
-- to refuse a seq another writer took first (then it reads the head again and retries). Taking the lock on
-- insert makes those retries terminate: a writer that holds the lock from before it reads the head (recovery,
-- and any append retried after a conflict) cannot be overtaken. The key is CHAIN_LOCK in src/audit/store.ts.

CREATE OR REPLACE FUNCTION audit_entry_serialise_appends() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7319004212);
  RETURN NULL;
END;
$$;

CREATE TRIGGER audit_entry_serialise_appends
  BEFORE INSERT ON "audit_entry"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_serialise_appends();
