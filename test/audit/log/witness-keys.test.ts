import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import pino from 'pino';
import { allEntries } from '../../helpers/audit';
import { startHarness, type Harness } from '../../helpers/harness';
import { tokenFor } from '../../helpers/tokens';
import { checkCheckpoint } from '../../../src/audit/log/offline';
import { COSIGNATURE_V1, cosign, parseNote, parseVkey, signerFor } from '../../../src/audit/log/note';
import { logIdentity } from '../../../src/audit/log/signing-key';
import { checkCosignatures } from '../../../src/audit/log/witness-push';
import { createWitness } from '../../../src/witness/server';
import { fileState } from '../../../src/witness/state';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');
const APP = 'wSPk9y5D7p5o87k0ACGKxR';
const pem = (key = generateKeyPairSync('ed25519').privateKey) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();
const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
};
const closeServer = (server: Server) => new Promise<void>((r) => server.close(() => r()));

/**
 * A cosignature is stored only once it verifies with the key configured for its witness (AUDIT_WITNESS_KEYS).
 * Three witnesses: the real `npm run witness` process (honest), a witness whose key is not the one configured for it
 * (same name, another key: an impersonation), and an honest witness behind a proxy that alters the cosignature.
 */
describe('witness cosignatures checked before they are stored', () => {
  let h: Harness;
  let witnessProcess: ChildProcess;
  let honestUrl: string;
  let impostorUrl: string;
  let tamperedUrl: string;
  const servers: Server[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'witness-keys-'));
  const logPem = pem();
  const log = logIdentity(logPem, 'gateway.test/witness-keys');
  // The honest witness's key, in a file for the witness process.
  const honestPem = pem();
  const honestKeyFile = join(dir, 'honest.pem');
  writeFileSync(honestKeyFile, honestPem);
  const honestProcessKey = signerFor('witness.test/process', createPrivateKey(honestPem), COSIGNATURE_V1);
  // What the operator configured for the second witness, and the key that witness really signs with.
  const configuredForImpostor = signerFor(
    'witness.test/impostor',
    generateKeyPairSync('ed25519').privateKey,
    COSIGNATURE_V1,
  );
  const impostorKey = signerFor('witness.test/impostor', generateKeyPairSync('ed25519').privateKey, COSIGNATURE_V1);
  const behindProxy = signerFor('witness.test/proxied', generateKeyPairSync('ed25519').privateKey, COSIGNATURE_V1);
  const auditor = tokenFor('auditor', 'aud');
  const get = (path: string) => h.api().get(path).set('Authorization', `Bearer ${auditor}`);
  const mutate = (i: number) =>
    h
      .api()
      .post(`/v1/applications/${APP}/webhooks`)
      .set('Authorization', `Bearer ${tokenFor('admin')}`)
      .send({ url: `https://hooks.example.com/k/${i}` })
      .expect(201);
  const sign = async () =>
    (await h.api().post('/v1/audit/checkpoint').set('Authorization', `Bearer ${auditor}`).expect(200)).text;
  const alerts = async (witness: string) =>
    (await h.gateway.metrics.auditWitnessRefusals.get()).values
      .filter((v) => v.labels.witness === witness && v.labels.reason === 'invalid_cosignature')
      .reduce((n, v) => n + v.value, 0);

  beforeAll(async () => {
    // The real witness process, on a port of its choosing (read from its start-up log line).
    witnessProcess = spawn(process.execPath, ['--import', 'tsx', 'src/witness/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        WITNESS_NAME: 'witness.test/process',
        WITNESS_KEY_FILE: honestKeyFile,
        WITNESS_DATA_DIR: join(dir, 'process'),
        WITNESS_LOG_KEYS: log.signer.vkey,
        WITNESS_PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    honestUrl = await new Promise<string>((resolvePort, reject) => {
      witnessProcess.once('exit', (code) => reject(new Error(`the witness exited (${code})`)));
      createInterface({ input: witnessProcess.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; address?: { port: number } };
        if (entry.msg === 'witness listening') resolvePort(`http://127.0.0.1:${entry.address!.port}/`);
      });
    });
    const logs = [parseVkey(log.signer.vkey)];
    const witnessOf = (signer: typeof impostorKey, name: string) =>
      createWitness({
        signer,
        logs,
        state: fileState(join(dir, name, 'state.json')),
        logger: pino({ level: 'silent' }),
      });
    const impostor = witnessOf(impostorKey, 'impostor');
    const proxied = witnessOf(behindProxy, 'proxied');
    const proxiedUrl = await listen(proxied);
    // Forwards add-checkpoint to the proxied witness and flips one bit of the Ed25519 signature it returns.
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const answer = await fetch(new URL('add-checkpoint', proxiedUrl), {
          method: 'POST',
          body: Buffer.concat(chunks),
        });
        let text = await answer.text();
        if (answer.status === 200) {
          const [, name, b64] = /^\u2014 (\S+) (\S+)\n$/.exec(text) as unknown as [string, string, string];
          const bytes = Buffer.from(b64, 'base64');
          bytes[bytes.length - 1]! ^= 0x01;
          text = `\u2014 ${name} ${bytes.toString('base64')}\n`;
        }
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
        res.end(text);
      });
    });
    servers.push(impostor, proxied, proxy);
    impostorUrl = await listen(impostor);
    tamperedUrl = await listen(proxy);
    h = await startHarness({
      unowned: true,
      env: {
        AUDIT_SIGNING_KEY: logPem,
        AUDIT_LOG_ORIGIN: 'gateway.test/witness-keys',
        AUDIT_CHECKPOINT_INTERVAL_S: '3600',
        AUDIT_WITNESS_URLS: [honestUrl, impostorUrl, tamperedUrl].join(','),
        AUDIT_WITNESS_KEYS: [honestProcessKey.vkey, configuredForImpostor.vkey, behindProxy.vkey].join(','),
      },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await Promise.all(servers.map(closeServer));
    witnessProcess?.kill('SIGTERM');
  });

  test('when the witness (the real witness process) returns a valid cosignature, then it is stored and served, and the verifier counts it', async () => {
    await mutate(1);
    const note = await sign();
    expect(h.deps.audit.log.lastPush()[0]).toMatchObject({ witness: honestUrl, ok: true });
    expect(parseNote(note).signatures.map((s) => s.name)).toEqual([
      'gateway.test/witness-keys',
      'witness.test/process',
    ]);
    expect((await get('/v1/audit/checkpoint').expect(200)).text).toBe(note);
    const policy = {
      log: parseVkey(log.signer.vkey),
      witnesses: [parseVkey(honestProcessKey.vkey)],
      minCosignatures: 1,
    };
    expect(checkCheckpoint(note, policy).cosignedBy).toEqual(['witness.test/process']);
    const rows = await h.gateway.database.prisma.$queryRawUnsafe<{ witness: string }[]>(
      'SELECT witness FROM audit_cosignature ORDER BY tree_size, witness',
    );
    expect(new Set(rows.map((r) => r.witness))).toEqual(new Set([honestUrl]));
  });

  test.each([
    [
      'signed by another key than the one configured for the witness (same name)',
      () => impostorUrl,
      /not by the key configured for this witness/,
    ],
    ['altered on its way (one bit of the signature flipped)', () => tamperedUrl, /does not verify/],
  ])(
    'when a cosignature is %s, then it is not stored and alerted: error log, metric, system entry',
    async (_label, url, problem) => {
      const before = await alerts(url());
      await mutate(2);
      const note = await sign();
      const size = checkCheckpoint(note, { log: parseVkey(log.signer.vkey), witnesses: [], minCosignatures: 0 }).size;
      expect(h.deps.audit.log.lastPush().find((p) => p.witness === url())).toMatchObject({
        ok: false,
        refused: false,
        invalid: [expect.stringMatching(problem)],
      });
      // Not served, not stored.
      expect(parseNote(note).signatures.map((s) => s.name)).toEqual([
        'gateway.test/witness-keys',
        'witness.test/process',
      ]);
      const stored = await h.gateway.database.prisma.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(*) AS n FROM audit_cosignature WHERE witness = $1`,
        url(),
      );
      expect(Number(stored[0]!.n)).toBe(0);
      // Loud.
      expect(await alerts(url())).toBe(before + 1);
      expect(h.logs.entries()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            level: 50,
            witness: url(),
            reason: 'invalid_cosignature',
            size,
            msg: expect.stringMatching(/does not verify with its key/),
          }),
        ]),
      );
      const entry = (await allEntries(h))
        .filter(
          (e) =>
            e.kind === 'system' &&
            e.operation === 'audit.witness_cosignature_invalid' &&
            (e.details as { witness?: string }).witness === url(),
        )
        .at(-1);
      expect(entry).toMatchObject({
        details: expect.objectContaining({
          reason: 'invalid_cosignature',
          size,
          problems: [expect.stringMatching(problem)],
        }),
      });
    },
  );

  test('when the verifier (npm run audit:verify) trusts all three witnesses, then the served checkpoint verifies with N=1 and fails with N=2', async () => {
    await mutate(3);
    const file = join(dir, 'checkpoint.txt');
    writeFileSync(file, await sign());
    const args = [
      'tsx',
      'scripts/audit-verify.ts',
      'checkpoint',
      '--key',
      log.signer.vkey,
      '--checkpoint',
      file,
      ...[honestProcessKey, configuredForImpostor, impostorKey, behindProxy].flatMap((k) => ['--witness-key', k.vkey]),
    ];
    const one = await run('npx', [...args, '--min-cosignatures', '1'], { cwd: ROOT });
    expect(one.stdout).toMatch(/signature ok, cosigned by witness.test\/process/);
    const two = await run('npx', [...args, '--min-cosignatures', '2'], { cwd: ROOT }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(two).toMatchObject({ code: 1, stderr: expect.stringMatching(/1 trusted cosignature\(s\), 2 required/) });
  }, 30_000);
});

describe('checkCosignatures', () => {
  const witness = signerFor('witness.test/w', generateKeyPairSync('ed25519').privateKey, COSIGNATURE_V1);
  const key = parseVkey(witness.vkey);
  const body = 'gateway.test/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';

  test('when the answer is a valid cosignature of the body, then it is kept as one line', () => {
    const line = cosign(body, witness, 1_700_000_000);
    expect(checkCosignatures(line, body, key)).toEqual({ valid: [line], invalid: [] });
  });

  test('when the cosignature is of another checkpoint, of another time, or the answer holds no line, then it is not kept', () => {
    const other = cosign('gateway.test/log\n8\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', witness, 1_700_000_000);
    expect(checkCosignatures(other, body, key).invalid).toEqual([expect.stringMatching(/does not verify/)]);
    // The timestamp is signed: moving it breaks the signature.
    const line = cosign(body, witness, 1_700_000_000);
    const bytes = Buffer.from(line.split(' ')[2]!.trim(), 'base64');
    bytes.writeBigUInt64BE(1_800_000_000n, 4);
    expect(checkCosignatures(`\u2014 witness.test/w ${bytes.toString('base64')}\n`, body, key).invalid).toEqual([
      expect.stringMatching(/does not verify/),
    ]);
    expect(checkCosignatures('', body, key)).toEqual({ valid: [], invalid: ['no cosignature line in the answer'] });
    expect(checkCosignatures('hello\n', body, key).invalid).toEqual([expect.stringMatching(/not a signature line/)]);
  });
});
