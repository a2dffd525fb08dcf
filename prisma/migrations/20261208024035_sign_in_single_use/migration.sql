-- Issue 24: the ID token is no longer kept at rest (it was never used: logout sends client_id, not id_token_hint);
-- used sign-in transactions are recorded so a copied sign-in cookie completes no second sign-in;
-- "sign out everywhere" finds a person's sessions by sub.
-- AlterTable
ALTER TABLE "browser_sessions" DROP COLUMN "id_token";

-- CreateTable
CREATE TABLE "sign_in_used" (
    "state_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "sign_in_used_pkey" PRIMARY KEY ("state_hash")
);

-- CreateIndex
CREATE INDEX "sign_in_used_expires_at_idx" ON "sign_in_used"("expires_at");

-- CreateIndex
CREATE INDEX "browser_sessions_sub_idx" ON "browser_sessions"("sub");
