-- The transparency log's tree nodes and signed checkpoints are written once and never changed, like the trail
-- itself (migration *_audit_append_only): UPDATE, DELETE and TRUNCATE raise an error whoever runs them. A
-- superuser can still disable triggers; what catches that is a checkpoint kept elsewhere (a witness, a
-- reviewer), against which the tree's consistency proofs then fail. See docs/audit-format.md.

CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_tree_node_no_update_or_delete
  BEFORE UPDATE OR DELETE ON "audit_tree_node"
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_tree_node_no_truncate
  BEFORE TRUNCATE ON "audit_tree_node"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_checkpoint_no_update_or_delete
  BEFORE UPDATE OR DELETE ON "audit_checkpoint"
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate
  BEFORE TRUNCATE ON "audit_checkpoint"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- The tree starts empty; the gateway back-fills it from the trail at start-up (src/audit/log/integrate.ts).
INSERT INTO audit_log_state (id, tree_size) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
