import type { Logger } from 'pino';
import type { Approval } from './store';

export type ApprovalEvent = 'approval.requested' | 'approval.ended';

export interface Bypass {
  by: string;
  operation: string;
  target: string;
  team: string | null;
  reason: string;
}

export interface Notifier {
  /** Never throws and never waits for the receiver: a failed notification is logged and retried a bounded number of times. */
  notify(event: ApprovalEvent, approval: Approval): void;
  /** Break-glass: someone ran a guarded operation without approval. */
  notifyBypass(bypass: Bypass): void;
  /** Resolves once every notification in flight has been delivered or given up (for shutdown and tests). */
  idle(): Promise<void>;
}

export interface NotifierOptions {
  url?: string;
  logger: Logger;
  attempts?: number;
  /** Delay before the second attempt, doubled after each failure. */
  backoffMs?: number;
  timeoutMs?: number;
}

/** People notice pending requests: a POST to APPROVAL_NOTIFY_URL (Slack-compatible `text`), no secrets, no body values. */
export function createNotifier({
  url,
  logger,
  attempts = 3,
  backoffMs = 500,
  timeoutMs = 5_000,
}: NotifierOptions): Notifier {
  const inFlight = new Set<Promise<void>>();
  async function deliver(message: unknown, id: string): Promise<void> {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(url as string, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        logger.warn({ approval_id: id, status: res.status, attempt }, 'approval notification refused by the receiver');
      } catch (err) {
        logger.warn(
          { approval_id: id, err: { name: (err as Error).name, message: (err as Error).message }, attempt },
          'approval notification failed',
        );
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
    }
    logger.error({ approval_id: id, attempts }, 'approval notification given up');
  }
  const send = (message: unknown, id: string) => {
    if (!url) return;
    const sending = deliver(message, id).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };
  return {
    notify: (event, approval) => send(notificationFor(event, approval), approval.id),
    notifyBypass: (b) =>
      send(
        {
          text: `BREAK-GLASS: ${b.by} ran ${b.operation} on ${b.target} without approval (reason: ${b.reason}).`,
          event: 'approval.bypassed',
          bypass: { by: b.by, operation: b.operation, target: b.target, team: b.team, reason: b.reason },
        },
        'break-glass',
      ),
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export function notificationFor(event: ApprovalEvent, a: Approval) {
  const who = a.requester.name ?? a.requester.sub;
  const text =
    event === 'approval.requested'
      ? `${who} asks to run ${a.operation} on ${a.target}: ${a.approvalsNeeded} approval(s) needed before ${a.expiresAt.toISOString()}${a.reason ? ` (reason: ${a.reason})` : ''}. Approval ${a.id}.`
      : `Approval ${a.id} for ${a.operation} on ${a.target} ended: ${a.state}.`;
  return {
    text,
    event,
    approval: {
      id: a.id,
      state: a.state,
      operation: a.operation,
      target: a.target,
      team: a.team,
      requested_by: a.requester.sub,
      approvals_needed: a.approvalsNeeded,
      approved_by: a.votes.map((v) => v.approverSub),
      expires_at: a.expiresAt.toISOString(),
      result_status: a.result.status,
    },
  };
}
