-- Audit streaming (issue 25): bookkeeping beside the trail, never part of it.
--
-- One row per sink of AUDIT_SINKS: the sequence the sink has acknowledged up to, and the lease that lets one streamer
-- (across instances and workers) send to it. A streamer sends only while its lease runs, and renews it before every
-- batch; a lease not renewed (the holder crashed or lost the database) is taken over once it has run out.
CREATE TABLE "audit_sink_cursor" (
  "sink"          TEXT PRIMARY KEY,
  "acked_seq"     BIGINT NOT NULL DEFAULT 0,
  "lease_owner"   TEXT,
  "lease_until"   TIMESTAMPTZ(6),
  -- Set when the sink started failing, cleared when it has caught up: one `system` entry each, whoever holds the lease.
  "failing_since" TIMESTAMPTZ(6),
  "updated_at"    TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);

-- The background full verification (AUDIT_FULL_VERIFY_INTERVAL_S): one row, its lease (one instance walks at a
-- time) and the last result, which GET /v1/audit/verify shows as `last_full_verification`.
CREATE TABLE "audit_full_verification" (
  "id"                 INTEGER PRIMARY KEY,
  "lease_owner"        TEXT,
  "lease_until"        TIMESTAMPTZ(6),
  "at"                 TIMESTAMPTZ(6),
  "ok"                 BOOLEAN,
  "entries"            BIGINT,
  "last_sequence"      BIGINT,
  "first_bad_sequence" BIGINT,
  "problem"            TEXT,
  "message"            TEXT,
  "duration_ms"        DOUBLE PRECISION
);
INSERT INTO "audit_full_verification" ("id") VALUES (1);
