-- The audit trail is append-only, enforced by Postgres itself and not only by the gateway's code:
-- UPDATE, DELETE and TRUNCATE on audit_entry raise an error whoever runs them. (A superuser can still
-- disable triggers; the HMAC chain and signed checkpoints are what detect that. See README, "Audit trail".)

CREATE OR REPLACE FUNCTION audit_entry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_entry_no_update_or_delete
  BEFORE UPDATE OR DELETE ON "audit_entry"
  FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_change();

CREATE TRIGGER audit_entry_no_truncate
  BEFORE TRUNCATE ON "audit_entry"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_refuse_change();
