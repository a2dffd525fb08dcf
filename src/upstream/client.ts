import { rootCertificates } from 'node:tls';
import { Pool } from 'undici';
import { traceHeaders, withSpan } from '../tracing/tracing';
import type { Dispatcher } from 'undici';
import { badResponse, isRetryableForIdempotent, mapUpstreamFailure } from './failures';

export interface UpstreamRequest {
  method: string;
  /** Path below the configured base URL, starting with `/`. */
  path: string;
  query: Record<string, string>;
  body?: Record<string, unknown>;
  requestId: string;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  latencyMs: number;
}

export interface Upstream {
  forward(request: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  baseUrl: string;
  /** Read per request, so a rotated key is used at once. */
  developerKey: () => string;
  timeoutMs: number;
  connections: number;
  maxResponseBytes: number;
  userAgent?: string;
  /** PEM certificates trusted besides Node's own (UPSTREAM_CA_FILE). */
  ca?: string;
}

/** Response headers passed back to clients; everything else (Set-Cookie included) stays behind. */
const PASSED_RESPONSE_HEADERS = ['content-type', 'etag', 'last-modified', 'retry-after', 'content-language'];
const MAX_REDIRECTS = 3;

export function createUpstream(options: UpstreamOptions): Upstream {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  // No per-request header and body timers of undici's own: the one deadline in forward() bounds the whole exchange.
  const pool = new Pool(base.origin, {
    connections: options.connections,
    keepAliveTimeout: 4_000,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
    // Added to the public roots, not instead of them: the same setting works when the upstream's CA is public.
    ...(options.ca ? { connect: { ca: [...rootCertificates, options.ca] } } : {}),
  });

  async function send(method: string, path: string, body: string | undefined, requestId: string, signal: AbortSignal) {
    const headers: Record<string, string> = {
      authorization: `DeveloperKey ${options.developerKey()}`,
      accept: 'application/json',
      'accept-encoding': 'identity',
      'user-agent': options.userAgent ?? 'kloudless-management-gateway',
      'x-request-id': requestId,
      ...traceHeaders(),
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return pool.request({ method: method as Dispatcher.HttpMethod, path, headers, body, signal });
  }

  /** Follows redirects only within the upstream's own origin, so the key is never sent anywhere else. */
  async function exchange(request: UpstreamRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const query = new URLSearchParams(request.query).toString();
    const method = request.method;
    let path = `${basePath}${request.path}${query ? `?${query}` : ''}`;
    for (let hop = 0; ; hop++) {
      const response = await sendOnce(
        method,
        path,
        method === request.method ? body : undefined,
        request.requestId,
        signal,
      );
      const location = response.headers.location;
      if (response.statusCode < 300 || response.statusCode > 308 || typeof location !== 'string') return response;
      await response.body.dump();
      if (hop >= MAX_REDIRECTS)
        throw badResponse('too_many_redirects', 'The Management API redirected too many times.');
      const target = new URL(location, `${base.origin}${path}`);
      if (target.origin !== base.origin)
        throw badResponse(
          'cross_origin_redirect',
          'The Management API redirected to another origin; the key is not sent there.',
        );
      if (response.statusCode !== 307 && response.statusCode !== 308) {
        if (method !== 'GET')
          throw badResponse(
            'redirected_mutation',
            `The Management API redirected a ${method} with ${response.statusCode}.`,
          );
      }
      path = `${target.pathname}${target.search}`;
    }
  }

  async function sendOnce(
    method: string,
    path: string,
    body: string | undefined,
    requestId: string,
    signal: AbortSignal,
  ) {
    try {
      return await send(method, path, body, requestId, signal);
    } catch (err) {
      // A keep-alive socket the upstream closed just as it was reused: safe to resend a GET once.
      if (method !== 'GET' || !isRetryableForIdempotent(err) || signal.aborted) throw err;
      return send(method, path, body, requestId, signal);
    }
  }

  return {
    async forward(request) {
      const started = performance.now();
      // One deadline for the whole exchange. Not AbortSignal.timeout: its timer stays alive until it fires, so
      // every request would leave one behind for UPSTREAM_TIMEOUT_MS, to be promoted and collected by V8's
      // full collections (tens of thousands of them under load, and the pauses that come with them).
      const deadline = new AbortController();
      const timer = setTimeout(
        () => deadline.abort(new DOMException('The upstream deadline passed.', 'TimeoutError')),
        options.timeoutMs,
      );
      const signal = deadline.signal;
      let status: number | undefined;
      try {
        const response = await withSpan('gateway.upstream', () => exchange(request, signal));
        status = response.statusCode;
        const body = await readLimited(response.body, options.maxResponseBytes);
        // A 2xx that is not JSON (an intermediary's HTML page, a BOM, a JSONP prefix) is not the Management API's
        // answer, and API key values in it could not be masked: refused rather than relayed.
        if (status >= 200 && status < 300 && body.length > 0 && !isJson(body)) {
          throw badResponse('not_json', 'The Management API answered with a body that is not JSON.');
        }
        return { status, headers: pickHeaders(response.headers), body, latencyMs: performance.now() - started };
      } catch (err) {
        throw mapUpstreamFailure(err, signal.aborted, status);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => pool.close(),
  };
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw badResponse('response_too_large', `The Management API response exceeded ${limit} bytes.`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function pickHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_RESPONSE_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}
