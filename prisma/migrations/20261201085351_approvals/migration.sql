-- AlterTable
ALTER TABLE "audit_entry" ADD COLUMN     "approval_id" TEXT;

-- CreateTable
CREATE TABLE "approval_request" (
    "id" UUID NOT NULL,
    "operation" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "query" JSONB NOT NULL,
    "body" JSONB,
    "input_hash" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "application_id" TEXT,
    "team" TEXT,
    "requester_sub" TEXT NOT NULL,
    "requester_email" TEXT,
    "requester_name" TEXT,
    "requester_roles" TEXT[],
    "requester_teams" TEXT[],
    "reason" TEXT,
    "state" TEXT NOT NULL,
    "approvals_needed" INTEGER NOT NULL,
    "approver_roles" TEXT[],
    "created_at" TIMESTAMPTZ(6) NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "ended_at" TIMESTAMPTZ(6),
    "claimed_at" TIMESTAMPTZ(6),
    "pending_key" TEXT,
    "ended_by" TEXT,
    "end_reason" TEXT,
    "result_status" INTEGER,
    "result_body" TEXT,
    "result_error" TEXT,

    CONSTRAINT "approval_request_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "approval_vote" (
    "approval_id" UUID NOT NULL,
    "approver_sub" TEXT NOT NULL,
    "approver_email" TEXT,
    "approver_name" TEXT,
    "reason" TEXT,
    "at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "approval_vote_pkey" PRIMARY KEY ("approval_id","approver_sub")
);

-- CreateIndex
CREATE UNIQUE INDEX "approval_request_pending_key_key" ON "approval_request"("pending_key");

-- CreateIndex
CREATE INDEX "approval_request_state_expires_at_idx" ON "approval_request"("state", "expires_at");

-- CreateIndex
CREATE INDEX "approval_request_requester_sub_created_at_idx" ON "approval_request"("requester_sub", "created_at");

-- CreateIndex
CREATE INDEX "audit_entry_approval_id_seq_idx" ON "audit_entry"("approval_id", "seq");

-- AddForeignKey
ALTER TABLE "approval_vote" ADD CONSTRAINT "approval_vote_approval_id_fkey" FOREIGN KEY ("approval_id") REFERENCES "approval_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
