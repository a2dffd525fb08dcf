-- The owner a request entry was decided on, checked in the statement that appends it (src/audit/store.ts, issue 26).
--
-- Ownership is held in memory by each instance (src/ownership/live.ts) and a change made elsewhere reaches it as a
-- notification, a moment after its commit. A mutation decided in that moment must not be forwarded: its request entry
-- carries the owner it was decided on, and the append inserts nothing if any such owner is no longer the application's
-- owner. This function takes the chain lock first, as audit_chain_head() does, so its query's snapshot (VOLATILE: one
-- of its own, after the lock) sees every ownership change, each of which commits under that lock; none can commit
-- until the append's transaction ends. It answers only the applications whose owner is not the expected one (team
-- null: no team owns it now).

CREATE OR REPLACE FUNCTION application_owner_moved(expected jsonb) RETURNS TABLE (application_id text, team text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7319004212);
  RETURN QUERY
    SELECT e.application_id, o.team
    FROM jsonb_to_recordset(expected) AS e(application_id text, team text)
    LEFT JOIN application_owner o ON o.application_id = e.application_id AND o.retired_at IS NULL
    WHERE o.team IS DISTINCT FROM e.team;
END;
$$;
