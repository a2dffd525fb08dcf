import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors/codes';
import type { Upstream } from '../upstream/client';

/** An application as the upstream lists it; only `id` and `active` matter here, the rest is relayed as it came. */
export type ApplicationObject = Record<string, unknown> & { id: string };

export interface DirectorySnapshot {
  /** Every application upstream, in the upstream's own order, each once. */
  applications: ApplicationObject[];
  /** When the walk that made it started (ms, the directory's clock). */
  takenAt: number;
  /** Upstream requests the walk made. */
  requests: number;
}

/**
 * Every application upstream, walked page by page and kept for at most `maxAgeMs`, so a `team`-scoped list can be
 * filtered and paged by the gateway with consistent totals. One walk at a time is shared by every caller. A change
 * made through this instance invalidates it; a change made elsewhere shows within `maxAgeMs` plus one walk.
 */
export interface ApplicationDirectory {
  snapshot(): Promise<DirectorySnapshot>;
  invalidate(): void;
}

export interface DirectoryOptions {
  upstream: Upstream;
  maxAgeMs: number;
  clock?: () => number;
  /** The reference's largest page: fewest requests per walk. */
  pageSize?: number;
  /** Pages fetched at once after the first. */
  parallel?: number;
}

const MAX_PAGES = 1_000;

export function createApplicationDirectory({
  upstream,
  maxAgeMs,
  clock = Date.now,
  pageSize = 1000,
  parallel = 4,
}: DirectoryOptions): ApplicationDirectory {
  let generation = 0;
  let current: { generation: number; snapshot: DirectorySnapshot } | undefined;
  let walking: { generation: number; promise: Promise<DirectorySnapshot> } | undefined;

  async function fetchPage(page: number): Promise<{ total: number; objects: ApplicationObject[] }> {
    const response = await upstream.forward({
      method: 'GET',
      path: '/applications/',
      query: { page_size: String(pageSize), page: String(page) },
      requestId: `directory-${randomUUID()}`,
    });
    const parsed = response.status === 200 ? parsePage(response.body) : undefined;
    if (!parsed)
      throw new GatewayError('upstream_bad_response', 'The Management API did not list its applications.', [
        { reason: 'directory_walk_failed', upstream_status: response.status },
      ]);
    return parsed;
  }

  async function walk(): Promise<DirectorySnapshot> {
    const takenAt = clock();
    const first = await fetchPage(1);
    const pages = Math.min(MAX_PAGES, Math.ceil(first.total / pageSize));
    const rest: { objects: ApplicationObject[] }[] = [];
    for (let next = 2; next <= pages; next += parallel) {
      const batch = Array.from({ length: Math.min(parallel, pages - next + 1) }, (_, i) => fetchPage(next + i));
      rest.push(...(await Promise.all(batch)));
    }
    // Pages read while applications come and go can overlap: each application is kept once, where first seen.
    const seen = new Set<string>();
    const applications = [first, ...rest].flatMap((p) => p.objects).filter((a) => !seen.has(a.id) && seen.add(a.id));
    return { applications, takenAt, requests: pages };
  }

  return {
    snapshot() {
      if (current && current.generation === generation && clock() - current.snapshot.takenAt <= maxAgeMs)
        return Promise.resolve(current.snapshot);
      if (walking && walking.generation === generation) return walking.promise;
      const started = generation;
      const promise = walk()
        .then((snapshot) => {
          if (started === generation) current = { generation: started, snapshot };
          return snapshot;
        })
        .finally(() => {
          if (walking?.promise === promise) walking = undefined;
        });
      walking = { generation: started, promise };
      return promise;
    },
    invalidate() {
      generation++;
      current = undefined;
    },
  };
}

function parsePage(body: Buffer): { total: number; objects: ApplicationObject[] } | undefined {
  try {
    const page = JSON.parse(body.toString('utf8')) as { total?: unknown; objects?: unknown };
    if (typeof page.total !== 'number' || !Array.isArray(page.objects)) return undefined;
    const objects = page.objects.filter(
      (o): o is ApplicationObject => !!o && typeof o === 'object' && typeof (o as { id?: unknown }).id === 'string',
    );
    return { total: page.total, objects };
  } catch {
    return undefined;
  }
}
