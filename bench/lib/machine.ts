import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { admin, ROOT } from './services';
import { createClient } from 'redis';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  node: string;
  postgres: string;
  redis: string;
  /** 1-minute load average when the run started: this machine is shared, so it says how quiet it was. */
  loadAverageAtStart: number;
  packages: Record<string, string>;
}

const PACKAGES = [
  'express',
  'undici',
  'pino',
  'pino-http',
  'jsonwebtoken',
  'express-rate-limit',
  'rate-limit-redis',
  'redis',
  'helmet',
  'zod',
  '@prisma/client',
  '@prisma/adapter-pg',
  'pg',
  'prom-client',
  'autocannon',
];

export async function describeMachine(databaseUrl: string, redisUrl: string): Promise<Machine> {
  const version = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
        .version;
    } catch {
      return 'not installed';
    }
  };
  const postgres = await admin(
    databaseUrl,
    async (c) => (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?',
  ).catch(() => 'unreachable');
  const redis = await redisVersion(redisUrl);
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    node: process.version,
    postgres,
    redis,
    loadAverageAtStart: Number(loadavg()[0]!.toFixed(2)),
    packages: Object.fromEntries(PACKAGES.map((p) => [p, version(p)])),
  };
}

async function redisVersion(url: string): Promise<string> {
  const client = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  try {
    await client.connect();
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  } catch {
    return 'unreachable';
  } finally {
    if (client.isOpen) await client.close();
  }
}
