import { connect } from 'node:net';

/**
 * Readiness asks only whether the upstream accepts TCP connections: a real Management call from
 * every probe would spend the shared key's quota. Results are kept briefly so probes stay cheap.
 */
export function upstreamReachable(
  baseUrl: string,
  cacheMs = 5_000,
  timeoutMs = 2_000,
): { name: string; check(): Promise<void> } {
  const url = new URL(baseUrl);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  let last: { at: number; error?: Error } | undefined;
  const probe = () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port, timeout: timeoutMs });
      socket.once('connect', () => (socket.end(), resolve()));
      socket.once(
        'timeout',
        () => (socket.destroy(), reject(new Error(`no connection to ${url.host} within ${timeoutMs} ms`))),
      );
      socket.once('error', (err) =>
        reject(new Error(`cannot connect to ${url.host}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)),
      );
    });
  return {
    name: 'upstream',
    async check() {
      if (!last || Date.now() - last.at > cacheMs) {
        const error = await probe().then(
          () => undefined,
          (err: Error) => err,
        );
        last = { at: Date.now(), error };
      }
      if (last.error) throw last.error;
    },
  };
}
