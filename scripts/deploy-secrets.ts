/**
 * `npm run deploy:secrets`: makes what deploy/compose.yaml needs and must never be committed: random secrets in
 * deploy/secrets/ (one file each, mounted as Docker secrets) and deploy/.env with the public keys each side must
 * know (the log's verifier key for the witness, the witness's for the gateways). Keeps files that exist, so
 * running it again changes nothing; delete deploy/secrets/ to start over (with a fresh database volume).
 */
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COSIGNATURE_V1, signerFor } from '../src/audit/log/note';
import { logIdentity } from '../src/audit/log/signing-key';

const DEPLOY = join(__dirname, '..', 'deploy');
const SECRETS = join(DEPLOY, 'secrets');
const LOG_ORIGIN = 'compose.gateway.local/audit';
const WITNESS_NAME = 'compose.witness.local/w1';

const random = () => randomBytes(32).toString('base64url');
const ed25519 = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function keep(name: string, make: () => string): string {
  const path = join(SECRETS, name);
  if (!existsSync(path)) writeFileSync(path, make(), { mode: 0o644 });
  return readFileSync(path, 'utf8');
}

mkdirSync(SECRETS, { recursive: true });
const postgresPassword = keep('postgres-password', random);
keep('database-url', () => `postgres://gateway:${postgresPassword}@postgres:5432/gateway`);
keep('developer-key', () => `dk-compose-${random()}`);
keep('jwt-secret', random);
keep('audit-hmac-key', random);
keep('session-secret', random);
keep('oidc-client-secret', random);
const logKey = keep('audit-signing-key.pem', ed25519);
const witnessKey = keep('witness-key.pem', ed25519);

const logVkey = logIdentity(logKey, LOG_ORIGIN).signer.vkey;
const witnessVkey = signerFor(WITNESS_NAME, createPrivateKey(witnessKey), COSIGNATURE_V1).vkey;
writeFileSync(
  join(DEPLOY, '.env'),
  [
    '# Written by npm run deploy:secrets: public keys only (the secrets are in deploy/secrets/).',
    `AUDIT_LOG_ORIGIN=${LOG_ORIGIN}`,
    `AUDIT_LOG_VERIFIER_KEY=${logVkey}`,
    `WITNESS_NAME=${WITNESS_NAME}`,
    `WITNESS_VERIFIER_KEY=${witnessVkey}`,
    '',
  ].join('\n'),
);
process.stdout.write(`deploy/secrets/ and deploy/.env are ready; log key ${logVkey}\n`);
