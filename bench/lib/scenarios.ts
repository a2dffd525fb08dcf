import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { join } from 'node:path';
import type { HostileFigures } from '../audit-hostile';
import type { ReviewFigures } from '../audit-review';
import type { LogFigures } from '../audit-log';
import type { OwnershipListFigures } from '../ownership-list';
import type { BenchRequest } from './load';
import { ROOT, type Service } from './services';

/** One of the simulator's seeded applications (the reference's example). */
const APP = 'wSPk9y5D7p5o87k0ACGKxR';

export interface Target {
  url: string;
  headers: Record<string, string>;
  /** The process that serves it, whose CPU time is counted. */
  service: Service;
}

/** Create a webhook, then delete the one just created: every request has an X-Request-Id of the run's own. */
export function mutations(target: Target, prefix: string, sent: Set<string>): BenchRequest[] {
  let n = 0;
  const nextId = () => {
    const id = `${prefix}${(n++).toString(36)}`;
    sent.add(id);
    return id;
  };
  const headers = { ...target.headers, 'content-type': 'application/json' };
  return [
    {
      method: 'POST',
      path: `/v1/applications/${APP}/webhooks`,
      headers,
      body: JSON.stringify({ url: 'https://hooks.example.com/bench' }),
      setupRequest: (req) => ({ ...req, headers: { ...headers, 'x-request-id': nextId() } }),
      onResponse: (status, body, context) => {
        (context as { webhook?: string }).webhook =
          status === 201 ? (JSON.parse(body) as { id: string }).id : 'not-created';
      },
    },
    {
      method: 'DELETE',
      path: `/v1/applications/${APP}/webhooks/not-created`,
      headers: target.headers,
      setupRequest: (req, context) => ({
        ...req,
        path: `/v1/applications/${APP}/webhooks/${(context as { webhook?: string }).webhook ?? 'not-created'}`,
        headers: { ...target.headers, 'x-request-id': nextId() },
      }),
    },
  ];
}

/** bench/audit-log.ts in a process of its own (issue 15). */
export function runAuditLog(rows: number, serverUrl: string): LogFigures {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench/audit-log.ts'), String(rows), '--json'],
    {
      cwd: ROOT,
      env: { ...process.env, TEST_DATABASE_URL: serverUrl },
      encoding: 'utf8',
      maxBuffer: 16 * 2 ** 20,
    },
  );
  if (child.status !== 0) throw new Error(`audit log bench failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as LogFigures;
}

/** bench/audit-review.ts in a process of its own, with --expose-gc so its "after GC" figures are after a GC. */
export function runAuditReview(rows: number, serverUrl: string): ReviewFigures {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/audit-review.ts'), String(rows), '--json'],
    {
      cwd: ROOT,
      env: { ...process.env, TEST_DATABASE_URL: serverUrl },
      encoding: 'utf8',
      maxBuffer: 16 * 2 ** 20,
    },
  );
  if (child.status !== 0) throw new Error(`audit review failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ReviewFigures;
}

/** bench/ownership-list.ts in a process of its own, with --expose-gc so the snapshot's heap is measured after a GC. */
export function runOwnershipList(serverUrl: string, scales: string[]): OwnershipListFigures {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/ownership-list.ts'), ...scales, '--json'],
    {
      cwd: ROOT,
      env: { ...process.env, TEST_DATABASE_URL: serverUrl },
      encoding: 'utf8',
      maxBuffer: 16 * 2 ** 20,
    },
  );
  if (child.status !== 0) throw new Error(`ownership list failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as OwnershipListFigures;
}

/** bench/audit-hostile.ts in a process of its own: hostile bodies against /healthz, verify of a poisoned trail. */
export function runAuditHostile(serverUrl: string): HostileFigures {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/audit-hostile.ts'), '--json'],
    {
      cwd: ROOT,
      env: { ...process.env, TEST_DATABASE_URL: serverUrl },
      encoding: 'utf8',
      maxBuffer: 16 * 2 ** 20,
    },
  );
  if (child.status !== 0) throw new Error(`audit hostile-input bench failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as HostileFigures;
}

/** An admin's Authorization header for a bench gateway configured with this HS256 secret and issuer (an hour). */
export function adminHeaders(sub: string, secret: string, issuer: string): Record<string, string> {
  const token = jwt.sign({ sub, roles: ['admin'] }, secret, {
    algorithm: 'HS256',
    expiresIn: 3600,
    issuer,
    audience: 'kloudless-gateway',
  });
  return { authorization: `Bearer ${token}` };
}

/** One shape of load against a gateway: list reads, or webhook create + delete with ids of the run's own. */
export function shapeRequests(
  shape: string,
  target: Service,
  headers: Record<string, string>,
  label: string,
): BenchRequest[] {
  return shape === 'mutations'
    ? mutations({ url: target.url, headers, service: target }, `${label}-${randomBytes(3).toString('hex')}-`, new Set())
    : [{ method: 'GET', path: '/v1/applications' }];
}
