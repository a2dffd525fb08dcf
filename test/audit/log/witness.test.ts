import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { allEntries, resetTrail, tamperWithLog } from '../../helpers/audit';
import { startHarness, type Harness } from '../../helpers/harness';
import { LogCapture } from '../../helpers/log-capture';
import { tokenFor } from '../../helpers/tokens';
import { checkCheckpoint, checkConsistency, RootBuilder, checkRebuilt } from '../../../src/audit/log/offline';
import { COSIGNATURE_V1, parseVkey, signerFor, type NoteVerifier } from '../../../src/audit/log/note';
import { pushCheckpoint } from '../../../src/audit/log/witness-push';
import { createWitness } from '../../../src/witness/server';
import { fileState, type WitnessState } from '../../../src/witness/state';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const RESET_LOG = [
  'TRUNCATE audit_tree_node, audit_cosignature, audit_checkpoint',
  'UPDATE audit_log_state SET tree_size = 0, verified_size = 0, verified_root = NULL, verified_hash = NULL',
];

/**
 * A database superuser rewrites history (triggers off) and, to hide it, rebuilds the log's tree from the
 * rewritten trail, so the gateway signs checkpoints of the new history. Each way of rewriting is caught by
 * a reviewer holding a checkpoint from before, and refused by the witness.
 */
const REWRITES: [string, string[]][] = [
  ['an entry edited', [`UPDATE audit_entry SET actor_sub = 'mallory' WHERE seq = 2`]],
  [
    'an entry deleted (and the rest renumbered)',
    [
      'DELETE FROM audit_entry WHERE seq = 3',
      'UPDATE audit_entry SET seq = seq + 1000 WHERE seq > 3',
      'UPDATE audit_entry SET seq = seq - 1001 WHERE seq > 1000',
    ],
  ],
  [
    'an entry inserted',
    [
      'UPDATE audit_entry SET seq = seq + 1000 WHERE seq >= 3',
      'UPDATE audit_entry SET seq = seq - 999 WHERE seq >= 1003',
      `INSERT INTO audit_entry SELECT (jsonb_populate_record(NULL::audit_entry, to_jsonb(e) || '{"seq": 3, "actor_sub": "forger"}')).* FROM audit_entry e WHERE seq = 2`,
    ],
  ],
  ['the newest entries truncated', ['DELETE FROM audit_entry WHERE seq > 4']],
];

