import { createClient, type RedisClientType } from 'redis';
import type { Logger } from 'pino';

export interface SharedCounters {
  /** Resolves once connected, or after `timeoutMs` (then requests follow RATE_LIMIT_STORE_FAILURE until it connects). */
  ready(timeoutMs: number): Promise<boolean>;
  /** rate-limit-redis's hook: one raw Redis command. */
  sendCommand(...args: string[]): Promise<unknown>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The Redis connection behind every instance's shared counters. Commands fail at once while it is
 * down (no offline queue), so a request is never held waiting for Redis; it reconnects by itself.
 */
export function connectRedis(url: string, logger: Logger): SharedCounters {
  const client: RedisClientType = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000) },
  });
  let healthy = true;
  client.on('error', (err: Error) => {
    if (healthy)
      logger.error(
        { err: { message: err.message } },
        'redis: connection lost; rate limits follow RATE_LIMIT_STORE_FAILURE',
      );
    healthy = false;
  });
  client.on('ready', () => {
    if (!healthy) logger.info('redis: connection restored');
    healthy = true;
  });
  const connecting = client.connect().then(
    () => true,
    () => false,
  );
  return {
    ready: (timeoutMs) =>
      Promise.race([
        connecting,
        new Promise<boolean>((resolve) => setTimeout(() => resolve(client.isReady), timeoutMs).unref()),
      ]),
    sendCommand: (...args) => client.sendCommand(args),
    async ping() {
      await client.ping();
    },
    // A connection that never came (Redis down since start-up) is still being retried: waiting for it would hold
    // shutdown for as long as Redis stays away. Connected: a graceful QUIT, bounded; otherwise the socket is dropped.
    async close() {
      if (client.isReady) {
        const quit = client.close().then(
          () => true,
          () => false,
        );
        const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref());
        if (await Promise.race([quit, timeout])) return;
      }
      if (client.isOpen) client.destroy();
      await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, 100).unref())]);
    },
  };
}
