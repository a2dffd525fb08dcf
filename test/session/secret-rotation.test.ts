import { createSealer } from '../../src/session/seal';
import { createSessionStore } from '../../src/session/store';
import { startHarness, type Harness } from '../helpers/harness';

const OLD = 'the-old-session-secret-of-at-least-32-bytes';
const NEW = 'the-new-session-secret-of-at-least-32-bytes';
const principal = { sub: 'rotated-person', iss: 'https://idp.company.test/', roles: ['viewer'], teams: ['demo'] };

describe('rotating SESSION_SECRET with SESSION_SECRETS_PREVIOUS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());
  const store = (secret: string, previousSecrets: string[] = []) =>
    createSessionStore({ prisma: h.gateway.database.prisma, secret, previousSecrets, ttlS: 3600, idleS: 1800 });

  test('when the secret changes and the old one is kept as previous, then a session signed in before is found, moved to the new secret, and survives the old one being dropped', async () => {
    const token = await store(OLD).create(principal as never);
    expect(await store(NEW).find(token)).toBeUndefined(); // without the overlap: signed out
    const found = await store(NEW, [OLD]).find(token);
    expect(found?.principal).toMatchObject({ sub: 'rotated-person' });
    // Moved: the new secret alone finds it now, and the old one no longer does.
    expect((await store(NEW).find(token))?.principal).toMatchObject({ sub: 'rotated-person' });
    expect(await store(OLD).find(token)).toBeUndefined();
    expect(await h.gateway.database.prisma.browserSession.count({ where: { sub: 'rotated-person' } })).toBe(1);
  });

  test('when a session signed in under the old secret signs out after the rotation, then its row is deleted', async () => {
    const token = await store(OLD).create(principal as never);
    expect(await store(NEW, [OLD]).delete(token)).toBeDefined();
    expect(await store(NEW, [OLD]).find(token)).toBeUndefined();
  });

  test('when a sign-in began before the rotation, then its sealed transaction still opens; a foreign secret still does not', () => {
    const sealed = createSealer(OLD, 'sign-in transaction').seal({ state: 's1' });
    expect(createSealer(NEW, 'sign-in transaction', [OLD]).open(sealed)).toEqual({ state: 's1' });
    expect(createSealer(NEW, 'sign-in transaction').open(sealed)).toBeUndefined();
  });
});
