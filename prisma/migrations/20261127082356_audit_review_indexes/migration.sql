-- DropIndex
DROP INDEX "audit_entry_actor_sub_at_idx";

-- DropIndex
DROP INDEX "audit_entry_application_id_at_idx";

-- DropIndex
DROP INDEX "audit_entry_operation_at_idx";

-- CreateIndex
CREATE INDEX "audit_entry_actor_sub_seq_idx" ON "audit_entry"("actor_sub", "seq");

-- CreateIndex
CREATE INDEX "audit_entry_operation_seq_idx" ON "audit_entry"("operation", "seq");

-- CreateIndex
CREATE INDEX "audit_entry_application_id_seq_idx" ON "audit_entry"("application_id", "seq");
