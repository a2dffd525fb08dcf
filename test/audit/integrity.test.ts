import { verify as verifySignature, createPublicKey } from 'node:crypto';
import { BACKENDS } from '../helpers/database';
import { allEntries, resetTrail, tableAsText, tamper } from '../helpers/audit';
import { parseCheckpointBody, parseVkey, verifyNote } from '../../src/audit/log/note';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';

describe.each(BACKENDS)('audit integrity on %s', (backend) => {
  let h: Harness;
  let auditor: string;
  beforeAll(async () => {
    h = await startHarness({ backend });
    auditor = tokenFor('auditor', 'aud');
  }, 30_000);
  afterAll(async () => h.close());
  // Each test starts from the same three audited mutations (six entries) on an emptied trail (and log).
  beforeEach(async () => {
    await resetTrail(h);
    for (let i = 0; i < 3; i++) {
      await h
        .api()
        .post(`/v1/applications/${APP}/webhooks`)
        .set('Authorization', `Bearer ${tokenFor('admin')}`)
        .send({ url: `https://hooks.example.com/${i}` });
    }
  });

  const verify = (query = '') => h.api().get(`/v1/audit/verify${query}`).set('Authorization', `Bearer ${auditor}`);

  test('when nobody tampered, then verify reports ok with the head of the chain', async () => {
    const res = await verify();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, entries: 6, last_sequence: '6' });
    expect(res.body.last_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test('when the database refuses to change audit rows, then UPDATE, DELETE and TRUNCATE all fail', async () => {
    const prisma = h.gateway.database.prisma;
    await expect(
      prisma.$executeRawUnsafe(`UPDATE audit_entry SET actor_sub = 'mallory' WHERE seq = 1`),
    ).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe('DELETE FROM audit_entry WHERE seq = 2')).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe('TRUNCATE audit_entry')).rejects.toThrow(/append-only/);
    expect(await allEntries(h)).toHaveLength(6);
  });

  test('when a row is edited, then verify names it as modified', async () => {
    await tamper(h, `UPDATE audit_entry SET actor_sub = 'someone-else' WHERE seq = 3`);
    expect((await verify()).body).toMatchObject({
      ok: false,
      first_bad_sequence: '3',
      problem: 'modified',
      entries: 2,
    });
  });

  test('when a row is deleted, then verify reports the missing sequence', async () => {
    await tamper(h, 'DELETE FROM audit_entry WHERE seq = 4');
    expect((await verify()).body).toMatchObject({ ok: false, first_bad_sequence: '4', problem: 'missing' });
  });

  test('when a forged row is inserted into the middle, then verify names it as inserted', async () => {
    await tamper(
      h,
      'UPDATE audit_entry SET seq = seq + 1000 WHERE seq >= 3',
      'UPDATE audit_entry SET seq = seq - 999 WHERE seq >= 1003',
      `INSERT INTO audit_entry SELECT 3, at, kind, event_id, request_id, 'forger', actor_name, actor_email, actor_roles, actor_jti, actor_issuer, client_ip, user_agent, operation, method, path, application_id, webhook_id, apikey_fingerprint, request_body, details, decision, reason, outcome, upstream_status, error_code, latency_ms, fingerprints, key_id, hash FROM audit_entry WHERE seq = 2`,
    );
    expect((await verify()).body).toMatchObject({ ok: false, first_bad_sequence: '3', problem: 'inserted' });
  });

  const signCheckpoint = async () =>
    (await h.api().post('/v1/audit/checkpoint').set('Authorization', `Bearer ${auditor}`).expect(200)).text;
  // The JSON checkpoint of before (deprecated): still served for `Accept: application/json`, still accepted by verify.
  const legacyCheckpoint = async () =>
    (
      await h
        .api()
        .get('/v1/audit/checkpoint')
        .set('Authorization', `Bearer ${auditor}`)
        .set('Accept', 'application/json')
        .expect(200)
    ).body;

  test('when the newest entries are removed after a checkpoint, then verify reports truncation', async () => {
    const note = await signCheckpoint();
    expect(parseCheckpointBody(parseVkeyNote(note)).size).toBe(6);
    await tamper(h, 'DELETE FROM audit_entry WHERE seq > 4');
    expect((await verify()).body).toMatchObject({ ok: false, problem: 'truncated', first_bad_sequence: '5' });
  });

  test('when the newest entries are removed, then verifying against a kept legacy JSON checkpoint reports truncation', async () => {
    const checkpoint = await legacyCheckpoint();
    expect(checkpoint.sequence).toBe('6');
    await tamper(h, 'DELETE FROM audit_entry WHERE seq > 4');
    const res = await verify(`?checkpoint=${checkpoint.token}`);
    expect(res.body).toMatchObject({ ok: false, problem: 'truncated' });
  });

  test('when a legacy checkpoint is verified on an intact chain, then it is confirmed; a forged one is refused', async () => {
    const checkpoint = await legacyCheckpoint();
    expect((await verify(`?checkpoint=${checkpoint.token}`)).body).toMatchObject({
      ok: true,
      checkpoint: { sequence: checkpoint.sequence, verified: true },
    });
    const forged = `${Buffer.from(JSON.stringify({ sequence: '2', hash: '00', time: checkpoint.time, key_id: checkpoint.key_id })).toString('base64url')}.${checkpoint.signature}`;
    expect((await verify(`?checkpoint=${forged}`)).body).toMatchObject({ ok: false, problem: 'bad_checkpoint' });
  });

  test('when a reviewer checks a checkpoint offline, then the published Ed25519 key verifies its signature', async () => {
    const note = await signCheckpoint();
    const key = (await h.api().get('/v1/audit/public-key').set('Authorization', `Bearer ${auditor}`).expect(200)).body;
    expect(verifyNote(note, [parseVkey(key.verifier_key)]).signedBy).toEqual([key.origin]);
    expect(() => verifyNote(note.replace('\n6\n', '\n5\n'), [parseVkey(key.verifier_key)])).toThrow(/does not verify/);
    const c = await legacyCheckpoint();
    const payload = Buffer.from(JSON.stringify({ sequence: c.sequence, hash: c.hash, time: c.time, key_id: c.key_id }));
    expect(verifySignature(null, payload, createPublicKey(c.public_key), Buffer.from(c.signature, 'base64url'))).toBe(
      true,
    );
  });

  const parseVkeyNote = (note: string) => note.slice(0, note.lastIndexOf('\n\n') + 1);

  test('when the chain is re-hashed by someone without the key, then verify still fails', async () => {
    await tamper(h, `UPDATE audit_entry SET actor_sub = 'x', hash = sha256(hash) WHERE seq = 5`);
    expect((await verify()).body).toMatchObject({ ok: false, first_bad_sequence: '5' });
  });

  test('when the trail is verified or checkpointed, then that access is itself recorded', async () => {
    await verify();
    const entries = await allEntries(h);
    expect(entries.at(-1)).toMatchObject({
      kind: 'access',
      operation: 'audit.verify',
      actorSub: 'aud',
      details: { checkpoint: false, ok: true },
    });
  });

  test('when a viewer or editor asks to verify, then 403', async () => {
    for (const role of ['viewer', 'editor']) {
      const res = await h
        .api()
        .get('/v1/audit/verify')
        .set('Authorization', `Bearer ${tokenFor(role)}`);
      expect(res.status).toBe(403);
      expect(res.body.error.details[0]).toMatchObject({
        reason: 'no_role_grants_permission',
        permission: 'audit.read',
      });
    }
  });

  test('when a reviewer holds a leaked key, then lookup-key finds every entry where it appeared', async () => {
    const created = await h
      .api()
      .post(`/v1/applications/${APP}/apikeys`)
      .set('Authorization', `Bearer ${tokenFor('admin')}`);
    const key = created.body.key as string;
    await h
      .api()
      .delete(`/v1/applications/${APP}/apikeys/${key}`)
      .set('Authorization', `Bearer ${tokenFor('admin')}`);
    const res = await h.api().post('/v1/audit/lookup-key').set('Authorization', `Bearer ${auditor}`).send({ key });
    expect(res.status).toBe(200);
    expect(res.body.fingerprint).toBe(h.deps.audit.keys.fingerprint(key));
    expect(res.body.entries.map((e: { operation: string; kind: string }) => `${e.operation}/${e.kind}`)).toEqual([
      'apikeys.create/response',
      'apikeys.delete/request',
      'apikeys.delete/response',
    ]);
    expect(await tableAsText(h)).not.toContain(key);
  });
});
