import { teamsFromClaims } from '../../src/ownership/teams';
import { startHarness, type Harness } from '../helpers/harness';
import { signToken } from '../helpers/tokens';

/** Teams come from the token: read as the identity provider wrote them, or the token is refused with a reason. */
describe('reading the teams claim', () => {
  test.each<[string, unknown, string[] | 'refused']>([
    ['an array', ['payments', 'search'], ['payments', 'search']],
    ['a string with several teams', 'payments search,infra', ['payments', 'search', 'infra']],
    ['a repeated team', ['payments', 'payments'], ['payments']],
    ['no claim', undefined, []],
    ['a number', 42, 'refused'],
    ['an object', { team: 'x' }, 'refused'],
    ['an array holding a non-string', ['ok', 7], 'refused'],
    ['a name with a slash', ['pay/ments'], 'refused'],
    ['a 65-character name', ['x'.repeat(65)], 'refused'],
    ['65 teams', Array.from({ length: 65 }, (_, i) => `t${i}`), 'refused'],
  ])('when the claim is %s, then the teams are %j', (_what, value, expected) => {
    const result = teamsFromClaims(value === undefined ? {} : { teams: value }, 'teams');
    if (expected === 'refused')
      expect(result).toMatchObject({ ok: false, problem: expect.stringContaining('teams claim') });
    else expect(result).toEqual({ ok: true, teams: expected });
  });

  test('when the claim path is dotted, then it is followed into nested objects', () => {
    expect(teamsFromClaims({ groups: { teams: ['a'] } }, 'groups.teams')).toEqual({ ok: true, teams: ['a'] });
  });
});

describe('teams at the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { JWT_TEAMS_CLAIM: 'org.teams' } });
  });
  afterAll(async () => h.close());

  test('when a token carries a malformed teams claim, then it is refused as invalid_token with the reason, and nothing is forwarded', async () => {
    h.simulator.clearRequests();
    const token = signToken({ roles: ['viewer'], claims: { org: { teams: [{ name: 'demo' }] } } });
    const res = await h.api().get('/v1/applications').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'invalid_token', details: [{ reason: 'invalid_teams_claim' }] });
    expect(res.headers['www-authenticate']).toContain('invalid_teams_claim');
    expect(h.simulator.requests).toEqual([]);
  });

  test("when /v1/me is called, then it shows the caller's teams and each permission's scope", async () => {
    const token = signToken({ sub: 'erin', roles: ['editor', 'auditor'], claims: { org: { teams: 'demo search' } } });
    const res = await h.api().get('/v1/me').set('Authorization', `Bearer ${token}`);
    expect(res.body).toMatchObject({ sub: 'erin', teams: ['demo', 'search'] });
    expect(res.body.scopes).toMatchObject({ 'applications.update': 'team', 'audit.read': 'any' });
  });
});
