-- application_owner is a projection of the audit trail: it changes only here, in the transaction that inserts the
-- audit entry that says so, so an owner is never recorded without its entry nor an entry without its owner.
--   * a successful `applications.create` response entry assigns the created application to its `team`;
--   * a successful `ownership.assign` response entry assigns (or transfers) the application to its `team`;
--   * a successful `applications.delete` response entry retires the record (kept, no longer an owner).
-- Entries commit in sequence order under the chain lock, so replaying the trail in order rebuilds this table.

CREATE OR REPLACE FUNCTION audit_entry_apply_ownership() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.operation = 'applications.delete' THEN
    UPDATE application_owner SET retired_at = NEW.at, retired_seq = NEW.seq
      WHERE application_id = NEW.application_id AND retired_at IS NULL;
  ELSIF NEW.team IS NOT NULL THEN
    INSERT INTO application_owner (application_id, team, assigned_at, assigned_seq)
      VALUES (NEW.application_id, NEW.team, NEW.at, NEW.seq)
      ON CONFLICT (application_id) DO UPDATE
        SET team = EXCLUDED.team, assigned_at = EXCLUDED.assigned_at, assigned_seq = EXCLUDED.assigned_seq,
            retired_at = NULL, retired_seq = NULL;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER audit_entry_apply_ownership
  AFTER INSERT ON "audit_entry"
  FOR EACH ROW
  WHEN (NEW.kind = 'response' AND NEW.outcome = 'success' AND NEW.application_id IS NOT NULL
        AND NEW.operation IN ('applications.create', 'applications.delete', 'ownership.assign'))
  EXECUTE FUNCTION audit_entry_apply_ownership();
