import { Prisma, type PrismaClient } from '../../generated/prisma/client';

/** What a reviewer can filter events by; every field narrows the result (AND). */
export interface EventFilter {
  actor?: string;
  operation?: string;
  /** Any target id: the application, a webhook, or an application created by the event. */
  applicationId?: string;
  decision?: 'allowed' | 'denied';
  outcome?: string;
  requestId?: string;
  since?: string;
  until?: string;
  keyFingerprint?: string;
  kind?: 'mutation' | 'decision' | 'access' | 'system' | 'approval';
  /** The owning team recorded with the event. */
  team?: string;
  /** A team-scoped reader sees only events about applications its teams owned at the time. */
  teamsIn?: readonly string[];
  /** Every entry of one approval request: its lifecycle and its execution. */
  approvalId?: string;
}

export type Order = 'asc' | 'desc';

/**
 * One call as reviewers think of it: the entry that opened it (request, decision, access, system) joined
 * with its response entry, if any. `sequence` is the opening entry's, which is what orders and pages events.
 */
export interface AuditEvent {
  sequence: bigint;
  eventId: string;
  time: string;
  completedAt: string | null;
  kind: 'mutation' | 'decision' | 'access' | 'system' | 'approval';
  requestId: string;
  clientRequestId: string | null;
  actor: {
    sub: string | null;
    name: string | null;
    email: string | null;
    roles: string[];
    jti: string | null;
    issuer: string | null;
  };
  client: { ip: string | null; userAgent: string | null };
  operation: string | null;
  method: string | null;
  path: string | null;
  target: { applicationId: string | null; webhookId: string | null; apikeyFingerprint: string | null };
  decision: string | null;
  reason: string | null;
  outcome: string | null;
  upstreamStatus: number | null;
  errorCode: string | null;
  latencyMs: number | null;
  team: string | null;
  approvalId: string | null;
  /** The request's OpenTelemetry trace, when tracing was on (`details.trace_id` of its opening entry). */
  traceId: string | null;
  entrySequences: bigint[];
}

