-- CreateTable
CREATE TABLE "browser_sessions" (
    "id_hash" TEXT NOT NULL,
    "sub" TEXT NOT NULL,
    "principal" JSONB NOT NULL,
    "id_token" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "browser_sessions_pkey" PRIMARY KEY ("id_hash")
);

-- CreateIndex
CREATE INDEX "browser_sessions_expires_at_idx" ON "browser_sessions"("expires_at");
