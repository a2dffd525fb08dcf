import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { MemoryStore, rateLimit, type Options, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { Config } from '../config/load';
import { budgetOf, type Policy } from '../policy/policy';
import type { SharedCounters } from './redis';
import { redisCounterStore } from './redis-store';
import { createFailedAuthLimiter, type FailedAuthLimiter } from './failed-auth';
import { budgetExhausted, countersUnavailable } from './refusals';
import { createTokenEndpointBudget, type TokenEndpointBudget } from './token-endpoint';
import { createUpstreamBudget, type BudgetInfo, type UpstreamBudget } from './upstream-budget';
import { personKey } from '../auth/person';

export interface Limiters {
  /** Around authentication: requests without a valid token, per client address. */
  unauthenticated: FailedAuthLimiter;
  /** After the operation is known: the caller's own read or write budget, keyed by `sub`. */
  perPrincipal: RequestHandler;
  /** Before each sign-in code exchange: the identity provider's token endpoint, across everyone and every instance. */
  tokenEndpoint: TokenEndpointBudget;
  /** Just before forwarding: the shared DeveloperKey's budget, across everyone and every instance. */
  upstream: UpstreamBudget;
  /** The budget's draft-8 headers, on a response the budget was taken for. */
  upstreamHeaders(res: Response, info: BudgetInfo): void;
}

type Counter = 'reads' | 'writes' | 'unauthenticated' | 'upstream' | 'token_endpoint';

/**
 * Counters live in Redis when REDIS_URL is set, so every instance enforces one limit; otherwise in
 * memory (one instance). When the counters cannot be reached, RATE_LIMIT_STORE_FAILURE decides per
 * request: by default reads pass unlimited and mutations are refused with 503 rate_limit_unavailable,
 * because an unmetered burst of mutations is worse than a pause.
 */
export function createLimiters(config: Config, policy: () => Policy, logger: Logger, redis?: SharedCounters): Limiters {
  const rl = config.rateLimit;
  // The catalogue row's class; a path that names no action is metered by its method.
  const isWrite = (res: Response) => res.locals.action?.mutates ?? res.locals.mutatesByMethod ?? false;
  const passesWhenStoreFails = (res: Response) =>
    rl.onStoreFailure === 'open' || (rl.onStoreFailure === 'open-reads' && !isWrite(res));

  const storeFor = (counter: Counter): Store =>
    redis ? redisCounterStore(redis, `${rl.redisPrefix}rl:${counter}:`) : new MemoryStore();
  const limiter = (counter: Counter, options: Partial<Options>): RequestHandler => {
    const store = storeFor(counter);
    const windowMs = counter === 'upstream' ? 1000 : rl.windowS * 1000;
    const headers = draft8Headers(counter, windowMs);
    const middleware = rateLimit({
      windowMs,
      // The draft-8 headers are written by `headers` below, as express-rate-limit writes them, with the partition
      // key's hash worked out once per key instead of a SHA-256 per response.
      standardHeaders: false,
      legacyHeaders: false,
      identifier: counter,
      store: failingLoudly(store),
      passOnStoreError: false,
      handler: (req, res) => {
        const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
        if (info) headers(res, info);
        throw budgetExhausted(counter, info?.resetTime, 1000);
      },
      ...options,
    });
    // express-rate-limit hands store errors to `next`; they are answered here by the failure policy.
    return (req: Request, res: Response, next: NextFunction) =>
      middleware(req, res, (err?: unknown) => {
        if (err === undefined) {
          const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
          if (info) headers(res, info);
          return next();
        }
        if (!(err instanceof StoreUnavailable)) return next(err);
        if (passesWhenStoreFails(res)) return next();
        next(countersUnavailable(logger, counter, err));
      });
  };
  const bySub = (_req: Request, res: Response) => (res.locals.principal ? personKey(res.locals.principal) : '');
  const budget = (kind: 'reads' | 'writes', fallback: number) => (_req: Request, res: Response) =>
    budgetOf(policy(), res.locals.principal?.roles ?? [], kind, fallback);

  const reads = limiter('reads', { limit: budget('reads', rl.reads), keyGenerator: bySub });
  const writes = limiter('writes', { limit: budget('writes', rl.writes), keyGenerator: bySub });
  return {
    // Its budget is not advertised on every response; a limited client still gets Retry-After.
    unauthenticated: createFailedAuthLimiter({
      store: storeFor('unauthenticated'),
      limit: rl.unauthenticated,
      signInFailuresRecorded: rl.signInFailuresRecorded,
      windowMs: rl.windowS * 1000,
      passesWhenStoreFails: rl.onStoreFailure !== 'closed',
      logger,
    }),
    tokenEndpoint: createTokenEndpointBudget({
      store: storeFor('token_endpoint'),
      perMinute: rl.tokenEndpointPerMinute,
      passesWhenStoreFails: rl.onStoreFailure !== 'closed',
      logger,
    }),
    perPrincipal: (req, res, next) => (isWrite(res) ? writes(req, res, next) : reads(req, res, next)),
    upstream: createUpstreamBudget({
      store: failingLoudly(storeFor('upstream')),
      perSecond: rl.upstreamPerSecond,
      passesWhenStoreFails: (mutates) =>
        rl.onStoreFailure === 'open' || (rl.onStoreFailure === 'open-reads' && !mutates),
      logger,
    }),
    upstreamHeaders: (() => {
      const write = draft8Headers('upstream', 1000);
      return (res: Response, info: BudgetInfo) => write(res, { ...info, key: 'developer-key' });
    })(),
  };
}

/** What express-rate-limit leaves on the request once it has counted it. */
interface RateLimitInfo {
  limit: number;
  remaining: number;
  resetTime?: Date;
  key: string;
}

const PARTITION_KEYS_KEPT = 10_000;

/**
 * The IETF draft-8 `RateLimit` and `RateLimit-Policy` headers exactly as express-rate-limit 8 writes them
 * (`"<name>"; r=<remaining>; t=<reset s>` and `"<name>"; q=<limit>; w=<window s>; pk=:<partition key>:`), where the
 * partition key is base64 of the first 12 hex digits of the SHA-256 of the counter's key. The key is the caller's
 * `sub` (or the one upstream budget), so each is hashed once and remembered (a bounded map, cleared when full).
 * Written here, not by the library, because the upstream budget is a counter of ours that has no express-rate-limit
 * middleware to write them; remembering the key saves ~4.6 µs a read (bench/lab/micro.ts), about 1%: kept because the
 * writer is needed anyway and the map is a few lines.
 */
function draft8Headers(name: string, windowMs: number): (res: Response, info: RateLimitInfo) => void {
  const windowSeconds = Math.ceil(windowMs / 1000);
  const partitionKeys = new Map<string, string>();
  const partitionKey = (key: string) => {
    let pk = partitionKeys.get(key);
    if (pk === undefined) {
      pk = Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
      if (partitionKeys.size >= PARTITION_KEYS_KEPT) partitionKeys.clear();
      partitionKeys.set(key, pk);
    }
    return pk;
  };
  return (res, info) => {
    if (res.headersSent) return;
    const reset = info.resetTime
      ? Math.max(0, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000))
      : windowSeconds;
    res.append('RateLimit', `"${name}"; r=${info.remaining}; t=${reset}`);
    res.append('RateLimit-Policy', `"${name}"; q=${info.limit}; w=${windowSeconds}; pk=:${partitionKey(info.key)}:`);
  };
}

class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
}

/** Marks the store's own failures, so they are told apart from everything else a limiter can throw. */
function failingLoudly(store: Store): Store {
  const increment = store.increment.bind(store);
  store.increment = (key) =>
    Promise.resolve(increment(key)).catch((err: unknown) => {
      throw new StoreUnavailable((err as Error)?.message ?? 'rate limit store failed');
    });
  return store;
}
