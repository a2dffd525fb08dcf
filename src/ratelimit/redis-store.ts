import type { Options } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { SharedCounters } from './redis';

/**
 * rate-limit-redis loads its Lua scripts once, in `init`, and keeps the promise: with Redis down at start-up that
 * promise rejected unhandled (the gateway died with `ClientOfflineError` right after "gateway listening", issue 28),
 * and every later increment awaited the same rejected promise, so the counters never came back with Redis. Here a
 * script whose load failed is loaded again on the next use, and `init` never rejects.
 */
class ReloadingRedisStore extends RedisStore {
  override init(options: Options): Promise<void> {
    this.windowMs = options.windowMs;
    this.incrementScriptSha = this.loadIncrementScript();
    this.getScriptSha = this.loadGetScript();
    // Loaded again on first use if this fails; nothing waits on it here.
    this.incrementScriptSha.catch(() => undefined);
    this.getScriptSha.catch(() => undefined);
    return Promise.resolve();
  }

  override async increment(key: string) {
    this.incrementScriptSha = Promise.resolve(
      await loadedOr(this.incrementScriptSha, () => this.loadIncrementScript()),
    );
    return super.increment(key);
  }

  override async get(key: string) {
    this.getScriptSha = Promise.resolve(await loadedOr(this.getScriptSha, () => this.loadGetScript()));
    return super.get(key);
  }
}

/** The script's loaded SHA, or its load tried again (a rejection then is this request's store error). */
async function loadedOr(sha: Promise<string>, load: () => Promise<string>): Promise<string> {
  try {
    return await sha;
  } catch {
    return load();
  }
}

/** express-rate-limit's store for one counter, in the shared Redis, under `prefix`. */
export function redisCounterStore(redis: SharedCounters, prefix: string): RedisStore {
  return new ReloadingRedisStore({ sendCommand: (...args: string[]) => redis.sendCommand(...args) as never, prefix });
}
