import { startHarness, type Harness } from '../helpers/harness';
import { createPrivateCa, tlsFront } from '../helpers/private-ca';
import { tokenFor } from '../helpers/tokens';

const ca = createPrivateCa();

describe('an https upstream whose certificate a private CA issued', () => {
  let front: Awaited<ReturnType<typeof tlsFront>>;
  let trusting: Harness;
  let untrusting: Harness;
  beforeAll(async () => {
    // The front is started before the gateways, which are told its URL; it forwards to the simulator of whichever
    // gateway is being asked (both simulators hold the same seeded applications).
    let target = 0;
    front = await tlsFront(ca, () => target);
    const env = { KLOUDLESS_API_URL: `https://127.0.0.1:${front.port}/v1` };
    trusting = await startHarness({ env: { ...env, UPSTREAM_CA_FILE: ca.caFile }, unowned: true });
    untrusting = await startHarness({ env, unowned: true });
    target = Number(new URL(trusting.simulator.url).port);
  });
  afterAll(async () => {
    await Promise.all([trusting.close(), untrusting.close()]);
    front.server.close();
  });
  const list = (h: Harness) =>
    h
      .api()
      .get('/v1/applications')
      .set('Authorization', `Bearer ${tokenFor('admin')}`);

  test('when UPSTREAM_CA_FILE names the CA, then requests are forwarded over TLS', async () => {
    const res = await list(trusting);
    expect(res.status).toBe(200);
    expect(trusting.simulator.requests.at(-1)).toMatchObject({ method: 'GET' });
  });

  test('when it does not, then the TLS handshake is refused: 502 upstream_unavailable, reason tls_failure', async () => {
    const res = await list(untrusting);
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'upstream_unavailable', details: [{ reason: 'tls_failure' }] });
  });
});
