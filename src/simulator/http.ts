import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Error codes in the shape of Kloudless's Core API errors. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export const badRequest = (message: string) => new ApiError('bad_request', message);
export const notFound = (message: string) => new ApiError('not_found', message);

export interface ErrorBody {
  status_code: number;
  error_code: string;
  message: string;
  id: string;
}

export function errorBody(status: number, code: string, message: string, requestId: string): ErrorBody {
  return { status_code: status, error_code: code, message, id: requestId };
}

export function sendError(res: ServerResponse, error: ApiError, requestId: string): void {
  sendJson(res, error.status, errorBody(error.status, error.code, error.message, requestId), error.headers);
}

/** An undefined body answers with no body at all (204, redirects). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  if (body === undefined) {
    res.writeHead(status, { ...headers, 'content-length': 0 }).end();
    return;
  }
  sendRaw(res, status, Buffer.from(JSON.stringify(body)), headers);
}

export function sendRaw(res: ServerResponse, status: number, payload: Buffer, headers: OutgoingHttpHeaders = {}): void {
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers, 'content-length': payload.length })
    .end(payload);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export type ParsedBody = { ok: true; value: unknown } | { ok: false };

/** An empty body parses to undefined; anything else must be JSON, whatever the Content-Type says. */
export function parseJsonBody(raw: string): ParsedBody {
  if (raw.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Splits the request target without normalising it, so the record shows exactly what was sent. */
export function splitTarget(url: string | undefined): { path: string; query: Record<string, string> } {
  const target = url ?? '/';
  const mark = target.indexOf('?');
  if (mark === -1) return { path: target, query: {} };
  return { path: target.slice(0, mark), query: Object.fromEntries(new URLSearchParams(target.slice(mark + 1))) };
}

/** `Authorization: DeveloperKey <key>`; the scheme is case-insensitive as in RFC 9110. */
export function checkDeveloperKey(header: string | undefined, developerKey: string): ApiError | undefined {
  const challenge = { 'www-authenticate': 'DeveloperKey' };
  if (!header) return new ApiError('unauthorized', 'Authentication credentials were not provided.', challenge);
  const match = /^DeveloperKey[ \t]+(\S+)[ \t]*$/i.exec(header);
  const given = Buffer.from(match?.[1] ?? '');
  const expected = Buffer.from(developerKey);
  if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
  return new ApiError('unauthorized', 'Invalid DeveloperKey.', challenge);
}

export function isAbsoluteHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
