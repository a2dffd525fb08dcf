-- AlterTable
ALTER TABLE "audit_entry" ADD COLUMN     "team" TEXT;

-- CreateTable
CREATE TABLE "application_owner" (
    "application_id" TEXT NOT NULL,
    "team" TEXT NOT NULL,
    "assigned_at" TIMESTAMPTZ(6) NOT NULL,
    "assigned_seq" BIGINT NOT NULL,
    "retired_at" TIMESTAMPTZ(6),
    "retired_seq" BIGINT,

    CONSTRAINT "application_owner_pkey" PRIMARY KEY ("application_id")
);

-- CreateIndex
CREATE INDEX "application_owner_team_idx" ON "application_owner"("team");

-- CreateIndex
CREATE INDEX "audit_entry_team_seq_idx" ON "audit_entry"("team", "seq");
