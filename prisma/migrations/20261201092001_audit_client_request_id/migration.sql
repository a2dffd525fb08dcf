-- AlterTable
ALTER TABLE "audit_entry" ADD COLUMN     "client_request_id" TEXT;
