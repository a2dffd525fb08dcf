/** Audit writes are bounded in time: a hung database must never hold a request (Vault's known failure mode). */

export class AuditTimeout extends Error {
  override name = 'AuditTimeout';
}

export function isTimeout(err: unknown): boolean {
  return err instanceof AuditTimeout || /timed? ?out|Transaction API error/i.test((err as Error)?.message ?? '');
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
