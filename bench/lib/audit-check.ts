import { admin } from './services';

export interface AuditCheck {
  /** Mutations the load generator wrote to the wire (each with its own X-Request-Id). */
  sent: number;
  requestEntries: number;
  responseEntries: number;
  decisionEntries: number;
  /** Request ids sent that do not have exactly one request and one response entry. */
  incomplete: number;
  /** Request ids in the trail that the load generator never sent. */
  unexpected: number;
  ok: boolean;
}

/**
 * After a run of mutations, the trail must hold exactly one `request` and one `response` entry for each one
 * sent, and nothing else under the run's request ids (the X-Request-Id each mutation carried).
 */
export async function checkAuditEntries(databaseUrl: string, prefix: string, sentIds: Set<string>): Promise<AuditCheck> {
  const rows = await admin(databaseUrl, async (c) =>
    (
      // The load generator's X-Request-Id is kept as client_request_id; request_id is the gateway's own (issue 18).
      await c.query<{ request_id: string; requests: string; responses: string; decisions: string }>(
        `SELECT client_request_id AS request_id,
                count(*) FILTER (WHERE kind = 'request') AS requests,
                count(*) FILTER (WHERE kind = 'response') AS responses,
                count(*) FILTER (WHERE kind = 'decision') AS decisions
           FROM audit_entry WHERE client_request_id LIKE $1 GROUP BY client_request_id`,
        [`${prefix}%`],
      )
    ).rows,
  );
  const seen = new Map(rows.map((r) => [r.request_id, r]));
  let incomplete = 0;
  for (const id of sentIds) {
    const r = seen.get(id);
    if (!r || Number(r.requests) !== 1 || Number(r.responses) !== 1 || Number(r.decisions) !== 0) incomplete++;
  }
  const sum = (k: 'requests' | 'responses' | 'decisions') => rows.reduce((a, r) => a + Number(r[k]), 0);
  const unexpected = rows.filter((r) => !sentIds.has(r.request_id)).length;
  const check = { sent: sentIds.size, requestEntries: sum('requests'), responseEntries: sum('responses'), decisionEntries: sum('decisions'), incomplete, unexpected };
  return { ...check, ok: incomplete === 0 && unexpected === 0 && check.requestEntries === check.sent && check.responseEntries === check.sent };
}
