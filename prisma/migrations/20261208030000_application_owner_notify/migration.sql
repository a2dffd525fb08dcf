-- Every change to the ownership projection is announced on channel `application_owner` (issue 26), so each gateway
-- instance keeps the projection in memory and a team-scoped read needs no statement (src/ownership/live.ts).
--
-- NOTIFY is delivered when the transaction commits, and only if it commits, in commit order; the projection changes
-- only in the transaction of the audit entry that says so, under the chain lock, so notifications arrive in sequence
-- order. The payload is the row as it now stands; the entry that last changed it (retired_seq once retired, else
-- assigned_seq) lets a listener ignore a notification older than what it already read. A deleted row
-- (never done by the gateway) is announced with `deleted`.

CREATE OR REPLACE FUNCTION application_owner_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('application_owner', json_build_object('application_id', OLD.application_id, 'deleted', true)::text);
    RETURN NULL;
  END IF;
  PERFORM pg_notify('application_owner', json_build_object(
    'application_id', NEW.application_id,
    'team', NEW.team,
    'assigned_at', to_char(NEW.assigned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'assigned_seq', NEW.assigned_seq::text,
    'retired_seq', NEW.retired_seq::text
  )::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER application_owner_notify
  AFTER INSERT OR UPDATE OR DELETE ON "application_owner"
  FOR EACH ROW
  EXECUTE FUNCTION application_owner_notify();

-- A TRUNCATE (never done by the gateway; a test's or an operator's reset) is announced as `reset`: read it all again.
CREATE OR REPLACE FUNCTION application_owner_notify_reset() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('application_owner', '{"reset":true}');
  RETURN NULL;
END;
$$;

CREATE TRIGGER application_owner_notify_reset
  AFTER TRUNCATE ON "application_owner"
  FOR EACH STATEMENT
  EXECUTE FUNCTION application_owner_notify_reset();