const AT = (alias: string) => Prisma.raw(`to_char(${alias}.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

// The response entry of an event, if any (LATERAL: at most one row per event, whatever happened).
const EVENTS = Prisma.sql`
  SELECT h.seq, h.event_id::text AS event_id, ${AT('h')} AS at, h.kind, h.request_id, h.client_request_id, h.actor_sub, h.actor_name, h.actor_email,
         h.actor_roles, h.actor_jti, h.actor_issuer, h.client_ip, h.user_agent, h.operation, h.method, h.path,
         COALESCE(r.application_id, h.application_id) AS application_id, COALESCE(r.webhook_id, h.webhook_id) AS webhook_id,
         COALESCE(r.apikey_fingerprint, h.apikey_fingerprint) AS apikey_fingerprint, h.decision, h.reason,
         COALESCE(r.outcome, h.outcome, CASE WHEN h.kind = 'request' THEN 'pending' END) AS outcome,
         r.upstream_status, COALESCE(r.error_code, h.error_code) AS error_code, r.latency_ms, r.seq AS response_seq, r.at_text AS completed_at,
         h.approval_id, h.details->>'trace_id' AS trace_id, h.team AS team -- the owner when the call was made (a transfer's response entry names the new one)
  FROM audit_entry h
  LEFT JOIN LATERAL (
    SELECT s.seq, ${AT('s')} AS at_text, s.application_id, s.webhook_id, s.apikey_fingerprint, s.outcome, s.upstream_status,
           s.error_code, s.latency_ms, s.fingerprints
    FROM audit_entry s WHERE s.event_id = h.event_id AND s.kind = 'response' ORDER BY s.seq LIMIT 1
  ) r ON true`;

/**
 * The opening entries of the events some entry matches `match` (a condition on an entry `e`): opening entries that
 * match, and the request entries whose response matches. Postgres finds these through an index on what `match`
 * tests, where the condition on the joined response row forced a lateral join per entry of the trail (issue 18,
 * finding 3: `outcome=upstream_timeout` on 153k entries took 7–9 s; 1M entries: 1.2 s, 4–6 s for a target or a
 * fingerprint). The exact condition stays in the WHERE clause; this only narrows where it is tested.
 */
const openedBy = (match: (alias: string) => Prisma.Sql) => Prisma.sql`h.seq IN (
    SELECT e.seq FROM audit_entry e WHERE ${match('e')} AND e.kind <> 'response'
    UNION ALL
    SELECT q.seq FROM audit_entry e JOIN audit_entry q ON q.event_id = e.event_id AND q.kind = 'request' WHERE ${match('e')} AND e.kind = 'response')`;

function conditions(f: EventFilter): Prisma.Sql[] {
  const where: Prisma.Sql[] = [Prisma.sql`h.kind <> 'response'`];
  if (f.actor) where.push(Prisma.sql`h.actor_sub = ${f.actor}`);
  if (f.operation) where.push(Prisma.sql`h.operation = ${f.operation}`);
  if (f.applicationId) {
    const id = f.applicationId;
    where.push(
      openedBy((e) => Prisma.sql`(${Prisma.raw(e)}.application_id = ${id} OR ${Prisma.raw(e)}.webhook_id = ${id})`),
    );
    where.push(
      Prisma.sql`(h.application_id = ${f.applicationId} OR h.webhook_id = ${f.applicationId} OR r.application_id = ${f.applicationId} OR r.webhook_id = ${f.applicationId})`,
    );
  }
  if (f.decision) where.push(Prisma.sql`h.decision = ${f.decision}`);
  // `success` is most of a trail: read in sequence order, a page of them is found at once, and the index would
  // list half the trail first (1M entries: 0.04 s against 0.8 s). Every other outcome is rare: the index finds it.
  if (f.outcome && f.outcome !== 'pending' && f.outcome !== 'success')
    where.push(openedBy((e) => Prisma.sql`${Prisma.raw(e)}.outcome = ${f.outcome}`));
  if (f.outcome === 'pending')
    where.push(
      Prisma.sql`h.kind = 'request' AND NOT EXISTS (SELECT 1 FROM audit_entry p WHERE p.event_id = h.event_id AND p.kind = 'response')`,
    );
  if (f.outcome)
    where.push(
      Prisma.sql`COALESCE(r.outcome, h.outcome, CASE WHEN h.kind = 'request' THEN 'pending' END) = ${f.outcome}`,
    );
  if (f.requestId) where.push(Prisma.sql`h.request_id = ${f.requestId}`);
  if (f.since) where.push(Prisma.sql`h.at >= ${f.since}::timestamptz`);
  if (f.until) where.push(Prisma.sql`h.at < ${f.until}::timestamptz`);
  if (f.keyFingerprint) {
    const fp = f.keyFingerprint;
    where.push(openedBy((e) => Prisma.sql`${Prisma.raw(e)}.fingerprints @> ARRAY[${fp}]::text[]`));
    where.push(
      Prisma.sql`(h.fingerprints @> ARRAY[${f.keyFingerprint}]::text[] OR r.fingerprints @> ARRAY[${f.keyFingerprint}]::text[])`,
    );
  }
  if (f.kind) where.push(Prisma.sql`h.kind = ${f.kind === 'mutation' ? 'request' : f.kind}`);
  // The opening entry's team: the owner when the call was made (a transfer's response names the new owner).
  if (f.approvalId) where.push(Prisma.sql`h.approval_id = ${f.approvalId}`);
  if (f.team) where.push(Prisma.sql`h.team = ${f.team}`);
  if (f.teamsIn)
    where.push(f.teamsIn.length > 0 ? Prisma.sql`h.team IN (${Prisma.join([...f.teamsIn])})` : Prisma.sql`false`);
  return where;
}

/** One page of events in sequence order, after `afterSeq` (exclusive) in that order. */
export async function findEvents(
  prisma: PrismaClient,
  filter: EventFilter,
  order: Order,
  limit: number,
  afterSeq?: bigint,
): Promise<AuditEvent[]> {
  const where = conditions(filter);
  if (afterSeq !== undefined)
    where.push(order === 'desc' ? Prisma.sql`h.seq < ${afterSeq}` : Prisma.sql`h.seq > ${afterSeq}`);
  const rows = await prisma.$queryRaw<
    Row[]
  >`${EVENTS} WHERE ${Prisma.join(where, ' AND ')} ORDER BY h.seq ${Prisma.raw(order === 'desc' ? 'DESC' : 'ASC')} LIMIT ${limit}`;
  return rows.map(toEvent);
}

/** The event an entry (any of its entries) belongs to. */
export async function findEventOf(prisma: PrismaClient, seq: bigint): Promise<AuditEvent | undefined> {
  const rows = await prisma.$queryRaw<
    Row[]
  >`${EVENTS} WHERE h.kind <> 'response' AND h.event_id = (SELECT event_id FROM audit_entry WHERE seq = ${seq}) ORDER BY h.seq LIMIT 1`;
  return rows[0] ? toEvent(rows[0]) : undefined;
}

type Row = Record<string, unknown>;
const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const KINDS: Record<string, AuditEvent['kind']> = {
  request: 'mutation',
  decision: 'decision',
  access: 'access',
  system: 'system',
  approval: 'approval',
};

function toEvent(r: Row): AuditEvent {
  const sequence = BigInt(r.seq as bigint);
  return {
    sequence,
    eventId: r.event_id as string,
    time: r.at as string,
    completedAt: text(r.completed_at),
    kind: KINDS[r.kind as string] ?? 'system',
    requestId: r.request_id as string,
    clientRequestId: text(r.client_request_id),
    actor: {
      sub: text(r.actor_sub),
      name: text(r.actor_name),
      email: text(r.actor_email),
      roles: (r.actor_roles as string[] | null) ?? [],
      jti: text(r.actor_jti),
      issuer: text(r.actor_issuer),
    },
    client: { ip: text(r.client_ip), userAgent: text(r.user_agent) },
    operation: text(r.operation),
    method: text(r.method),
    path: text(r.path),
    target: {
      applicationId: text(r.application_id),
      webhookId: text(r.webhook_id),
      apikeyFingerprint: text(r.apikey_fingerprint),
    },
    decision: text(r.decision),
    reason: text(r.reason),
    outcome: text(r.outcome),
    upstreamStatus: num(r.upstream_status),
    errorCode: text(r.error_code),
    latencyMs: num(r.latency_ms),
    team: text(r.team),
    approvalId: text(r.approval_id),
    traceId: text(r.trace_id),
    entrySequences:
      r.response_seq === null || r.response_seq === undefined
        ? [sequence]
        : [sequence, BigInt(r.response_seq as bigint)],
  };
}
