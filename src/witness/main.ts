/**
 * `npm run witness`: a c2sp.org/tlog-witness witness for the gateway's audit log, with its own Ed25519 key
 * and its state in a file. Settings (environment):
 *   WITNESS_NAME       its key name (default witness.local/<hostname>)
 *   WITNESS_KEY_FILE   PEM Ed25519 private key (default: generated once into WITNESS_DATA_DIR)
 *   WITNESS_DATA_DIR   where the generated key and the state live (default ./.witness)
 *   WITNESS_LOG_KEYS   the logs it witnesses: verifier keys (GET /v1/audit/public-key `verifier_key`), comma list
 *   WITNESS_HOST, WITNESS_PORT  where it listens (default 127.0.0.1:7380)
 * It prints its own verifier key: give it to the gateway (AUDIT_WITNESS_KEYS, which checks every cosignature with it
 * before storing it) and to reviewers (`npm run audit:verify -- … --witness-key`).
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { keptEd25519KeyPem } from '../secrets/kept';
import { COSIGNATURE_V1, parseVkey, signerFor } from '../audit/log/note';
import { createWitness } from './server';
import { fileState } from './state';

const env = process.env;
const dataDir = env.WITNESS_DATA_DIR ?? './.witness';
const pem = env.WITNESS_KEY_FILE
  ? readFileSync(env.WITNESS_KEY_FILE, 'utf8')
  : keptEd25519KeyPem(dataDir, 'witness-key.pem');
const signer = signerFor(env.WITNESS_NAME ?? `witness.local/${hostname()}`, createPrivateKey(pem), COSIGNATURE_V1);
const logs = (env.WITNESS_LOG_KEYS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map(parseVkey);
const logger = pino({ level: env.LOG_LEVEL ?? 'info' });
if (logs.length === 0)
  logger.warn('WITNESS_LOG_KEYS is empty: every checkpoint will be refused as from an unknown log');
const server = createWitness({ signer, logs, state: fileState(join(dataDir, 'state.json')), logger });
server.listen(Number(env.WITNESS_PORT ?? 7380), env.WITNESS_HOST ?? '127.0.0.1', () => {
  logger.info(
    { address: server.address(), verifier_key: signer.vkey, logs: logs.map((l) => l.name) },
    'witness listening',
  );
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
