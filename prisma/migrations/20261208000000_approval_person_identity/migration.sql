-- A person is (issuer, subject) (issue 23): two trusted issuers may hand out the same `sub` to different people.
-- Requests, votes and who ended a request carry the issuer beside the subject; rows from before have the unnamed
-- issuer ('', a token without `iss`), which is what every comparison treated them as.
ALTER TABLE "approval_request" ADD COLUMN "requester_issuer" TEXT NOT NULL DEFAULT '';
ALTER TABLE "approval_request" ADD COLUMN "ended_by_issuer" TEXT;

-- A vote keeps the approver's roles and teams as they were, so that an execution can decide again whether each
-- counted approver may still approve the request under the policy and ownership of the moment it runs.
ALTER TABLE "approval_vote" ADD COLUMN "approver_issuer" TEXT NOT NULL DEFAULT '';
ALTER TABLE "approval_vote" ADD COLUMN "approver_roles" TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE "approval_vote" ADD COLUMN "approver_teams" TEXT[] NOT NULL DEFAULT '{}';
-- The canonical email (NFC, trimmed, lower case; src/auth/person.ts): two accounts with one address are one voter.
ALTER TABLE "approval_vote" ADD COLUMN "approver_email_key" TEXT;

ALTER TABLE "approval_vote" DROP CONSTRAINT "approval_vote_pkey";
ALTER TABLE "approval_vote" ADD CONSTRAINT "approval_vote_pkey" PRIMARY KEY ("approval_id", "approver_issuer", "approver_sub");
CREATE UNIQUE INDEX "approval_vote_approval_id_approver_email_key_key" ON "approval_vote" ("approval_id", "approver_email_key");

-- Lists filter before they limit, newest first with a cursor (created_at, id): an index for that order.
CREATE INDEX "approval_request_created_at_id_idx" ON "approval_request" ("created_at" DESC, "id" DESC);
