import { availableParallelism } from 'node:os';

/** The most worker processes one gateway forks (WORKERS). */
export const MAX_WORKERS = 64;

/**
 * Start-up refusals of WORKERS, each with a stable code at the head of its line, so a deployment's tooling can
 * tell them apart from the rest of the list (docs/configuration.md, "Several workers").
 */
export const WORKERS_REFUSALS = {
  workers_invalid: 'WORKERS must be "auto" or a whole number from 1 to 64',
  // express-rate-limit's MemoryStore, the failed-auth counter and the upstream budget live in one process's memory:
  // with N workers each would let a person through N times their budget.
  workers_need_redis:
    'needs REDIS_URL: rate-limit counters in memory are per process, so each worker would allow the whole budget',
  // PGlite is one process's database in DATA_DIR: a second process cannot open it.
  workers_need_database_url: 'needs DATABASE_URL: the embedded database (PGlite) can be opened by one process only',
  // The local default's simulator keeps its applications in one process's memory, and its development IdP its sessions.
  workers_need_developer_key:
    "needs KLOUDLESS_DEVELOPER_KEY: the local default's simulator and development IdP live in one process",
} as const;

export type WorkersRefusal = keyof typeof WORKERS_REFUSALS;

const refusal = (code: WorkersRefusal, detail: string) => `[${code}] ${detail}`;

/** `auto` is the machine's available parallelism (its cores, or the CPUs this process may use), capped at 64. */
export function parseWorkers(text: string, problems: string[], cores = availableParallelism()): number {
  const value = text.trim().toLowerCase();
  if (value === 'auto') return Math.max(1, Math.min(MAX_WORKERS, cores));
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (n >= 1 && n <= MAX_WORKERS) return n;
  problems.push(refusal('workers_invalid', `${WORKERS_REFUSALS.workers_invalid}, not "${text}"`));
  return 1;
}

/** What several workers cannot share; the refusals name the setting that would make them possible. */
export function workersProblems(c: {
  workers: number;
  workersSetting: string;
  database: { url?: string };
  rateLimit: { redisUrl?: string };
  upstream: { developerKey?: string };
}): string[] {
  if (c.workers <= 1) return [];
  const what =
    c.workersSetting.trim().toLowerCase() === 'auto'
      ? `WORKERS=auto (${c.workers} on this machine)`
      : `WORKERS=${c.workers}`;
  const problems: string[] = [];
  const refuse = (code: WorkersRefusal, setting: string) =>
    problems.push(refusal(code, `${what} ${WORKERS_REFUSALS[code]} (set ${setting}, or WORKERS=1)`));
  if (!c.rateLimit.redisUrl) refuse('workers_need_redis', 'REDIS_URL');
  if (!c.database.url) refuse('workers_need_database_url', 'DATABASE_URL');
  if (!c.upstream.developerKey) refuse('workers_need_developer_key', 'KLOUDLESS_DEVELOPER_KEY');
  return problems;
}
