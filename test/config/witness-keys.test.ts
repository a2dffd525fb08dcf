import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config/load';
import { COSIGNATURE_V1, ED25519, signerFor } from '../../src/audit/log/note';
import { PRODUCTION, problemsOf } from '../helpers/config';

/** AUDIT_WITNESS_KEYS: one cosignature/v1 verifier key per witness URL, checked once at start-up. */
const key = (name: string, type: typeof ED25519 | typeof COSIGNATURE_V1 = COSIGNATURE_V1) =>
  signerFor(name, generateKeyPairSync('ed25519').privateKey, type).vkey;
const W1 = key('witness.company.test/w1');
const W2 = key('witness.example.org/w2');
const URLS = 'https://witness.company.test/,https://witness.example.org/';

test('when each witness URL has its verifier key, in order, then it loads (production and the local default alike)', () => {
  expect(problemsOf({ ...PRODUCTION, AUDIT_WITNESS_URLS: URLS, AUDIT_WITNESS_KEYS: `${W1}, ${W2}` })).toEqual([]);
  expect(loadConfig({ AUDIT_WITNESS_URLS: URLS, AUDIT_WITNESS_KEYS: `${W1},${W2}` }).audit).toMatchObject({
    witnessUrls: URLS.split(','),
    witnessKeys: [W1, W2],
  });
  expect(loadConfig({}).audit).toMatchObject({ witnessUrls: [], witnessKeys: [] });
});

test.each([
  ['production', PRODUCTION],
  ['the local default', {}],
])(
  'when witness URLs come without their keys in %s, then start-up fails: no cosignature is ever stored unchecked',
  (_env, base) => {
    expect(problemsOf({ ...base, AUDIT_WITNESS_URLS: URLS })).toEqual([
      expect.stringMatching(
        /AUDIT_WITNESS_KEYS must give the verifier key of each witness in AUDIT_WITNESS_URLS, in the same order: 2 URL\(s\), 0 key\(s\)/,
      ),
    ]);
    expect(problemsOf({ ...base, AUDIT_WITNESS_URLS: URLS, AUDIT_WITNESS_KEYS: W1 })).toEqual([
      expect.stringMatching(/2 URL\(s\), 1 key\(s\)/),
    ]);
    expect(problemsOf({ ...base, AUDIT_WITNESS_KEYS: W1 })).toEqual([expect.stringMatching(/0 URL\(s\), 1 key\(s\)/)]);
  },
);

test.each([
  [
    'not a verifier key',
    'witness.company.test/w1',
    /entry 2 is not a verifier key name\+hash\+base64: malformed verifier key/,
  ],
  [
    'a key id that does not match the key',
    W2.replace(/\+[0-9a-f]{8}\+/, '+00000000+'),
    /entry 2 is not a verifier key .*key id does not match/,
  ],
  [
    'a key that is not Ed25519',
    `w+${'0'.repeat(8)}+${Buffer.concat([Buffer.of(0x02), Buffer.alloc(32)]).toString('base64')}`,
    /entry 2 is not a verifier key .*not Ed25519/,
  ],
  [
    "the log's own kind of key (Ed25519 note key, type 0x01)",
    key('gateway.company.test/audit', ED25519),
    /entry 2 \(gateway.company.test\/audit\) is an Ed25519 note key \(type 0x01\), not a witness's cosignature\/v1 key/,
  ],
])('when a witness key is %s, then start-up fails naming the entry', (_label, second, problem) => {
  expect(problemsOf({ AUDIT_WITNESS_URLS: URLS, AUDIT_WITNESS_KEYS: `${W1},${second}` })).toEqual([
    expect.stringMatching(problem),
  ]);
});
