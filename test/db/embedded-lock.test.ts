import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir } from '../../src/db/embedded';

/**
 * The embedded database's data directory is held by one process at a time (proper-lockfile). A second starter is
 * refused with a clear message; a dead holder's lock is taken over once stale, and by one starter only.
 */
describe('the embedded data directory lock', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'gw-lock-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const dir = () => join(root, 'pglite');

  test('when the directory is held, then another starter is refused naming the way out; once released it can be taken', async () => {
    const release = await lockDataDir(dir(), { waitMs: 0 });
    await expect(lockDataDir(dir(), { waitMs: 0 })).rejects.toThrow(
      /is in use by another process; set DATABASE_URL to run several gateways/,
    );
    await release();
    const again = await lockDataDir(dir(), { waitMs: 0 });
    await again();
  });

  test('when a crashed holder left its lock, then it is taken over once stale, by exactly one of two starters', async () => {
    // What a killed process leaves: the lock, no longer refreshed.
    mkdirSync(dir(), { recursive: true });
    const lock = join(root, 'pglite.lockdir');
    mkdirSync(lock);
    const past = new Date(Date.now() - 60_000);
    utimesSync(lock, past, past);
    const starters = await Promise.allSettled([
      lockDataDir(dir(), { staleMs: 2_000, waitMs: 0 }),
      lockDataDir(dir(), { staleMs: 2_000, waitMs: 0 }),
    ]);
    expect(starters.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
    const won = starters.find((s) => s.status === 'fulfilled') as PromiseFulfilledResult<() => Promise<void>>;
    await won.value();
  });

  test('when the lock is live but younger than stale, then a starter waiting a while still does not take it', async () => {
    const release = await lockDataDir(dir(), { staleMs: 2_000 });
    await expect(lockDataDir(dir(), { staleMs: 2_000, waitMs: 600 })).rejects.toThrow(/in use by another process/);
    await release();
  });
});
