-- CreateIndex
CREATE INDEX "audit_entry_webhook_id_seq_idx" ON "audit_entry"("webhook_id", "seq");

-- CreateIndex
CREATE INDEX "audit_entry_outcome_seq_idx" ON "audit_entry"("outcome", "seq");

-- CreateIndex
CREATE INDEX "audit_entry_decision_seq_idx" ON "audit_entry"("decision", "seq");
