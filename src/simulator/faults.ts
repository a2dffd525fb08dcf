import type { ServerResponse } from 'node:http';
import { errorBody, sendJson, sendRaw } from './http';
import type { Fault } from './types';

export type ImmediateFault = Exclude<Fault, { kind: 'delay' }>;

const KINDS = new Set(['delay', 'status', 'reset', 'reset-mid-body', 'garbage', 'oversized', 'redirect']);
const BODILESS_STATUSES = new Set([204, 304]);

/** Checks a fault from an untyped source (the control API); throws a TypeError saying what is wrong. */
export function parseFault(value: unknown): Fault | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError('a fault must be an object or null');
  const f = value as Record<string, unknown>;
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new TypeError(`fault ${what}`);
  };
  check(typeof f.kind === 'string' && KINDS.has(f.kind), `kind must be one of ${[...KINDS].join(', ')}`);
  check(f.times === undefined || (isInteger(f.times) && f.times >= 1), 'times must be a whole number of at least 1');
  check(f.match === undefined || isMatch(f.match), 'match must be { method?: string, pathPrefix?: string }');
  if (f.kind === 'delay')
    check(typeof f.ms === 'number' && f.ms >= 0 && Number.isFinite(f.ms), 'ms must be a number of at least 0');
  if (f.kind === 'status') {
    check(isInteger(f.status) && f.status >= 200 && f.status <= 599, 'status must be 200-599');
    check(f.headers === undefined || isStringRecord(f.headers), 'headers must map names to strings');
  }
  if (f.kind === 'oversized') check(isInteger(f.bytes) && f.bytes >= 2, 'bytes must be a whole number of at least 2');
  if (f.kind === 'redirect') {
    check(isInteger(f.status) && f.status >= 300 && f.status <= 399, 'status must be 300-399');
    check(typeof f.location === 'string' && f.location !== '', 'location must be a non-empty string');
  }
  return f as unknown as Fault;
}

/** The current fault and how many more requests it applies to. */
export class FaultSlot {
  private fault: Fault | null = null;
  private remaining = Infinity;

  get current(): Fault | null {
    return this.fault;
  }

  set(fault: Fault | null): void {
    this.fault = parseFault(fault);
    this.remaining = this.fault?.times ?? Infinity;
  }

  /** The fault this request gets, if any; counts the request against `times`. */
  take(method: string, path: string): Fault | undefined {
    const fault = this.fault;
    if (!fault || !matches(fault, method, path)) return undefined;
    this.remaining -= 1;
    if (this.remaining <= 0) this.fault = null;
    return fault;
  }
}

function matches(fault: Fault, method: string, path: string): boolean {
  const { match } = fault;
  if (match?.method !== undefined && match.method.toUpperCase() !== method.toUpperCase()) return false;
  return match?.pathPrefix === undefined || path.startsWith(match.pathPrefix);
}

/** Answers (or refuses to answer) the request the way the fault describes. */
export function writeFault(fault: ImmediateFault, res: ServerResponse, requestId: string): void {
  switch (fault.kind) {
    case 'status': {
      const fallback = errorBody(fault.status, 'simulated_fault', `Simulated ${fault.status} response.`, requestId);
      const body = BODILESS_STATUSES.has(fault.status) ? undefined : fault.body === undefined ? fallback : fault.body;
      return sendJson(res, fault.status, body, fault.headers);
    }
    case 'reset':
      // RST rather than FIN: the client sees ECONNRESET, as when a load balancer drops a connection.
      res.socket?.resetAndDestroy();
      return;
    case 'reset-mid-body':
      return writeHalfThenClose(res);
    case 'garbage':
      return sendRaw(res, 200, Buffer.from('<html><body><h1>502 Bad Gateway</h1></body></html>\n'));
    case 'oversized':
      return sendRaw(res, 200, jsonOfSize(fault.bytes));
    case 'redirect':
      return sendJson(res, fault.status, undefined, { location: fault.location });
  }
}

function writeHalfThenClose(res: ServerResponse): void {
  const payload = Buffer.from(
    JSON.stringify({ total: 1, count: 1, page: 1, objects: [{ id: '100', url: 'http://localhost:5000' }] }),
  );
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length });
  // Destroyed once the first half is flushed, so the client has the headers and a truncated body.
  res.write(payload.subarray(0, payload.length >> 1), () => res.socket?.destroy());
}

/** Valid JSON of exactly `bytes` bytes: an object with a padding string, or a bare string when tiny. */
export function jsonOfSize(bytes: number): Buffer {
  const [open, close] = bytes >= 14 ? ['{"padding":"', '"}'] : ['"', '"'];
  const payload = Buffer.alloc(bytes, 'x');
  payload.write(open, 0);
  payload.write(close, bytes - close.length);
  return payload;
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function isMatch(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { method, pathPrefix } = value as Record<string, unknown>;
  return (
    (method === undefined || typeof method === 'string') && (pathPrefix === undefined || typeof pathPrefix === 'string')
  );
}

function isStringRecord(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
