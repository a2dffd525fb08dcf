-- Each key that has signed checkpoints of the transparency log, with the first and last checkpoint it signed
-- (issue 28): after a rotation of AUDIT_SIGNING_KEY, GET /v1/audit/public-key lists the earlier keys and their
-- periods. A row is written in the statement that stores a checkpoint (src/audit/log/tree-store.ts).
-- CreateTable
CREATE TABLE "audit_signing_key" (
    "verifier_key" TEXT NOT NULL,
    "origin" TEXT NOT NULL,
    "public_key" TEXT NOT NULL,
    "first_tree_size" BIGINT NOT NULL,
    "first_signed_at" TIMESTAMPTZ(6) NOT NULL,
    "last_tree_size" BIGINT NOT NULL,
    "last_signed_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "audit_signing_key_pkey" PRIMARY KEY ("verifier_key")
);

-- A key's record only moves forward: its identity and first checkpoint never change, its last checkpoint only grows,
-- and no row is deleted (like the checkpoints themselves, migration *_audit_transparency_log_append_only).
CREATE OR REPLACE FUNCTION audit_signing_key_forward_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE'
     OR NEW.verifier_key IS DISTINCT FROM OLD.verifier_key
     OR NEW.origin IS DISTINCT FROM OLD.origin
     OR NEW.public_key IS DISTINCT FROM OLD.public_key
     OR NEW.first_tree_size IS DISTINCT FROM OLD.first_tree_size
     OR NEW.first_signed_at IS DISTINCT FROM OLD.first_signed_at
     OR NEW.last_tree_size < OLD.last_tree_size THEN
    RAISE EXCEPTION 'audit_signing_key only moves forward: % refused', TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER audit_signing_key_forward_only
  BEFORE UPDATE OR DELETE ON "audit_signing_key"
  FOR EACH ROW EXECUTE FUNCTION audit_signing_key_forward_only();
CREATE TRIGGER audit_signing_key_no_truncate
  BEFORE TRUNCATE ON "audit_signing_key"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
