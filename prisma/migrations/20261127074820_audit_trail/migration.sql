-- CreateTable
CREATE TABLE "audit_entry" (
    "seq" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL,
    "kind" TEXT NOT NULL,
    "event_id" UUID NOT NULL,
    "request_id" TEXT NOT NULL,
    "actor_sub" TEXT,
    "actor_name" TEXT,
    "actor_email" TEXT,
    "actor_roles" TEXT[],
    "actor_jti" TEXT,
    "actor_issuer" TEXT,
    "client_ip" TEXT,
    "user_agent" TEXT,
    "operation" TEXT,
    "method" TEXT,
    "path" TEXT,
    "application_id" TEXT,
    "webhook_id" TEXT,
    "apikey_fingerprint" TEXT,
    "request_body" JSONB,
    "details" JSONB,
    "decision" TEXT,
    "reason" TEXT,
    "outcome" TEXT,
    "upstream_status" INTEGER,
    "error_code" TEXT,
    "latency_ms" DOUBLE PRECISION,
    "fingerprints" TEXT[],
    "key_id" TEXT NOT NULL,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "audit_entry_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "audit_entry_event_id_idx" ON "audit_entry"("event_id");

-- CreateIndex
CREATE INDEX "audit_entry_actor_sub_at_idx" ON "audit_entry"("actor_sub", "at");

-- CreateIndex
CREATE INDEX "audit_entry_operation_at_idx" ON "audit_entry"("operation", "at");

-- CreateIndex
CREATE INDEX "audit_entry_application_id_at_idx" ON "audit_entry"("application_id", "at");

-- CreateIndex
CREATE INDEX "audit_entry_request_id_idx" ON "audit_entry"("request_id");

-- CreateIndex
CREATE INDEX "audit_entry_at_idx" ON "audit_entry"("at");

-- CreateIndex
CREATE INDEX "audit_entry_fingerprints_idx" ON "audit_entry" USING GIN ("fingerprints");