describe('witnesses and the offline verifier against a database superuser', () => {
  let h: Harness;
  let witnessUrl: string;
  let close: () => Promise<void>;
  const witnessLogs = new LogCapture();
  const witnessKey = signerFor('witness.test/w1', generateKeyPairSync('ed25519').privateKey, COSIGNATURE_V1);
  const trustedLogs: NoteVerifier[] = [];
  // The witness's memory, swapped for a fresh one per case: each case is a log the witness meets for the first time.
  let state: WitnessState = fileState(join(mkdtempSync(join(tmpdir(), 'witness-')), 'state.json'));
  const stateProxy: WitnessState = { get: (o) => state.get(o), set: (o, r) => state.set(o, r) };
  const auditor = tokenFor('auditor', 'aud');
  const get = (path: string) => h.api().get(path).set('Authorization', `Bearer ${auditor}`);
  const mutate = (i: number) =>
    h
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${tokenFor('admin')}`)
      .send({ url: `https://hooks.example.com/${i}` })
      .expect(201);
  const sign = async () =>
    (await h.api().post('/v1/audit/checkpoint').set('Authorization', `Bearer ${auditor}`).expect(200)).text;

  beforeAll(async () => {
    const server = createWitness({
      signer: witnessKey,
      logs: trustedLogs,
      state: stateProxy,
      logger: pino({}, witnessLogs.stream),
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    witnessUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    close = () => new Promise((r) => server.close(() => r()));
    h = await startHarness({
      unowned: true,
      env: { AUDIT_WITNESS_URLS: witnessUrl, AUDIT_WITNESS_KEYS: witnessKey.vkey },
    });
    trustedLogs.push(parseVkey(h.deps.audit.log.identity.signer.vkey));
  }, 30_000);
  afterAll(async () => {
    await h.close();
    await close();
  });

  const policy = (minCosignatures: number) => ({
    log: trustedLogs[0] as NoteVerifier,
    witnesses: [parseVkey(witnessKey.vkey)],
    minCosignatures,
  });

  test('when the log grows honestly, then every checkpoint comes back cosigned and verifies offline with N=1 cosignature', async () => {
    await resetTrail(h);
    state = fileState(join(mkdtempSync(join(tmpdir(), 'witness-')), 'state.json'));
    await mutate(1);
    const first = checkCheckpoint(await sign(), policy(1));
    for (let i = 2; i < 5; i++) await mutate(i);
    const note = await sign();
    const second = checkCheckpoint(note, policy(1));
    expect(second.cosignedBy).toEqual(['witness.test/w1']);
    expect(second.size).toBeGreaterThan(first.size);
    expect((await get('/v1/audit/checkpoint').expect(200)).text).toBe(note);
    const proof = (await get(`/v1/audit/proof/consistency?from=${first.size}&to=${second.size}`).expect(200)).body
      .proof;
    expect(() => checkConsistency(first, second, proof)).not.toThrow();
  });

  test.each(REWRITES)(
    'when history is rewritten with %s, then the verifier refuses it from a kept checkpoint and the witness refuses to cosign, loudly',
    async (_label, rewrite) => {
      await resetTrail(h);
      state = fileState(join(mkdtempSync(join(tmpdir(), 'witness-')), 'state.json'));
      for (let i = 0; i < 3; i++) await mutate(i);
      const keptNote = await sign();
      const kept = checkCheckpoint(keptNote, policy(1));
      const keptExport = (await get(`/v1/audit/log/entries?to=${kept.size}`).expect(200)).text.trim().split('\n');
      const refusalsBefore = (await h.gateway.metrics.auditWitnessRefusals.get()).values.reduce(
        (n, v) => n + v.value,
        0,
      );

      await tamperWithLog(h, ...rewrite, ...RESET_LOG);
      await mutate(9);
      const rewritten = await sign();

      // The log key signed the rewritten history, but no witness cosigned it.
      const now = checkCheckpoint(rewritten, policy(0));
      expect(() => checkCheckpoint(rewritten, policy(1))).toThrow(/0 trusted cosignature/);
      // The reviewer's kept checkpoint does not extend to it, whatever proof the gateway serves.
      const from = Math.min(kept.size, now.size);
      const proof = (await get(`/v1/audit/proof/consistency?from=${from}&to=${now.size}`).expect(200)).body.proof;
      expect(() => checkConsistency(kept, now, proof)).toThrow(/rewritten|shrank/);
      // The export kept with the old checkpoint still rebuilds exactly the old root: the reviewer's evidence holds.
      const builder = new RootBuilder();
      keptExport.forEach((line) => builder.add(line));
      expect(() => checkRebuilt(kept, builder)).not.toThrow();

      // The witness refused: error log + metric + a `system` entry in the trail.
      expect(h.deps.audit.log.lastPush()).toEqual([expect.objectContaining({ ok: false, refused: true })]);
      const refusalsAfter = (await h.gateway.metrics.auditWitnessRefusals.get()).values.reduce(
        (n, v) => n + v.value,
        0,
      );
      expect(refusalsAfter).toBe(refusalsBefore + 1);
      expect(h.logs.entries()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ level: 50, witness: witnessUrl, msg: expect.stringMatching(/witness refused/) }),
        ]),
      );
      expect(
        (await allEntries(h)).filter((e) => e.kind === 'system' && e.operation === 'audit.witness_refused').at(-1),
      ).toMatchObject({ details: expect.objectContaining({ witness: witnessUrl }) });
      expect(witnessLogs.entries()).toEqual(
        expect.arrayContaining([expect.objectContaining({ level: 50, origin: kept.origin })]),
      );
    },
  );

  test('when two instances (or two workers) sign the same checkpoint and both send it, then the second send is cosigned too, not reported as a refusal', async () => {
    await resetTrail(h);
    state = fileState(join(mkdtempSync(join(tmpdir(), 'witness-')), 'state.json'));
    for (let i = 0; i < 2; i++) await mutate(i);
    const first = checkCheckpoint(await sign(), policy(1));
    for (let i = 2; i < 4; i++) await mutate(i);
    const note = await sign(); // this instance sent it: the witness now holds the new size
    const size = checkCheckpoint(note, policy(1)).size;
    const refusals: unknown[] = [];
    const log = h.deps.audit.log;
    // The other instance read the witness's last cosigned size before this one's cosignature was stored.
    const other = {
      logger: pino({ level: 'silent' }),
      timeoutMs: 5_000,
      lastCosigned: async () => first.size,
      consistency: async (from: number, to: number) =>
        (await log.consistency(from, to)).proof.proof.map((p) => Buffer.from(p, 'base64')),
      saveCosignature: async () => undefined,
      refused: async (_w: string, _reason: string, details: Record<string, unknown>) => void refusals.push(details),
    };
    const result = await pushCheckpoint(other, { url: witnessUrl, key: parseVkey(witnessKey.vkey) }, size, note);
    expect(result).toMatchObject({ ok: true, lines: [expect.stringMatching(/^\u2014 witness\.test\/w1 /)] });
    expect(refusals).toEqual([]);
  });
});
