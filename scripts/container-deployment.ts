/**
 * What `npm run container:check` deploys the replayed image into, as an operator would (issue 28): the upstream is the
 * simulator behind TLS from a private CA (trusted through UPSTREAM_CA_FILE), every secret is a file owned by the
 * uid the gateway runs as with mode 0400 (as Kubernetes and Docker secrets are mounted), and the database URL names
 * a least-privilege role given exactly `npm run db:grants`. Then a real request must go all the way through.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { runtimeGrants } from '../src/db/grants';
import { createSimulator, type Simulator } from '../src/simulator/server';
import { createPrivateCa, tlsFront } from '../test/helpers/private-ca';

export interface Deployment {
  /** The deployment's settings: only *_FILE for secrets. */
  env: Record<string, string>;
  simulator: Simulator;
  /** Closes the https upstream (to show the HEALTHCHECK does not depend on it). */
  stopUpstream(): Promise<void>;
  /** A read and a mutation through the running gateway, each checked where it lands. Returns what it saw. */
  forwardRealRequests(apiUrl: string): Promise<string>;
}

const APPLICATION = 'wSPk9y5D7p5o87k0ACGKxR';

function psql(url: string, sql: string): string {
  const result = spawnSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`psql failed (${sql.slice(0, 80)}): ${result.stderr || result.error?.message}`);
  return result.stdout.trim();
}

export async function prepareDeployment(options: {
  ownerUrl: string;
  /** Who the gateway runs as: the secret files are made theirs. */
  owner: { uid: number; gid: number };
  cleanups: (() => Promise<void> | void)[];
}): Promise<Deployment> {
  const { ownerUrl, owner, cleanups } = options;
  const developerKey = `dk_${randomBytes(16).toString('hex')}`;
  const jwtSecret = randomBytes(32).toString('hex');
  const issuer = 'https://idp.container-check.invalid/';

  const simulator = createSimulator({ developerKey, seed: true });
  const plain = new URL(await simulator.listen(0, '127.0.0.1'));
  const ca = createPrivateCa();
  const front = await tlsFront(ca, () => Number(plain.port));
  let upstreamOpen = true;
  const stopUpstream = async () => {
    if (!upstreamOpen) return;
    upstreamOpen = false;
    await new Promise<void>((done) => front.server.close(() => done()));
    await simulator.close();
  };
  cleanups.push(stopUpstream);

  const role = `container_check_rt_${process.pid}`;
  psql(ownerUrl, `CREATE ROLE ${role} LOGIN`);
  cleanups.push(() => {
    psql(ownerUrl, `DROP OWNED BY ${role}`);
    psql(ownerUrl, `DROP ROLE ${role}`);
  });
  const runtimeUrl = Object.assign(new URL(ownerUrl), { username: role, password: '' }).toString();

  const secrets = mkdtempSync(join(tmpdir(), 'container-check-secrets-'));
  chmodSync(secrets, 0o755);
  cleanups.push(() => void spawnSync('rm', ['-rf', secrets]));
  const secret = (name: string, value: string) => {
    const path = join(secrets, name);
    writeFileSync(path, `${value}\n`, { mode: 0o400 });
    if (process.getuid?.() === 0) chownSync(path, owner.uid, owner.gid);
    return path;
  };
  const env = {
    KLOUDLESS_API_URL: `https://127.0.0.1:${front.port}/v1`,
    UPSTREAM_CA_FILE: ca.caFile,
    KLOUDLESS_DEVELOPER_KEY_FILE: secret('developer_key', developerKey),
    JWT_SECRET_FILE: secret('jwt_secret', jwtSecret),
    JWT_ISSUER: issuer,
    JWT_AUDIENCE: 'kloudless-gateway',
    AUDIT_HMAC_KEY_FILE: secret('audit_hmac_key', randomBytes(32).toString('hex')),
    AUDIT_SIGNING_KEY_FILE: secret(
      'audit_signing_key',
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim(),
    ),
    DATABASE_URL_FILE: secret('database_url', runtimeUrl),
  };

  return {
    env,
    simulator,
    stopUpstream,
    /** Called after the migration step: the grants name the tables it created. */
    async forwardRealRequests(apiUrl) {
      const token = jwt.sign({ sub: 'container-check', roles: ['admin'] }, jwtSecret, {
        algorithm: 'HS256',
        issuer,
        audience: 'kloudless-gateway',
        expiresIn: 300,
      });
      const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
      const read = await fetch(`${apiUrl}/v1/applications`, { headers });
      if (read.status !== 200) throw new Error(`GET /v1/applications answered ${read.status}: ${await read.text()}`);
      const created = await fetch(`${apiUrl}/v1/applications/${APPLICATION}/webhooks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ url: 'https://hooks.example.com/container-check' }),
      });
      if (created.status !== 201)
        throw new Error(`POST …/webhooks answered ${created.status}: ${await created.text()}`);
      const reached = simulator.requests.filter((r) => r.headers.authorization === `DeveloperKey ${developerKey}`);
      if (reached.length < 2)
        throw new Error(`the simulator saw ${reached.length} requests with the DeveloperKey, not 2`);
      const recorded = Number(psql(ownerUrl, "SELECT count(*) FROM audit_entry WHERE operation = 'webhooks.create'"));
      if (recorded < 2) throw new Error(`the mutation left ${recorded} audit entries, not its request and response`);
      return `forwarded over TLS (private CA): GET /v1/applications 200, POST …/webhooks 201 with the DeveloperKey from its file; ${recorded} audit entries for it, written as role ${role}`;
    },
  };
}

/** Applies `npm run db:grants` for the deployment's runtime role, as the schema's owner, after the migration step. */
export function grantRuntimeRole(ownerUrl: string): void {
  psql(ownerUrl, runtimeGrants(`container_check_rt_${process.pid}`));
}
