import type { Request, Response } from 'express';

/** Content-Type values as Express's `res.set` writes them (a charset added to JSON and text), worked out once each. */
const normalisedTypes = new Map<string, string>();
const MAX_TYPES = 64;

/**
 * Answers with a body whose bytes, length and type the gateway already holds (an upstream answer), writing the
 * headers and the body straight to Node's response: the same bytes and headers `res.status().set().send()` writes,
 * without re-deriving them per response (`res.set` parses the Content-Type, `res.send` sniffs the body's type and
 * works out freshness). A conditional request (If-None-Match, If-Modified-Since) or a HEAD still goes through
 * `res.send`, which answers 304 or leaves the body out as before.
 */
export function sendKnown(
  req: Request,
  res: Response,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
): void {
  res.statusCode = status;
  for (const name in headers) {
    const value = headers[name] as string;
    if (name === 'content-type') res.setHeader('Content-Type', contentType(res, value));
    else res.setHeader(name, value);
  }
  res.setHeader('Cache-Control', 'no-store');
  if (status === 204 || status === 304) {
    res.end();
    return;
  }
  // Express's own rules for these: a HEAD has no body, a conditional request may be answered 304, a 205 has no body,
  // and a body without a type is sent as application/octet-stream.
  if (
    req.method === 'HEAD' ||
    req.headers['if-none-match'] !== undefined ||
    req.headers['if-modified-since'] !== undefined ||
    status === 205 ||
    headers['content-type'] === undefined
  ) {
    res.send(body);
    return;
  }
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

function contentType(res: Response, value: string): string {
  const known = normalisedTypes.get(value);
  if (known !== undefined) return known;
  res.set('Content-Type', value);
  const normalised = String(res.getHeader('Content-Type'));
  if (normalisedTypes.size >= MAX_TYPES) normalisedTypes.clear();
  normalisedTypes.set(value, normalised);
  return normalised;
}
