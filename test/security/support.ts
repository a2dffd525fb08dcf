import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { Client } from 'pg';
import { AUDIT_HMAC_KEY, type Harness } from '../helpers/harness';
export { inFlight, sleep, waitFor } from '../helpers/async';
export { simulatorApiKeys as apiKeyValues } from '../helpers/harness';
import { rawRequest, type RawResponse } from '../helpers/raw-request';
import { issuedTokens, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../helpers/tokens';

/** Helpers shared by test/security and test/faults (not a test file). */

export const APP = 'wSPk9y5D7p5o87k0ACGKxR';

/** What a client saw, kept for the leak check of tests that talk to a gateway process with fetch. */
export interface Seen {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** fetch that keeps every response (status, headers, body) in `seen`. */
export function recordingFetch(seen: Seen[]) {
  return async (url: string, init?: RequestInit): Promise<Seen> => {
    const res = await fetch(url, init);
    const out = { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() };
    seen.push(out);
    return out;
  };
}

/**
 * Throws if a secret appears in any response or log line: the DeveloperKey, every bearer token made in this
 * file, API key values (allowed only in a 2xx answer, where the caller created or listed them).
 */
export function assertNothingLeaked(opts: {
  developerKey: string;
  responses: Seen[];
  logs: string[];
  apiKeys?: string[];
  extra?: string[];
}): void {
  const apiKeys = opts.apiKeys ?? [];
  const secrets = [opts.developerKey, ...issuedTokens, ...apiKeys, ...(opts.extra ?? [])].filter((s) => s.length >= 8);
  const haystacks = [
    ...opts.logs.map((l) => ({ text: `log: ${l}`, ok2xx: false })),
    ...opts.responses.map((r) => ({
      text: `response ${r.status}: ${JSON.stringify(r.headers)} ${r.text}`,
      ok2xx: r.status >= 200 && r.status < 300,
    })),
  ];
  for (const secret of secrets) {
    const leak = haystacks.find((h) => h.text.includes(secret) && !(h.ok2xx && apiKeys.includes(secret)));
    if (leak) throw new Error(`secret ${secret.slice(0, 6)}… leaked in ${leak.text.slice(0, 200)}`);
  }
}

/** An HMAC-signed token with any header and claims, for what jsonwebtoken's sign() refuses to make. */
export function forgeHmac(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: Buffer | string,
): string {
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[String(header.alg)] ?? 'sha256';
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part(header)}.${part(payload)}`;
  const token = `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
  issuedTokens.push(token);
  return token;
}

/** Writes exact bytes on a fresh connection; resolves with everything read once the server closes it (or after `waitMs`). */
export function rawExchange(
  baseUrl: string,
  bytes: string | Buffer,
  waitMs = 2_000,
): Promise<{ text: string; closed: boolean }> {
  const { port, hostname } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

/** Settings for a gateway process (spawnGateway) in front of a test simulator, on a test database, keyed like the harness. */
export function processEnv(
  upstream: string,
  developerKey: string,
  databaseUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    KLOUDLESS_API_URL: upstream,
    KLOUDLESS_DEVELOPER_KEY: developerKey,
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    DATABASE_URL: databaseUrl,
    AUDIT_HMAC_KEY,
    RATE_LIMIT_READS: '100000',
    RATE_LIMIT_WRITES: '100000',
    RATE_LIMIT_UNAUTHENTICATED: '100000',
    ...extra,
  };
}

/** Every audit row of a database, oldest first, read as the superuser (for gateways running as processes). */
export async function auditRows(databaseUrl: string): Promise<
  {
    seq: string;
    kind: string;
    event_id: string;
    request_id: string;
    client_request_id: string | null;
    outcome: string | null;
    details: unknown;
  }[]
> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (
      await client.query(
        'SELECT seq::text, kind, event_id::text, request_id, client_request_id, outcome, details FROM audit_entry ORDER BY audit_entry.seq',
      )
    ).rows;
  } finally {
    await client.end();
  }
}

/** Rejects after `ms`, so a test fails (and its finally kills what it started) instead of hanging until jest gives up. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** rawRequest to the harness's gateway, with the answer kept for the harness's leak check (assertNoLeaks). */
export async function sendRaw(
  h: Harness,
  method: string,
  path: string,
  headers: [string, string][],
  body?: Buffer,
): Promise<RawResponse> {
  const res = await rawRequest(h.gatewayUrl, method, path, headers, body);
  h.responses.push({ status: res.status, headers: res.headers, text: res.text });
  return res;
}

/** rawExchange to the harness's gateway, with whatever came back kept for the leak check. */
export async function exchange(
  h: Harness,
  bytes: string | Buffer,
  waitMs?: number,
): Promise<{ text: string; closed: boolean }> {
  const out = await rawExchange(h.gatewayUrl, bytes, waitMs);
  h.responses.push({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(out.text)?.[1] ?? 0), headers: {}, text: out.text });
  return out;
}
