import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** An HTTP request with exact bytes and headers (repeated ones included), for inputs supertest would normalise. */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: [string, string][],
  body?: Buffer,
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  // With headers given as a raw list, Node adds neither Host nor Content-Length.
  const all: [string, string][] = [['Host', url.host], ...headers];
  if (body) all.push(['Content-Length', String(body.length)]);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers: all.flat() as unknown as Record<string, string> },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
