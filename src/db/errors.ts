/**
 * What a database error is, read from its codes rather than its message: Postgres' SQLSTATE
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html) and the error kinds of Prisma's driver adapter.
 * Messages quote the values they refused, so matching their text misreads an entry that mentions "timeout".
 */

interface AdapterCause {
  kind?: string;
  code?: string;
  originalCode?: string;
}

/** The cause Prisma's driver adapter reports (`PrismaClientKnownRequestError.meta.driverAdapterError.cause`). */
function adapterCause(err: unknown): AdapterCause | undefined {
  const e = err as { meta?: { driverAdapterError?: { cause?: AdapterCause } }; name?: string; cause?: AdapterCause };
  return e?.meta?.driverAdapterError?.cause ?? (e?.name === 'DriverAdapterError' ? e.cause : undefined);
}

/** Prisma's own error code (`P2028` …), if any. */
export function prismaCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^P\d{4}$/.test(code) ? code : undefined;
}

/** The SQLSTATE Postgres answered with, through Prisma's adapter or from `pg` directly; undefined if it did not answer. */
export function sqlState(err: unknown): string | undefined {
  const cause = adapterCause(err);
  const fromAdapter = cause?.originalCode ?? cause?.code;
  if (fromAdapter) return fromAdapter;
  const e = err as { code?: unknown; severity?: unknown };
  return typeof e?.code === 'string' && typeof e.severity === 'string' && /^[0-9A-Z]{5}$/.test(e.code)
    ? e.code
    : undefined;
}

/** The driver adapter's kind of error (`ConnectionClosed`, `SocketTimeout`, `UniqueConstraintViolation` …). */
export function adapterErrorKind(err: unknown): string | undefined {
  return adapterCause(err)?.kind;
}

/** Network errors of `pg` itself (the migration runner's own client) when no Postgres answers. */
const UNREACHABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * No database answered: not reachable (the adapter's `DatabaseNotReachable`, a refused or reset connection), or one
 * that is starting or shutting down (SQLSTATE 57P03 cannot_connect_now, 57P01 admin_shutdown). Worth waiting for,
 * unlike a wrong password or a missing database.
 */
export function isDatabaseUnreachable(err: unknown): boolean {
  const kind = adapterErrorKind(err);
  const state = sqlState(err);
  const errno = (err as { code?: unknown })?.code;
  return (
    kind === 'DatabaseNotReachable' ||
    kind === 'ConnectionClosed' ||
    state === '57P03' ||
    state === '57P01' ||
    (typeof errno === 'string' && UNREACHABLE_ERRNOS.has(errno))
  );
}

/** A unique violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return (
    sqlState(err) === '23505' || adapterErrorKind(err) === 'UniqueConstraintViolation' || prismaCode(err) === 'P2002'
  );
}

/**
 * Postgres refused the statement for what it holds: a data exception (class 22), an integrity constraint (class 23)
 * or a program limit such as a row too large (class 54). Nothing was written and the connection is fine, so the same
 * statement without the offending row can succeed. Anything else (no answer, a lost connection, a timeout) says
 * nothing about the rows, and a commit may or may not have happened.
 */
export function isStatementRefused(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && ['22', '23', '54'].includes(state.slice(0, 2));
}

/** The database gave up waiting: lock_timeout (55P03), statement_timeout or a cancel (57014), an expired transaction (Prisma P2028), a socket timeout. */
export function isDatabaseTimeout(err: unknown): boolean {
  const state = sqlState(err);
  return (
    state === '55P03' || state === '57014' || prismaCode(err) === 'P2028' || adapterErrorKind(err) === 'SocketTimeout'
  );
}
