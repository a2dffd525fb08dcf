import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFullVerificationStore } from '../../src/audit/watch/store';
import { allEntries, tamper } from '../helpers/audit';
import { startHarness, type Harness } from '../helpers/harness';
import { tokenFor } from '../helpers/tokens';
import { waitFor } from '../helpers/async';

const APP = 'wSPk9y5D7p5o87k0ACGKxR';

interface VerifyAnswer {
  ok: boolean;
  mode: string;
  last_full_verification: null | {
    at: string;
    ok: boolean;
    entries: number;
    first_bad_sequence: string | null;
    problem: string | null;
  };
}

describe('the trail watched: a background full verification every AUDIT_FULL_VERIFY_INTERVAL_S', () => {
  let h: Harness;
  const sinkFile = join(mkdtempSync(join(tmpdir(), 'full-verify-')), 'audit.ndjson');
  const auditor = tokenFor('auditor', 'aud');
  const verify = async () =>
    (await h.api().get('/v1/audit/verify').set('Authorization', `Bearer ${auditor}`).expect(200)).body as VerifyAnswer;
  /** Polls GET /v1/audit/verify until a background verification newer than `after` has run. */
  const nextFull = async (after: string | undefined) => {
    for (let i = 0; i < 80; i++) {
      const answer = await verify();
      const last = answer.last_full_verification;
      if (last && (after === undefined || last.at > after)) return answer;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('no background verification ran');
  };

  beforeAll(async () => {
    h = await startHarness({ env: { AUDIT_FULL_VERIFY_INTERVAL_S: '5', AUDIT_SINKS: `file://${sinkFile}` } });
  });
  afterAll(() => h.close());

  test('when a superuser edits an old row, then the next background verification reports it (metric, system entry, streamed event, last_full_verification.ok false) though the incremental verify still passes', async () => {
    for (let i = 0; i < 3; i++)
      await h
        .api()
        .post(`/v1/applications/${APP}/webhooks`)
        .set('Authorization', `Bearer ${tokenFor('admin')}`)
        .send({ url: `https://hooks.example.com/watched/${i}` })
        .expect(201);
    const first = await nextFull(undefined);
    expect(first.last_full_verification).toMatchObject({ ok: true, first_bad_sequence: null, problem: null });
    expect(await h.gateway.metrics.registry.getSingleMetricAsString('gateway_audit_full_verification_ok')).toMatch(
      /^gateway_audit_full_verification_ok 1$/m,
    );

    await tamper(h, `UPDATE audit_entry SET actor_sub = 'mallory' WHERE seq = 2`);
    const incremental = await verify();
    // The incremental check only reads what is new since the last one: the edit is not among it.
    expect(incremental).toMatchObject({ ok: true, mode: 'incremental' });

    const after = await nextFull(first.last_full_verification!.at);
    expect(after.last_full_verification).toMatchObject({ ok: false, first_bad_sequence: '2', problem: 'modified' });
    expect(await h.gateway.metrics.registry.getSingleMetricAsString('gateway_audit_full_verification_ok')).toMatch(
      /^gateway_audit_full_verification_ok 0$/m,
    );
    // The result is stored first, then its system entry is recorded: wait for the entry, not a moment.
    const systemEntries = async () => (await allEntries(h)).filter((e) => e.operation === 'audit.full_verification');
    await waitFor(
      async () => (await systemEntries()).some((e) => (e.details as { ok: boolean }).ok === false),
      10_000,
      'the failed verification recorded as a system entry',
    );
    const system = await systemEntries();
    expect(system.map((e) => (e.details as { ok: boolean }).ok)).toEqual(expect.arrayContaining([true, false]));
    expect(system.at(-1)).toMatchObject({ kind: 'system', details: { ok: false, first_bad_sequence: '2' } });
    expect(h.logs.lines.some((l) => /"level":50/.test(l) && l.includes('audit chain verification FAILED'))).toBe(true);

    // The file sink receives the system entry like any other.
    const bad = system.at(-1)!;
    let streamed: Record<string, unknown> | undefined;
    for (let i = 0; i < 40 && !streamed; i++) {
      await new Promise((r) => setTimeout(r, 250));
      streamed = readFileSync(sinkFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((e) => e.sequence === String(bad.seq));
    }
    expect(streamed).toMatchObject({ kind: 'system', operation: 'audit.full_verification', details: { ok: false } });
  }, 60_000);

  test('when two instances look at once, then only one takes the verification, and none before it is due', async () => {
    const store = createFullVerificationStore(h.gateway.database.prisma);
    await h.gateway.database.prisma.$executeRawUnsafe(
      "UPDATE audit_full_verification SET lease_until = NULL, at = now() - interval '1 hour'",
    );
    const claims = await Promise.all(['a', 'b', 'c'].map((owner) => store.claimIfDue(owner, 60, 30_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const holder = ['a', 'b', 'c'][claims.indexOf(true)]!;
    await store.release(holder);
    await h.gateway.database.prisma.$executeRawUnsafe('UPDATE audit_full_verification SET at = now()');
    expect(await store.claimIfDue('a', 60, 30_000)).toBe(false);
  });
});
