-- The chain's head read under the chain lock, in the statement that appends after it (src/audit/store.ts).
--
-- An append is one INSERT chained to the head the gateway last saw. Its snapshot is taken before the insert trigger
-- (*_audit_append_serialised) waits for the lock, so when another writer (a second worker or replica) committed
-- meanwhile, the insert only learns it from the primary key, and the group had to be appended again in a locked
-- transaction: five round trips more, on nearly every group once two processes write. This function takes the lock
-- first and then reads the head: VOLATILE, so its query takes a snapshot of its own, after the lock, which sees
-- every committed append. The INSERT that calls it compares that head with the one its entries were chained to and
-- inserts only on a match; on a mismatch it inserts nothing and returns the head, to chain to on the next try.
-- The lock is held until the transaction ends, as the trigger's is; taking it twice in one transaction is allowed.

CREATE OR REPLACE FUNCTION audit_chain_head() RETURNS TABLE (seq bigint, hash bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7319004212);
  RETURN QUERY SELECT e.seq, e.hash FROM audit_entry e ORDER BY e.seq DESC LIMIT 1;
END;
$$;
