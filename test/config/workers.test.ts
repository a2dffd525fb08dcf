import { loadConfig } from '../../src/config/load';
import { parseWorkers } from '../../src/config/workers';
import { problemsOf } from '../helpers/config';

/** What several workers need: a server database, shared counters, a real upstream key. */
const SHAREABLE = {
  KLOUDLESS_DEVELOPER_KEY: 'dk-workers',
  DATABASE_URL: 'postgres://gateway@db:5432/gateway',
  REDIS_URL: 'redis://redis:6379',
};

test('when WORKERS is unset, then one process serves (no cluster), whatever else is set', () => {
  expect(loadConfig({}).workers).toBe(1);
  expect(loadConfig({ WORKERS: '1' }).workers).toBe(1);
});

test.each([
  ['2', 8, 2],
  ['64', 8, 64],
  ['auto', 8, 8],
  ['AUTO', 2, 2],
  ['auto', 1, 1],
  ['auto', 200, 64],
])('when WORKERS=%s on a machine with %i cores, then %i workers', (text, cores, expected) => {
  const problems: string[] = [];
  expect(parseWorkers(text, problems, cores)).toBe(expected);
  expect(problems).toEqual([]);
});

test.each(['0', '65', '-1', '1.5', 'two', '1e1', '0x2', 'auto2', '1000'])(
  'when WORKERS=%s, then start-up is refused with workers_invalid',
  (text) => {
    const problems = problemsOf({ ...SHAREABLE, WORKERS: text });
    expect(problems).toEqual([
      `[workers_invalid] WORKERS must be "auto" or a whole number from 1 to 64, not "${text}"`,
    ]);
  },
);

test('when WORKERS is above 1 with everything shareable, then it loads', () => {
  expect(problemsOf({ ...SHAREABLE, WORKERS: '4' })).toEqual([]);
  expect(loadConfig({ ...SHAREABLE, WORKERS: '4' }).workers).toBe(4);
});

test('when WORKERS is above 1 without REDIS_URL, then start-up is refused with workers_need_redis, naming the setting', () => {
  const { REDIS_URL: _, ...env } = SHAREABLE;
  expect(problemsOf({ ...env, WORKERS: '2' })).toEqual([
    '[workers_need_redis] WORKERS=2 needs REDIS_URL: rate-limit counters in memory are per process, so each worker would allow the whole budget (set REDIS_URL, or WORKERS=1)',
  ]);
});

test('when WORKERS is above 1 with the embedded database, then start-up is refused with workers_need_database_url', () => {
  const { DATABASE_URL: _, ...env } = SHAREABLE;
  expect(problemsOf({ ...env, WORKERS: '3' })).toEqual([
    '[workers_need_database_url] WORKERS=3 needs DATABASE_URL: the embedded database (PGlite) can be opened by one process only (set DATABASE_URL, or WORKERS=1)',
  ]);
});

test('when WORKERS is above 1 in the local default (no DeveloperKey), then start-up is refused with workers_need_developer_key', () => {
  const { KLOUDLESS_DEVELOPER_KEY: _, ...env } = SHAREABLE;
  expect(problemsOf({ ...env, WORKERS: '2' })).toEqual([
    expect.stringMatching(/^\[workers_need_developer_key\] WORKERS=2 needs KLOUDLESS_DEVELOPER_KEY: .*simulator/),
  ]);
});

test('when WORKERS=auto comes to more than one and nothing is shareable, then every refusal is listed at once, saying what auto came to', () => {
  const problems = problemsOf({ WORKERS: 'auto' });
  const cores = parseWorkers('auto', []);
  if (cores === 1) {
    // On a one-core machine auto is one process, which needs nothing shared.
    expect(problems).toEqual([]);
    return;
  }
  expect(problems.map((p) => /^\[(\w+)\]/.exec(p)?.[1])).toEqual([
    'workers_need_redis',
    'workers_need_database_url',
    'workers_need_developer_key',
  ]);
  expect(problems[0]).toContain(`WORKERS=auto (${cores} on this machine)`);
});

test('when WORKERS is 1, then the local default, the embedded database and in-memory counters are all allowed', () => {
  expect(problemsOf({ WORKERS: '1' })).toEqual([]);
});
