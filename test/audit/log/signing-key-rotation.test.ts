import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startHarness, type Harness } from '../../helpers/harness';
import { createTestDatabase, DEFAULT_BACKEND, type TestDatabase } from '../../helpers/database';
import { tokenFor } from '../../helpers/tokens';
import { parseVkey, verifyNote } from '../../../src/audit/log/note';

/**
 * Rotating AUDIT_SIGNING_KEY (docs/operations.md, Rotation without downtime): the replicas restart with a new key on
 * the same trail; checkpoints signed before stay verifiable with the old key, which GET /v1/audit/public-key keeps
 * listing with the checkpoints it signed, and the log's first checkpoint under the new key extends the old tree.
 */
const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const ROOT = join(__dirname, '../../..');
const run = promisify(execFile);
const newKey = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

interface KeyListing {
  verifier_key: string;
  origin: string;
  current: boolean;
  first_checkpoint: { tree_size: number; signed_at: string } | null;
  last_checkpoint: { tree_size: number; signed_at: string } | null;
}

describe('rotating the audit log signing key', () => {
  let database: TestDatabase;
  let h: Harness | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'gw-rotation-'));
  const auditor = tokenFor('auditor', 'aud');
  const get = (path: string) => (h as Harness).api().get(path).set('Authorization', `Bearer ${auditor}`);
  const mutate = (i: number) =>
    (h as Harness)
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${tokenFor('admin')}`)
      .send({ url: `https://hooks.example.com/${i}` })
      .expect(201);
  const sign = async () =>
    (await (h as Harness).api().post('/v1/audit/checkpoint').set('Authorization', `Bearer ${auditor}`).expect(200))
      .text;
  const sizeOf = (note: string) => Number(note.split('\n')[1]);
  const save = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const verify = (...args: string[]) =>
    run('npx', ['tsx', 'scripts/audit-verify.ts', ...args], { cwd: ROOT }).then(
      ({ stdout }) => ({ code: 0, out: stdout }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
    );

  beforeAll(async () => {
    database = await createTestDatabase(DEFAULT_BACKEND);
  });
  afterAll(async () => {
    await h?.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when the key changes on the same trail, then the old checkpoints verify with the listed old key and the new tree extends the old', async () => {
    h = await startHarness({ database, env: { AUDIT_SIGNING_KEY: newKey() } });
    await mutate(1);
    const before = await sign();
    await mutate(2);
    const lastBefore = await sign();
    const oldListing = (await get('/v1/audit/public-key').expect(200)).body as {
      verifier_key: string;
      keys: KeyListing[];
    };
    expect(oldListing.keys).toEqual([
      expect.objectContaining({
        verifier_key: oldListing.verifier_key,
        current: true,
        last_checkpoint: expect.objectContaining({ tree_size: sizeOf(lastBefore) }),
      }),
    ]);
    // The log signs at start-up too (the empty tree, then each interval it grew): the key's first is at most ours.
    const firstOld = oldListing.keys[0]!.first_checkpoint!.tree_size;
    expect(firstOld).toBeLessThanOrEqual(sizeOf(before));
    await h.close();

    // The rotation: same database, same trail, a new signing key; nothing signed under it yet.
    h = await startHarness({ database, env: { AUDIT_SIGNING_KEY: newKey() } });
    const rotated = (await get('/v1/audit/public-key').expect(200)).body as {
      verifier_key: string;
      keys: KeyListing[];
    };
    expect(rotated.verifier_key).not.toBe(oldListing.verifier_key);
    expect(rotated.keys).toEqual([
      expect.objectContaining({ verifier_key: rotated.verifier_key, current: true }),
      expect.objectContaining({
        verifier_key: oldListing.verifier_key,
        current: false,
        first_checkpoint: expect.objectContaining({ tree_size: firstOld }),
        last_checkpoint: expect.objectContaining({ tree_size: sizeOf(lastBefore) }),
      }),
    ]);

    await mutate(3);
    const after = await sign();
    const [current, earlier] = (await get('/v1/audit/public-key').expect(200)).body.keys as KeyListing[];
    // The new key's period starts after the old one's ends (at start-up, if the tree had grown, or at our checkpoint).
    expect(current).toMatchObject({ current: true, last_checkpoint: { tree_size: sizeOf(after) } });
    expect(current!.first_checkpoint!.tree_size).toBeGreaterThan(sizeOf(lastBefore));
    expect(earlier).toMatchObject({ current: false, last_checkpoint: { tree_size: sizeOf(lastBefore) } });
    expect(Date.parse(earlier!.last_checkpoint!.signed_at)).toBeLessThanOrEqual(
      Date.parse(current!.first_checkpoint!.signed_at),
    );

    // Each checkpoint verifies with its own key, and only with it.
    const oldKey = parseVkey(earlier!.verifier_key);
    const newVkey = parseVkey(current!.verifier_key);
    expect(() => verifyNote(lastBefore, [oldKey])).not.toThrow();
    expect(() => verifyNote(after, [newVkey])).not.toThrow();
    expect(() => verifyNote(lastBefore, [newVkey])).toThrow();

    // The offline verifier: the kept checkpoint with the old key, the new one with the new key, one growing tree.
    const proof = save(
      'consistency.json',
      (await get(`/v1/audit/proof/consistency?from=${sizeOf(lastBefore)}&to=${sizeOf(after)}`).expect(200)).text,
    );
    const files = {
      old: save('old.txt', lastBefore),
      now: save('new.txt', after),
      oldKey: save('old-key.txt', earlier!.verifier_key),
      key: save('key.txt', current!.verifier_key),
    };
    const common = ['consistency', '--key', files.key, '--old', files.old, '--checkpoint', files.now, '--proof', proof];
    expect(await verify(...common, '--old-key', files.oldKey)).toMatchObject({
      code: 0,
      out: expect.stringMatching(/only grew/),
    });
    // Without the old key the kept checkpoint is not the new key's: refused, not passed.
    expect(await verify(...common)).toMatchObject({ code: 1, out: expect.stringMatching(/not signed by the log key/) });
  }, 90_000);
});
