import supertest from 'supertest';
import type { Response } from 'supertest';
import { buildApp, type AppDeps } from '../../src/app';
import { composeGateway, type Gateway, type Seams } from '../../src/compose';
import { loadConfig, type Config } from '../../src/config/load';
import { createLogger } from '../../src/http/logger';
import { startWebServer, type RunningServer } from '../../src/server';
import { createSimulator, type Simulator } from '../../src/simulator/server';
import { localSecrets, ownDemoApplications } from '../../src/dev/local-default';
import { createTestDatabase, DEFAULT_BACKEND, type Backend, type TestDatabase } from './database';
import { LogCapture } from './log-capture';
import { issuedTokens, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from './tokens';

export const DEVELOPER_KEY = 'dk-test-9f8e7d6c5b4a3f2e1d0c';
export const AUDIT_HMAC_KEY = 'test-audit-hmac-key-of-at-least-32-bytes';

export interface Harness {
  config: Config;
  deps: AppDeps;
  gateway: Gateway;
  database: TestDatabase;
  simulator: Simulator;
  gatewayUrl: string;
  logs: LogCapture;
  responses: { status: number; headers: Record<string, unknown>; text: string }[];
  /** supertest against the listening gateway; every response is kept for the leak check. */
  api(): supertest.Agent;
  /** Throws if the DeveloperKey, a bearer token or an API key value shows up in a response or log line. */
  assertNoLeaks(extraSecrets?: string[]): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  backend?: Backend;
  /** Reuse a database (e.g. a second gateway instance on the same audit trail). */
  database?: TestDatabase;
  /** Leave the simulator's example applications without an owner (the harness gives them to team `demo`). */
  unowned?: boolean;
  /** Wraps the composed dependencies, e.g. to swap the verifier or the policy. */
  deps?: (deps: AppDeps) => AppDeps;
  /** Passed to composeGateway: a clock the test moves (expiry without sleeping). */
  seams?: Seams;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const simulator = createSimulator({ developerKey: DEVELOPER_KEY, seed: true });
  const upstreamUrl = await simulator.listen(0, '127.0.0.1');
  const database =
    options.database ?? (await createTestDatabase(options.backend ?? DEFAULT_BACKEND, { migrated: true }));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    KLOUDLESS_API_URL: upstreamUrl,
    KLOUDLESS_DEVELOPER_KEY: DEVELOPER_KEY,
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    UPSTREAM_TIMEOUT_MS: '1500',
    // Generous budgets unless a test is about rate limits.
    RATE_LIMIT_READS: '100000',
    RATE_LIMIT_WRITES: '100000',
    RATE_LIMIT_UNAUTHENTICATED: '100000',
    AUDIT_HMAC_KEY,
    DATA_DIR: database.dataDir,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    HOST: '127.0.0.1',
    PORT: '0',
    ...options.env,
  };
  // Secrets a test leaves unset come from DATA_DIR, as the local default makes them (src/dev/local-default.ts).
  const config = loadConfig({ ...env, ...localSecrets(loadConfig(env)) });
  const logs = new LogCapture();
  const gateway = await composeGateway(config, createLogger('info', logs.stream), options.seams);
  const deps = options.deps ? options.deps(gateway.deps) : gateway.deps;
  // A test that brings its own database (a second instance, a proxied one) counts its entries: it is not seeded.
  if (!options.unowned && !options.database) await ownDemoApplications(gateway.deps, simulator);
  const running: RunningServer = await startWebServer(buildApp(deps), config);
  const responses: Harness['responses'] = [];
  const record = (res: Response) => responses.push({ status: res.status, headers: res.headers, text: res.text ?? '' });

  return {
    config,
    deps,
    gateway,
    database,
    simulator,
    gatewayUrl: running.url,
    logs,
    responses,
    api() {
      const agent = supertest.agent(running.url);
      agent.on('response', record);
      return agent;
    },
    assertNoLeaks(extraSecrets = []) {
      const apiKeys = simulatorApiKeys(simulator);
      const secrets = [DEVELOPER_KEY, ...issuedTokens, ...apiKeys, ...extraSecrets];
      const haystacks = [
        ...logs.lines.map((l) => `log: ${l}`),
        ...responses.map((r) => `response ${r.status}: ${JSON.stringify(r.headers)} ${r.text}`),
      ];
      for (const secret of secrets) {
        const leak = haystacks.find((h) => h.includes(secret));
        if (leak && !isExpectedApiKeyResponse(leak, secret, apiKeys))
          throw new Error(`secret ${secret.slice(0, 6)}… leaked in ${leak.slice(0, 200)}`);
      }
    },
    async close() {
      await running.stop(1000);
      await gateway.close();
      await simulator.close();
      if (!options.database) await database.drop();
    },
  };
}

/** API key values are shown to the caller who created or listed them; anywhere else is a leak. */
function isExpectedApiKeyResponse(haystack: string, secret: string, apiKeys: string[]): boolean {
  return apiKeys.includes(secret) && haystack.startsWith('response 20');
}

/** Every API key value the simulator holds or was asked to delete. */
export function simulatorApiKeys(simulator: Simulator): string[] {
  const held = simulator.store
    .listApplications()
    .flatMap((app) => (simulator.store.listApiKeys(app.id) ?? []).map((k) => k.key));
  const deleted = simulator.requests.flatMap((r) => /\/apikeys\/([^/]+)/.exec(r.path)?.[1] ?? []);
  return [...new Set([...held, ...deleted])];
}
