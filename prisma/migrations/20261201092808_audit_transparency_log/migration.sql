-- CreateTable
CREATE TABLE "audit_tree_node" (
    "level" SMALLINT NOT NULL,
    "idx" BIGINT NOT NULL,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "audit_tree_node_pkey" PRIMARY KEY ("level","idx")
);

-- CreateTable
CREATE TABLE "audit_log_state" (
    "id" INTEGER NOT NULL,
    "tree_size" BIGINT NOT NULL,
    "verified_size" BIGINT NOT NULL DEFAULT 0,
    "verified_root" BYTEA,
    "verified_hash" BYTEA,

    CONSTRAINT "audit_log_state_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_checkpoint" (
    "tree_size" BIGINT NOT NULL,
    "root" BYTEA NOT NULL,
    "note" TEXT NOT NULL,
    "signed_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "audit_checkpoint_pkey" PRIMARY KEY ("tree_size")
);

-- CreateTable
CREATE TABLE "audit_cosignature" (
    "tree_size" BIGINT NOT NULL,
    "witness" TEXT NOT NULL,
    "line" TEXT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "audit_cosignature_pkey" PRIMARY KEY ("tree_size","witness")
);

-- AddForeignKey
ALTER TABLE "audit_cosignature" ADD CONSTRAINT "audit_cosignature_tree_size_fkey" FOREIGN KEY ("tree_size") REFERENCES "audit_checkpoint"("tree_size") ON DELETE RESTRICT ON UPDATE CASCADE;
