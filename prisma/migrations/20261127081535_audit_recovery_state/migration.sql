-- CreateTable
CREATE TABLE "audit_recovery_state" (
    "id" INTEGER NOT NULL,
    "checked_until" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "audit_recovery_state_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_entry_kind_at_idx" ON "audit_entry"("kind", "at");
