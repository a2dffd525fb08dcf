import { keptEd25519KeyPem } from '../../src/secrets/kept';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuditKeys } from '../../src/audit/trail/keys';
import { composeGateway } from '../../src/compose';
import { loadConfig } from '../../src/config/load';
import { createLogger } from '../../src/http/logger';
import { allEntries } from '../helpers/audit';
import { createTestDatabase, DEFAULT_BACKEND, type TestDatabase } from '../helpers/database';
import { DEVELOPER_KEY, startHarness, type Harness } from '../helpers/harness';
import { LogCapture } from '../helpers/log-capture';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, tokenFor } from '../helpers/tokens';

/**
 * Rotating AUDIT_HMAC_KEY (issue 13, defect 7): the key that wrote an entry stays in the keyring (AUDIT_HMAC_KEYS),
 * so entries, fingerprints and checkpoints from before the rotation still verify and are still found; a gateway
 * that does not know the key of the newest entry refuses to start.
 */

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const OLD_KEY = 'rotation-test-old-audit-key-of-32-bytes-or-more';
const NEW_KEY = 'rotation-test-new-audit-key-of-32-bytes-or-more';
const STRANGER_KEY = 'rotation-test-unrelated-key-of-32-bytes-or-more';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(DEFAULT_BACKEND);
});
afterAll(async () => db.drop());

const admin = tokenFor('admin', 'rotation-admin');
const auditor = tokenFor('auditor', 'rotation-auditor');
const addWebhook = (h: Harness, secret: string) =>
  h
    .api()
    .post(`/v1/applications/${APP}/webhooks`)
    .set('Authorization', `Bearer ${admin}`)
    .send({ url: `https://hooks.example.com/r?token=${secret}` });
const lookUp = async (h: Harness, key: string) =>
  (await h.api().post('/v1/audit/lookup-key').set('Authorization', `Bearer ${auditor}`).send({ key })).body as {
    entries: { sequence: string }[];
  };

test('when AUDIT_HMAC_KEY is rotated with the old key kept in AUDIT_HMAC_KEYS_FILE, then the whole chain verifies, old checkpoints verify, old secrets are still found, and new entries are keyed with the new key', async () => {
  const before = await startHarness({ database: db, env: { AUDIT_HMAC_KEY: OLD_KEY } });
  let checkpoint: string;
  try {
    expect((await addWebhook(before, 'SECRET-BEFORE-ROTATION')).status).toBe(201);
    // The deprecated JSON checkpoint (issue 15 made the signed note the default): kept tokens still verify after a rotation.
    checkpoint = (
      await before
        .api()
        .get('/v1/audit/checkpoint')
        .set('Authorization', `Bearer ${auditor}`)
        .set('Accept', 'application/json')
    ).body.token;
  } finally {
    await before.close();
  }

  const keyFile = join(db.dataDir, 'older-audit-keys');
  writeFileSync(keyFile, `${OLD_KEY}\n`, { mode: 0o600 });
  const after = await startHarness({ database: db, env: { AUDIT_HMAC_KEY: NEW_KEY, AUDIT_HMAC_KEYS_FILE: keyFile } });
  try {
    expect((await addWebhook(after, 'SECRET-AFTER-ROTATION')).status).toBe(201);
    const entries = await allEntries(after);
    const keyIds = [...new Set(entries.map((e) => e.keyId))];
    expect(keyIds).toEqual([createAuditKeys(OLD_KEY).keyId, createAuditKeys(NEW_KEY).keyId]);

    const verify = await after.api().get('/v1/audit/verify').set('Authorization', `Bearer ${auditor}`);
    expect(verify.body).toMatchObject({ ok: true, entries: entries.length });
    const againstCheckpoint = await after
      .api()
      .get('/v1/audit/verify')
      .query({ checkpoint })
      .set('Authorization', `Bearer ${auditor}`);
    expect(againstCheckpoint.body).toMatchObject({ ok: true, checkpoint: { verified: true } });

    // Each secret is found whichever key fingerprinted it.
    expect((await lookUp(after, 'SECRET-BEFORE-ROTATION')).entries.length).toBeGreaterThan(0);
    expect((await lookUp(after, 'SECRET-AFTER-ROTATION')).entries.length).toBeGreaterThan(0);
  } finally {
    await after.close();
  }
}, 60_000);

test('when no configured key wrote the newest entry, then the gateway refuses to start and names the missing key id', async () => {
  // The trail the previous test left ends with entries NEW_KEY wrote; this gateway knows OLD_KEY and a stranger.
  const logs = new LogCapture();
  const config = loadConfig({
    NODE_ENV: 'test',
    KLOUDLESS_API_URL: 'http://127.0.0.1:9/v1',
    KLOUDLESS_DEVELOPER_KEY: DEVELOPER_KEY,
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    AUDIT_HMAC_KEY: STRANGER_KEY,
    AUDIT_HMAC_KEYS: OLD_KEY,
    AUDIT_SIGNING_KEY: keptEd25519KeyPem(db.dataDir, 'local-audit-signing-key.pem'),
    DATA_DIR: db.dataDir,
    ...(db.url ? { DATABASE_URL: db.url } : {}),
  });
  const started = composeGateway(config, createLogger('info', logs.stream));
  await expect(started).rejects.toThrow(`key id ${createAuditKeys(NEW_KEY).keyId}`);
  await expect(started).rejects.toThrow(/AUDIT_HMAC_KEYS/);
}, 30_000);
