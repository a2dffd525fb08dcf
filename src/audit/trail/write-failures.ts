import { isDatabaseTimeout } from '../../db/errors';

/** Audit writes are bounded in time: a hung database must never hold a request (Vault's known failure mode). */

export class AuditTimeout extends Error {
  override name = 'AuditTimeout';
}

/** The entry's caller stopped waiting before its group commit sent it: it was dropped, never written. */
export class AuditDropped extends AuditTimeout {
  override name = 'AuditDropped';
}

/** The store stopped waiting for the group this entry was in before it was written: it is not retried. */
export class AuditGroupAbandoned extends AuditTimeout {
  override name = 'AuditGroupAbandoned';
}

/** More entries wait for a group commit than the store keeps (AUDIT_QUEUE_LIMIT): refused at once, never queued. */
export class AuditQueueFull extends Error {
  override name = 'AuditQueueFull';
}

/**
 * An entry that had to commit did not (queue full, out of time, failed): whatever it records must not happen. The
 * web layer answers it as 503 audit_unavailable with `reason` (src/http/error-handler.ts).
 */
export class AuditUnavailable extends Error {
  override name = 'AuditUnavailable';

  constructor(
    readonly reason: 'audit_queue_full' | 'audit_write_timeout' | 'audit_write_failed',
    options?: ErrorOptions,
  ) {
    super(`the audit entry was not committed (${reason})`, options);
  }

  static from(err: unknown): AuditUnavailable {
    const reason =
      err instanceof AuditQueueFull
        ? 'audit_queue_full'
        : isTimeout(err)
          ? 'audit_write_timeout'
          : 'audit_write_failed';
    return new AuditUnavailable(reason, { cause: err });
  }
}

/** The write ran out of time, ours or the database's (classified by class and code, never by message). */
export function isTimeout(err: unknown): boolean {
  return err instanceof AuditTimeout || isDatabaseTimeout(err);
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AuditTimeout(`audit write took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An error as logged: its name, code and last message line (Prisma's messages run to many lines). */
export function describe(err: unknown): { name?: string; message?: string; code?: unknown } {
  const e = err as { name?: string; message?: string; code?: unknown };
  return { name: e?.name, message: e?.message?.split('\n').filter(Boolean).slice(-1)[0], code: e?.code };
}
