import { request as httpRequest } from 'node:http';
import { startHarness, type Harness } from '../helpers/harness';
import { COUNTER_STORES, redisEnv } from '../helpers/redis';
import { signToken, tokenFor } from '../helpers/tokens';

const bad = 'Bearer not.a.token';
const get = (h: Harness, authorization: string, forwardedFor?: string) => {
  const req = h.api().get('/v1/applications').set('Authorization', authorization);
  return forwardedFor ? req.set('X-Forwarded-For', forwardedFor) : req;
};

describe('when the gateway does not trust proxies (the default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { RATE_LIMIT_UNAUTHENTICATED: '3' } });
  });
  afterAll(async () => h.close());

  test('failed authentications are limited per client address, and a spoofed X-Forwarded-For does not escape it', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(h, bad, `203.0.113.${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await get(h, bad);
    expect(limited.body.error).toMatchObject({
      code: 'rate_limited',
      details: [{ reason: 'unauthenticated_budget_exhausted' }],
    });
  });
});

describe.each(COUNTER_STORES)(
  'when everyone shares one address (a NAT, or a load balancer without TRUST_PROXY), with %s counters',
  (store) => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ env: { ...redisEnv(store), RATE_LIMIT_UNAUTHENTICATED: '3' } });
    });
    afterAll(async () => h.close());

    test('then one client spending the failed-authentication budget does not lock out the others: valid tokens keep working, invalid ones are refused', async () => {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(h, bad)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      h.simulator.clearRequests();
      const staff = await get(h, `Bearer ${tokenFor('viewer', 'colleague')}`);
      expect({ status: staff.status, forwarded: h.simulator.requests.length }).toEqual({ status: 200, forwarded: 1 });
      const expired = await get(h, `Bearer ${signToken({ roles: ['viewer'], expiresInS: -120 })}`);
      expect({ status: expired.status, error: expired.body.error }).toMatchObject({
        status: 429,
        error: { code: 'rate_limited', details: [{ reason: 'unauthenticated_budget_exhausted' }] },
      });
      expect(Number(expired.headers['retry-after'])).toBeGreaterThan(0);
      expect((await get(h, bad)).status).toBe(429);
      expect((await get(h, `Bearer ${tokenFor('viewer', 'another-colleague')}`)).status).toBe(200);
    });
  },
);

describe('when the gateway trusts a proxy on loopback', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { RATE_LIMIT_UNAUTHENTICATED: '2', TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => h.close());

  test('valid tokens do not spend the address budget', async () => {
    for (let i = 0; i < 5; i++) expect((await get(h, `Bearer ${tokenFor('viewer')}`, '198.51.100.7')).status).toBe(200);
    expect((await get(h, bad, '198.51.100.7')).status).toBe(401);
    expect((await get(h, bad, '198.51.100.7')).status).toBe(401);
    expect((await get(h, bad, '198.51.100.7')).status).toBe(429);
  });

  test('the forwarded client address is the key, and IPv6 clients in one /56 share a budget', async () => {
    expect((await get(h, bad, '198.51.100.8')).status).toBe(401);
    expect((await get(h, bad, '2001:db8:aa:bb00::1')).status).toBe(401);
    expect((await get(h, bad, '2001:db8:aa:bbff::2')).status).toBe(401);
    expect((await get(h, bad, '2001:db8:aa:bb12::3')).status).toBe(429);
    expect((await get(h, bad, '2001:db8:aa:cc00::1')).status).toBe(401);
  });
});

describe('when clients with good tokens hang up before their answer', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { RATE_LIMIT_UNAUTHENTICATED: '2' } });
  });
  afterAll(async () => h.close());

  /** Sends a valid request and closes the connection once the upstream has it, before the gateway answers. */
  const hangUp = () =>
    new Promise<void>((resolve, reject) => {
      const seen = h.simulator.requests.length;
      const req = httpRequest(`${h.gatewayUrl}/v1/applications/wSPk9y5D7p5o87k0ACGKxR`, {
        headers: { authorization: `Bearer ${tokenFor('viewer')}` },
      });
      req.on('error', () => resolve());
      req.on('response', () => reject(new Error('answered before the hang-up')));
      req.end();
      const poll = setInterval(() => {
        if (h.simulator.requests.length > seen) {
          clearInterval(poll);
          req.destroy();
        }
      }, 5);
    });

  test('they are not counted as failed authentications: the address keeps its whole budget', async () => {
    h.simulator.setFault({ kind: 'delay', ms: 300 });
    try {
      for (let i = 0; i < 5; i++) await hangUp();
    } finally {
      h.simulator.setFault(null);
    }
    expect((await get(h, `Bearer ${tokenFor('viewer')}`)).status).toBe(200);
    expect((await get(h, bad)).status).toBe(401);
    expect((await get(h, bad)).status).toBe(401);
    expect((await get(h, bad)).status).toBe(429);
  });
});

describe('when a production gateway without TRUST_PROXY gets requests from a private address carrying X-Forwarded-For', () => {
  const warnings = (h: Harness) =>
    h.logs.entries().filter((e) => typeof e.msg === 'string' && e.msg.startsWith('TRUST_PROXY IS NOT SET'));
  /** The harness's gateway, built with the production flag (its other production checks need https and a real key). */
  const production = (env: Record<string, string> = {}) =>
    startHarness({
      env,
      deps: (deps) => ({ ...deps, config: Object.freeze({ ...deps.config, env: 'production' as const }) }),
    });

  test('then it logs one loud error naming the proxy address and the setting, once, and keeps serving', async () => {
    const h = await production();
    try {
      expect((await get(h, `Bearer ${tokenFor('viewer')}`)).status).toBe(200);
      expect(warnings(h)).toEqual([]);
      for (let i = 0; i < 3; i++)
        expect((await get(h, `Bearer ${tokenFor('viewer')}`, `198.51.100.${i}`)).status).toBe(200);
      expect(warnings(h)).toEqual([
        expect.objectContaining({ level: 50, proxy_address: '127.0.0.1', setting: 'TRUST_PROXY' }),
      ]);
    } finally {
      await h.close();
    }
  });

  test('then with TRUST_PROXY naming the proxy, nothing is logged', async () => {
    const h = await production({ TRUST_PROXY: 'loopback' });
    try {
      expect((await get(h, `Bearer ${tokenFor('viewer')}`, '198.51.100.9')).status).toBe(200);
      expect(warnings(h)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
